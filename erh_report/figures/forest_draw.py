"""Drawing a forest plot from its spec: RevMan's table of study data beside the plot, one row per study.

The spec (see ``forest.forest_spec``) holds formatted text and numbers only; this module lays it out.
Column widths come from the measured text and long study labels wrap, so the figure grows instead of
clipping; squares have an area proportional to the weight, and a CI that leaves the axis ends in an arrow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Polygon

from erh_report import rob_tools
from erh_report.figures import style as st
from erh_report.rob_tools import RobTool

LABEL_MAX = 190.0  # study labels wrap beyond this width (points)
PLOT_WIDTH = 170.0
GAP = 8.0
ROB_CELL = 12.0
SQUARE_MAX = 8.5  # side of the heaviest study's square (points)
SQUARE_MIN = 2.5
ROB_DOT = 9.2  # diameter of a traffic light (points)
#: Room for a figure on the documents' page, in inches: the text width of a letter page with 2 cm margins,
#: and 20 cm of its height (the PDF shows a figure up to 21 cm tall, the DOCX up to 85% of the text height,
#: 20.2 cm; the rest is the caption's). A forest plot is placed at the text width (the PDF never enlarges it).
PAGE_ROOM = (6.93, 7.87)
#: The smallest row pitch a forest plot may have on the page (points). The illustrative review's (93
#: studies) are placed at 6.35 to 7.5 points a row (the widest are shrunk to the text width, the tallest,
#: 13.8 inches, also to the page's height), and read well; a plot whose rows would come out closer than
#: this continues over several pages instead, each filled at the plot's placed width.
LEGIBLE_PITCH = 6.0
CONTINUED = "Continued on the next page."


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    group: str = ""
    align: str = "right"


@dataclass(frozen=True)
class Mark:
    """The graphic of a row, on the readers' scale: a square, a diamond or a prediction interval."""

    kind: str  # "square" | "diamond" | "interval"
    est: float
    low: float
    high: float
    size: float = 1.0  # squares: weight relative to the heaviest study


@dataclass(frozen=True)
class Row:
    kind: str  # study | heading | subtotal | total | events | pi | note | blank
    label: str
    cells: dict[str, str]
    mark: Mark | None = None
    rob: tuple[str, ...] | None = None
    bold: bool = False
    gid: str = ""


@dataclass(frozen=True)
class ForestSpec:
    title: str
    columns: tuple[Column, ...]
    measure_header: tuple[str, str]
    rows: tuple[Row, ...]
    log: bool
    xlim: tuple[float, float]
    ticks: tuple[float, ...]
    tick_labels: tuple[str, ...]
    null: float
    favours: tuple[str, str]
    show_rob: bool
    footnotes: tuple[str, ...]
    rob_tool: RobTool = rob_tools.ROB2
    page: int = 1  # of ``pages``: one page of a plot too tall for one (see ``paginate``)
    pages: int = 1
    sizing_rows: tuple[Row, ...] = ()  # every row of the whole plot, when this is one page of it

    @property
    def all_rows(self) -> tuple[Row, ...]:
        """The rows of the whole plot: they size the columns, so that every page has the same ones."""
        return self.sizing_rows or self.rows

    @property
    def rob_headers(self) -> tuple[str, ...]:
        return (*(d.id.upper() for d in self.rob_tool.domains), "O")


@dataclass
class _Layout:
    x: dict[str, float]  # left edge of each column (points)
    w: dict[str, float]
    plot_x: float
    rob_x: float
    width: float


