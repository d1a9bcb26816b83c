"""Risk of bias in robvis's style: a traffic-light plot (study x domain) and a weighted summary, drawn with
the domains, judgement words and colours of the review's tool (settings.rob_tool: RoB 2, ROBINS-I, ROB 1).

Both read the judgements for the analysis's outcome. A study without an assessment is drawn in grey as
"not assessed" and named under the plot, so a missing row is visible rather than silently dropped; the
summary's bars are shares of the analysis weight (of studies when the analysis was not pooled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Rectangle

from erh_report import rob_tools
from erh_report import vocabulary as vocab
from erh_report.figures import style as st
from erh_report.figures import words
from erh_report.figures.output import Job, figure, message_job
from erh_report.numbers import NumberStyle
from erh_report.rob_tools import NOT_ASSESSED, RobTool
from erh_report.synthesis import AnalysisResult, ReviewResults

CELL = 17.0  # traffic-light column pitch (points)
DOT = 12.0
ROW = 15.0
BAR_WIDTH = 260.0


@dataclass(frozen=True)
class TrafficSpec:
    title: str
    studies: tuple[str, ...]
    judgements: tuple[tuple[str, ...], ...]  # per study: the tool's domains, overall ("not assessed" when missing)
    footnotes: tuple[str, ...]
    tool: RobTool = rob_tools.ROB2


@dataclass(frozen=True)
class SummarySpec:
    title: str
    shares: tuple[tuple[float, ...], ...]  # per domain (the tool's, overall): percent per category
    share_labels: tuple[tuple[str, ...], ...]
    weighted: bool
    footnotes: tuple[str, ...]
    tool: RobTool = rob_tools.ROB2


def categories(tool: RobTool) -> tuple[str, ...]:
    """The tool's judgements, best to worst, and "not assessed" for a study without a row."""
    return (*tool.judgements, NOT_ASSESSED)


def headers(tool: RobTool) -> tuple[str, ...]:
    """Column headers: D1..Dn (robvis's short form also for ROB 1, named in the legend) and Overall."""
    return (*(d.id.upper() for d in tool.domains), "Overall")


def domain_names(tool: RobTool) -> tuple[str, ...]:
    return (*(d.name for d in tool.domains), "Overall risk of bias")


def label(tool: RobTool, judgement: str) -> str:
    return "Not assessed" if judgement == NOT_ASSESSED else tool.label(judgement)


def review_tool(results: ReviewResults) -> RobTool:
    return rob_tools.tool(results.review.config.settings.rob_tool)


def judgements(results: ReviewResults, ar: AnalysisResult) -> tuple[list[tuple[str, ...]], list[str]]:
    """Each study's judgements (the tool's domains, overall) for the analysis's outcome, and the studies
    nobody assessed."""
    tool = review_tool(results)
    out, missing = [], []
    for sid, name in zip(ar.effects["study_id"], ar.effects["study"], strict=True):
        rb = results.review.rob(sid, ar.analysis.outcome_id)
        if rb is None:
            out.append((NOT_ASSESSED,) * (len(tool.domains) + 1))
            missing.append(str(name))
        else:
            out.append(tuple(getattr(rb, d) for d in (*tool.domain_ids, "overall")))
    return out, missing


def _footnotes(results: ReviewResults, ar: AnalysisResult, missing: list[str]) -> tuple[str, ...]:
    notes = []
    if missing:
        notes.append(
            f"Not assessed (no row in risk_of_bias for {ar.analysis.outcome.lower()}): " + ", ".join(missing) + "."
        )
    if results.review.illustrative:
        notes.append(vocab.ILLUSTRATIVE_NOTICE)
    return tuple(notes)


def shares(
    ar: AnalysisResult, judged: list[tuple[str, ...]], tool: RobTool = rob_tools.ROB2
) -> tuple[np.ndarray, bool]:
    """Percent of the analysis weight (or of studies) per domain (and overall) and category."""
    w = ar.effects["weight"].to_numpy(dtype=float)
    weighted = bool(len(w) and np.all(np.isfinite(w)) and w.sum() > 0)
    if not weighted:
        w = np.ones(len(judged))
    cats, rows = categories(tool), len(tool.domains) + 1
    table = np.zeros((rows, len(cats)))
    for j in range(rows):
        for c, cat in enumerate(cats):
            table[j, c] = 100 * w[[row[j] == cat for row in judged]].sum() / w.sum()
    return table, weighted


