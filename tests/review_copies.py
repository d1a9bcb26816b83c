"""Helpers for tests that damage a copy of the illustrative review and look at what is reported."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from erh_report.data import load_review
from erh_report.errors import InputError, Problem

DATA = Path(__file__).resolve().parents[1] / "data"


def copy_data(tmp_path: Path) -> Path:
    """A private copy of data/ to damage."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def set_cell(path: Path, row: int, column: str, value: str) -> str:
    """Change one cell, addressed as a spreadsheet shows it (header = row 1); returns the old value."""
    rows = read_rows(path)
    col = rows[0].index(column)
    old = rows[row - 1][col]
    rows[row - 1][col] = value
    write_rows(path, rows)
    return old


def find_row(path: Path, **match: str) -> int:
    """Spreadsheet row number of the first row whose cells equal ``match``."""
    rows = read_rows(path)
    header = rows[0]
    for i, row in enumerate(rows[1:], start=2):
        if all(row[header.index(k)] == v for k, v in match.items()):
            return i
    raise AssertionError(f"no row with {match}")


def problems_of(folder: Path) -> list[Problem]:
    """The problems reported for ``folder`` (the test fails if it is accepted)."""
    with pytest.raises(InputError) as info:
        load_review(folder)
    return info.value.problems


def texts(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]
