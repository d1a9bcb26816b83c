"""Orchestration: data folder -> checked review -> results -> GRADE -> figures -> documents -> manifest.

The whole output folder is written into a temporary folder beside its target and swapped in only when
complete, so a failed or interrupted build never leaves half-written files in ``build/``; and nothing at
all is written when the data have problems (validation runs first).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from erh_report.errors import InputError, Problem
from erh_report.jsonable import plain
from erh_report.manifest import MANIFEST, unchanged_build
from erh_report.outdir import check_out_dir, out_lock, staged_folder
from erh_report.reproducible import normalise_zip
from erh_report.vocabulary import ILLUSTRATIVE_NOTICE, method_label
from erh_report.workers import Forked, forks_share_memory, single_process_pools

if TYPE_CHECKING:  # the analyses, pandas and matplotlib are imported when a build needs them, not to find
    import pandas as pd  # that nothing changed

    from erh_report.cache import Cache
    from erh_report.data import Review
    from erh_report.grade import GradeReport
    from erh_report.synthesis import ReviewResults

XLSX_NAME = "results.xlsx"


def stderr_progress(message: str) -> None:
    """Default progress report: one line on stderr, so stdout stays clean for scripts."""
    print(f"erh-report: {message}", file=sys.stderr, flush=True)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {col: plain(val) for col, val in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _about(review: Review) -> dict[str, Any]:
    cfg = review.config
    return {
        "title": cfg.title,
        "illustrative": cfg.illustrative,
        "note": ILLUSTRATIVE_NOTICE if cfg.illustrative else "",
        "effect_measure": cfg.settings.effect_measure,
        "dichotomous_measure": cfg.settings.dichotomous_measure,
        "method": method_label(cfg.settings.method, cfg.settings.hksj),
        "level": cfg.settings.level,
        "smd_variant": cfg.settings.smd_variant,
        "instrument_rule": cfg.plan.instrument_rule,
        "multi_arm": cfg.plan.multi_arm,
        "studies": len(review.studies),
        "dyads_randomised": sum(s.n_randomised or 0 for _, s in review.studies),
        "sign_convention": "positive effects favour the intervention",
        **({"source": cfg.source.model_dump()} if cfg.source else {}),
        **_dependence_about(review),
    }


def _dependence_about(review: Review) -> dict[str, Any]:
    """The main analyses' handling of several effects per study, when some analysis is not the paper's."""
    from erh_report.synthesis.dependent import any_dependent

    s = review.config.settings
    if not any_dependent(review.config, review.analyses):
        return {}
    return {"dependence": s.dependence, "robust": s.robust, "within_study_correlation": s.within_study_correlation}


def write_results(results: ReviewResults, folder: Path) -> dict[str, pd.DataFrame]:
    """Write every results table as CSV (one per table, one per analysis) and JSON; return the tables."""
    from erh_report.spreadsheet import write_csv
    from erh_report.synthesis import tables

    review = results.review
    frames = tables(results)
    about = _about(review)
    folder.mkdir(parents=True, exist_ok=True)
    studies_dir = folder / "studies"
    studies_dir.mkdir()
    for name, frame in frames.items():
        write_csv(frame, folder / f"{name}.csv")
    effects = frames["study_effects"]
    for ar in results.analyses:
        part = effects[effects["analysis_id"] == ar.analysis.id]
        write_csv(part, studies_dir / f"{ar.analysis.id}.csv")
    (folder / "analyses.json").write_text(
        json.dumps({"about": about, "analyses": _records(frames["analyses"])}, indent=1, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    (folder / "results.json").write_text(
        json.dumps(
            {"about": about, **{name: _records(frame) for name, frame in frames.items()}},
            indent=1,
            allow_nan=False,
        )
        + "\n",
        encoding="utf-8",
    )
    lines = [
        f"Results of: {review.config.title}",
        "",
        ILLUSTRATIVE_NOTICE if review.illustrative else "",
        "",
        "analyses.csv / analyses.json   one row per planned analysis (pooled estimate, CI, PI, tau2, I2, Q)",
        "studies/<analysis_id>.csv      the study rows of each analysis: yi, vi, weight, instrument,",
        "                               time point, spreadsheet rows used and why they were chosen",
        "study_effects.csv              all study rows of all analyses in one table",
        "subgroups.csv                  subgroup analyses with tests for subgroup differences",
        "metaregression.csv             random-effects meta-regression on each moderator (dose)",
        "sensitivity.csv                all studies vs excluding high risk of bias",
        "leave_one_out.csv              each analysis refitted without each study in turn",
        "dependence.csv                 each analysis with one effect per study selected, aggregated, and multilevel",
        *_dependence_readme(review),
        "small_study_effects.csv        Egger's test and trim-and-fill (analyses with enough studies)",
        "prisma.csv                     the PRISMA 2020 counts as read",
        f"{XLSX_NAME}                   every table above, one sheet each; results.json likewise",
        "",
        "Numbers are at full precision; effects are SMD (Hedges' g) or log odds/risk ratios (see the",
        "'measure' and 'scale' columns; exp_* columns give ratios), positive = favours the intervention.",
    ]
    (folder / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return frames


def _dependence_readme(review: Review) -> list[str]:
    """The README's words on the extra columns, when some main analysis is not the paper's."""
    from erh_report.synthesis.dependent import any_dependent

    if not any_dependent(review.config, review.analyses):
        return []
    return [
        "                               analyses.csv: dependence, k_effects, k_studies, sigma2_*, i2_*, robust_*",
        "                               columns say each main analysis's model (review.yaml's dependence, robust)",
    ]


def write_results_workbook(
    frames: dict[str, pd.DataFrame], review: Review, folder: Path, cache: Cache | None = None
) -> None:
    """Every results table in one XLSX workbook (from the cache when the CSV and JSON it holds are unchanged)."""
    import pandas as pd

    from erh_report.cache import cached_file
    from erh_report.spreadsheet import neutralised

    about = _about(review)

    def workbook() -> None:
        with pd.ExcelWriter(folder / XLSX_NAME, engine="openpyxl") as writer:
            neutralised(pd.DataFrame({"key": list(about), "value": [str(v) for v in about.values()]})).to_excel(
                writer, sheet_name="about", index=False
            )
            for name, frame in frames.items():
                neutralised(frame).to_excel(writer, sheet_name=name[:31], index=False)
        normalise_zip(folder / XLSX_NAME)

    sources = [folder / f"{name}.csv" for name in frames] + [folder / "results.json"]
    cached_file(cache, "workbooks", sources, "results" + _openpyxl_version(), folder / XLSX_NAME, workbook)


def write_supplementary_tables(
    results: ReviewResults, grade: GradeReport, folder: Path, cache: Cache | None = None
) -> None:
    """The eTables as CSV files (tables/) and one XLSX workbook, for journals."""
    from erh_report.cache import cached_file
    from erh_report.render.workbook import supplementary_tables, write_csvs, write_workbook

    frames = supplementary_tables(results, grade)
    for name in not_provided_tables(results.review):
        frames.pop(name, None)
    write_csvs(frames, folder / "tables")
    book = folder / "supplementary-tables.xlsx"
    note = ILLUSTRATIVE_NOTICE if results.review.illustrative else ""

    def supplementary_workbook() -> None:
        write_workbook(frames, book, note)
        normalise_zip(book)

    cached_file(
        cache,
        "workbooks",
        sorted((folder / "tables").glob("*.csv")),
        "supplementary" + note + _openpyxl_version(),
        book,
        supplementary_workbook,
    )


STAGES = ("results", "figures", "documents")


def _openpyxl_version() -> str:
    from importlib import metadata

    return metadata.version("openpyxl")


#: Supplementary tables that say nothing when the source does not hold what they are made from.
_TABLES_FROM = {
    "grade": ("evidence_profiles", "summary_of_findings", "grade_footnotes"),
    "risk_of_bias": ("risk_of_bias",),
    "prisma": ("prisma", "excluded_studies"),
}


def not_provided_tables(review: Review) -> list[str]:
    """The supplementary tables left out because the imported source does not hold their data."""
    missing = review.not_provided
    out = [t for what, names in _TABLES_FROM.items() if what in missing for t in names]
    if review.config.source is not None:  # the illustrative review's study variables and dose
        out += ["characteristics", "dose_metaregression"]
    return out


def write_grade(grade: GradeReport, folder: Path) -> None:
    """GRADE assessments as JSON (every evidence profile, machine-readable) and CSV tables."""
    from erh_report.spreadsheet import write_csv

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "grade.json").write_text(grade.to_json() + "\n", encoding="utf-8")
    for name, frame in grade.tables().items():
        write_csv(frame, folder / f"{name}.csv")


def build(
    data_dir: str | Path = "data",
    out_dir: str | Path = "build",
    progress: Callable[[str], None] | None = stderr_progress,
    stages: tuple[str, ...] = STAGES,
    jobs: int = 2,
    cache_dir: Path | None | bool = True,
) -> ReviewResults | None:
    """Check the data, run every analysis and write the build folder. Raises InputError on bad data.

    Returns the results, or None when OUT already held what the build would make (``unchanged_build``):
    then nothing is read beyond the inputs' bytes and nothing is written.

    ``stages`` picks what to make: "results" (always), "figures", "documents" (needs figures).
    ``cache_dir``: True for the default cache beside the build folder, a folder, or False/None for none (and
    a build made again even when nothing changed).
    """
    started = time.perf_counter()
    target = check_out_dir(out_dir, data_dir)  # before anything is read or written
    say = progress or (lambda _m: None)
    if cache_dir and (target / MANIFEST).is_file():  # built before: maybe from the same inputs (--no-cache: build)
        with out_lock(target):
            count = unchanged_build(target, Path(data_dir), stages)
        if count is not None:
            say(
                f"nothing changed since {target} was built: the same data, templates, code, software and fonts,"
                f" and its {count} files are those its manifest lists; left as it is (--no-cache builds it again)"
            )
            say(f"done in {time.perf_counter() - started:.1f} s")
            return None
    from erh_report.data import load_review

    say(f"checking {data_dir}")
    review = load_review(data_dir)
    say(review.summary())
    # Nothing is written before the data are known to be good. The build's workers are forked: their
    # collectors leave alone what they inherit.
    with out_lock(target), forks_share_memory():
        return _build_locked(review, target, progress, stages, jobs, cache_dir, started)


def _build_locked(
    review: Review,
    target: Path,
    progress: Callable[[str], None] | None,
    stages: tuple[str, ...],
    jobs: int,
    cache_dir: Path | None | bool,
    started: float,
) -> ReviewResults:
    """``build`` once the data are checked and OUT is known to be safe and is locked."""
    from erh_report.cache import Cache, PngTask, default_cache_dir, render_figures_cached
    from erh_report.dependence import dependence_table, keep_dependence_table
    from erh_report.figures.output import drawing_process
    from erh_report.grade import assess_review
    from erh_report.manifest import write_manifest
    from erh_report.numbers import get_style
    from erh_report.synthesis import run

    say = progress or (lambda _m: None)
    results = run(review, progress=progress)
    style = get_style(review.config.settings.number_style)
    grade = assess_review(results, style)
    say(f"writing {target}")
    timings: dict[str, float] = {}
    folder = default_cache_dir(target) if cache_dir is True else (cache_dir or None)
    cache = Cache(Path(folder) if folder else None)
    # With documents to make, the figures are drawn in processes of their own that then make the PNGs (which
    # only the DOCX files need) from the same drawings, while the PDFs are laid out.
    drawers = max(1, min(jobs, os.cpu_count() or 1)) if "documents" in stages else 1
    with (
        staged_folder(target) as tmp,
        single_process_pools(drawers if drawers > 1 else 0, warm=drawing_process) as drawing,
    ):

        def results_files() -> tuple[dict[str, pd.DataFrame], float, pd.DataFrame]:
            clock = time.perf_counter()
            frames = write_results(results, tmp / "results")
            if "grade" not in review.not_provided:  # an imported review's source holds no GRADE: none is made up
                write_grade(grade, tmp / "results" / "grade")
            return frames, time.perf_counter() - clock, dependence_table(review)

        # With processes to spare, the results files are written by one of their own while the figures are
        # planned and drawn (it has the analyses: a fork). It sends back the tables and the table of several
        # effects per study, which it makes first and the supplement shows too.
        timings["results"] = 0.0
        written: list[dict[str, pd.DataFrame]] = []
        forked = None
        if drawers > 1:
            forked = Forked(results_files)
        else:
            frames, timings["results"], _ = results_files()
            written.append(frames)

        def results_frames() -> dict[str, pd.DataFrame]:
            """The results tables, once the process writing them is done."""
            if not written:
                answer = forked.result() if forked is not None else None
                if answer is None:  # the process failed: the work again here, to report what went wrong
                    shutil.rmtree(tmp / "results", ignore_errors=True)
                    answer = results_files()
                written.append(answer[0])
                timings["results"] = answer[1]
                keep_dependence_table(review, answer[2])
            return written[0]

        if "figures" in stages or "documents" in stages:
            clock = time.perf_counter()
            pngs: list[PngTask] | None = [] if "documents" in stages else None
            figures = render_figures_cached(
                results,
                tmp / "figures",
                style,
                cache,
                jobs=jobs,
                progress=progress,
                png_later=pngs,
                drawers=drawing,
            )
            failed = [f for f in figures if f.note.startswith("could not be drawn")]
            if failed:  # the paper must not go out with a broken figure: keep the previous build
                raise InputError(
                    [
                        Problem(
                            f"figures/{f.id}.svg",
                            f.note,
                            expected="a figure that draws; see the message, fix the data or report the error",
                        )
                        for f in failed
                    ]
                )
            timings["figures"] = time.perf_counter() - clock
        if "documents" in stages:
            from erh_report.render.documents import write_documents

            def workbooks() -> None:  # written while the worker processes lay out the PDFs
                say(f"writing {XLSX_NAME} and supplementary-tables.xlsx")
                write_supplementary_tables(results, grade, tmp, cache)
                write_results_workbook(results_frames(), review, tmp / "results", cache)

            results_frames()  # the table of several effects per study, for the supplement (made by then)
            clock = time.perf_counter()
            write_documents(
                results,
                grade,
                figures,
                tmp,
                style,
                progress,
                cache=cache,
                jobs=jobs,
                while_waiting=workbooks,
                before_docx=pngs or (),
            )
            timings["documents"] = time.perf_counter() - clock
        if "documents" not in stages:
            write_results_workbook(results_frames(), review, tmp / "results", cache)
        results_frames()  # the results files are all written before the folder is swapped in
        from erh_report.diff.data import copy_inputs

        copy_inputs(Path(review.folder), tmp)  # what `erh-report diff` names as the cause of a change
        write_manifest(tmp, review, stages)
    for line in cache.report():
        say(line)
    say("stage times: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    say(f"done in {time.perf_counter() - started:.1f} s")
    if review.illustrative:
        say(ILLUSTRATIVE_NOTICE)
    return results