# ---------------------------------------------------------------------------------- traffic light
def draw_traffic_light(spec: TrafficSpec) -> MplFigure:
    label_w = max([st.text_width(s) for s in spec.studies] + [st.text_width("Study", bold=True)])
    label_w = min(label_w, 240.0)
    labels = [st.wrap(s, label_w) for s in spec.studies]
    grid_x = st.MARGIN + label_w + 10
    overall_w = max(CELL, st.text_width("Overall", st.SMALL, True) + 6)
    tool = spec.tool
    n = len(tool.domains)
    centres = [grid_x + CELL * (j + 0.5) for j in range(n)] + [grid_x + CELL * n + overall_w / 2]
    grid_end = grid_x + CELL * n + overall_w
    width = max(grid_end + st.MARGIN, 330.0)
    legend_w = width - 2 * st.MARGIN
    domain_lines = [
        ln
        for h, name in zip(headers(tool)[:n], domain_names(tool)[:n], strict=True)
        for ln in st.wrap(f"{h}: {name}", legend_w, st.SMALL)
    ]
    foot = [ln for note in spec.footnotes for ln in st.wrap(note, legend_w, st.SMALL)]
    title = st.wrap(spec.title, width - 2 * st.MARGIN, st.TITLE, bold=True)
    heights = [ROW + st.LINE * (len(ls) - 1) for ls in labels]
    top = st.MARGIN + 14 * len(title) + 6 + 16
    keys = [c for c in categories(tool) if any(c in row for row in spec.judgements)]
    height = top + sum(heights) + 12 + 10 * len(domain_lines) + 6 + 14 + 6 + 9.5 * len(foot) + st.MARGIN
    fig, ax = st.canvas(width, height)
    y = st.put_title(ax, title, "rob-title")
    header_y = top - 9
    st.put(ax, st.MARGIN, header_y, "Study", bold=True)
    for j, h in enumerate(headers(tool)):
        st.put(ax, centres[j], header_y, h, size=st.SMALL, bold=True, ha="center", gid="rob-header")
    ax.plot([st.MARGIN, grid_end], [top - 2, top - 2], color=st.INK, lw=0.5)
    cells: list[tuple[float, float, str]] = []
    y = top
    for i, (ls, row) in enumerate(zip(labels, spec.judgements, strict=True)):
        centre = y + ROW / 2
        for k, line in enumerate(ls):
            st.put(ax, st.MARGIN, centre + k * st.LINE, line, gid=f"rob-study-{i + 1}")
        cells += [(centres[j], centre, row[j]) for j in range(n + 1)]
        y += ROW + st.LINE * (len(ls) - 1)
    ax.add_patch(
        Rectangle((grid_x + CELL * n, top - 1), overall_w, y - top + 2, facecolor="#F2F2F2", edgecolor="none", zorder=0)
    )
    xs, ys, kinds = (np.array([c[i] for c in cells]) for i in range(3))
    for cat in categories(tool):
        sel = kinds == cat
        if sel.any():
            ax.scatter(
                xs[sel],
                ys[sel],
                s=DOT**2,
                c=tool.colour(cat),
                linewidths=0,
                clip_on=False,
                gid=f"rob-cells-{cat.replace(' ', '-')}",
            )
            st.rob_symbols(ax, xs[sel], ys[sel], tool.symbol(cat), DOT)
    y += 12
    for line in domain_lines:
        st.put(ax, st.MARGIN, y, line, size=st.SMALL, gid="rob-domains")
        y += 10
    y += 6
    _legend(ax, st.MARGIN, y, keys, width - st.MARGIN, tool)
    y += 14 + 6
    st.put_footnotes(ax, y, foot, "rob-footnote")
    return fig


def _legend(ax, x: float, y: float, keys: list[str], right: float, tool: RobTool) -> float:
    """Judgement key as coloured dots; wraps to a new line at ``right``; returns the last line's y."""
    for cat in keys:
        word = label(tool, cat)
        w = 12 + st.text_width(word, st.SMALL) + 12
        if x + w > right:
            x, y = st.MARGIN, y + 14
        ax.scatter([x + 5], [y], s=10**2, c=tool.colour(cat), linewidths=0, clip_on=False)
        st.rob_symbols(ax, np.array([x + 5]), np.array([y]), tool.symbol(cat), 10)
        st.put(ax, x + 13, y, word, size=st.SMALL, gid="rob-legend")
        x += w
    return y


