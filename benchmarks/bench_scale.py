"""Full builds (results, figures, documents) of the generator's review at growing sizes: time, peak memory,
the outputs' sizes, and the two rebuilds a correction needs.

    python benchmarks/bench_scale.py                    # 93, 186, 465 and 930 studies
    python benchmarks/bench_scale.py --sizes 93,186     # a subset
    python benchmarks/bench_scale.py --keep /tmp/scale  # keep each size's data and builds there

Each size is made by the same seeded generator as data/ (``erh_report.example.generate``) and built in a
fresh process, so its peak memory is its own: the builder's peak resident set and that of the largest
worker process (figures, PDF parts, DOCX). Per size: a cold build (empty cache) with the seconds of each
stage; then a no-op rebuild (the same command again into the same folder, as an author runs it; and into
a new folder, from the cache) and a rebuild after one mean of one study changed (``bench_build``'s
correction), each as a share of the cold build; the sizes of every document (DOCX, PDF with its pages,
HTML), of all outputs, and how many forest plots continue over several pages.
Targets (issue "Speed"): 930 studies in at most 10 times the time of 93 and at most 4 GB; the one-cell
correction at most 25% and the no-op at most 5% of a cold build at every size; every DOCX at most 20 MB.
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
from pathlib import Path

STAGE_LINE = "stage times: "
DOCUMENTS = ("manuscript", "supplement", "evidence-profiles")


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def one(n: int, work: Path) -> dict:
    """Generate ``n`` studies and build them cold, then a no-op and a one-cell rebuild, in this process."""
    from bench_build import change_one_cell, outputs, timed_build

    from erh_report.example import generate

    data, cache = work / f"data-{n}", work / f"cache-{n}"
    cold_out, noop_out, one_out = (work / f"build-{n}{suffix}" for suffix in ("", "-noop", "-one"))
    generate.write(data, n_studies=n)
    cold, messages = timed_build(data, cold_out, cache)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stages = next((m[len(STAGE_LINE) :] for m in messages if m.startswith(STAGE_LINE)), "")
    files = [p for p in cold_out.rglob("*") if p.is_file()]
    figures = [p.name for p in (cold_out / "figures").glob("*.svg")]
    documents = {
        name: {
            "docx_mb": (cold_out / f"{name}.docx").stat().st_size / 1e6,
            "pdf_mb": (cold_out / f"{name}.pdf").stat().st_size / 1e6,
            "pdf_pages": _pages(cold_out / f"{name}.pdf"),
            "html_mb": (cold_out / f"{name}.html").stat().st_size / 1e6,
        }
        for name in DOCUMENTS
    }
    built = outputs(cold_out)
    noop, noop_messages = timed_build(data, cold_out, cache)  # the same command again, as an author runs it
    noop_same = outputs(cold_out) == built and any(m.startswith("nothing changed") for m in noop_messages)
    noop_new, _ = timed_build(data, noop_out, cache)  # the same data into another folder: from the cache
    noop_new_same = outputs(noop_out) == built
    shutil.rmtree(noop_out, ignore_errors=True)
    change_one_cell(data)
    one_cell, one_messages = timed_build(data, one_out, cache)
    shutil.rmtree(one_out, ignore_errors=True)
    return {
        "studies": n,
        "seconds": cold,
        "stages": stages,
        "builder_mb": peak,
        "worker_mb": workers,
        "outputs_mb": sum(p.stat().st_size for p in files) / 1e6,
        "figures_mb": sum(p.stat().st_size for p in (cold_out / "figures").iterdir()) / 1e6,
        "figure_files": len(figures),
        "continued_pages": sum(1 for name in figures if "-page" in name),
        "documents": documents,
        "noop_seconds": noop,
        "noop_identical": noop_same,
        "noop_new_folder_seconds": noop_new,
        "noop_new_folder_identical": noop_new_same,
        "one_cell_seconds": one_cell,
        "one_cell_work": rebuild_work(one_messages),
    }


def rebuild_work(messages: list[str]) -> list[str]:
    """What a rebuild did, from its progress messages: its stage times, the figures drawn, the PDF parts
    laid out, and its five longest document tasks."""
    said = [m for m in messages if m.startswith((STAGE_LINE, "figures: ")) or "PDF parts to lay out" in m]
    tasks = [m for m in messages if m.rsplit(": ", 1)[-1].endswith(" s") and "/" in m and not m.startswith("figure ")]
    longest = sorted(tasks, key=lambda m: -float(m.rsplit(": ", 1)[-1].removesuffix(" s")))[:5]
    return said + longest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="93,186,465,930", help="numbers of studies (default 93,186,465,930)")
    parser.add_argument("--keep", help="a folder to keep every size's data and cold build in (default: none kept)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: build one size, print JSON
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, Path(args.work))))
        return 0
    rows = []
    print(f"load {os.getloadavg()[0]:.1f} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="erh-scale-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in (int(s) for s in args.sizes.split(",")):
            done = subprocess.run(
                [sys.executable, __file__, "--one", str(n), "--work", str(work)],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            base = rows[0]
            print(
                f"{n:>5} studies: cold {row['seconds']:7.1f} s ({row['seconds'] / base['seconds']:4.1f}x the "
                f"{base['studies']}); peak {row['builder_mb']:6.0f} MB builder, {row['worker_mb']:5.0f} MB largest "
                f"worker; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            print(f"       stages: {row['stages']}", flush=True)
            print(
                f"       no-op rebuild {row['noop_seconds']:.1f} s = {100 * row['noop_seconds'] / row['seconds']:.1f}% "
                f"(folder left as it was: {row['noop_identical']}); into a new folder from the cache "
                f"{row['noop_new_folder_seconds']:.1f} s = "
                f"{100 * row['noop_new_folder_seconds'] / row['seconds']:.1f}% "
                f"(outputs identical: {row['noop_new_folder_identical']}); one cell changed "
                f"{row['one_cell_seconds']:.1f} s = {100 * row['one_cell_seconds'] / row['seconds']:.1f}%",
                flush=True,
            )
            for line in row["one_cell_work"]:
                print(f"         one cell: {line}", flush=True)
            print(
                f"       outputs {row['outputs_mb']:.1f} MB (figures {row['figures_mb']:.1f} MB, "
                f"{row['figure_files']} SVG files of which {row['continued_pages']} continue a forest plot)",
                flush=True,
            )
            for name, d in row["documents"].items():
                print(
                    f"       {name}: DOCX {d['docx_mb']:.1f} MB, PDF {d['pdf_mb']:.1f} MB ({d['pdf_pages']} pages), "
                    f"HTML {d['html_mb']:.1f} MB",
                    flush=True,
                )
            if not args.keep:
                for folder in work.glob(f"*-{n}*"):
                    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
