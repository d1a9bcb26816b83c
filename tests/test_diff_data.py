"""What changed in the data, between two copies of data/: cells by file, row, study and column, rows added
or removed (matched by their ids, not by position), review.yaml values, other input files."""

from __future__ import annotations

from pathlib import Path

from review_copies import copy_data, read_rows, set_cell, write_rows

from erh_report.diff.data import INPUTS, CellChange, RowChange, compare_data, copy_inputs, inputs_of


def test_cells_rows_and_settings_that_changed(tmp_path: Path):
    old = copy_data(tmp_path / "a")
    new = copy_data(tmp_path / "b")
    outcomes = read_rows(new / "outcome_data.csv")
    header = outcomes[0]
    sd = set_cell(new / "outcome_data.csv", 5, "sd", "9.99")
    rob = read_rows(new / "risk_of_bias.csv")
    write_rows(new / "risk_of_bias.csv", [rob[0], rob[2], rob[1], *rob[3:-1]])  # reordered, last row removed
    yaml = new / "review.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("  method: REML\n", "  method: DL\n"), encoding="utf-8")
    (new / "references.bib").write_text(
        (old / "references.bib").read_text(encoding="utf-8") + "\n% checked\n", encoding="utf-8"
    )

    found = compare_data(old, new)
    study = outcomes[4][0]
    label = next(r[1] for r in read_rows(new / "studies.csv") if r[0] == study)
    key = ", ".join(f"{name} {value}" for name, value in zip(header[:5], outcomes[4][:5], strict=True))
    assert found.cells == [CellChange("outcome_data.csv", 5, 5, f"{study} ({label})", key, "sd", sd, "9.99")]
    last = rob[-1]
    assert found.rows == [
        RowChange(
            "risk_of_bias.csv",
            len(rob),
            last[0] + next(f" ({r[1]})" for r in read_rows(new / "studies.csv") if r[0] == last[0]),
            f"study_id {last[0]}, outcome {last[1]}",
            "removed",
        )
    ], "a reordered row is the same row"
    (setting,) = found.settings
    lines = yaml.read_text(encoding="utf-8").splitlines()
    assert (setting.key, setting.old, setting.new, setting.row) == (
        "settings.method",
        "REML",
        "DL",
        lines.index("  method: DL") + 1,
    )
    assert found.files == [("references.bib", "changed")]
    assert found.summary() == (
        "1 data cell changed in 1 file; 1 data row added or removed; 1 review.yaml value "
        "changed; 1 other input file changed"
    )


def test_numbers_written_differently_are_the_same_and_nothing_changed_is_empty(tmp_path: Path):
    old = copy_data(tmp_path / "a")
    new = copy_data(tmp_path / "b")
    rows = read_rows(new / "outcome_data.csv")
    n = rows[1][rows[0].index("n")]
    set_cell(new / "outcome_data.csv", 2, "n", f"{n}.0")
    assert not compare_data(old, new)


def test_a_build_keeps_its_inputs_for_the_diff(tmp_path: Path):
    data = copy_data(tmp_path)
    build = tmp_path / "build"
    copy_inputs(data, build)
    unpacked = inputs_of(build)
    assert unpacked is not None and unpacked != build and inputs_of(data) == data
    assert sorted(p.name for p in unpacked.iterdir()) == sorted(p.name for p in data.iterdir())
    assert all((unpacked / p.name).read_bytes() == p.read_bytes() for p in data.iterdir())
    (build / INPUTS).unlink()
    assert inputs_of(build) is None
    assert "no copy of its data" in compare_data(None, data).missing