# ---------------------------------------------------------------------------------- summary
def draw_summary(spec: SummarySpec) -> MplFigure:
    tool = spec.tool
    names, cats, heads = domain_names(tool), categories(tool), headers(tool)
    label_w = max(st.text_width(n) for n in names)
    bar_x = st.MARGIN + label_w + 10
    width = bar_x + BAR_WIDTH + st.MARGIN + 8
    foot = [ln for note in spec.footnotes for ln in st.wrap(note, width - 2 * st.MARGIN, st.SMALL)]
    title = st.wrap(spec.title, width - 2 * st.MARGIN, st.TITLE, bold=True)
    bar_h, pitch = 13.0, 19.0
    top = st.MARGIN + 14 * len(title) + 10
    axis_y = top + pitch * len(names) + 2
    keys = [c for i, c in enumerate(cats) if any(row[i] > 0 for row in spec.shares)]
    height = axis_y + 26 + 16 + 8 + 9.5 * len(foot) + st.MARGIN
    fig, ax = st.canvas(width, height)
    y = st.put_title(ax, title, "rob-title")
    for j, name in enumerate(names):
        centre = top + pitch * (j + 0.5)
        st.put(ax, bar_x - 8, centre, name, ha="right", bold=j == len(names) - 1, gid="rob-summary-domain")
        x = bar_x
        for c, cat in enumerate(cats):
            share = spec.shares[j][c]
            if share <= 0:
                continue
            w = BAR_WIDTH * share / 100
            ax.add_patch(
                Rectangle(
                    (x, centre - bar_h / 2),
                    w,
                    bar_h,
                    facecolor=tool.colour(cat),
                    edgecolor="white",
                    lw=0.4,
                    gid=f"rob-bar-{heads[j]}-{cat.replace(' ', '-')}",
                )
            )
            label = spec.share_labels[j][c]
            if st.text_width(label, st.SMALL) + 4 < w:
                st.put(
                    ax,
                    x + w / 2,
                    centre,
                    label,
                    size=st.SMALL,
                    ha="center",
                    color="white" if tool.symbol(cat) in ("high", "low") else st.INK,
                    gid=f"rob-share-{heads[j]}",
                )
            x += w
    ax.plot([bar_x, bar_x + BAR_WIDTH], [axis_y, axis_y], color=st.INK, lw=0.6)
    for t in range(0, 101, 25):
        tx = bar_x + BAR_WIDTH * t / 100
        ax.plot([tx, tx], [axis_y, axis_y + 3], color=st.INK, lw=0.6)
        st.put(ax, tx, axis_y + 10, f"{t}%", size=st.SMALL, ha="center")
    what = "Share of the analysis weight" if spec.weighted else "Share of studies (analysis not pooled)"
    st.put(ax, bar_x + BAR_WIDTH / 2, axis_y + 21, what, size=st.SMALL, ha="center", gid="rob-axis-label")
    _legend(ax, st.MARGIN, axis_y + 26 + 10, keys, width - st.MARGIN, tool)
    y = axis_y + 26 + 16 + 8 + 4
    st.put_footnotes(ax, y, foot, "rob-footnote")
    return fig


# ---------------------------------------------------------------------------------- jobs
def _counts(judged: list[tuple[str, ...]], tool: RobTool = rob_tools.ROB2) -> str:
    overall = [row[-1] for row in judged]
    parts = [f"{overall.count(c)} {c}" for c in categories(tool) if overall.count(c)]
    return ", ".join(parts)


def jobs(results: ReviewResults, style: NumberStyle) -> list[Job]:
    """A traffic-light plot and a weighted summary for every analysis with at least one study."""
    tool = review_tool(results)
    n, cats = len(tool.domains), categories(tool)
    out: list[Job] = []
    for ar in results.analyses:
        a = ar.analysis
        name = words.analysis_title(a)
        judged, missing = judgements(results, ar) if ar.k else ([], [])
        t_title = f"Risk of bias ({tool.name}): {name}"
        t_fig = figure(
            f"rob-traffic-{a.id}",
            "rob_traffic_light",
            t_title,
            f"{t_title}. Judgements per study and domain for the {ar.k} studies of this analysis; "
            f"overall: {_counts(judged, tool)}.",
            f"Traffic-light table of {ar.k} studies by {n} {tool.name} domains and overall; overall "
            f"judgements: {_counts(judged, tool)}.",
            a.id,
        )
        table, weighted = shares(ar, judged, tool) if ar.k else (np.zeros((n + 1, len(cats))), False)
        s_title = f"Risk of bias ({tool.name}), {'weighted ' if weighted else ''}summary: {name}"
        basis = "of the analysis weight" if weighted else "of studies"
        overall = "; ".join(f"{c} {style.percent(table[n, i])}" for i, c in enumerate(cats) if table[n, i] > 0)
        s_fig = figure(
            f"rob-summary-{a.id}",
            "rob_summary",
            s_title,
            f"{s_title}. Share {basis} at each judgement, by {tool.name} domain; overall: {overall}.",
            f"Stacked bar chart of {n + 1} rows ({n} {tool.name} domains and overall); overall risk of "
            f"bias {basis}: {overall}.",
            a.id,
        )
        if ar.k == 0:
            lines = [f"{name}: {ar.note}.", "There is no study whose risk of bias could be shown."]
            out += [message_job(t_fig, lines), message_job(s_fig, lines)]
            continue
        notes = _footnotes(results, ar, missing)
        out.append(
            Job(
                t_fig,
                draw_traffic_light,
                TrafficSpec(t_title, tuple(ar.effects["study"].astype(str)), tuple(judged), notes, tool),
                cost=ar.k * 0.6,
            )
        )
        labels = tuple(tuple(style.percent(v) for v in row) for row in table)
        out.append(
            Job(
                s_fig,
                draw_summary,
                SummarySpec(
                    s_title, tuple(tuple(float(v) for v in row) for row in table), labels, weighted, notes, tool
                ),
                cost=1.0,
            )
        )
    return out