def _layout(spec: ForestSpec) -> _Layout:
    """Column widths from the widest text each column holds."""
    label_w = 0.0
    for row in spec.all_rows:
        if row.kind in ("study", "heading", "subtotal", "total", "events", "pi"):
            label_w = max(label_w, min(LABEL_MAX, st.text_width(row.label, st.FONT, row.bold)))
    label_w = max(
        label_w,
        st.text_width("Study or subgroup", bold=True),
        st.widest_word([r.label for r in spec.all_rows if r.kind == "study"]),
    )
    x, w = {}, {}
    cursor = st.MARGIN
    x["label"], w["label"] = cursor, label_w
    cursor += label_w + GAP
    for col in spec.columns:
        texts = [row.cells.get(col.key, "") for row in spec.all_rows]
        width = max([st.text_width(t, st.FONT, True) for t in texts] + [st.text_width(col.header, bold=True)])
        if col.key == "estimate":
            width = max(width, *(st.text_width(h, bold=True) for h in spec.measure_header))
        x[col.key], w[col.key] = cursor, width
        cursor += width + GAP
    # a group header ("Intervention") may be wider than its columns together
    for group in {c.group for c in spec.columns if c.group}:
        keys = [c.key for c in spec.columns if c.group == group]
        span = x[keys[-1]] + w[keys[-1]] - x[keys[0]]
        extra = st.text_width(group, bold=True) - span
        if extra > 0:
            w[keys[0]] += extra
            shift = False
            for c in spec.columns:
                if shift:
                    x[c.key] += extra
                shift = shift or c.key == keys[0]
            cursor += extra
    plot_w = max(PLOT_WIDTH, *(st.text_width(h, bold=True) for h in spec.measure_header))
    plot_x = cursor + 4
    cursor = plot_x + plot_w + GAP
    rob_x = cursor
    if spec.show_rob:
        cursor += ROB_CELL * len(spec.rob_headers) + GAP
    width = max(
        cursor + st.MARGIN - GAP,
        plot_x + _frac(spec, spec.null) * plot_w + 6 + st.text_width(spec.favours[1]) + st.MARGIN,
    )
    w["plot"] = plot_w
    return _Layout(x, w, plot_x, rob_x, width)


def _frac(spec: ForestSpec, value: float) -> float:
    """Position of ``value`` across the plot column, 0 (left) to 1 (right)."""
    lo, hi = spec.xlim
    if spec.log:
        return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (value - lo) / (hi - lo)


def _row_lines(spec: ForestSpec, row: Row, lay: _Layout) -> list[str]:
    if row.kind == "note":
        room = lay.plot_x - lay.x["label"] - GAP
        return st.wrap(row.label, room, st.FONT)
    if row.kind == "blank":
        return []
    return st.wrap(row.label, lay.w["label"], st.FONT, row.bold, indent="  ")


AXIS_H = 18.0
FAVOURS_H = 12.0


@dataclass(frozen=True)
class _Geometry:
    """The vertical layout of a forest plot (points from the top)."""

    title_lines: list[str]
    header_top: float
    lines: list[list[str]]  # each row's wrapped label
    heights: list[float]  # each row's height
    foot: list[str]  # wrapped footnote lines

    @property
    def body_top(self) -> float:
        return self.header_top + 2 * st.LINE + 4

    @property
    def body_h(self) -> float:
        return float(sum(self.heights)) + 4

    @property
    def height(self) -> float:
        return self.body_top + self.body_h + AXIS_H + FAVOURS_H + 6 + 9.5 * len(self.foot) + st.MARGIN


def _geometry(spec: ForestSpec, lay: _Layout) -> _Geometry:
    title_lines = st.wrap(spec.title, lay.width - 2 * st.MARGIN, st.TITLE, bold=True)
    lines = [_row_lines(spec, row, lay) for row in spec.rows]
    heights = [
        st.LINE * max(1, len(ls)) if row.kind != "blank" else st.LINE * 0.6
        for row, ls in zip(spec.rows, lines, strict=True)
    ]
    foot = [ln for note in spec.footnotes for ln in st.wrap(note, lay.width - 2 * st.MARGIN, st.SMALL)]
    return _Geometry(title_lines, st.MARGIN + 14 * len(title_lines) + 6, lines, heights, foot)


