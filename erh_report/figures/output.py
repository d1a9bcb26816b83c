"""What a rendered figure is (``Figure``), what is still to draw (``Job``) and drawing one job to disk.

A job carries plain, picklable data (the figure's spec) and the module-level function that draws it,
so jobs can be sent to worker processes; drawing never reads the results again.
"""

from __future__ import annotations

import gc
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure as MplFigure

from erh_report.figures import style as st
from erh_report.figures.agg_text import remembered_font_lookup


@dataclass(frozen=True)
class Figure:
    """One figure on disk; paths are relative to the output folder."""

    id: str
    kind: str
    title: str
    caption: str
    alt_text: str
    svg_path: Path
    png_path: Path
    analysis_id: str | None = None
    width_in: float = 0.0
    height_in: float = 0.0
    note: str = ""  # set when the figure shows a message instead of the picture (what is missing)
    page: int = 1  # a figure printed over several pages: this page's number, of ``pages``
    pages: int = 1
    continues: str = ""  # on pages after the first: the id of the figure's first page


@dataclass(frozen=True)
class Job:
    figure: Figure
    draw: Callable[[Any], MplFigure]
    spec: Any
    cost: float = 1.0  # rough drawing cost (rows), to start the largest figures first


def figure(
    figure_id: str, kind: str, title: str, caption: str, alt_text: str, analysis_id: str | None = None, note: str = ""
) -> Figure:
    return Figure(
        figure_id,
        kind,
        title,
        caption,
        alt_text,
        Path(f"{figure_id}.svg"),
        Path(f"{figure_id}.png"),
        analysis_id,
        note=note,
    )


def message_job(fig: Figure, lines: list[str], note: str = "") -> Job:
    """A job whose picture is a message: the input cannot make the figure, and this says why."""
    return Job(replace(fig, note=" ".join(lines)), draw_message, (fig.title, tuple(lines), note), 0.2)


def draw_message(spec: tuple[str, tuple[str, ...], str]) -> MplFigure:
    title, lines, note = spec
    return st.message_figure(title, list(lines), note)


def _draw(job: Job) -> tuple[Figure, MplFigure]:
    """The job's figure drawn (inside ``rc_context(st.RC)``). A drawing error becomes a figure that says
    so, so one bad figure does not stop the others."""
    fig = job.figure
    try:
        return fig, job.draw(job.spec)
    except Exception as exc:  # a bug must not cost the other figures; the figure and its note say so
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        fig = replace(fig, note=f"could not be drawn: {detail}")
        return fig, st.message_figure(fig.title, [f"This figure could not be drawn: {detail}"])


#: Figures drawn with their PNG still to make, kept in the process that drew them (by figure id), so that
#: the PNG is rasterised from the same drawing instead of a second one; at most ``KEEP_AT_MOST`` (a figure
#: takes 2-4 MB), the first drawn (the largest: jobs go largest first); the others are drawn again.
_KEPT: dict[str, tuple[Figure, MplFigure]] = {}
KEEP_AT_MOST = 80
_DRAWING_PROCESS = [False]


def drawing_process() -> None:
    """Warm-up of a process that only draws figures (``worker_pool``'s ``warm``): there, each drawing kept
    for its PNG is frozen for the garbage collector (``gc.freeze``). The kept drawings are most of such a
    process's objects and live until their PNG: every full collection walked them all again (a third of a
    second each, several times a build). A frozen drawing is not freed after its PNG either; the process
    holds them to its end, as it held them all once drawn."""
    _DRAWING_PROCESS[0] = True


def run_job(job: Job, out_dir: Path, png: bool = True, keep: bool = False) -> tuple[Figure, float, float]:
    """Draw and save one figure: (record, wall seconds, CPU seconds). With ``png=False`` only the SVG is
    written (what the HTML and PDF need); ``run_png_job`` writes the PNG later, from the drawing kept here
    with ``keep=True`` when it runs in this process."""
    start, cpu = time.perf_counter(), time.process_time()
    with rc_context(st.RC), remembered_font_lookup():
        fig, drawn = _draw(job)
        st.save(drawn, out_dir, fig.id, fig.title, fig.alt_text, png=png)
        w, h = st.size_inches(drawn)
    if keep and not png and len(_KEPT) < KEEP_AT_MOST:
        _KEPT[job.figure.id] = (fig, drawn)
        if _DRAWING_PROCESS[0]:
            gc.freeze()
    return (
        replace(fig, width_in=round(w, 3), height_in=round(h, 3)),
        time.perf_counter() - start,
        time.process_time() - cpu,
    )


def run_png_job(job: Job, out_dir: Path) -> float:
    """Write the figure's PNG: from its drawing if this process kept it (the same pixels as drawing both
    at once), else drawn again; returns wall seconds. Lets the documents that need no PNG (HTML, PDF)
    start before the PNGs are made."""
    start = time.perf_counter()
    with rc_context(st.RC), remembered_font_lookup():
        fig, drawn = _KEPT.pop(job.figure.id, None) or _draw(job)
        st.save_png(drawn, out_dir, fig.id)
    return time.perf_counter() - start
