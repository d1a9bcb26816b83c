"""How long the figures of the illustrative review take: every figure as SVG and 300 dpi PNG.

    python benchmarks/bench_figures.py              # both cores (default --jobs 2)
    python benchmarks/bench_figures.py --jobs 1     # one core, for comparison
    python benchmarks/bench_figures.py --phases     # where the time goes, by kind (one process)

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

from matplotlib import rc_context

from erh_report.data import load_review
from erh_report.figures import style as st
from erh_report.figures.render import plan, render_all
from erh_report.numbers import get_style
from erh_report.synthesis import run

DATA = Path(__file__).resolve().parents[1] / "data"


PHASES = ("layout and artists", "SVG", "PNG drawing (Agg, 300 dpi)", "PNG encoding")


def phases(results, out: Path) -> None:
    """Each figure drawn in this process, timing (CPU) the four steps of ``run_job`` separately."""
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(PHASES))
    counts: dict[str, int] = defaultdict(int)
    with rc_context(st.RC):
        for job in plan(results, get_style(results.review.config.settings.number_style)):
            marks = [time.process_time()]
            fig = job.draw(job.spec)
            marks.append(time.process_time())
            fig.savefig(out / "figure.svg", format="svg", metadata=st.SVG_METADATA)
            marks.append(time.process_time())
            pixels = st.raster(fig, st.PNG_DPI)
            marks.append(time.process_time())
            st.write_png(out / "figure.png", pixels, st.PNG_DPI)
            marks.append(time.process_time())
            counts[job.figure.kind] += 1
            for i in range(len(PHASES)):
                by_kind[job.figure.kind][i] += marks[i + 1] - marks[i]
    print(f"{'kind':<20} {'figures':>7} " + " ".join(f"{p:>28}" for p in PHASES))
    totals = [sum(v[i] for v in by_kind.values()) for i in range(len(PHASES))]
    for kind, secs in [*by_kind.items(), ("all", totals)]:
        n = counts[kind] if kind in counts else sum(counts.values())
        print(f"{kind:<20} {n:>7} " + " ".join(f"{s:>20.1f} s {100 * s / sum(totals):>3.0f}%" for s in secs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DATA))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quiet", action="store_true", help="only the totals by kind")
    parser.add_argument("--phases", action="store_true", help="CPU by step (layout, SVG, PNG draw, PNG encode)")
    args = parser.parse_args(argv)
    results = run(load_review(args.data))
    if args.phases:
        with tempfile.TemporaryDirectory() as tmp:
            phases(results, Path(tmp))
        return 0
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
    print(
        f"\n{len(rendered)} figures, {size / 1e6:.1f} MB; {total:.1f} CPU s of drawing; "
        f"{wall:.1f} s wall clock with {args.jobs} job(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
