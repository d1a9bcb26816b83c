"""``erh-report diff OLD NEW``: what a correction changed, for the authors, the journal and CI.

OLD and NEW are build folders, or data folders (they hold review.yaml) that are built first. The output
folder gets changes.html, changes.xlsx and tracked-changes DOCX files of the manuscript and supplement;
when nothing changed nothing is printed and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from erh_report.errors import InputError, Problem

DOCUMENTS = ("manuscript", "supplement")
ANALYSES = Path("results") / "analyses.csv"


def _kind(folder: Path) -> str:
    """ "build" or "data"; InputError when it is neither, so the user learns what was expected."""
    if (folder / ANALYSES).is_file():
        return "build"
    if (folder / "review.yaml").is_file():
        return "data"
    message = "does not exist" if not folder.exists() else "is neither a build folder nor a data folder"
    raise InputError(
        [
            Problem(
                str(folder),
                message,
                expected="a build folder (with results/analyses.csv) or a data folder (with review.yaml)",
            )
        ]
    )


def compare_builds(old: Path, new: Path):  # -> Changes (imported lazily)
    """Everything that differs between two build folders."""
    from erh_report.diff.data import INPUTS, compare_data, inputs_of
    from erh_report.diff.numbers import compare_numbers
    from erh_report.diff.report import Changes, compare_outputs, is_figure
    from erh_report.diff.text import compare_html

    files = [f for f in compare_outputs(old, new) if not f.path.startswith(f"{INPUTS}/")]
    sentences = []
    for name in DOCUMENTS:
        sentences += compare_html(old / f"{name}.html", new / f"{name}.html", name)
    return Changes(
        str(old),
        str(new),
        compare_numbers(old, new),
        sentences,
        [f for f in files if is_figure(f.path)],
        files,
        compare_data(inputs_of(old), inputs_of(new)),
    )


def revision_date(day: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The date-time Word shows on the revision marks: ``day`` (YYYY-MM-DD), else the day of
    SOURCE_DATE_EPOCH when it is set (reproducible output), else today, in UTC."""
    if day is None:
        epoch = environ.get("SOURCE_DATE_EPOCH")
        try:
            moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
        except ValueError:
            raise InputError(
                [Problem("SOURCE_DATE_EPOCH", f"is {epoch!r}", expected="seconds since 1970 as a whole number")]
            ) from None
        return moment.strftime("%Y-%m-%dT00:00:00Z")
    try:
        if len(day) == 10:
            return dt.date.fromisoformat(day).strftime("%Y-%m-%dT00:00:00Z")
    except ValueError:
        pass
    raise InputError([Problem("--date", f"is {day!r}", expected="a date as YYYY-MM-DD, e.g. 2026-11-29")])


def write_diff(
    changes, old: Path, new: Path, out: Path, date: str | None = None, author: str | None = None
) -> list[Path]:
    """changes.html, changes.xlsx, the correction notice (when a reported number changed) and, for each
    document both builds have as DOCX, <name>-tracked.docx."""
    from erh_report.diff.notice import cause, write_notice
    from erh_report.diff.report import write_report
    from erh_report.diff.tracked import AUTHOR, DATE, tracked_docx

    written = write_report(changes, out)
    written += write_notice(old, new, out, cause(changes.data))
    for name in DOCUMENTS:
        before, after = old / f"{name}.docx", new / f"{name}.docx"
        if before.is_file() and after.is_file():
            target = out / f"{name}-tracked.docx"
            tracked_docx(before, after, target, author=author or AUTHOR, date=date or DATE)
            written.append(target)
    return written


def _progress(label: str) -> Callable[[str], None] | None:
    """Build progress on a terminal only: in CI and scripts the diff prints nothing unless something changed."""
    if not sys.stderr.isatty():
        return None
    return lambda message: print(f"building {label}: {message}", file=sys.stderr, flush=True)


def run_diff(
    old: Path, new: Path, out: Path, fail_on_change: bool = False, date: str | None = None, author: str | None = None
) -> int:
    """Compare, write the report when something changed, and return the exit code (1 on change only with
    ``fail_on_change``, for CI). Raises InputError when OLD or NEW is not a build or data folder."""
    old, new, out = Path(old), Path(new), Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(
            [
                Problem(
                    f"--out {out}", "is a file, not a folder", expected="a folder name (move or rename the file first)"
                )
            ]
        )
    kinds = _kind(old), _kind(new)
    with tempfile.TemporaryDirectory(prefix="erh-diff-") as tmp:
        builds = []
        for folder, kind, label in zip((old, new), kinds, ("old", "new"), strict=True):
            if kind == "data":
                from erh_report.build import build

                target = Path(tmp) / label
                # one cache for both: the second build redraws only what the correction changed
                build(folder, target, progress=_progress(label), cache_dir=Path(tmp) / "cache")
                folder = target
            builds.append(folder)
        changes = compare_builds(*builds)
        changes.old, changes.new = str(old), str(new)
        if not changes:
            return 0
        written = write_diff(changes, builds[0], builds[1], out, date, author)
    print(changes.summary())
    for path in written:
        print(f"wrote {path}")
    return 1 if fail_on_change else 0
