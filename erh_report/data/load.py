"""Reading the data folder: tables as CSV files or as sheets of one XLSX workbook, review.yaml,
and the reference list (BibTeX, CSL-JSON, RIS or a PubMed export).

Everything is read as text exactly as a spreadsheet shows it, with the row numbers the spreadsheet
shows (header = row 1), so that every later problem can point at the cell the author must fix.
Reading never raises for a user mistake: it returns what it could read plus a list of problems.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from erh_report.data.reference_files import read_references
from erh_report.data.schema import TABLES
from erh_report.data.text import cell_problems, decode
from erh_report.errors import Problem

REVIEW_FILE = "review.yaml"


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
    references: dict[str, dict[str, Any]] | None = None  # CSL-JSON items by citation key
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
        problems.extend(cell_problems(name, source, idx, cells))
        rows.append((idx, cells))
    return RawTable(name, source, [c for c in header if c], rows), problems


def _csv_records(text: str, delimiter: str, source: str) -> tuple[list[list[str]], list[Problem]]:
    """The records of a CSV text, split only at line ends outside quotes (a line separator such as U+2028
    inside a cell stays in the cell, where it is reported); a quote never closed is named."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    while True:
        line = reader.line_num
        try:
            records.append(next(reader))
        except StopIteration:
            return records, []
        except csv.Error as exc:
            row = len(records) + 1
            if "unexpected end of data" in str(exc) or "EOF" in str(exc):
                return records, [
                    Problem(
                        source,
                        f'a quote (") opened in row {row} (line {line + 1}) is never closed',
                        row=row,
                        expected="a closing quote, or no quote in the cell; "
                        'a quote inside a quoted cell is written twice ("")',
                    )
                ]
            return records, [
                Problem(
                    source,
                    f"cannot be read as CSV ({exc})",
                    row=row,
                    expected='quotes only around whole cells; a quote inside a quoted cell written twice ("")',
                )
            ]


def read_csv(path: Path, name: str) -> tuple[RawTable, list[Problem]]:
    """One CSV file (UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252; comma, semicolon or tab
    separated)."""
    source = path.name
    try:
        text, problems = decode(path.read_bytes(), source)
    except OSError as exc:
        return RawTable(name, source, [], []), [Problem(source, f"cannot be read: {exc.strerror}")]
    if text is None:
        return RawTable(name, source, [], []), problems
    if not text.strip():
        return RawTable(name, source, [], []), [
            Problem(source, "the file is empty", expected="a header row and data rows")
        ]
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    records, problems = _csv_records(text, delimiter, source)
    if problems:
        return RawTable(name, source, [], []), problems
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
def _line_map(
    node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int], seen: set[int] | None = None
) -> None:
    """Record the line of every key/item so a problem in review.yaml can say where it is. A node reached
    again through an alias is not entered again: the map stays as small as the file."""
    seen = set() if seen is None else seen
    out[path] = node.start_mark.line + 1
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else key_node.start_mark.line
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out, seen)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out, seen)


#: review.yaml limits: a settings file is a few kilobytes; aliases may not blow it up (a "billion laughs").
YAML_MAX_BYTES = 1_000_000
YAML_MAX_VALUES = 100_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_: set[int]) -> int:
    """How many values the node stands for once every alias is expanded, counted without expanding (each
    node once); -1 for an alias that contains itself."""
    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in open_:
        return -1
    open_.add(id(node))
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    total = 1
    for child in children:
        size = _expanded_size(child, sizes, open_)
        if size < 0:
            return -1
        total = min(total + size, YAML_MAX_VALUES + 1)
    open_.discard(id(node))
    sizes[id(node)] = total
    return total


def _compose_limited(text: str, source: str) -> tuple[yaml.Node | None, Any, list[Problem]]:
    """Parse ``text`` into its node graph, check the limits, and only then make Python data of it."""
    if len(text.encode("utf-8")) > YAML_MAX_BYTES:
        return (
            None,
            None,
            [
                Problem(
                    source,
                    f"is larger than {YAML_MAX_BYTES:,} bytes",
                    expected="the review's settings, a few kilobytes",
                )
            ],
        )
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            size = _expanded_size(node, {}, set())
            if size < 0:
                return (
                    None,
                    None,
                    [
                        Problem(
                            source,
                            "an alias (*name) refers to a value that contains it",
                            expected="aliases to values defined before them, without loops",
                        )
                    ],
                )
            if size > YAML_MAX_VALUES:
                return (
                    None,
                    None,
                    [
                        Problem(
                            source,
                            f"its aliases (*name) expand to more than {YAML_MAX_VALUES:,} values",
                            expected="the review's settings, with few aliases",
                        )
                    ],
                )
        return node, loader.construct_document(node) if node is not None else None, []
    finally:
        loader.dispose()


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
        node, data, problems = _compose_limited(text, source)
        if problems:
            return None, {}, problems
    except RecursionError:
        return None, {}, [Problem(source, "is nested too deeply", expected="the review's settings")]
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
