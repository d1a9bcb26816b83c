"""The look and the output of every figure: fonts, colours, text measurement, deterministic saving.

Figures are made without pyplot (no global state, nothing interactive) and drawn on matplotlib's Agg
canvas for PNG and its SVG backend for SVG. Layouts are computed in points from measured text, so a
label never runs out of its column or box and the figure grows instead. Saving fixes everything that
would otherwise change from run to run (SVG hash salt, dates, software versions), so the same results
give byte-identical SVG and PNG files.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

import matplotlib as mpl
import numpy as np
import png as pypng
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import TransformedPatchPath

from erh_report.figures.agg_text import CachedTextCanvas, measuring_renderer, remembered_svg_measures

#: Settings applied to every figure (inside ``rc_context``), in workers and in the main process alike.
RC = {
    # Named, not "sans-serif": matplotlib falls back glyph by glyph only along a list of named families.
    "font.family": ["DejaVu Sans", "Droid Sans Fallback"],
    # DejaVu Sans ships with matplotlib, so measured widths are the same on every machine; Droid Sans
    # Fallback (Debian fonts-droid-fallback) draws the CJK characters DejaVu lacks.
    "font.sans-serif": ["DejaVu Sans", "Droid Sans Fallback"],
    "font.size": 8,
    # Without hinting, text widths scale exactly with the resolution, so a layout measured at 72 dpi
    # holds on screen (100 dpi) and in the 300 dpi PNG; hinting changes widths by up to 7%.
    "text.hinting": "no_hinting",
    "svg.fonttype": "none",
    "svg.hashsalt": "erh_report",
    "svg.image_inline": True,
    "path.simplify": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.facecolor": "white",
}
PNG_DPI = 300
SVG_METADATA = {"Date": None, "Creator": "erh_report"}

FONT = 8.0  # body text, points
SMALL = 7.0  # footnotes and legends
TITLE = 9.5
LINE = 11.0  # row pitch of tables in figures
MARGIN = 10.0

INK = "#000000"
GREY = "#595959"
MARK = "#1F4E79"  # study squares, bubbles
#: robvis colours for RoB 2 (and a neutral grey for a study nobody assessed).
ROB_COLOURS = {
    "low": "#02C100",
    "some concerns": "#E2DF07",
    "high": "#BF0000",
    "no information": "#4EA1F7",
    "not assessed": "#D9D9D9",
}
ROB_SYMBOLS = {"low": "+", "some concerns": "\u2212", "high": "\u00d7", "no information": "?", "not assessed": ""}


@lru_cache(maxsize=1)
def _renderer() -> RendererAgg:
    return measuring_renderer(72)  # 72 dpi: one pixel is one point


@lru_cache(maxsize=64)
def _font(size: float, bold: bool) -> FontProperties:
    return FontProperties(family=RC["font.sans-serif"], size=size, weight="bold" if bold else "normal")


@lru_cache(maxsize=8192)
def text_width(text: str, size: float = FONT, bold: bool = False) -> float:
    """Width of one line of text in points, as matplotlib will draw it."""
    if not text:
        return 0.0
    if mpl.rcParams["text.hinting"] == RC["text.hinting"]:  # inside a figure's rc_context: measure as is
        width, _, _ = _renderer().get_text_width_height_descent(text, _font(size, bold), ismath=False)
        return float(width)
    with rc_context({"text.hinting": RC["text.hinting"]}):  # a copy of every setting: only when needed
        width, _, _ = _renderer().get_text_width_height_descent(text, _font(size, bold), ismath=False)
    return float(width)


def wrap(text: str, width: float, size: float = FONT, bold: bool = False, indent: str = "") -> list[str]:
    """Greedy word wrap to ``width`` points; a single word wider than that stays whole (callers widen).
    Only plain spaces break, so a non-breaking space keeps "(n\u00a0=\u00a03)" on one line."""
    words = [w for w in text.split(" ") if w]
    if not words:
        return [""]
    # Most texts fit whole: one measure instead of one per word. The greedy wrap below would keep them on
    # one line too, since a string is at least as wide as any of its prefixes (the ink of its glyphs is a
    # superset, at the same places).
    whole = " ".join(words)
    if text_width(whole, size, bold) <= width:
        return [whole]
    lines: list[str] = []
    current = words[0]
    for word in words[1:]:
        trial = f"{current} {word}"
        if text_width(trial, size, bold) <= width:
            current = trial
        else:
            lines.append(current)
            current = indent + word
    lines.append(current)
    return lines


def widest_word(texts: list[str], size: float = FONT, bold: bool = False) -> float:
    return max((text_width(w, size, bold) for t in texts for w in t.split(" ")), default=0.0)


def shorten(text: str, width: int) -> str:
    return textwrap.shorten(text, width=width, placeholder="\u2026")


def canvas(width_pt: float, height_pt: float) -> tuple[MplFigure, Axes]:
    """A figure of the given size with one invisible axes whose data units are points from the top left."""
    fig = MplFigure(figsize=(width_pt / 72, height_pt / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_pt)
    ax.set_ylim(height_pt, 0)
    ax.set_axis_off()
    return fig, ax


def _unused_clip(ax: Axes) -> TransformedPatchPath:
    """The axes' clip path, made once per axes. ``Axes.text`` gives every text without one the axes'
    patch, which costs a transform per text (a sixth of a forest plot's drawing) although a text with
    ``clip_on=False`` is never clipped: given this one, the texts draw the same, cheaper."""
    clip = ax.__dict__.get("_erh_text_clip")
    if clip is None:
        clip = ax.__dict__["_erh_text_clip"] = TransformedPatchPath(ax.patch)
    return clip


def put(
    ax: Axes,
    x: float,
    y: float,
    text: str,
    *,
    size: float = FONT,
    bold: bool = False,
    ha: str = "left",
    color: str = INK,
    gid: str | None = None,
    italic: bool = False,
) -> None:
    """One line of text, vertically centred on ``y`` (points from the top)."""
    ax.text(
        x,
        y,
        text,
        clip_path=_unused_clip(ax),
        fontsize=size,
        fontweight="bold" if bold else "normal",
        ha=ha,
        va="center_baseline",
        color=color,
        gid=gid,
        parse_math=False,
        clip_on=False,
        fontstyle="italic" if italic else "normal",
    )


def put_lines(
    ax: Axes,
    y: float,
    lines: list[str],
    gid: str,
    *,
    size: float = FONT,
    pitch: float = LINE,
    color: str = INK,
    bold: bool = False,
    x: float = MARGIN,
) -> float:
    """Lines of text one under the other from ``y``; returns the ``y`` after the last one."""
    for line in lines:
        put(ax, x, y, line, size=size, bold=bold, color=color, gid=gid)
        y += pitch
    return y


def put_title(ax: Axes, lines: list[str], gid: str) -> float:
    return put_lines(ax, MARGIN + 7, lines, gid, size=TITLE, pitch=14, bold=True)


def put_footnotes(ax: Axes, y: float, lines: list[str], gid: str) -> float:
    return put_lines(ax, y, lines, gid, size=SMALL, pitch=9.5, color=GREY)


def rob_symbols(ax: Axes, xs, ys, judgement: str, dot: float) -> None:
    """robvis's symbols drawn over the traffic lights as markers (paths, not text: fast and exact)."""
    marker = {"low": "+", "some concerns": "_", "high": "x"}.get(judgement)
    colour = INK if judgement == "some concerns" else "white"
    if marker is not None:
        ax.scatter(xs, ys, s=(dot * 0.55) ** 2, c=colour, marker=marker, linewidths=1.1, clip_on=False)
    elif judgement == "no information":
        for x, y in zip(xs, ys, strict=True):
            put(ax, float(x), float(y) + 0.3, "?", size=dot * 0.7, bold=True, ha="center", color="white")


def message_figure(title: str, lines: list[str], note: str = "") -> MplFigure:
    """What a figure shows when its input cannot make the picture: the title and what is missing."""
    width = 430.0
    body = [w for line in lines for w in wrap(line, width - 2 * MARGIN)]
    title_lines = wrap(title, width - 2 * MARGIN, TITLE, bold=True)
    notes = wrap(note, width - 2 * MARGIN, SMALL) if note else []
    height = MARGIN * 2 + 14 * len(title_lines) + 6 + LINE * len(body) + 10 * len(notes) + 6
    fig, ax = canvas(width, height)
    y = put_lines(ax, MARGIN + 6, title_lines, "figure-title", size=TITLE, pitch=14, bold=True) + 6
    y = put_lines(ax, y, body, "figure-message") + 4
    put_lines(ax, y, notes, "figure-note", size=SMALL, pitch=10, color=GREY)
    return fig


def drawn_text_extents(fig: MplFigure) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(text, (x0, y0, x1, y1) in pixels) of every text the figure really draws, for layout checks.
    Tick labels of ticks outside the axis limits exist but are never drawn, so they are left out."""
    from matplotlib.text import Text

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ticks: set[int] = set()
    shown: list[Text] = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update((id(tick.label1), id(tick.label2)))
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9 and tick.label1.get_visible():
                    shown.append(tick.label1)
    shown += [t for t in fig.findobj(Text) if id(t) not in ticks and t.get_visible()]
    out = []
    for t in shown:
        if t.get_text().strip():
            e = t.get_window_extent(renderer)
            out.append((t.get_text(), (float(e.x0), float(e.y0), float(e.x1), float(e.y1))))
    return out


def save(
    fig: MplFigure, out_dir: Path, figure_id: str, title: str, description: str, png: bool = True
) -> tuple[Path, Path]:
    """Write ``<id>.svg`` (text as text) and ``<id>.png`` (300 dpi; with ``png=False`` not now, see
    ``save_png``), byte-identical for the same input."""
    svg, png_path = out_dir / f"{figure_id}.svg", out_dir / f"{figure_id}.png"
    with remembered_svg_measures():
        fig.savefig(svg, format="svg", metadata={**SVG_METADATA, "Title": title, "Description": description})
    if png:
        save_png(fig, out_dir, figure_id)
    return svg, png_path


def save_png(fig: MplFigure, out_dir: Path, figure_id: str) -> Path:
    """Write ``<id>.png`` at 300 dpi."""
    path = out_dir / f"{figure_id}.png"
    write_png(path, raster(fig, PNG_DPI), PNG_DPI)
    # Every text drawn keeps the renderer, and a figure and its artists refer to each other: left to the
    # garbage collector, the 300 dpi buffer of a figure drawn earlier and rasterised now would wait for a
    # collection, which rasterising alone, making few objects, rarely prompts (a process making the PNGs
    # of figures it kept grew by 20 MB a figure). The renderer is made anew at one pixel: the buffer goes.
    renderer = getattr(fig.canvas, "renderer", None)  # the one raster drew with (FigureCanvasAgg keeps it)
    if isinstance(renderer, RendererAgg):
        renderer.__init__(1, 1, renderer.dpi)
    return path


def write_png(path: Path, pixels: np.ndarray, dpi: float) -> None:
    """RGB pixels as a PNG: no alpha channel (always opaque), no row filters (figures are mostly flat
    white, which compresses as well unfiltered: files 9% smaller and written in a third of the time of
    Pillow's adaptive filters), light compression. Rows are handed over one at a time as bytes, so the
    pixels may be a view (Agg's RGBA buffer without its alpha) and the image is never copied whole."""
    height, width, _ = pixels.shape
    per_metre = round(dpi / 0.0254)
    writer = pypng.Writer(
        width,
        height,
        greyscale=False,
        compression=3,
        x_pixels_per_unit=per_metre,
        y_pixels_per_unit=per_metre,
        unit_is_meter=True,
    )
    with open(path, "wb") as out:
        writer.write(out, (row.tobytes() for row in pixels))


def raster(fig: MplFigure, dpi: float) -> np.ndarray:
    """The figure as RGB pixels at ``dpi``, drawn by Agg: a view of Agg's RGBA buffer (copying a 300 dpi
    image whole, strided, cost a third of the drawing)."""
    screen_dpi = fig.dpi
    canvas = CachedTextCanvas(fig)
    fig.set_dpi(dpi)
    try:
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3]
    finally:
        fig.set_dpi(screen_dpi)


def size_inches(fig: MplFigure) -> tuple[float, float]:
    w, h = fig.get_size_inches()
    return float(w), float(h)
