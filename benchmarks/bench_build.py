"""Whole-paper build of the illustrative review: a cold build (stage by stage), a no-op rebuild (into the same
folder, and into a new one from the cache), and a rebuild after one cell of one study's outcome data
changed, then one cell of its study record, the last checked against a cold build of the same data.

    python benchmarks/bench_build.py            # uses both cores for the figures
    python benchmarks/bench_build.py --cold     # only the cold build and WeasyPrint alone

Targets (issue "Corrections"): no-op rebuild under 5% of a cold build; one changed cell under 25%.
Targets (issue "Speed"): the figure stage at most 25% of a cold build; a cold build at most 0.6 times
the time WeasyPrint alone, in one process, takes for the same three HTML files (both measured here, one
after the other, with the machine's load printed: the ratio is what means something on a shared machine).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from erh_report.build import build

ROOT = Path(__file__).resolve().parents[1]


def timed_build(data: Path, out: Path, cache: Path | bool) -> tuple[float, list[str]]:
    messages: list[str] = []
    start = time.perf_counter()
    build(data, out, progress=messages.append, cache_dir=cache)
    return time.perf_counter() - start, messages


def weasyprint_alone(out: Path, work: Path) -> float:
    """Seconds WeasyPrint takes, in one process, to lay out the build's three HTML files (which hold their
    figures inline) into PDFs: what a build that only converted its HTML would cost. It runs in a process
    of its own: the memory WeasyPrint leaves behind would otherwise slow the rebuilds measured after it
    (every process a build forks would collect it again)."""
    done = subprocess.run(
        [sys.executable, __file__, "--weasyprint-alone", str(out), str(work)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def _weasyprint_alone_here(out: Path, work: Path) -> float:
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    start = time.perf_counter()
    for name in ("manuscript", "supplement", "evidence-profiles"):
        HTML(filename=str(out / f"{name}.html")).write_pdf(work / f"weasyprint-{name}.pdf")
    return time.perf_counter() - start


def stage_seconds(messages: list[str]) -> dict[str, float]:
    """The build's own stage times, from its "stage times: results 0.3 s, figures ..." line."""
    line = next(m for m in messages if m.startswith("stage times: "))
    pairs = (item.rsplit(" ", 2) for item in line.removeprefix("stage times: ").split(", "))
    return {name: float(seconds) for name, seconds, _ in pairs}


def cold_and_weasyprint(data: Path, work: Path) -> None:
    """A cold build, then WeasyPrint alone on its HTML; the shares and the ratio the targets name."""
    load = os.getloadavg()[0]
    cold, messages = timed_build(data, work / "cold", work / "cache")
    stages = stage_seconds(messages)
    alone = weasyprint_alone(work / "cold", work)
    print(
        f"cold build {cold:.1f} s (load {load:.1f} -> {os.getloadavg()[0]:.1f}); stages "
        + ", ".join(f"{k} {v:.1f} s ({100 * v / cold:.0f}%)" for k, v in stages.items())
    )
    print(
        f"WeasyPrint alone, one process, the same three HTML files: {alone:.1f} s; cold build / WeasyPrint"
        f" = {cold / alone:.2f} (target <= 0.6); figure stage {100 * stages.get('figures', 0) / cold:.0f}% of"
        f" the cold build (target <= 25%); load now {os.getloadavg()[0]:.1f}"
    )


def outputs(out: Path) -> dict[str, str]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]


def change_one_cell(data: Path) -> str:
    path = data / "outcome_data.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    row = rows[1]
    col = header.index("mean")
    row[col] = f"{float(row[col]) + 1:.2f}"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return f"outcome_data.csv row 2 ({row[0]}, {row[1]}), mean -> {row[col]}"


def change_study_cell(data: Path) -> str:
    """A study-level correction: the first study's contact hours (used by every dose meta-regression)."""
    path = data / "studies.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    col = rows[0].index("dose_hours")
    rows[1][col] = f"{float(rows[1][col]) + 6:g}"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return f"studies.csv row 2 ({rows[1][0]}), dose_hours -> {rows[1][col]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="only a cold build and WeasyPrint alone")
    parser.add_argument("--weasyprint-alone", nargs=2, help=argparse.SUPPRESS)  # internal: OUT WORK, print seconds
    args = parser.parse_args()
    if args.weasyprint_alone:
        print(_weasyprint_alone_here(*(Path(p) for p in args.weasyprint_alone)))
        return
    work = Path(tempfile.mkdtemp(prefix="erh-bench-"))
    try:
        data = Path(shutil.copytree(ROOT / "data", work / "data"))
        if args.cold:
            cold_and_weasyprint(data, work)
            return
        cache = work / "cache"
        cold, messages = timed_build(data, work / "cold", cache)
        print(f"cold build: {cold:.1f} s")
        alone = weasyprint_alone(work / "cold", work)
        print(
            f"  WeasyPrint alone, one process, the same three HTML files: {alone:.1f} s (build / it {cold / alone:.2f})"
        )
        for m in messages:
            if m.startswith(("stage times", "figures:")):
                print("  " + m)
        built = outputs(work / "cold")
        noop, messages = timed_build(data, work / "cold", cache)
        same = outputs(work / "cold") == built and any(m.startswith("nothing changed") for m in messages)
        print(
            f"no-op rebuild, into the same folder: {noop:.1f} s = {100 * noop / cold:.1f}% of cold (target < 5%);"
            f" folder left as it was: {same}"
        )
        noop, messages = timed_build(data, work / "noop", cache)
        same = outputs(work / "noop") == built
        print(
            f"no-op rebuild, into a new folder from the cache: {noop:.1f} s = {100 * noop / cold:.1f}% of cold;"
            f" outputs identical: {same}"
        )
        what = change_one_cell(data)
        one, messages = timed_build(data, work / "one", cache)
        print(f"one cell changed ({what}): {one:.1f} s = {100 * one / cold:.1f}% of cold (target < 25%)")
        for m in messages:
            if m.startswith(("stage times", "figures:")) or m.endswith(("unchanged", "PDF parts to lay out")):
                print("  " + m)
        what = change_study_cell(data)
        study, messages = timed_build(data, work / "study", cache)
        print(f"one study cell changed ({what}): {study:.1f} s = {100 * study / cold:.1f}% of cold")
        for m in messages:
            if m.startswith(("stage times", "figures:")) or m.endswith(("unchanged", "PDF parts to lay out")):
                print("  " + m)
        fresh, _ = timed_build(data, work / "fresh", False)
        same = outputs(work / "study") == outputs(work / "fresh")
        print(f"cold build of the changed data: {fresh:.1f} s; rebuild outputs identical to it: {same}")
        if not same:
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
