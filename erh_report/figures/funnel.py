"""Contour-enhanced funnel plot with the trim-and-fill studies, for analyses large enough for Egger's test.

The contours are centred on no effect (Peters et al. 2008): a gap of studies in the white region next to
the shaded ones points to publication bias rather than other small-study effects. Studies imputed by
trim-and-fill are drawn open, and the adjusted estimate beside the observed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from erh_report import vocabulary as vocab
from erh_report.figures import style as st
from erh_report.figures import words
from erh_report.figures.output import Job, figure, message_job
from erh_report.numbers import NumberStyle
from erh_report.synthesis import AnalysisResult, ReviewResults

#: Two-sided P thresholds of the contours and their shades (lighter = less significant).
CONTOURS = ((0.10, "#EFEFEF"), (0.05, "#D9D9D9"), (0.01, "#BDBDBD"))
Z = {0.10: 1.6448536269514722, 0.05: 1.959963984540054, 0.01: 2.5758293035489004}
WIDTH, PLOT_H = 430.0, 300.0


@dataclass(frozen=True)
class FunnelSpec:
    title: str
    yi: tuple[float, ...]  # model scale (log for ratios)
    sei: tuple[float, ...]
    filled_yi: tuple[float, ...]
    filled_sei: tuple[float, ...]
    estimate: float
    adjusted: float | None
    log: bool
    xlabel: str
    legend_p: tuple[str, str, str, str]
    info: tuple[str, ...]
    footnotes: tuple[str, ...]


def contour_labels(style: NumberStyle) -> tuple[str, str, str, str]:
    """'P > .10', '.05 < P < .10', '.01 < P < .05', 'P < .01' in the review's style."""
    n = {p: style.p_number(p)[2:] for p in Z}
    return (f"P > {n[0.10]}", f"{n[0.05]} < P < {n[0.10]}", f"{n[0.01]} < P < {n[0.05]}", f"P < {n[0.01]}")


def funnel_spec(results: ReviewResults, ar: AnalysisResult, style: NumberStyle) -> FunnelSpec:
    r, a = ar.result, ar.analysis
    assert r is not None
    tf = ar.trimfill
    filled_y = tuple(float(v) for v in tf.filled_yi) if tf is not None else ()
    filled_s = tuple(float(math.sqrt(v)) for v in tf.filled_vi) if tf is not None else ()
    info = list(_info_lines(ar, style))
    log = vocab.measure(a.measure).ratio
    header = vocab.measure(a.measure).header
    return FunnelSpec(
        title=words.analysis_title(a),
        yi=tuple(float(v) for v in r.yi),
        sei=tuple(float(math.sqrt(v)) for v in r.vi),
        filled_yi=filled_y,
        filled_sei=filled_s,
        estimate=float(r.estimate),
        adjusted=float(tf.estimate) if tf is not None and tf.k0 > 0 else None,
        log=log,
        xlabel=style.spell(
            f"{header} ({'log scale; ' if log else ''}values {'above 1' if log else 'above 0'} favour the intervention)"
        ),
        legend_p=contour_labels(style),
        info=tuple(info),
        footnotes=(vocab.ILLUSTRATIVE_NOTICE,) if results.review.illustrative else (),
    )


def _info_lines(ar: AnalysisResult, style: NumberStyle) -> list[str]:
    a, eg, tf = ar.analysis, ar.egger, ar.trimfill
    lines = []
    if eg is not None:
        stat = f"t({eg.df})" if eg.df is not None else "z"
        lines.append(f"Egger's regression test: {stat} = {style.number(eg.statistic)}, {style.p(eg.pval)}")
    if tf is not None:
        if tf.k0 == 0:
            lines.append("Trim-and-fill: no study imputed")
        else:
            adj = words.estimate_ci(style, a.measure, tf.estimate, tf.ci_low, tf.ci_high, 95)
            n = f"{tf.k0} stud{'y' if tf.k0 == 1 else 'ies'}"
            lines.append(f"Trim-and-fill: {n} imputed on the {tf.side}; adjusted {a.measure} {adj}")
    return lines


