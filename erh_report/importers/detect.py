"""Which format a source is, from its content (not its name), and reading it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from erh_report.errors import InputError, Problem
from erh_report.importers import data_package, revman_csv, rm5
from erh_report.importers.model import Review

FORMATS = "RevMan 5 XML (.rm5), RevMan 5 analysis-data CSV export, or a Cochrane data package v1 (zip or folder)"


def read_source(path: Path) -> Review:
    """The review in ``path``; InputError (exit 2) for a missing, broken or unknown source."""
    name = path.name
    if path.is_dir():
        if data_package.looks_like(path):
            return data_package.read(path)
        raise InputError([Problem(str(path), "folder holds no Cochrane data package", expected=FORMATS)])
    if not path.is_file():
        raise InputError([Problem(str(path), "file not found", expected=FORMATS)])
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04" or zipfile.is_zipfile(path):
        return data_package.read(path)
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        return rm5.parse(data, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if revman_csv.looks_like(text):
        return revman_csv.parse(text, name)
    raise InputError([Problem(name, "not a known review format", expected=FORMATS)])