def paginate(
    spec: ForestSpec, room: tuple[float, float] = PAGE_ROOM, legible: float = LEGIBLE_PITCH
) -> tuple[ForestSpec, ...]:
    """The plot as one page, or as RevMan prints a long one: as several pages that each repeat the title
    and the column header and end with the axis, the pooled rows, heterogeneity lines and footnotes on the
    last. One page when the plot fits the page's ``room`` (inches) at its placed width, or when shrunk to
    the page's height its rows are still ``legible`` (points apart); otherwise each page is filled at the
    placed width. Pages break only before a study or a subgroup heading, never right after a heading, so
    a pooled row stays with the studies above it."""
    lay = _layout(spec)
    geo = _geometry(spec, lay)
    scale = min(1.0, room[0] * 72 / lay.width)
    page_h = room[1] * 72
    if geo.height * scale <= page_h or st.LINE * page_h / geo.height >= legible:
        return (spec,)
    budget = page_h / scale  # the page's height in the figure's own points
    rows = spec.rows

    def shell(first: bool, last: bool) -> ForestSpec:
        return replace(
            spec,
            title=spec.title if first else f"{spec.title} (continued)",
            footnotes=spec.footnotes if last else (CONTINUED,),
            rows=(),
            sizing_rows=rows,
        )

    fixed = {(f, la): _geometry(shell(f, la), lay).height for f in (True, False) for la in (True, False)}
    grouped = any(r.kind == "heading" for r in rows)
    for last in (True, False):  # a later page repeats the heading of the subgroup it continues
        fixed[(False, last)] += 2 * st.LINE if grouped else 0.0  # on up to two lines
    top = np.concatenate([[0.0], np.cumsum(geo.heights)])  # top[i]: rows above row i
    breaks = [i for i in range(1, len(rows)) if rows[i].kind in ("study", "heading") and rows[i - 1].kind != "heading"]
    starts = [0]
    while True:
        start, first = starts[-1], len(starts) == 1
        if top[-1] - top[start] + fixed[(first, True)] <= budget:
            break
        later = [b for b in breaks if b > start]
        fitting = [b for b in later if top[b] - top[start] + fixed[(first, False)] <= budget]
        if not later:  # nothing left to break before: the last page takes what remains
            break
        starts.append(fitting[-1] if fitting else later[0])
    if len(starts) == 1:
        return (spec,)
    ends = [*starts[1:], len(rows)]
    return tuple(
        replace(
            shell(n == 0, n == len(starts) - 1), rows=_continued(rows, a) + rows[a:b], page=n + 1, pages=len(starts)
        )
        for n, (a, b) in enumerate(zip(starts, ends, strict=True))
    )


def _continued(rows: tuple[Row, ...], start: int) -> tuple[Row, ...]:
    """The heading of the subgroup a page starting at ``start`` continues, marked so (none when the page
    starts with a heading or the plot has none)."""
    if start == 0 or rows[start].kind == "heading":
        return ()
    heading = next((r for r in reversed(rows[:start]) if r.kind == "heading"), None)
    if heading is None:
        return ()
    return (replace(heading, label=f"{heading.label} (continued)", gid=f"{heading.gid}-continued"),)


