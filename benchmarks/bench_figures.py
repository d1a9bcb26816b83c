"""How long the figures of the illustrative review take: every figure as SVG and 300 dpi PNG.

    python benchmarks/bench_figures.py              # both cores (default --jobs 2)
    python benchmarks/bench_figures.py --jobs 1     # one core, for comparison

Prints the CPU seconds of each figure (measured inside its worker: draw, SVG, PNG; CPU time rather than
wall clock, so that other load on the machine does not inflate it), the sum and the median by kind, and
the wall-clock time of the whole set. The analyses run first and are not counted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from erh_report.data import load_review
from erh_report.figures.render import render_all
from erh_report.synthesis import run

DATA = Path(__file__).resolve().parents[1] / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DATA))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quiet", action="store_true", help="only the totals by kind")
    args = parser.parse_args(argv)
    results = run(load_review(args.data))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rendered = render_all(results, Path(tmp), jobs=args.jobs)
        wall = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    by_kind: dict[str, list[float]] = defaultdict(list)
    if not args.quiet:
        print(f"{'figure':<52} {'inches':>13} {'CPU s':>8}")
    for r in rendered:
        by_kind[r.figure.kind].append(r.cpu_seconds)
        if not args.quiet:
            dims = f"{r.figure.width_in:.1f} x {r.figure.height_in:.1f}"
            print(f"{r.figure.id:<52} {dims:>13} {r.cpu_seconds:>8.2f}")
    print(f"\n{'kind':<20} {'figures':>7} {'CPU s':>8} {'median s':>9}")
    for kind, times in by_kind.items():
        print(f"{kind:<20} {len(times):>7} {sum(times):>8.1f} {statistics.median(times):>9.2f}")
    total = sum(r.cpu_seconds for r in rendered)
    print(f"\n{len(rendered)} figures, {size / 1e6:.1f} MB; {total:.1f} CPU s of drawing; "
          f"{wall:.1f} s wall clock with {args.jobs} job(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
