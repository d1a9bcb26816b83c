"""Wording shared by the figures: measure and model names, the analysis title, the test lines.

Every number goes through the review's :class:`~erh_report.numbers.NumberStyle`, so a figure, its caption
and the tables say the same thing in the same style.
"""

from __future__ import annotations

import math

from erh_report.analysis.model import MetaResult
from erh_report.data.plan import Analysis
from erh_report.numbers import NumberStyle
from erh_report.vocabulary import HKSJ, HKSJ_NAME, POOLINGS, measure
from erh_report.vocabulary import method as method_record

#: Ticks for axes of ratios on a log scale (funnel, dose).
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


def analysis_title(a: Analysis) -> str:
    """'Parent-infant bonding, post-intervention'; an analysis set up as in RevMan: 'Analysis 1.2. Comparison:
    outcome'."""
    if a.pooling:
        return f"Analysis {a.id}. {a.domain}: {a.outcome}"
    window = a.window if a.window[:2].isupper() else a.window[:1].lower() + a.window[1:]
    return f"{a.outcome}, {window}"


def model_header(method: str, hksj: bool, level: float) -> str:
    """RevMan's second header line: 'IV, Random (REML), 95% CI'."""
    m = method_record(method)
    if not m.random:
        return f"{m.header}, Fixed, {level:g}% CI"
    return f"{m.header}, Random ({method}{', ' + HKSJ if hksj else ''}), {level:g}% CI"


def pooling_header(pooling: str, random: bool, level: float) -> str:
    """RevMan's header of an analysis that chose its pooling: 'M-H, Random, 95% CI'."""
    return f"{POOLINGS[pooling][0]}, {'Random' if random else 'Fixed'}, {level:g}% CI"


def model_words(method: str, hksj: bool) -> str:
    m = method_record(method)
    if not m.random:
        return f"{m.name} model"
    return f"random-effects model ({m.name} τ²{', ' + HKSJ_NAME + ' CI' if hksj else ''})"


def estimate(style: NumberStyle, code: str, est: float, low: float, high: float) -> str:
    """RevMan's '0.80 [0.70, 0.92]' on the readers' scale."""
    e, lo, hi = (float(measure(code).shown(x)) for x in (est, low, high))
    return style.bracket(e, lo, hi)


def estimate_ci(style: NumberStyle, code: str, est: float, low: float, high: float, level: float) -> str:
    e, lo, hi = (float(measure(code).shown(x)) for x in (est, low, high))
    return style.estimate_ci(e, lo, hi, level)


def heterogeneity_line(style: NumberStyle, r: MetaResult) -> str:
    """'Heterogeneity: Tau² = 0.04; Chi² = 55.23, df = 30 (P = .001); I² = 46%' (RevMan's line)."""
    if r.k < 2:
        return "Heterogeneity: not applicable"
    tau = "" if r.method == "FE" else f"Tau² = {style.tau2(r.tau2)}; "
    sigma2 = getattr(r, "sigma2", None)  # a three-level model: both variance components, the total I²
    if sigma2 is not None:
        tau = f"Sigma² = {style.tau2(sigma2[0])} (between studies), {style.tau2(sigma2[1])} (within); "
    return f"Heterogeneity: {tau}Chi² = {style.number(r.q)}, df = {r.q_df} ({style.p(r.q_pval)}); {style.i2(r.i2)}"


def overall_line(style: NumberStyle, r: MetaResult) -> str:
    """'Test for overall effect: Z = 3.21 (P = .001)' (t with its df under HKSJ)."""
    if r.df is None:
        stat = "Z"
    elif float(r.df).is_integer():
        stat = f"t({r.df:g})"
    else:  # Satterthwaite's df of a cluster-robust test
        stat = f"t({style.number(r.df, 1)})"
    return f"Test for overall effect: {stat} = {style.number(abs(r.statistic))} ({style.p(r.pval)})"


def pi_finite(r: MetaResult) -> bool:
    return r.k >= 3 and r.method != "FE" and math.isfinite(r.pi_low) and math.isfinite(r.pi_high)
