"""How long importing a RevMan review takes, and its results, for the largest reference file.

    python benchmarks/bench_import.py [SOURCE ...]   # default ../shared/reference-data/revman/CD013656.rm5

Printed per source: seconds to read the source (parse), to write and check the data folder (import as
``erh-report import`` does it, without the parse), to run every analysis (RevMan's methods), to make the
results tables, and to recompute every result RevMan stored and compare it (the check of
tests/test_revman_stored.py). Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from erh_report.data import load_review
from erh_report.importers.detect import read_source
from erh_report.importers.recompute import compare
from erh_report.importers.write import build_folder
from erh_report.synthesis import run, tables

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "revman" / "CD013656.rm5"


def _best(fn, repeat: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def _write_and_check(review, folder: Path):
    files = build_folder(review).files
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return load_review(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=[str(DEFAULT)])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        f"{'source':<24} {'KB':>6} {'analyses':>8} {'rows':>5} {'parse s':>8} {'write+check s':>13} "
        f"{'results s':>9} {'tables s':>8} {'total s':>8} {'stored check s':>14} {'compared':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for i, source in enumerate(args.sources):
            path = Path(source)
            if not path.exists():
                print(f"{path}: not found", file=sys.stderr)
                return 2
            t_parse, review = _best(lambda p=path: read_source(p), args.repeat)
            folder = Path(tmp) / str(i)
            t_check, checked = _best(lambda r=review, f=folder: _write_and_check(r, f), args.repeat)
            t_run, results = _best(lambda c=checked: run(c), args.repeat)
            t_tables, _ = _best(lambda r=results: tables(r), args.repeat)
            t_cmp, diffs = _best(lambda r=review: [d for o in r.outcomes for d in compare(o)], args.repeat)
            total = t_parse + t_check + t_run + t_tables
            print(
                f"{path.name:<24} {path.stat().st_size / 1024:>6.0f} {len(review.outcomes):>8} "  # type: ignore[union-attr]
                f"{len(checked.outcome_data):>5} {t_parse:>8.3f} {t_check:>13.3f} {t_run:>9.3f} "  # type: ignore[union-attr]
                f"{t_tables:>8.3f} {total:>8.3f} {t_cmp:>14.3f} {len(diffs):>8}",
                flush=True,
            )  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
