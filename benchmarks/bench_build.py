"""Whole-paper build of the illustrative review: a cold build (stage by stage), a no-op rebuild, and a
rebuild after one cell of one study's outcome data changed, then one cell of its study record, the last
checked against a cold build of the same data.

    python benchmarks/bench_build.py            # uses both cores for the figures

Targets (issue "Corrections"): no-op rebuild under 5% of a cold build; one changed cell under 25%.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
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
    work = Path(tempfile.mkdtemp(prefix="erh-bench-"))
    try:
        data = Path(shutil.copytree(ROOT / "data", work / "data"))
        cache = work / "cache"
        cold, messages = timed_build(data, work / "cold", cache)
        print(f"cold build: {cold:.1f} s")
        for m in messages:
            if m.startswith(("stage times", "figures:")):
                print("  " + m)
        noop, messages = timed_build(data, work / "noop", cache)
        same = outputs(work / "noop") == outputs(work / "cold")
        print(
            f"no-op rebuild: {noop:.1f} s = {100 * noop / cold:.1f}% of cold (target < 5%); outputs identical: {same}"
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
