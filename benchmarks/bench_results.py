"""How long the review's analyses take, for the illustrative review and larger versions of it.

    python benchmarks/bench_results.py            # 93 studies (data/) and 930 (10x), plus 2x and 5x

Each size is made by the same seeded generator as data/. Printed per size: seconds to read and check
the data, seconds to run every planned analysis (pooling, subgroups, meta-regression, sensitivity,
leave-one-out, small-study tests), seconds to make the results tables, and milliseconds per study so
that linear growth shows as a roughly constant last column. Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from erh_report.data import load_review
from erh_report.example import generate
from erh_report.synthesis import run, tables


def _best(fn, repeat: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="93,186,465,930", help="numbers of studies (default 93,186,465,930)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'studies':>8} {'rows':>7} {'analyses':>8} {'check s':>8} {'analyses s':>10} {'tables s':>9} {'ms/study':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = Path(tmp) / str(n)
            generate.write(folder, n_studies=n)
            t_check, review = _best(lambda f=folder: load_review(f), args.repeat)
            t_run, results = _best(lambda r=review: run(r), args.repeat)
            t_tables, _ = _best(lambda r=results: tables(r), args.repeat)
            print(
                f"{n:>8} {len(review.outcome_data):>7} {len(review.analyses):>8} {t_check:>8.3f} "  # type: ignore[union-attr]
                f"{t_run:>10.3f} {t_tables:>9.3f} {1000 * (t_check + t_run + t_tables) / n:>9.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
