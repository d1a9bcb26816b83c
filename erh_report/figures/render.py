"""Every figure of the review, drawn on several cores: the one entry point the build calls.

The main process turns the results into jobs (formatted specs, captions, alt text); worker processes
only draw and save, so they need no results and the pictures cannot disagree with the captions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path

from erh_report.figures import dose, forest, funnel, prisma, risk_of_bias
from erh_report.figures.output import Figure, Job, run_job, run_png_job
from erh_report.numbers import NumberStyle, get_style
from erh_report.synthesis import ReviewResults
from erh_report.workers import worker_pool

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Rendered:
    figure: Figure
    seconds: float  # wall clock, in its process
    cpu_seconds: float


def plan(results: ReviewResults, style: NumberStyle, rob_columns: bool = True) -> list[Job]:
    """Every figure to draw, in the order the paper lists them."""
    missing = results.review.not_provided  # an imported review: nothing drawn from data it does not hold
    return [
        *(prisma.jobs(results, style) if "prisma" not in missing else []),
        *forest.jobs(results, style, rob_columns),
        *funnel.jobs(results, style),
        *(risk_of_bias.jobs(results, style) if "risk_of_bias" not in missing else []),
        *dose.jobs(results, style),
    ]


def draw_jobs(
    todo: list[Job],
    out_dir: Path,
    jobs: int,
    done: Callable[[Figure, float, float], None],
    png: bool = True,
    keep: bool = False,
) -> None:
    """Draw ``todo`` into ``out_dir`` on up to ``jobs`` processes, largest first; ``done(figure, seconds)``
    hears of each as it finishes, with wall and CPU seconds (in the main process). ``png=False``: SVG only.
    ``keep``: drawn in this process, the drawings are kept for ``run_png_job``."""
    workers = max(1, min(jobs, len(todo), os.cpu_count() or 1))
    if workers == 1:
        for job in todo:
            done(*run_job(job, out_dir, png, keep))
        return
    with worker_pool(workers) as pool:
        futures = [pool.submit(run_job, job, out_dir, png) for job in sorted(todo, key=lambda j: -j.cost)]
        for fut in as_completed(futures):
            done(*fut.result())


def draw_on(
    drawers: list[Executor],
    todo: list[Job],
    out_dir: Path,
    done: Callable[[Figure, float, float], None],
    while_drawing: Callable[[], None] | None = None,
) -> dict[str, Future]:
    """Draw ``todo``'s SVGs on ``drawers`` (executors of one process each), then the PNGs, each in the
    process that drew the figure and kept its drawing: the futures of the PNGs, by figure id.

    The jobs are shared out largest first to the drawer with the least work (by the jobs' cost), and a
    drawer's PNGs are handed to it as soon as its own SVGs are drawn, so that it works on while the others
    finish theirs. ``done`` hears of each SVG as in ``draw_jobs``; ``while_drawing`` runs meanwhile."""
    if not drawers:
        raise ValueError("no drawer to draw on")
    load = [0.0] * len(drawers)
    shares: list[list[Job]] = [[] for _ in drawers]
    for job in sorted(todo, key=lambda j: -j.cost):
        least = load.index(min(load))
        shares[least].append(job)
        load[least] += job.cost
    svgs = {
        drawer.submit(run_job, job, out_dir, False, True): (number, job)
        for number, (drawer, share) in enumerate(zip(drawers, shares, strict=True))
        for job in share
    }
    if while_drawing is not None:
        while_drawing()
    left = [len(share) for share in shares]
    pngs: dict[str, Future] = {}
    for future in as_completed(svgs):
        number, _ = svgs[future]
        done(*future.result())
        left[number] -= 1
        if left[number] == 0:
            for job in shares[number]:
                pngs[job.figure.id] = drawers[number].submit(run_png_job, job, out_dir)
    return pngs


def render_all(
    results: ReviewResults,
    out_dir: Path,
    *,
    style: NumberStyle | None = None,
    jobs: int = 2,
    progress: Progress | None = None,
    rob_columns: bool = True,
) -> list[Rendered]:
    """Draw every figure into ``out_dir`` and say how long each took (plan order)."""
    style = style or get_style(results.review.config.settings.number_style)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = plan(results, style, rob_columns)
    ids = [j.figure.id for j in todo]
    if len(set(ids)) != len(ids):
        raise ValueError(
            "two figures would share a file name: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1}))
        )
    done: dict[str, Rendered] = {}
    total = len(todo)

    def report(figure: Figure, seconds: float, cpu_seconds: float) -> None:
        done[figure.id] = Rendered(figure, seconds, cpu_seconds)
        if progress:
            extra = f" ({figure.note})" if figure.note else ""
            progress(f"figure {len(done)}/{total}: {figure.id} {seconds:.2f} s{extra}")

    draw_jobs(todo, out_dir, jobs, report)
    return [done[i] for i in ids]


def render_figures(
    results: ReviewResults,
    out_dir: Path,
    *,
    style: NumberStyle | None = None,
    jobs: int = 2,
    progress: Progress | None = None,
    rob_columns: bool = True,
) -> list[Figure]:
    """Write ``<id>.svg`` and ``<id>.png`` for every figure of the review into ``out_dir``.

    ``style`` defaults to the review's number style; ``jobs`` > 1 draws on that many processes;
    ``progress`` hears one line per figure; ``rob_columns`` adds risk-of-bias traffic lights to forest plots.
    """
    return [
        r.figure
        for r in render_all(results, out_dir, style=style, jobs=jobs, progress=progress, rob_columns=rob_columns)
    ]
