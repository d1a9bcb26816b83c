"""Full builds (results, figures, documents) of the generator's review at growing sizes: time, peak memory,
and how large the outputs become.

    python benchmarks/bench_scale.py                    # 93, 186, 465 and 930 studies
    python benchmarks/bench_scale.py --sizes 93,186     # a subset

Each size is made by the same seeded generator as data/ (``erh_report.example.generate``) and built cold
(no cache) in a fresh process, so its peak memory is its own: the builder's peak resident set and that of
the largest worker process (figures, PDF parts). Printed per size: the seconds of each stage and of the
whole build, the ratio to the smallest size, megabytes per process, and the sizes of the largest outputs.
Targets (issue "Speed"): 930 studies in at most 10 times the time of 93, and at most 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE_LINE = "stage times: "
WATCHED = ("manuscript.pdf", "manuscript.docx", "supplement.pdf", "supplement.docx", "evidence-profiles.pdf")


def one(n: int, work: Path) -> dict:
    """Generate and build ``n`` studies in this process; what it cost."""
    from erh_report.build import build
    from erh_report.example import generate

    data, out = work / f"data-{n}", work / f"build-{n}"
    generate.write(data, n_studies=n)
    messages: list[str] = []
    start = time.perf_counter()
    build(data, out, progress=messages.append, cache_dir=False)
    seconds = time.perf_counter() - start
    stages = next((m[len(STAGE_LINE) :] for m in messages if m.startswith(STAGE_LINE)), "")
    sizes = {p.name: p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name in WATCHED}
    return {
        "studies": n,
        "seconds": seconds,
        "stages": stages,
        "builder_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "outputs_mb": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6,
        "sizes_mb": {k: v / 1e6 for k, v in sorted(sizes.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="93,186,465,930", help="numbers of studies (default 93,186,465,930)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: build one size, print JSON
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, Path(args.work))))
        return 0
    rows = []
    print(f"load {os.getloadavg()[0]:.1f} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="erh-scale-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            done = subprocess.run(
                [sys.executable, __file__, "--one", str(n), "--work", tmp], capture_output=True, text=True, check=True
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            base = rows[0]
            print(
                f"{n:>5} studies: {row['seconds']:7.1f} s ({row['seconds'] / base['seconds']:4.1f}x the "
                f"{base['studies']}), {row['seconds'] / n * 1000:6.0f} ms/study; peak {row['builder_mb']:6.0f} MB "
                f"builder, {row['worker_mb']:5.0f} MB largest worker; outputs {row['outputs_mb']:6.1f} MB; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            print(f"       stages: {row['stages']}", flush=True)
            print("       " + ", ".join(f"{k} {v:.1f} MB" for k, v in row["sizes_mb"].items()), flush=True)
            for folder in (Path(tmp) / f"data-{n}", Path(tmp) / f"build-{n}"):
                shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
