"""Command line: ``erh-report meta|check|init|build|diff|import``.

Heavy libraries (numpy, pandas, scipy, matplotlib) are imported inside the command functions, so that
``erh-report --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys

from erh_report import __version__
from erh_report.errors import EXIT_INPUT_ERROR, InputError
from erh_report.vocabulary import HKSJ, MEASURES, METHODS


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="erh-report",
        description="Regenerate a systematic review and meta-analysis paper from its extracted data.",
    )
    parser.add_argument("--version", action="version", version=f"erh-report {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    meta = commands.add_parser(
        "meta",
        help="run one meta-analysis on a CSV file (metafor's column names)",
        description=(
            "Run one meta-analysis on a CSV file. Columns use metafor's names: "
            "n1i m1i sd1i n2i m2i sd2i (SMD, MD); ai bi ci di or ai n1i ci n2i (OR, RR, RD); "
            "ri ni (COR, ZCOR); yi vi or yi sei (GEN). Other columns are ignored unless named."
        ),
    )
    meta.add_argument("file", metavar="FILE.csv")
    meta.add_argument("--measure", required=True, type=str.upper, choices=tuple(MEASURES))
    meta.add_argument(
        "--method",
        default=None,
        type=str.upper,
        choices=tuple(METHODS),
        help="tau^2 estimator, or FE (default: REML; FE with --pooling MH or PETO)",
    )
    meta.add_argument(
        "--pooling",
        default="IV",
        type=str.upper,
        choices=("IV", "MH", "PETO"),
        help="inverse variance (rma.uni, default), Mantel-Haenszel (rma.mh with --method FE; "
        "RevMan's M-H random effects with --method DL) or Peto (rma.peto)",
    )
    meta.add_argument(
        "--zero-cells",
        choices=("metafor", "revman"),
        default=None,
        help="2x2 tables with a zero cell: metafor's rules, or RevMan 5's (0.5 added before the "
        "Mantel-Haenszel sums, double-zero studies left out); default revman for --pooling MH "
        "--method DL, else metafor",
    )
    meta.add_argument("--hksj", action="store_true", help=f"Knapp-Hartung ({HKSJ}) adjustment")
    meta.add_argument(
        "--moderator", action="append", default=[], metavar="COL", help="meta-regression moderator column (repeatable)"
    )
    meta.add_argument("--subgroup", metavar="COL", help="subgroup analysis by this column")
    meta.add_argument("--egger", action="store_true", help="Egger's regression test")
    meta.add_argument("--trimfill", action="store_true", help="trim-and-fill")
    meta.add_argument("--level", type=float, default=95.0, help="confidence level in percent")
    meta.add_argument(
        "--smd-variant",
        choices=("metafor", "revman"),
        default="metafor",
        help="SMD as metafor's Hedges' g (default) or RevMan 5's",
    )
    meta.add_argument("--json", action="store_true", help="print one JSON object")
    # several effects per study
    from erh_report.meta.dependent import add_options

    add_options(meta)

    check = commands.add_parser(
        "check",
        help="check a data folder and list every problem (nothing is written)",
        description="Check every file of a data folder against its schema and across files. Prints "
        "'OK: ...' or every problem with its file, row and column; exit code 2 on problems.",
    )
    check.add_argument(
        "data_dir", nargs="?", default="data", metavar="DATA_DIR", help="the review's data folder (default: data)"
    )

    init = commands.add_parser(
        "init",
        help="start a new review folder: every file with its header, a commented review.yaml, a README",
        description="Write a new review into DIR (which must be new or empty): every table as a CSV file with "
        "its header only, a review.yaml whose every key is commented with its meaning and allowed values, "
        "and a README. 'erh-report check DIR' then lists the next steps. --example writes the illustrative "
        "review (invented data) instead.",
    )
    init.add_argument("folder", metavar="DIR", help="the new review's folder")
    init.add_argument("--example", action="store_true", help="write the illustrative review (invented data)")

    build = commands.add_parser(
        "build",
        help="build the paper (results, figures, documents) from a data folder",
        description="Check the data folder, run every planned analysis and write OUT: results (CSV, XLSX, "
        "JSON), figures, the manuscript, supplement and evidence profiles (HTML, PDF, DOCX), supplementary "
        "tables and manifest.json. Nothing is written if the data have problems; OUT is replaced only "
        "when the whole build has succeeded.",
    )
    build.add_argument(
        "data_dir", nargs="?", default="data", metavar="DATA_DIR", help="the review's data folder (default: data)"
    )
    build.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build)")
    build.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    build.add_argument(
        "--only",
        choices=("results", "figures", "documents"),
        default="documents",
        help="stop after this stage (default: documents, i.e. everything)",
    )
    build.add_argument(
        "--no-cache",
        action="store_true",
        help="build and draw and render everything again (default: leave OUT as it is when its manifest "
        "shows nothing changed; else reuse unchanged figures and documents from .erh-cache/ beside it)",
    )

    diff = commands.add_parser(
        "diff",
        help="what changed between two builds (or two data folders): report and tracked-changes DOCX",
        description="Compare OLD and NEW (build folders, or data folders that are built first) and write "
        "DIR/changes.html, DIR/changes.xlsx and DIR/manuscript-tracked.docx, DIR/supplement-tracked.docx "
        "(Word revision marks). Nothing is printed or written when nothing changed.",
    )
    diff.add_argument("old", metavar="OLD", help="the earlier build folder or data folder")
    diff.add_argument("new", metavar="NEW", help="the later build folder or data folder")
    diff.add_argument("--out", default="diff", metavar="DIR", help="output folder (default: diff)")
    diff.add_argument("--fail-on-change", action="store_true", help="exit code 1 when something changed (for CI)")
    diff.add_argument("--author", default="erh-report", help="author of the revision marks (default: erh-report)")
    diff.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="date of the revision marks (default: today in UTC, or the date of SOURCE_DATE_EPOCH "
        "when it is set, for byte-identical output)",
    )
    imp = commands.add_parser(
        "import",
        help="make a data folder from a RevMan 5 file, its CSV export or a Cochrane data package",
        description="Read SOURCE (RevMan 5 XML .rm5, RevMan 5 analysis-data CSV export, or a Cochrane data "
        "package v1 zip or folder; the format is read from the content) and write DATA_DIR in this tool's "
        "format: review.yaml with one analysis per RevMan outcome, studies, outcome data, references.",
    )
    imp.add_argument("source", metavar="SOURCE")
    imp.add_argument("--out", required=True, metavar="DATA_DIR", help="the data folder to write")
    imp.add_argument("--rob", metavar="FILE", help="risk of bias: a robvis CSV (RoB 2, ROBINS-I or ROB 1)")
    imp.add_argument("--prisma", metavar="FILE", help="PRISMA 2020 counts (prisma.csv or the PRISMA2020 template)")
    imp.add_argument("--force", action="store_true", help="replace DATA_DIR if it is not empty")
    return parser


def _run_diff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from erh_report.diff import revision_date, run_diff

    return run_diff(
        Path(args.old),
        Path(args.new),
        Path(args.out),
        args.fail_on_change,
        date=revision_date(args.date),
        author=args.author,
    )


def _run_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from erh_report.data import load_review
    from erh_report.starter import next_steps

    try:
        review = load_review(args.data_dir)
    except InputError as error:
        print(f"erh-report: {error.summary()}", file=sys.stderr)
        steps = next_steps(error.problems, Path(args.data_dir))
        if steps:
            print("Next steps:\n" + "\n".join(f"  {n}. {step}" for n, step in enumerate(steps, start=1)))
        return EXIT_INPUT_ERROR
    print(f"OK: {review.summary()}")
    return 0


def _run_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from erh_report.starter import init_review

    written = init_review(Path(args.folder), example=args.example)
    what = "the illustrative review (invented data)" if args.example else "a new review"
    print(f"wrote {what} into {args.folder}: {', '.join(p.name for p in written)}")
    if not args.example:
        print(f"next: fill in the files, then `erh-report check {args.folder}` lists what is still missing")
    return 0


def _run_build(args: argparse.Namespace) -> int:
    from erh_report.build import build, stderr_progress

    stages = {
        "results": ("results",),
        "figures": ("results", "figures"),
        "documents": ("results", "figures", "documents"),
    }[args.only]
    build(
        args.data_dir,
        args.out,
        progress=None if args.quiet else stderr_progress,
        stages=stages,
        cache_dir=not args.no_cache,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "meta":
            from erh_report.meta.command import run_meta

            return run_meta(args)
        if args.command == "check":
            return _run_check(args)
        if args.command == "build":
            return _run_build(args)
        if args.command == "init":
            return _run_init(args)
        if args.command == "diff":
            return _run_diff(args)
        if args.command == "import":
            from erh_report.importers.command import run_import

            return run_import(args)
    except InputError as error:
        print(f"erh-report: {error.summary()}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    parser.error(f"unknown command {args.command}")
    return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
