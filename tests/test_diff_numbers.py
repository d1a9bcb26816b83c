"""erh-report diff on two results builds: one corrected cell moves exactly the numbers it should, flips
are flagged, and the report, workbook, exit codes and messages are right."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from review_copies import DATA, copy_data, read_rows, set_cell

from erh_report.build import build
from erh_report.cli import main
from erh_report.diff import run_diff
from erh_report.diff.numbers import (
    TABLES,
    NumberChanges,
    certainty_changes,
    compare_numbers,
    excludes_null,
    membership_changes,
    same_value,
)
from erh_report.diff.report import Changes, FileChange
from erh_report.diff.text import html_sentences, marked_html, split_sentences

ANALYSIS = "attachment_fu12"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def correct_one_study(data: Path, study_rows: list[dict[str, str]]) -> None:
    """Mirror the intervention mean of the study with the most negative effect around the control mean
    (a sign error in extraction), which turns its effect around."""
    worst = min(study_rows, key=lambda r: float(r["yi"]))
    outcome = data / "outcome_data.csv"
    sheet = read_rows(outcome)
    header = sheet[0]
    rows_used = [int(r) for r in worst["source_rows"].split(";")]
    arms = {sheet[r - 1][header.index("role")]: r for r in rows_used}
    control = float(sheet[arms["control"] - 1][header.index("mean")])
    mean = float(sheet[arms["intervention"] - 1][header.index("mean")])
    set_cell(outcome, arms["intervention"], "mean", f"{2 * control - mean:.2f}")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("diff")
    old = root / "old"
    build(DATA, old, progress=None, stages=("results",))
    data = copy_data(root)
    correct_one_study(data, rows(old / "results" / "studies" / f"{ANALYSIS}.csv"))
    new = root / "new"
    build(data, new, progress=None, stages=("results",))
    return old, new


def _ci_significant(row: dict[str, str]) -> bool:
    if row.get("exp_ci_low"):
        return excludes_null(float(row["exp_ci_low"]), float(row["exp_ci_high"]), 1.0)
    return excludes_null(float(row["ci_low"]), float(row["ci_high"]), 0.0)


def test_exactly_the_analyses_whose_numbers_moved(builds: tuple[Path, Path]):
    old, new = builds
    before = {r["analysis_id"]: r for r in rows(old / "results" / "analyses.csv")}
    after = {r["analysis_id"]: r for r in rows(new / "results" / "analyses.csv")}
    skip = set(TABLES[0].skip) | {"analysis_id"}
    expected = {a for a in after if any(not same_value(before[a][c], after[a][c]) for c in after[a] if c not in skip)}
    assert ANALYSIS in expected
    found = compare_numbers(old, new)
    assert set(found.analyses_moved()) == expected
    for change in (c for c in found.changes if c.table == "analyses"):
        assert (change.old, change.new) == (
            before[change.analysis_id][change.column],
            after[change.analysis_id][change.column],
        )


def test_significance_flips_are_flagged(builds: tuple[Path, Path]):
    old, new = builds
    before = {r["analysis_id"]: r for r in rows(old / "results" / "analyses.csv")}
    after = {r["analysis_id"]: r for r in rows(new / "results" / "analyses.csv")}
    expected = {a for a in after if _ci_significant(before[a]) != _ci_significant(after[a])}
    assert expected, "the correction was chosen to flip an interval; pick another if the data changed"
    found = compare_numbers(old, new)
    flagged = {f.key[0] for f in found.flips if f.table == "analyses" and f.test == "pooled effect (CI)"}
    assert flagged == expected


def test_report_workbook_and_exit_codes(builds: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    old, new = builds
    out = tmp_path / "report"
    assert run_diff(old, new, out, fail_on_change=False) == 0
    printed = capsys.readouterr().out
    assert "significance flip" in printed and "changes.html" in printed
    page = (out / "changes.html").read_text(encoding="utf-8")
    assert f'id="a-{ANALYSIS}"' in page and 'class="flip"' in page and "<caption>" in page
    book = load_workbook(out / "changes.xlsx")
    assert book.sheetnames == [
        "data_cells",
        "data_rows",
        "review_yaml",
        "numbers",
        "significance",
        "certainty",
        "studies",
        "figures",
        "sentences",
    ]
    numbers = list(book["numbers"].iter_rows(min_row=2, values_only=True))
    assert len(numbers) == len(compare_numbers(old, new).changes)
    assert run_diff(old, new, tmp_path / "again", fail_on_change=True) == 1
    capsys.readouterr()
    assert run_diff(old, old, tmp_path / "none", fail_on_change=True) == 0
    assert capsys.readouterr().out == ""
    assert not (tmp_path / "none").exists()


def test_bad_folder_is_a_clear_input_error(
    builds: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["diff", str(tmp_path), str(builds[1]), "--out", str(tmp_path / "d")]) == 2
    assert "neither a build folder nor a data folder" in capsys.readouterr().err
    assert main(["diff", str(builds[0]), str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_data_folders_are_built_first(
    builds: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    made: list[Path] = []
    caches: list[Path] = []

    def fake_build(data: Path, out: Path, progress: object = None, cache_dir: Path | None = None) -> None:
        made.append(Path(data))
        caches.append(cache_dir)
        shutil.copytree(builds[0] if Path(data) == DATA else builds[1], out)

    monkeypatch.setattr("erh_report.build.build", fake_build)
    other = copy_data(tmp_path)
    assert main(["diff", str(DATA), str(other), "--out", str(tmp_path / "d"), "--fail-on-change"]) == 1
    assert made == [DATA, other]
    assert caches[0] == caches[1] and caches[0] is not None  # the second build reuses what the first drew
    assert (tmp_path / "d" / "changes.xlsx").is_file()
    assert "numbers moved" in capsys.readouterr().out


def test_studies_added_removed_and_certainty():
    old = [{"analysis_id": "a", "study_id": s, "study": s} for s in ("S1", "S2")]
    new = [{"analysis_id": "a", "study_id": s, "study": s} for s in ("S2", "S3")]
    assert [(m.study_id, m.added) for m in membership_changes(old, new)] == [("S1", False), ("S3", True)]
    grade_old = [{"analysis_id": "a", "word": "Low"}, {"analysis_id": "b", "word": "High"}]
    grade_new = [{"analysis_id": "a", "word": "Moderate"}, {"analysis_id": "b", "word": "High"}]
    found = certainty_changes(grade_old, grade_new)
    assert [(c.analysis_id, c.old, c.new) for c in found] == [("a", "Low", "Moderate")]


def test_sentences_split_and_marked():
    text = "The SMD was 0.27 (95% CI, 0.16 to 0.38; P = .04). Smith et al. found more. Q was 12.3."
    assert split_sentences(text) == [
        "The SMD was 0.27 (95% CI, 0.16 to 0.38; P = .04).",
        "Smith et al. found more.",
        "Q was 12.3.",
    ]
    found = html_sentences("<h2>Results</h2><p>One. Two.</p><table><tr><td>0.27</td></tr></table><script>x</script>")
    assert [(s.text, s.heading) for s in found] == [
        ("Results", "Results"),
        ("One.", "Results"),
        ("Two.", "Results"),
        ("0.27", "Results"),
    ]
    assert marked_html("was 0.27 here", "was 0.29 here") == ("was <del>0.27</del> here", "was <ins>0.29</ins> here")


def test_summary_counts_a_figure_once_for_its_svg_and_png():
    files = [FileChange(f"figures/forest-{a}.{ext}", "changed", "a", "b") for a in ("x", "y") for ext in ("svg", "png")]
    changes = Changes("old", "new", NumberChanges(), figures=files)
    assert "; 2 figures changed;" in changes.summary()
    assert changes.figure_ids() == {"forest-x", "forest-y"}
    assert "other output file" not in changes.summary()
    changes.files = [*files, FileChange("results/results.xlsx", "changed", "a", "b")]
    assert changes.summary().endswith("; 1 other output file changed")


def test_several_effects_table_is_compared(builds: tuple[Path, Path]):
    """The supplement's select / aggregate / multilevel table is a results table like the others: a
    corrected mean moves exactly its cells that differ, keyed by analysis and approach."""
    old, new = builds
    path = Path("results") / "dependence.csv"
    before = {(r["analysis_id"], r["approach"]): r for r in rows(old / path)}
    after = {(r["analysis_id"], r["approach"]): r for r in rows(new / path)}
    table = next(t for t in TABLES if t.name == "dependence")
    expected = {
        (key, column)
        for key, row in after.items()
        for column in row
        if column not in set(table.skip) | set(table.keys) and not same_value(before[key][column], row[column])
    }
    assert {key[0] for key, _ in expected} == {ANALYSIS}
    found = [c for c in compare_numbers(old, new).changes if c.table == "dependence"]
    assert {(c.key, c.column) for c in found} == expected
    assert {c.key[1] for c in found} == {"select", "aggregate", "multilevel"}
