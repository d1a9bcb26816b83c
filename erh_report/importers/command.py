"""``erh-report import SOURCE --out DATA_DIR``: a RevMan or Cochrane review as a data folder.

The folder is written beside DATA_DIR, checked as ``erh-report check`` would, and only then moved into
place: a failed import leaves nothing half-written. A non-empty DATA_DIR is replaced only with --force.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from erh_report.errors import InputError, Problem


def _study_names(review) -> dict[str, str]:
    names: dict[str, str] = {}
    for s in review.studies:
        for key in (s.name, s.id):
            names.setdefault(key, s.id)
            names.setdefault(key.lower(), s.id)
    return names


def run_import(args: argparse.Namespace) -> int:
    from erh_report.data import load_review
    from erh_report.importers.detect import read_source
    from erh_report.importers.write import build_folder, rob_from_robvis

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.force:
        raise InputError(
            [Problem(str(out), "exists and is not empty", expected="a new or empty folder, or --force to replace it")]
        )
    review = read_source(Path(args.source))
    notes: list[str] = []
    rob = None
    if args.rob:
        tool, table, rob_notes = rob_from_robvis(_read_text(Path(args.rob)), Path(args.rob).name, _study_names(review))
        rob = (tool, table)
        notes += rob_notes
    prisma = _read_text(Path(args.prisma)) if args.prisma else None
    folder = build_folder(review, rob=rob, prisma=prisma)
    notes += folder.notes
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for name, text in sorted(folder.files.items()):
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        checked = load_review(staging)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"Imported {review.source} ({review.source_format}) into {out}: {len(review.studies)} studies, "
        f"{len(review.outcomes)} analyses; check: {checked.summary()}"
    )
    return 0


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), "file not found", expected="a CSV file")]) from None
    except UnicodeDecodeError:
        return path.read_bytes().decode("cp1252", errors="replace")
