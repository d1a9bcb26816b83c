"""Bubble plot of effect size against dose (or any meta-regression moderator), with the fitted line and
its confidence band; bubble area is proportional to the study's weight in the meta-regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure as MplFigure

from erh_report import vocabulary as vocab
from erh_report.analysis.model import MetaResult, predict
from erh_report.figures import style as st
from erh_report.figures import words
from erh_report.figures.output import Job, figure
from erh_report.numbers import NumberStyle
from erh_report.synthesis import AnalysisResult, ReviewResults

DOSE_MODERATORS = ("dose_hours", "sessions")
WIDTH, PLOT_H = 430.0, 270.0
BUBBLE_MAX = 420.0  # largest bubble area (points²)
BUBBLE_SHARE = 0.08  # with many studies, all bubbles together cover about this share of the plot


@dataclass(frozen=True)
class DoseSpec:
    title: str
    x: tuple[float, ...]
    y: tuple[float, ...]  # readers' scale
    weight: tuple[float, ...]
    grid: tuple[float, ...]
    fit: tuple[float, ...]
    band_low: tuple[float, ...]
    band_high: tuple[float, ...]
    log: bool
    null: float
    xlabel: str
    ylabel: str
    info: tuple[str, ...]
    footnotes: tuple[str, ...]


def moderator_unit(results: ReviewResults, moderator: str) -> str:
    """ "contact hour": the review's word for its dose moderator (plan.dose.unit), else the vocabulary's."""
    dose = results.review.config.plan.dose
    return (dose.unit if moderator == dose.moderator and dose.unit else None) or vocab.variable_unit(moderator)


def slope_line(style: NumberStyle, ar: AnalysisResult, moderator: str, reg: MetaResult, unit: str) -> str:
    """'Slope per contact hour: 0.002 (95% CI, −0.004 to 0.008), P = .52' (log scale for ratios)."""
    slope = reg.coefficients[1]
    scale = f" (log {ar.analysis.measure})" if vocab.measure(ar.analysis.measure).ratio else ""
    ci = style.estimate_ci(slope.estimate, slope.ci_low, slope.ci_high, reg.level, decimals=3)
    return f"Slope{scale} per {unit}: {ci}, {style.p(slope.pval)}"


def model_line(style: NumberStyle, reg: MetaResult) -> str:
    r2 = f"; R² = {style.percent(reg.r2)}" if reg.r2 is not None else ""
    return f"{reg.k} studies; residual Tau² = {style.tau2(reg.tau2)}; residual {style.i2(reg.i2)}{r2}"


def dose_spec(results: ReviewResults, ar: AnalysisResult, moderator: str, style: NumberStyle) -> DoseSpec:
    reg, keep = ar.metaregression[moderator]
    measure = ar.analysis.measure
    x = ar.effects[moderator].to_numpy(dtype=float)[keep]
    grid = np.linspace(float(x.min()), float(x.max()), 80)
    preds = [predict(reg, np.array([1.0, g])) for g in grid]
    nat = lambda v: tuple(float(vocab.measure(measure).shown(t)) for t in v)  # noqa: E731
    header = vocab.measure(measure).header
    favours = "above 1" if vocab.measure(measure).ratio else "above 0"
    return DoseSpec(
        title=f"{words.analysis_title(ar.analysis)}: effect by {vocab.variable_name(moderator).lower()}",
        x=tuple(float(v) for v in x),
        y=nat(reg.yi),
        weight=tuple(float(w) for w in reg.weights),
        grid=tuple(float(g) for g in grid),
        fit=nat([p.pred for p in preds]),
        band_low=nat([p.ci_low for p in preds]),
        band_high=nat([p.ci_high for p in preds]),
        log=vocab.measure(measure).ratio,
        null=vocab.measure(measure).null,
        xlabel=vocab.variable_name(moderator),
        ylabel=style.spell(f"{header} (values {favours} favour the intervention)"),
        info=(slope_line(style, ar, moderator, reg, moderator_unit(results, moderator)), model_line(style, reg)),
        footnotes=(vocab.ILLUSTRATIVE_NOTICE,) if results.review.illustrative else (),
    )


def draw_dose(spec: DoseSpec) -> MplFigure:
    info = [ln for line in spec.info for ln in st.wrap(line, WIDTH - 2 * st.MARGIN)]
    foot = [ln for n in spec.footnotes for ln in st.wrap(n, WIDTH - 2 * st.MARGIN, st.SMALL)]
    title = st.wrap(spec.title, WIDTH - 2 * st.MARGIN, st.TITLE, bold=True)
    top = st.MARGIN + 14 * len(title) + 8
    below = 36.0
    height = top + PLOT_H + below + st.LINE * len(info) + 4 + 9.5 * len(foot) + st.MARGIN
    fig, canvas_ax = st.canvas(WIDTH, height)
    st.put_title(canvas_ax, title, "dose-title")
    left = 20.0 + 34.0
    ax = fig.add_axes((left / WIDTH, 1 - (top + PLOT_H) / height, (WIDTH - left - 14) / WIDTH, PLOT_H / height))
    if spec.log:
        ax.set_yscale("log")
    ax.fill_between(
        spec.grid, spec.band_low, spec.band_high, color=st.MARK, alpha=0.15, lw=0, zorder=1, gid="dose-band"
    )
    ax.plot(spec.grid, spec.fit, color=st.MARK, lw=1.2, zorder=2, gid="dose-line")
    ax.axhline(spec.null, color=st.GREY, lw=0.6, ls=(0, (3, 2)), zorder=0)
    w = np.array(spec.weight)
    # area proportional to weight, one scale per figure: capped for few studies, shrinking for many
    scale = min(BUBBLE_MAX / w.max(), BUBBLE_SHARE * (WIDTH - 68) * PLOT_H / w.sum())
    sizes = scale * w
    order = np.argsort(-sizes, kind="stable")  # small bubbles on top of large ones
    ax.scatter(
        np.array(spec.x)[order],
        np.array(spec.y)[order],
        s=sizes[order],
        facecolors="#9DC3E6",
        edgecolors=st.MARK,
        linewidths=0.6,
        alpha=0.7,
        zorder=3,
        gid="dose-bubbles",
    )
    ys = np.array(spec.y + spec.band_low + spec.band_high + (spec.null,))
    if spec.log:
        lo, hi = np.log(ys.min()), np.log(ys.max())
        pad = 0.08 * (hi - lo or 1)
        ax.set_ylim(np.exp(lo - pad), np.exp(hi + pad))
        ax.minorticks_off()
        ticks = [t for t in words.RATIO_TICKS if np.exp(lo - pad) <= t <= np.exp(hi + pad)]
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    else:
        pad = 0.08 * (ys.max() - ys.min() or 1)
        ax.set_ylim(ys.min() - pad, ys.max() + pad)
    xr = max(spec.x) - min(spec.x) or 1.0
    ax.set_xlim(min(spec.x) - 0.05 * xr, max(spec.x) + 0.05 * xr)
    ax.set_xlabel(spec.xlabel)
    ax.set_ylabel(spec.ylabel, fontsize=st.SMALL)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    y = st.put_lines(canvas_ax, top + PLOT_H + below, info, "dose-info")
    st.put_footnotes(canvas_ax, y + 4, foot, "dose-footnote")
    return fig


def jobs(results: ReviewResults, style: NumberStyle) -> list[Job]:
    """A bubble plot for every meta-regression the plan ran (kind 'dose' for dose moderators)."""
    out: list[Job] = []
    for ar in results.analyses:
        for mod, (reg, _) in ar.metaregression.items():
            a = ar.analysis
            kind = "dose" if mod in DOSE_MODERATORS else "metaregression"
            name = vocab.variable_name(mod).lower()
            title = f"{'Dose' if kind == 'dose' else 'Meta-regression'}: {words.analysis_title(a)} by {name}"
            slope, model = slope_line(style, ar, mod, reg, moderator_unit(results, mod)), model_line(style, reg)
            measure_name = vocab.measure(a.measure).prose(style.spelling)
            caption = (
                f"{title}. Random-effects meta-regression of the {measure_name} on "
                f"{name}; bubble area proportional to the study's weight; line and band: fitted effect "
                f"and its {reg.level:g}% CI. {slope}; {model}."
            )
            alt = (
                f"Bubble plot of {reg.k} studies, {a.measure} on the vertical axis against {name} on the "
                f"horizontal axis, with a fitted line. {slope}."
            )
            fig = figure(f"{kind}-{a.id}-{mod}", kind, title, caption, alt, a.id)
            out.append(Job(fig, draw_dose, dose_spec(results, ar, mod, style), cost=2.0))
    return out
