"""The jinja environment: templates/ on the loader path, autoescape on, undefined names are errors, and the
review's number style as filters."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from erh_report.numbers import NumberStyle, jinja_filters
from erh_report.render.pdf import PART_MARK

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _long_date(value: dt.date | str) -> str:
    """ "April 28, 2022" (JAMA's date style)."""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return f"{day:%B} {day.day}, {day.year}"


class _SafeBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates from the build cache: a damaged or unwritable file means compiling again, never a
    failed build (jinja itself stops at a truncated file)."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - any damage: compile the template again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def environment(
    style: NumberStyle, templates: Path = TEMPLATES, bytecode_dir: Path | None = None
) -> jinja2.Environment:
    """``bytecode_dir`` keeps compiled templates between builds (a rebuild then skips compiling them)."""
    if bytecode_dir is not None:
        try:
            bytecode_dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            bytecode_dir = None
    env = jinja2.Environment(
        bytecode_cache=_SafeBytecodeCache(str(bytecode_dir)) if bytecode_dir else None,
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    filters = dict(jinja_filters(style))
    filters["pval_number"] = lambda p: style.p_number(p).removeprefix("= ").replace("< ", "<").replace("> ", ">")
    filters["longdate"] = _long_date
    env.filters.update({name: _defined_only(f) for name, f in filters.items()})
    env.filters["by_analysis"] = by_analysis
    env.globals["pdf_part"] = markupsafe.Markup(PART_MARK)  # where the PDF starts a new part (see render.pdf)
    return env


def by_analysis(figures: Iterable[Any]) -> list[list[Any]]:
    """Figures grouped by their analysis, in the order the analyses first appear (jinja's groupby sorts)."""
    groups: dict[Any, list[Any]] = {}
    for fig in figures:
        groups.setdefault(fig.analysis_id, []).append(fig)
    return list(groups.values())


def _defined_only(function):
    """A number filter given an undefined name says which name, instead of failing to format it."""

    def checked(*args, **kwargs):
        for value in args:
            if isinstance(value, jinja2.Undefined):
                value._fail_with_undefined_error()
        return function(*args, **kwargs)

    return checked
