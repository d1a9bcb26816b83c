"""Reading the data folder: tables as CSV files or as sheets of one XLSX workbook, review.yaml,
and the reference list (BibTeX or CSL-JSON).

Everything is read as text exactly as a spreadsheet shows it, with the row numbers the spreadsheet
shows (header = row 1), so that every later problem can point at the cell the author must fix.
Reading never raises for a user mistake: it returns what it could read plus a list of problems.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from erh_report.data.schema import TABLES
from erh_report.errors import Problem

REVIEW_FILE = "review.yaml"
REFERENCE_FILES = ("references.bib", "references.json")


@dataclass
class RawTable:
    """A table as text: ``rows`` are (spreadsheet row number, {column: cell})."""

    name: str
    source: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class RawData:
    """Everything read from a data folder, before any checking of content."""

    folder: Path
    config: dict[str, Any] | None = None
    config_lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    tables: dict[str, RawTable] = field(default_factory=dict)
    references: dict[str, dict[str, str]] | None = None
    references_file: str | None = None
    problems: list[Problem] = field(default_factory=list)


def _cell_text(value: Any) -> str:
    """Spreadsheet cell to the text a person sees (12.0 -> '12', dates -> ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _rows_to_table(name: str, source: str, records: list[list[str]]) -> tuple[RawTable, list[Problem]]:
    """Turn records (first = header) into a RawTable, skipping blank rows but keeping numbering."""
    problems: list[Problem] = []
    if not records or not any(c.strip() for r in records for c in r):
        return RawTable(name, source, [], []), [
            Problem(source, "the file is empty", expected="a header row and data rows")
        ]
    if not any(c.strip() for c in records[0]):
        return RawTable(name, source, [], []), [
            Problem(source, "the first row must be the header", row=1, expected="column names")
        ]
    offset = 0
    header = [h.strip().lstrip("\ufeff").strip() for h in records[0]]
    seen: set[str] = set()
    for i, col in enumerate(header):
        if not col:
            if any(i < len(r) and r[i].strip() for r in records[1:]):
                problems.append(Problem(source, f"column {i + 1} has values but no name", row=1 + offset))
            continue
        if col in seen:
            problems.append(Problem(source, "column appears twice in the header", row=1 + offset, column=col))
        seen.add(col)
    rows: list[tuple[int, dict[str, str]]] = []
    for idx, record in enumerate(records[1:], start=2 + offset):
        if not any(c.strip() for c in record):
            continue
        if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
            problems.append(
                Problem(
                    source, "row has more cells than the header has columns", row=idx, expected=f"{len(header)} cells"
                )
            )
        cells = {col: (record[i].strip() if i < len(record) else "") for i, col in enumerate(header) if col}
        rows.append((idx, cells))
    return RawTable(name, source, [c for c in header if c], rows), problems


def read_csv(path: Path, name: str) -> tuple[RawTable, list[Problem]]:
    """One CSV file (UTF-8, with or without BOM; comma, semicolon or tab separated)."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = path.read_text(encoding="cp1252")
        except UnicodeDecodeError:
            return RawTable(name, source, [], []), [
                Problem(source, "the file is not readable text", expected="a CSV file saved as UTF-8")
            ]
    except OSError as exc:
        return RawTable(name, source, [], []), [Problem(source, f"cannot be read: {exc.strerror}")]
    if not text.strip():
        return RawTable(name, source, [], []), [
            Problem(source, "the file is empty", expected="a header row and data rows")
        ]
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        records = list(csv.reader(text.splitlines(), delimiter=delimiter))
    except csv.Error as exc:
        return RawTable(name, source, [], []), [
            Problem(source, f"cannot be read as CSV ({exc})", expected="a CSV file saved as UTF-8")
        ]
    return _rows_to_table(name, source, records)


def read_workbook(path: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Every sheet of an XLSX workbook; a sheet named like no table is reported, not ignored."""
    from openpyxl import load_workbook

    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the user's file, not a bug
        return {}, [Problem(path.name, f"cannot be opened as an XLSX workbook ({type(exc).__name__})")]
    try:
        for sheet in book.worksheets:
            key = sheet.title.strip().lower().replace(" ", "_")
            source = f"{path.name} [sheet {sheet.title}]"
            if key not in TABLES:
                if (
                    sheet.max_row
                    and sheet.max_row > 1
                    or any(v is not None for row in sheet.iter_rows(values_only=True) for v in row)
                ):
                    problems.append(
                        Problem(
                            path.name,
                            "unknown sheet",
                            column=None,
                            value=sheet.title,
                            expected="sheets named " + ", ".join(TABLES),
                        )
                    )
                continue
            records = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            table, sheet_problems = _rows_to_table(key, source, records)
            tables[key] = table
            problems.extend(sheet_problems)
    finally:
        book.close()
    return tables, problems


# ------------------------------------------------------------------------------------ yaml
def _line_map(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Record the line of every key/item so a problem in review.yaml can say where it is."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out)


def read_review_yaml(path: Path) -> tuple[dict[str, Any] | None, dict[tuple[Any, ...], int], list[Problem]]:
    """review.yaml as plain data plus the line of each entry."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [Problem(source, f"cannot be read ({type(exc).__name__})")]
    if not text.strip():
        return None, {}, [Problem(source, "the file is empty", expected="the review's settings")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, {}, [Problem(source, f"is not valid YAML: {reason}", row=line)]
    if not isinstance(data, dict):
        return None, {}, [Problem(source, "must be a mapping of keys (title:, authors:, ...)")]
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _line_map(node, (), lines)
    return data, lines, []


# ------------------------------------------------------------------------------ references
_BIB_ENTRY = re.compile(r"@(\w+)\s*[{(]\s*([^,\s]+)\s*,", re.MULTILINE)
_BIB_FIELD = re.compile(r"(\w+)\s*=\s*", re.MULTILINE)


def _bib_value(text: str, pos: int) -> tuple[str, int]:
    """A BibTeX field value starting at ``pos``: {braced}, "quoted" or a bare word/number."""
    if pos >= len(text):
        return "", pos
    if text[pos] == "{":
        depth, i = 0, pos
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return text[pos + 1 : i], i + 1
            i += 1
        return text[pos + 1 :], len(text)
    if text[pos] == '"':
        end = text.find('"', pos + 1)
        end = len(text) if end < 0 else end
        return text[pos + 1 : end], end + 1
    match = re.match(r"[^,}\s]+", text[pos:])
    word = match.group(0) if match else ""
    return word, pos + len(word)


def parse_bibtex(text: str) -> dict[str, dict[str, str]]:
    """The entries of a BibTeX file: key -> fields (lower-case names, braces kept out)."""
    entries: dict[str, dict[str, str]] = {}
    starts = list(_BIB_ENTRY.finditer(text))
    for i, match in enumerate(starts):
        kind, key = match.group(1).lower(), match.group(2)
        if kind in {"comment", "preamble", "string"}:
            continue
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.end() : end]
        fields: dict[str, str] = {"type": kind}
        pos = 0
        while True:
            fm = _BIB_FIELD.search(body, pos)
            if not fm:
                break
            value, pos = _bib_value(body, fm.end())
            fields[fm.group(1).lower()] = re.sub(r"[{}]", "", " ".join(value.split()))
        entries[key] = fields
    return entries


def read_references(folder: Path) -> tuple[dict[str, dict[str, str]] | None, str | None, list[Problem]]:
    """references.bib or references.json (CSL-JSON) -> key -> fields."""
    for name in REFERENCE_FILES:
        path = folder / name
        if not path.exists():
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            return None, name, [Problem(name, f"cannot be read ({type(exc).__name__})")]
        if name.endswith(".bib"):
            entries = parse_bibtex(text)
            if not entries and text.strip():
                return None, name, [Problem(name, "no BibTeX entries found", expected="@article{key, ...}")]
            return entries, name, []
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, name, [Problem(name, f"is not valid JSON: {exc.msg}", row=exc.lineno)]
        if not isinstance(items, list) or not all(isinstance(x, dict) and "id" in x for x in items):
            return None, name, [Problem(name, "must be a CSL-JSON list of items, each with an id")]
        return (
            {str(x["id"]): {k: json.dumps(v) if not isinstance(v, str) else v for k, v in x.items()} for x in items},
            name,
            [],
        )
    return None, None, []


# ------------------------------------------------------------------------------------ folder
def read_folder(folder: Path) -> RawData:
    """Read every input file in ``folder``; missing or unknown files become problems."""
    raw = RawData(folder=folder)
    if not folder.is_dir():
        raw.problems.append(Problem(str(folder), "no such data folder", expected="a folder with review.yaml"))
        return raw
    review = folder / REVIEW_FILE
    if review.exists():
        raw.config, raw.config_lines, problems = read_review_yaml(review)
        raw.problems.extend(problems)
    else:
        raw.problems.append(Problem(REVIEW_FILE, "file is missing", expected="the review's settings"))

    workbooks = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xlsx" and not p.name.startswith("~$"))
    if len(workbooks) > 1:
        raw.problems.append(
            Problem(
                folder.name,
                "more than one XLSX workbook",
                value=", ".join(p.name for p in workbooks),
                expected="all tables as sheets of one workbook",
            )
        )
    elif workbooks:
        tables, problems = read_workbook(workbooks[0])
        raw.tables.update(tables)
        raw.problems.extend(problems)

    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in {".csv", ".tsv"}:
            continue
        name = path.stem.strip().lower()
        if name not in TABLES:
            raw.problems.append(
                Problem(path.name, "unknown table file", expected="one of " + ", ".join(f"{t}.csv" for t in TABLES))
            )
            continue
        if name in raw.tables:
            raw.problems.append(
                Problem(
                    path.name,
                    f"table given twice (also in {raw.tables[name].source})",
                    expected="each table once, as a CSV file or a workbook sheet",
                )
            )
            continue
        table, problems = read_csv(path, name)
        raw.tables[name] = table
        raw.problems.extend(problems)

    declared_absent = _not_provided(raw.config)
    for name, (_model, may_be_empty) in TABLES.items():
        if name not in raw.tables and not may_be_empty and name not in declared_absent:
            raw.problems.append(
                Problem(f"{name}.csv", "file is missing", expected=f"{name}.csv or a sheet '{name}' in the workbook")
            )
    raw.references, raw.references_file, problems = read_references(folder)
    raw.problems.extend(problems)
    return raw


def _not_provided(config: object) -> set[str]:
    """Tables review.yaml's ``source.not_provided`` says the source does not hold (an imported review)."""
    source = config.get("source") if isinstance(config, dict) else None
    listed = source.get("not_provided") if isinstance(source, dict) else None
    return {str(x) for x in listed} if isinstance(listed, list) else set()
