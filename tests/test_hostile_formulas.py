"""Formula injection: study text that a spreadsheet would run reaches every XLSX and CSV as inert text.

Text starting with = + - @ tab or CR gets a leading ' (OWASP); numbers stay numbers; no XLSX cell is a
formula. The outputs are read back: every cell of every workbook and every CSV file.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from review_copies import copy_data, set_cell

from erh_report.build import build, write_supplementary_tables
from erh_report.grade import assess_review
from erh_report.numbers import get_style
from erh_report.spreadsheet import neutralise

HOSTILE = {
    "label": '=HYPERLINK("http://example.invalid","open")',
    "intervention_name": "=cmd|' /C calc'!A0",
    "comparator": "@SUM(1+1)",
    "country": "+1-2",
}
STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("formulas")
    data = copy_data(tmp)
    for column, value in HOSTILE.items():
        set_cell(data / "studies.csv", 2, column, value)
    out = tmp / "build"
    results = build(data, out, progress=None, stages=("results",))
    grade = assess_review(results, get_style(results.review.config.settings.number_style))
    write_supplementary_tables(results, grade, out)
    return out


def test_neutralise_rule():
    assert neutralise("=1+1") == "'=1+1" and neutralise("-x") == "'-x" and neutralise("\tA") == "'\tA"
    assert neutralise("a=b") == "a=b" and neutralise(-1.5) == -1.5 and neutralise(None) is None


def test_no_formula_in_any_workbook(hostile_build: Path):
    books = [hostile_build / "results" / "results.xlsx", hostile_build / "supplementary-tables.xlsx"]
    seen: set[str] = set()
    numbers = 0
    for path in books:
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(STARTS), (path.name, sheet.title, cell.value)
                        seen.add(cell.value)
                    elif isinstance(cell.value, float | int):
                        numbers += 1
    assert "'" + HOSTILE["label"] in seen and "'" + HOSTILE["intervention_name"] in seen
    assert "'" + HOSTILE["comparator"] in seen and "'" + HOSTILE["country"] in seen
    assert numbers > 1000  # estimates, CIs and counts are still numbers


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_no_formula_text_in_any_csv(hostile_build: Path):
    """Every CSV the build makes. The data folder's own files are kept for `erh-report diff` only inside
    inputs.zip, byte for byte, where no spreadsheet program opens them."""
    found = 0
    with zipfile.ZipFile(hostile_build / "inputs.zip") as archive:
        assert archive.read("studies.csv") == (hostile_build.parent / "data" / "studies.csv").read_bytes()
    for path in sorted(hostile_build.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in (c for c in row if not _is_number(c)):  # a number stays a number
                    assert not cell.startswith(STARTS), (path.name, cell)
                    found += cell == "'" + HOSTILE["label"]
    assert found >= 2  # the label is in the results' study table and the supplementary tables