def draw_forest(spec: ForestSpec) -> MplFigure:
    """Lay out and draw a forest plot (or one page of it); the figure's size follows from its rows and columns."""
    lay = _layout(spec)
    geo = _geometry(spec, lay)
    title_lines, header_top, lines, heights, foot = geo.title_lines, geo.header_top, geo.lines, geo.heights, geo.foot
    body_top, body_h, height = geo.body_top, geo.body_h, geo.height
    axis_h, favours_h = AXIS_H, FAVOURS_H
    fig, ax = st.canvas(lay.width, height)

    y = st.put_title(ax, title_lines, "forest-title")
    _draw_header(ax, spec, lay, header_top)

    plot_ax = fig.add_axes(
        (lay.plot_x / lay.width, 1 - (body_top + body_h) / height, lay.w["plot"] / lay.width, body_h / height)
    )
    plot_ax.set_ylim(body_top + body_h, body_top)
    if spec.log:
        plot_ax.set_xscale("log")
    plot_ax.set_xlim(*spec.xlim)
    plot_ax.set_xticks(spec.ticks, spec.tick_labels)
    plot_ax.minorticks_off()
    plot_ax.set_yticks([])
    for side in ("left", "right", "top"):
        plot_ax.spines[side].set_visible(False)
    plot_ax.tick_params(axis="x", length=3, pad=2)
    plot_ax.axvline(spec.null, color=st.INK, lw=0.6, zorder=1)
    plot_ax.patch.set_alpha(0)

    y = body_top
    rob: list[tuple[float, float, str]] = []
    for row, ls, h in zip(spec.rows, lines, heights, strict=True):
        centre = y + st.LINE / 2
        _draw_row(ax, plot_ax, spec, lay, row, ls, centre, rob)
        y += h
    _draw_rob(ax, rob, spec.rob_tool)

    null_x = lay.plot_x + _frac(spec, spec.null) * lay.w["plot"]
    fy = body_top + body_h + axis_h + favours_h / 2
    st.put(ax, null_x - 6, fy, spec.favours[0], ha="right", gid="forest-favours-left")
    st.put(ax, null_x + 6, fy, spec.favours[1], ha="left", gid="forest-favours-right")
    y = body_top + body_h + axis_h + favours_h + 6 + 4
    st.put_footnotes(ax, y, foot, "forest-footnote")
    return fig


def _draw_header(ax, spec: ForestSpec, lay: _Layout, top: float) -> None:
    y1, y2 = top + st.LINE / 2, top + 1.5 * st.LINE
    st.put(ax, lay.x["label"], y2, "Study or subgroup", bold=True, gid="forest-header")
    for group in dict.fromkeys(c.group for c in spec.columns if c.group):
        keys = [c.key for c in spec.columns if c.group == group]
        x0, x1 = lay.x[keys[0]], lay.x[keys[-1]] + lay.w[keys[-1]]
        st.put(ax, (x0 + x1) / 2, y1, group, bold=True, ha="center", gid="forest-header")
        ax.plot([x0, x1], [y1 + 5.5, y1 + 5.5], color=st.INK, lw=0.5)
    for col in spec.columns:
        if col.key == "estimate":
            cx = lay.x[col.key] + lay.w[col.key] / 2
            st.put(ax, cx, y1, spec.measure_header[0], bold=True, ha="center", gid="forest-measure")
            st.put(ax, cx, y2, spec.measure_header[1], bold=True, ha="center", gid="forest-model")
        elif col.header:
            st.put(ax, lay.x[col.key] + lay.w[col.key], y2, col.header, bold=True, ha="right", gid="forest-header")
    cx = lay.plot_x + lay.w["plot"] / 2
    st.put(ax, cx, y1, spec.measure_header[0], bold=True, ha="center", gid="forest-measure")
    st.put(ax, cx, y2, spec.measure_header[1], bold=True, ha="center", gid="forest-model")
    if spec.show_rob:
        x0 = lay.rob_x
        st.put(
            ax,
            x0 + ROB_CELL * len(spec.rob_headers) / 2,
            y1,
            "Risk of bias",
            bold=True,
            ha="center",
            gid="forest-header",
        )
        for j, h in enumerate(spec.rob_headers):
            st.put(ax, x0 + ROB_CELL * (j + 0.5), y2, h, size=st.SMALL, bold=True, ha="center", gid="forest-header")
    ax.plot([st.MARGIN, lay.width - st.MARGIN], [top + 2 * st.LINE + 2] * 2, color=st.INK, lw=0.5)


