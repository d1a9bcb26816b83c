"""Problems in the words of the data: pydantic's validation errors turned into a file, row, column, the
value found and what was expected; number cells read by the strict rule of ``cells``; and rows that repeat a
key (also study ids that differ only by case)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from erh_report.data.cells import EXPECTED as NUMBER_EXPECTED
from erh_report.data.cells import number_problem
from erh_report.data.load import RawTable
from erh_report.data.schema import MISSING_TOKENS, required_columns
from erh_report.errors import Problem


def _g(value: Any) -> str:
    """A bound as people write it: 0 rather than 0.0."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def expected_of(error: dict[str, Any]) -> tuple[str, str]:
    """(message, expected) in words an author understands, from a pydantic error."""
    kind, ctx = error["type"], error.get("ctx", {})
    table = {
        "float_parsing": ("not a number", "a number (use a dot for decimals)"),
        "float_type": ("not a number", "a number"),
        "int_parsing": ("not a whole number", "a whole number"),
        "int_from_float": ("not a whole number", "a whole number"),
        "int_type": ("not a whole number", "a whole number"),
        "missing": ("required value is missing", "a value"),
        "string_too_short": ("required cell is empty", "a value"),
        "string_type": ("not text", "text"),
        "string_pattern_mismatch": ("not a valid identifier", "letters, digits, '_', '-' or '.'"),
        "bool_parsing": ("not true or false", "true or false"),
        "bool_type": ("not true or false", "true or false"),
        "extra_forbidden": ("unknown key", "only the keys described in the documentation"),
    }
    if kind in table:
        return table[kind]
    if kind == "greater_than":
        return "value out of range", f"a number > {_g(ctx.get('gt'))}"
    if kind == "greater_than_equal":
        return "value out of range", f"a number ≥ {_g(ctx.get('ge'))}"
    if kind == "less_than_equal":
        return "value out of range", f"a number ≤ {_g(ctx.get('le'))}"
    if kind == "less_than":
        return "value out of range", f"a number < {_g(ctx.get('lt'))}"
    if kind == "finite_number":
        return "not a finite number", "a finite number"
    if kind == "literal_error":
        return "value not allowed", f"one of {ctx.get('expected', '')}"
    if kind == "too_short":  # text fields report an empty cell as too_short after stripping
        if isinstance(error.get("input"), str):
            return "required cell is empty", "a value"
        return "list is empty", "at least one entry"
    if kind == "value_error":
        return "value not allowed", str(ctx.get("error", error.get("msg", "")))
    return error.get("msg", "not valid"), ""


def _is_numeric(annotation: Any) -> bool:
    return annotation in (int, float) or any(_is_numeric(a) for a in get_args(annotation))


def _numeric_columns(model: type[BaseModel]) -> list[str]:
    """The columns that hold numbers: they are read by the project's strict number rule, not pydantic's."""
    return [name for name, f in model.model_fields.items() if _is_numeric(f.annotation)]


def _bad_numbers(
    table: RawTable, row: int, cells: dict[str, str], columns: list[str], problems: list[Problem]
) -> set[str]:
    """Report every number cell of the row that breaks the strict rule; return their columns."""
    bad: set[str] = set()
    for column in columns:
        text = cells.get(column, "")
        if text.strip().lower() in MISSING_TOKENS:
            continue
        reason = number_problem(text)
        if reason is not None:
            bad.add(column)
            problems.append(Problem(table.source, reason, row=row, column=column, value=text, expected=NUMBER_EXPECTED))
    return bad


def validate_rows(table: RawTable, model: type[BaseModel], problems: list[Problem]) -> list[tuple[int, Any]]:
    """Check every row against the table's model (numbers by the strict rule first); return the rows that
    passed."""
    missing = [c for c in required_columns(model) if c not in table.columns]  # type: ignore[arg-type]
    for col in missing:
        problems.append(
            Problem(table.source, "required column is missing", row=1, column=col, expected=f"a column named '{col}'")
        )
    numeric = _numeric_columns(model)
    good: list[tuple[int, Any]] = []
    for row, cells in table.rows:
        bad = _bad_numbers(table, row, cells, numeric, problems)
        try:
            valid = model.model_validate({k: ("0" if k in bad else v) for k, v in cells.items()})
            if not bad:
                good.append((row, valid))
        except ValidationError as exc:
            for err in exc.errors():
                column = str(err["loc"][0]) if err["loc"] else None
                if column in missing or column in bad:
                    continue
                message, expected = expected_of(err)
                if column is None and err["type"] == "value_error":
                    column = "judgement"
                value = cells.get(column) if column else None
                problems.append(
                    Problem(
                        table.source,
                        message,
                        row=row,
                        column=column,
                        value=value if value not in (None, "") else None,
                        expected=expected,
                    )
                )
    return good


def report_duplicates(
    source: str,
    rows: Iterable[tuple[int, Any]],
    key: Any,
    what: str,
    column: str,
    problems: list[Problem],
) -> None:
    """Report a row whose key was already used by an earlier row."""
    first: dict[Any, int] = {}
    for row, item in rows:
        k = key(item)
        if k in first:
            problems.append(
                Problem(
                    source,
                    f"duplicate row: same {what} as row {first[k]}",
                    row=row,
                    column=column,
                    value=k if isinstance(k, str) else ", ".join(map(str, k)),
                    expected="each combination once",
                )
            )
        else:
            first[k] = row


def case_only_ids(source: str, table: RawTable | None) -> list[Problem]:
    """study_ids that differ only by case: a spreadsheet or a file system may take them for one study."""
    first: dict[str, tuple[str, int]] = {}
    problems = []
    for row, cells in table.rows if table else []:
        sid = cells.get("study_id", "").strip()
        earlier = first.setdefault(sid.lower(), (sid, row))
        if sid and earlier[0] != sid:
            problems.append(
                Problem(
                    source,
                    f"study_id differs only by case from {earlier[0]} (row {earlier[1]})",
                    row=row,
                    column="study_id",
                    value=sid,
                    expected="study ids that differ in more than case",
                )
            )
    return problems