def draw_funnel(spec: FunnelSpec) -> MplFigure:
    """Draw the plot; the axes sit in a fixed frame with room for the legend and the test lines below."""
    info = [ln for line in spec.info for ln in st.wrap(line, WIDTH - 2 * st.MARGIN)]
    foot = [ln for note in spec.footnotes for ln in st.wrap(note, WIDTH - 2 * st.MARGIN, st.SMALL)]
    bottom = 34 + 42 + st.LINE * len(info) + 2 + 9.5 * len(foot) + st.MARGIN
    title = st.wrap(f"Contour-enhanced funnel plot: {spec.title}", WIDTH - 2 * st.MARGIN, st.TITLE, bold=True)
    height = st.MARGIN + 14 * len(title) + 4 + PLOT_H + bottom
    fig, canvas_ax = st.canvas(WIDTH, height)
    top = st.put_title(canvas_ax, title, "funnel-title") + 4
    left, right = 52.0, 14.0
    plot_h = height - top - bottom
    ax = fig.add_axes((left / WIDTH, bottom / height, (WIDTH - left - right) / WIDTH, plot_h / height))

    yi, se = np.array(spec.yi), np.array(spec.sei)
    fy, fse = np.array(spec.filled_yi), np.array(spec.filled_sei)
    se_max = float(max(se.max(), fse.max() if fse.size else 0.0)) * 1.08 or 1.0
    grid = np.linspace(0, se_max, 200)
    reach = max(
        float(np.max(np.abs(np.concatenate([yi, fy])))) * 1.08,
        Z[0.01] * se_max * 0.55,
        abs(spec.estimate) + 1.96 * se_max * 1.02,
    )
    nat = (lambda v: np.exp(v)) if spec.log else (lambda v: v)
    ax.set_facecolor(CONTOURS[-1][1])  # beyond the P = .01 contour
    for (p, _), (_, inner) in zip(CONTOURS[::-1], (*CONTOURS[-2::-1], (None, "white")), strict=True):
        ax.fill_betweenx(grid, nat(-Z[p] * grid), nat(Z[p] * grid), color=inner, lw=0, zorder=0)
    # pseudo confidence limits around the pooled estimate
    ax.plot(nat(spec.estimate - 1.96 * grid), grid, color=st.INK, lw=0.6, ls=(0, (3, 2)), zorder=1)
    ax.plot(nat(spec.estimate + 1.96 * grid), grid, color=st.INK, lw=0.6, ls=(0, (3, 2)), zorder=1)
    ax.axvline(nat(spec.estimate), color=st.INK, lw=0.9, zorder=1)
    if spec.adjusted is not None:
        ax.axvline(nat(spec.adjusted), color=st.MARK, lw=0.9, ls=(0, (1, 1.5)), zorder=1)
    ax.scatter(nat(yi), se, s=16, c=st.INK, linewidths=0, zorder=3, gid="funnel-observed")
    if fy.size:
        ax.scatter(
            nat(fy), fse, s=16, facecolors="white", edgecolors=st.INK, linewidths=0.8, zorder=3, gid="funnel-filled"
        )
    if spec.log:
        ax.set_xscale("log")
    ax.set_xlim(nat(-reach), nat(reach))
    ax.set_ylim(se_max, 0)
    ax.set_ylabel("Standard error")
    ax.set_xlabel(spec.xlabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if spec.log:
        ax.minorticks_off()
        ticks = [t for t in words.RATIO_TICKS if math.exp(-reach) <= t <= math.exp(reach)]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])

    handles = [
        Patch(facecolor="white", edgecolor="#999999", lw=0.5, label=spec.legend_p[0]),
        Patch(facecolor=CONTOURS[0][1], label=spec.legend_p[1]),
        Patch(facecolor=CONTOURS[1][1], label=spec.legend_p[2]),
        Patch(facecolor=CONTOURS[2][1], label=spec.legend_p[3]),
        Line2D([], [], marker="o", ls="", color=st.INK, markersize=4, label="Study"),
        Line2D([], [], color=st.INK, lw=0.9, label="Pooled estimate"),
        Line2D([], [], color=st.INK, lw=0.6, ls=(0, (3, 2)), label="Pseudo 95% CI"),
    ]
    if fy.size:
        handles.insert(
            5,
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor="white",
                markeredgecolor=st.INK,
                markersize=4,
                label="Imputed (trim-and-fill)",
            ),
        )
    if spec.adjusted is not None:
        handles.append(Line2D([], [], color=st.MARK, lw=0.9, ls=(0, (1, 1.5)), label="Adjusted estimate"))
    fig.legend(
        handles=handles,
        loc="upper left",
        ncol=3,
        bbox_to_anchor=(st.MARGIN / WIDTH, 1 - (height - bottom + 34) / height),
        fontsize=st.SMALL,
        handlelength=1.6,
        columnspacing=1.0,
        borderaxespad=0,
    )
    y = st.put_lines(canvas_ax, height - bottom + 34 + 42, info, "funnel-info")
    st.put_footnotes(canvas_ax, y + 2, foot, "funnel-footnote")
    return fig


def jobs(results: ReviewResults, style: NumberStyle) -> list[Job]:
    """A funnel plot for every pooled analysis with enough studies for Egger's test."""
    out: list[Job] = []
    min_k = results.review.config.plan.min_studies_egger
    for ar in results.analyses:
        if ar.egger is None:
            continue
        a = ar.analysis
        title = f"Funnel plot: {words.analysis_title(a)}"
        info = "; ".join(_info_lines(ar, style))
        caption = (
            f"Contour-enhanced funnel plot: {words.analysis_title(a)} ({ar.k} studies). Each study's "
            f"{a.measure} is plotted against its standard error; shaded regions show where a study would "
            f"be statistically significant against no effect ({', '.join(contour_labels(style)[1:])}); "
            "open circles are "
            f"studies imputed by trim-and-fill. {info}."
        )
        alt = (
            f"Funnel plot of {ar.k} studies for {words.analysis_title(a).lower()}, standard error on the "
            f"vertical axis (smallest at the top). {info}."
        )
        fig = figure(f"funnel-{a.id}", "funnel", title, caption, alt, a.id)
        if ar.result is None or ar.k < 3:
            out.append(
                message_job(fig, [f"{words.analysis_title(a)}: {ar.k} studies; a funnel plot needs at least {min_k}."])
            )
            continue
        out.append(Job(fig, draw_funnel, funnel_spec(results, ar, style), cost=3.0))
    return out
