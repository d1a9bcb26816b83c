"""A hostile corpus: inputs a careless or malicious author might give. Each test asserts the exit code (2),
the message naming the real cause, and that nothing was lost (the data folder is byte for byte as before,
and no build folder appeared)."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_copies import copy_data, read_rows, set_cell

from erh_report.cli import main


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(data: Path, capsys: pytest.CaptureFixture[str], command: str = "build") -> str:
    """Run ``check`` or ``build`` on the damaged folder: exit 2, nothing changed or written; the message."""
    before = snapshot(data)
    args = [command, str(data)] + (["--out", str(data.parent / "build"), "--quiet"] if command == "build" else [])
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert snapshot(data) == before
    assert not (data.parent / "build").exists()
    return err


# ------------------------------------------------------------------------------------------ review.yaml
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_yaml_alias_bomb_is_refused_without_expanding(data: Path, capsys: pytest.CaptureFixture[str]):
    (data / "review.yaml").write_text(BOMB, encoding="utf-8")  # 9**9 values once expanded
    err = refused(data, capsys, "check")
    assert "review.yaml: its aliases (*name) expand to more than 100,000 values" in err


def test_yaml_recursive_alias_and_size(data: Path, capsys: pytest.CaptureFixture[str]):
    (data / "review.yaml").write_text("title: &t [1, *t]\n", encoding="utf-8")
    assert "review.yaml: an alias (*name) refers to a value that contains it" in refused(data, capsys, "check")
    (data / "review.yaml").write_text("title: " + "x" * 1_000_001 + "\n", encoding="utf-8")
    assert "review.yaml: is larger than 1,000,000 bytes" in refused(data, capsys, "check")


def test_yaml_few_aliases_still_located(data: Path, capsys: pytest.CaptureFixture[str]):
    text = (data / "review.yaml").read_text(encoding="utf-8")
    (data / "review.yaml").write_text(text + "extra_key: &e {a: 1}\nanother: *e\n", encoding="utf-8")
    err = refused(data, capsys, "check")
    lines = text.count("\n")
    assert f"review.yaml, row {lines + 1}" in err and "extra_key" in err


# ------------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1_000", "not a number: '_' inside it"),
        ("nan", None),  # NA-like: a missing value, reported as missing where a value is needed
        ("inf", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("0x10", "not a number"),
        ("١٢", "not a number: digits other than 0-9"),
        ("1e400", "not a number: too large"),
        ("1.2.3", "not a number"),
    ],
)
def test_strict_numbers(data: Path, capsys: pytest.CaptureFixture[str], value: str, reason: str | None):
    set_cell(data / "outcome_data.csv", 2, "mean", value)
    err = refused(data, capsys, "check")
    if reason is None:
        assert "outcome_data.csv, row 2" in err
    else:
        assert f"outcome_data.csv, row 2, column 'mean': {reason} (found '{value}')" in err


def test_strict_numbers_in_a_workbook(data: Path, capsys: pytest.CaptureFixture[str]):
    """The same rule for a sheet: text cells that Python would read as numbers are refused."""
    import csv

    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name in ("studies", "outcome_data", "risk_of_bias", "prisma"):
        sheet = book.create_sheet(name)
        with (data / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                sheet.append(row)
        (data / f"{name}.csv").unlink()
    book["outcome_data"]["J2"].value = "1_000"  # a text cell
    header = [c.value for c in book["outcome_data"][1]]
    book.save(data / "review.xlsx")
    err = refused(data, capsys, "check")
    assert f"review.xlsx [sheet outcome_data], row 2, column '{header[9]}': not a number: '_' inside it" in err


# ------------------------------------------------------------------------------------------ meta
@pytest.mark.parametrize(
    ("rows", "text"),
    [
        ("0.1,1e-300\n0.2,0.01\n0.3,0.02\n", "row 2, column 'vi': the sampling variance is below 1e-50"),
        ("1e200,0.1\n0.2,0.01\n0.3,0.02\n", "row 2, column 'yi': the effect size is beyond ±1e+50"),
        ("0.1,1e300\n0.2,0.01\n0.3,0.02\n", "row 2, column 'vi': the sampling variance is beyond 1e+50"),
        (
            "1e50,1e50\n-1e50,1e-50\n1e49,1e50\n2,1\n",
            "column 'vi': the sampling variances span more than 1e+20 times (row 3: 1e-50, row 2: 1e+50)",
        ),
    ],
)
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_meta_extreme_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: str, text: str, json_flag: list[str]
):
    path = tmp_path / "trials.csv"
    path.write_text("yi,vi\n" + rows, encoding="utf-8")
    code = main(["meta", str(path), "--measure", "GEN", "--egger", "--trimfill", *json_flag])
    out = capsys.readouterr()
    assert code == 2 and text in out.err and out.out == ""


def test_meta_strict_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "trials.csv"
    path.write_text("yi,vi\n0.1,0.01\n1_0,0.02\n0.3,nan\n", encoding="utf-8")
    assert main(["meta", str(path), "--measure", "GEN", "--json"]) == 2
    err = capsys.readouterr().err
    assert "row 3, column 'yi': not a number: '_' inside it (found '1_0')" in err
    assert "row 4, column 'vi': not a finite number (found 'nan')" in err


# ------------------------------------------------------------------------------------------ text cells
@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Study\x00 1", "column 'label': a control character (U+0000) in the cell"),
        ("Study\x1b[31m 1", "column 'label': a control character (U+001B) in the cell"),
        ("Study\u2028 1", "column 'label': a line break (U+2028) inside the cell"),
        ("Study\u202e 1", "column 'label': an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("S" * 2000, "column 'label': the text is 2,000 characters long, more than 80"),
    ],
)
def test_text_cells(data: Path, capsys: pytest.CaptureFixture[str], value: str, text: str):
    set_cell(data / "studies.csv", 2, "label", value)
    err = refused(data, capsys)
    assert f"studies.csv, row 2, {text}" in err
    assert err.count("\n  - ") == 1  # one problem, not a cascade


def test_line_separator_does_not_split_the_row(data: Path, capsys: pytest.CaptureFixture[str]):
    set_cell(data / "studies.csv", 3, "comparator", "waiting\u2029list")
    err = refused(data, capsys, "check")
    assert err.count("\n  - ") == 1 and "studies.csv, row 3, column 'comparator': a line break (U+2029)" in err


def test_unterminated_quote_is_named(data: Path, capsys: pytest.CaptureFixture[str]):
    path = data / "outcome_data.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[9] = lines[9].replace(",", ',"', 1)
    path.write_text("\n".join(lines), encoding="utf-8")
    err = refused(data, capsys, "check")
    assert 'outcome_data.csv, row 10: a quote (") opened in row 10 (line 10) is never closed' in err
    assert err.count("\n  - ") < 5


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1252", b"")])
def test_encodings_are_read(data: Path, capsys: pytest.CaptureFixture[str], encoding: str, bom: bytes):
    path = data / "studies.csv"
    text = path.read_text(encoding="utf-8").replace("Study 001 (2009)", "Müller 2009")
    path.write_bytes(bom + text.encode(encoding))
    assert main(["check", str(data)]) == 0, capsys.readouterr().err


def test_wrong_encodings_name_the_cause(data: Path, capsys: pytest.CaptureFixture[str]):
    path = data / "studies.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("utf-16-le"))
    assert "studies.csv: looks like UTF-16 without a byte-order mark" in refused(data, capsys, "check")
    path.write_bytes(text.encode("utf-8") + b"\x81\x8d")
    assert "studies.csv: is neither UTF-8 nor Windows-1252 text (byte 0x81 at offset" in refused(data, capsys, "check")
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    assert "studies.csv: is a ZIP file (an XLSX workbook renamed?)" in refused(data, capsys, "check")


# ------------------------------------------------------------------------------------------ references, ids
def test_bibtex_unclosed_brace_and_duplicate_key(data: Path, capsys: pytest.CaptureFixture[str]):
    path = data / "references.bib"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title = {The {PRISMA} 2020", "title = {The {PRISMA 2020", 1), encoding="utf-8")
    err = refused(data, capsys, "check")
    assert "references.bib, row 1: entry 'page2021prisma': a brace '{' is never closed" in err
    path.write_text(text.replace("title = {The {PRISMA} 2020", "title = {The PRISMA} 2020", 1), encoding="utf-8")
    err = refused(data, capsys, "check")
    assert "references.bib, row 1: entry 'page2021prisma': fields after the entry's closing brace" in err
    first = text.split("\n@", 1)[0]
    path.write_text(text + "\n" + first.replace("page2021prisma", "Page2021PRISMA") + "\n", encoding="utf-8")
    err = refused(data, capsys, "check")
    assert "entry 'Page2021PRISMA': the key 'page2021prisma', differing only by case, is already used at line 1" in err


def test_study_ids_differing_only_by_case(data: Path, capsys: pytest.CaptureFixture[str]):
    set_cell(data / "studies.csv", 3, "study_id", "s001")
    err = refused(data, capsys, "check")
    assert "studies.csv, row 3, column 'study_id': study_id differs only by case from S001 (row 2)" in err


# ------------------------------------------------------------------------------------------ fonts
def _droid_installed() -> bool:
    from matplotlib import font_manager

    try:
        font_manager.findfont(font_manager.FontProperties(family="Droid Sans Fallback"), fallback_to_default=False)
    except ValueError:
        return False
    return True


def test_text_no_font_can_show_is_refused(data: Path, capsys: pytest.CaptureFixture[str]):
    set_cell(data / "studies.csv", 2, "label", "Study \U00013000 2009")  # an Egyptian hieroglyph
    err = refused(data, capsys, "check")
    assert (
        "studies.csv, row 2, column 'label': characters that no installed font can show: '\U00013000' (U+13000)" in err
    )


@pytest.mark.skipif(not _droid_installed(), reason="needs fonts-droid-fallback (make setup installs it)")
def test_cjk_labels_are_drawn_with_the_fallback_font(data: Path, capsys: pytest.CaptureFixture[str]):
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from erh_report.figures.style import RC

    set_cell(data / "studies.csv", 2, "label", "研究 2009")
    assert main(["check", str(data)]) == 0, capsys.readouterr().err
    with matplotlib.rc_context(RC), warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail the test
        figure = Figure()
        figure.text(0.1, 0.5, "研究 2009 Müller")
        figure.savefig(data.parent / "cjk.png")


def test_build_refuses_effects_outside_double_precision(data: Path, capsys: pytest.CaptureFixture[str]):
    header, first, second = read_rows(data / "outcome_data.csv")[:3]
    assert first[:4] == second[:4] and first[header.index("followup_months")] == "0"  # one result's two arms
    set_cell(data / "outcome_data.csv", 2, "mean", "1e300")
    err = refused(data, capsys)
    analysis = f"{first[header.index('outcome')]}_post"
    assert f"outcome_data.csv, row 2: the effect size is beyond ±1e+50 in analysis {analysis} (rows 2, 3)" in err
