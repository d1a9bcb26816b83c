"""Wording shared by the figures: measure and model names, the analysis title, the test lines.

Every number goes through the review's :class:`~erh_report.numbers.NumberStyle`, so a figure, its caption
and the tables say the same thing in the same style.
"""

from __future__ import annotations

import math

import numpy as np

from erh_report.analysis.model import METHOD_NAMES, MetaResult
from erh_report.data.plan import Analysis
from erh_report.numbers import NumberStyle
from erh_report.results import RATIO_MEASURES

#: RevMan's column header names.
MEASURE_HEADERS = {
    "SMD": "Std. Mean Difference",
    "MD": "Mean Difference",
    "OR": "Odds Ratio",
    "RR": "Risk Ratio",
    "RD": "Risk Difference",
    "COR": "Correlation",
    "ZCOR": "Fisher's z",
    "GEN": "Effect size",
}
#: The same in running text (captions, alt text).
MEASURE_WORDS = {
    "SMD": "standardised mean difference (Hedges' g)",
    "MD": "mean difference",
    "OR": "odds ratio",
    "RR": "risk ratio",
    "RD": "risk difference",
    "COR": "correlation",
    "ZCOR": "Fisher's z",
    "GEN": "effect size",
}
#: Ticks for axes of ratios on a log scale (funnel, dose).
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
ILLUSTRATIVE = "Illustrative data: invented by a seeded generator; not the findings of any real review."
VARIABLE_NAMES = {
    "population_risk": "Population risk",
    "intervention_type": "Intervention type",
    "design": "Design",
    "country": "Country",
    "dose_hours": "Contact hours",
    "sessions": "Number of sessions",
    "infant_age_weeks": "Infant age at start (weeks)",
    "year": "Year of publication",
    "n_randomised": "Dyads randomised",
}


def is_ratio(measure: str) -> bool:
    return measure in RATIO_MEASURES


def natural(measure: str, x: float | np.ndarray) -> float | np.ndarray:
    """From the model's scale to the scale readers see (ratios are pooled as logs)."""
    return np.exp(x) if is_ratio(measure) else x


def null_value(measure: str) -> float:
    return 1.0 if is_ratio(measure) else 0.0


def variable_name(var: str) -> str:
    return VARIABLE_NAMES.get(var, var.replace("_", " ").capitalize())


def analysis_title(a: Analysis) -> str:
    """'Parent-infant bonding, post-intervention'."""
    window = a.window if a.window[:2].isupper() else a.window[:1].lower() + a.window[1:]
    return f"{a.outcome}, {window}"


def model_header(method: str, hksj: bool, level: float) -> str:
    """RevMan's second header line: 'IV, Random (REML), 95% CI'."""
    if method == "FE":
        return f"IV, Fixed, {level:g}% CI"
    return f"IV, Random ({method}{', HKSJ' if hksj else ''}), {level:g}% CI"


def model_words(method: str, hksj: bool) -> str:
    if method == "FE":
        return "common-effect (inverse-variance) model"
    name = METHOD_NAMES.get(method, method)
    return f"random-effects model ({name} τ²{', Hartung-Knapp-Sidik-Jonkman CI' if hksj else ''})"


def estimate(style: NumberStyle, measure: str, est: float, low: float, high: float) -> str:
    """RevMan's '0.80 [0.70, 0.92]' on the readers' scale."""
    e, lo, hi = (float(natural(measure, x)) for x in (est, low, high))
    return style.bracket(e, lo, hi)


def estimate_ci(style: NumberStyle, measure: str, est: float, low: float, high: float, level: float) -> str:
    e, lo, hi = (float(natural(measure, x)) for x in (est, low, high))
    return style.estimate_ci(e, lo, hi, level)


def tau2_text(style: NumberStyle, tau2: float) -> str:
    """τ² with two decimals, three when it is small but not zero (0.004 is not 0.00)."""
    return style.number(tau2, 3 if 0 < tau2 < 0.005 else 2)


def heterogeneity_line(style: NumberStyle, r: MetaResult) -> str:
    """'Heterogeneity: Tau² = 0.04; Chi² = 55.23, df = 30 (P = .001); I² = 46%' (RevMan's line)."""
    if r.k < 2:
        return "Heterogeneity: not applicable"
    tau = "" if r.method == "FE" else f"Tau² = {tau2_text(style, r.tau2)}; "
    return (f"Heterogeneity: {tau}Chi² = {style.number(r.q)}, df = {r.q_df} ({style.p(r.q_pval)}); "
            f"I² = {style.percent(r.i2)}")


def overall_line(style: NumberStyle, r: MetaResult) -> str:
    """'Test for overall effect: Z = 3.21 (P = .001)' (t with its df under HKSJ)."""
    stat = f"t({r.df:g})" if r.df is not None else "Z"
    return f"Test for overall effect: {stat} = {style.number(abs(r.statistic))} ({style.p(r.pval)})"


def i2_words(style: NumberStyle, r: MetaResult) -> str:
    return f"I² = {style.percent(r.i2)}"


def pi_finite(r: MetaResult) -> bool:
    return r.k >= 3 and r.method != "FE" and math.isfinite(r.pi_low) and math.isfinite(r.pi_high)