def _draw_row(
    ax,
    plot_ax,
    spec: ForestSpec,
    lay: _Layout,
    row: Row,
    lines: list[str],
    centre: float,
    rob: list[tuple[float, float, str]],
) -> None:
    indent = 6.0 if row.kind == "study" and any(r.kind == "heading" for r in spec.all_rows) else 0.0
    for n, line in enumerate(lines):
        st.put(
            ax,
            lay.x["label"] + (0 if row.kind == "note" else indent),
            centre + n * st.LINE,
            line,
            bold=row.bold,
            gid=f"{row.gid}-label" if row.gid else None,
        )
    for col in spec.columns:
        text = row.cells.get(col.key, "")
        if not text:
            continue
        if col.align == "center":
            st.put(
                ax,
                lay.x[col.key] + lay.w[col.key] / 2,
                centre,
                text,
                bold=row.bold,
                ha="center",
                gid=f"{row.gid}-{col.key}",
            )
        else:
            st.put(
                ax, lay.x[col.key] + lay.w[col.key], centre, text, bold=row.bold, ha="right", gid=f"{row.gid}-{col.key}"
            )
    if row.mark is not None:
        _draw_mark(plot_ax, spec, row.mark, centre)
    if spec.show_rob and row.kind == "study":
        for j in range(len(spec.rob_headers)):
            judgement = row.rob[j] if row.rob else "not assessed"
            rob.append((lay.rob_x + ROB_CELL * (j + 0.5), centre, judgement))


def _draw_rob(ax, cells: list[tuple[float, float, str]], tool: RobTool) -> None:
    """All traffic lights at once (one collection per colour and symbol: fast with 150 studies)."""
    if not cells:
        return
    xs = np.array([c[0] for c in cells])
    ys = np.array([c[1] for c in cells])
    kinds = np.array([c[2] for c in cells])
    for judgement in (*tool.judgements, rob_tools.NOT_ASSESSED):
        sel = kinds == judgement
        if sel.any():
            ax.scatter(
                xs[sel],
                ys[sel],
                s=ROB_DOT**2,
                c=tool.colour(judgement),
                marker="o",
                linewidths=0,
                clip_on=False,
                gid=f"forest-rob-{judgement.replace(' ', '-')}",
            )
            st.rob_symbols(ax, xs[sel], ys[sel], tool.symbol(judgement), ROB_DOT)


def _draw_mark(ax, spec: ForestSpec, m: Mark, y: float) -> None:
    lo_lim, hi_lim = spec.xlim
    if not all(math.isfinite(v) for v in (m.est, m.low, m.high)):
        return
    low, high = max(m.low, lo_lim), min(m.high, hi_lim)
    if m.kind == "diamond":
        pts = [(low, y), (min(max(m.est, lo_lim), hi_lim), y - 4), (high, y), (min(max(m.est, lo_lim), hi_lim), y + 4)]
        ax.add_patch(Polygon(pts, closed=True, facecolor=st.INK, edgecolor=st.INK, lw=0.5, zorder=3))
        return
    colour = st.GREY if m.kind == "interval" else st.INK
    if low < high:
        ax.plot(
            [low, high], [y, y], color=colour, lw=0.8 if m.kind == "square" else 1.4, zorder=2, solid_capstyle="butt"
        )
    if m.kind == "interval":
        for end, outside in ((m.low, m.low < lo_lim), (m.high, m.high > hi_lim)):
            if not outside:
                ax.plot([end, end], [y - 2.5, y + 2.5], color=colour, lw=0.8, zorder=2)
    if m.low < lo_lim:
        ax.plot([lo_lim], [y], marker="<", markersize=4, color=colour, clip_on=False, zorder=3)
    if m.high > hi_lim:
        ax.plot([hi_lim], [y], marker=">", markersize=4, color=colour, clip_on=False, zorder=3)
    if m.kind == "square" and lo_lim <= m.est <= hi_lim:
        side = max(SQUARE_MIN, SQUARE_MAX * m.size)
        ax.plot([m.est], [y], marker="s", markersize=side, color=st.MARK, markeredgewidth=0, zorder=4)
