"""Recompute a RevMan outcome from its study rows and set our results beside the values RevMan stored.

``compare()`` lists every stored statistic with ours, on RevMan's scale (ratios on the natural scale),
so that an import can be checked against the published results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from erh_report.analysis.model import MetaResult
from erh_report.analysis.revman import RevManAnalysis, revman_analysis
from erh_report.importers.model import Outcome, Stored

RATIO_MEASURES = ("OR", "RR", "PETO_OR", "HR", "RATIO")


def is_ratio(outcome: Outcome) -> bool:
    return outcome.measure in RATIO_MEASURES and (outcome.data_type != "IV" or outcome.log_data)


def pooling_measure(outcome: Outcome) -> str:
    """The measure the pooling engine computes: OR, RR, RD, MD, SMD, or GEN for generic data."""
    if outcome.data_type == "IV":
        return "GEN"
    return "OR" if outcome.measure == "PETO_OR" else outcome.measure


def outcome_data(outcome: Outcome) -> dict[str, np.ndarray]:
    """Columns named as in metafor from the outcome's rows."""

    def col(name: str) -> np.ndarray:
        return np.array([np.nan if getattr(r, name) is None else getattr(r, name) for r in outcome.rows], float)

    if outcome.data_type == "DICH":
        a, n1, c, n2 = col("events_1"), col("total_1"), col("events_2"), col("total_2")
        if outcome.swap_events:
            a, c = n1 - a, n2 - c
        return {"ai": a, "n1i": n1, "ci": c, "n2i": n2}
    if outcome.data_type == "CONT":
        return {
            "n1i": col("total_1"),
            "m1i": col("mean_1"),
            "sd1i": col("sd_1"),
            "n2i": col("total_2"),
            "m2i": col("mean_2"),
            "sd2i": col("sd_2"),
        }
    return {"yi": col("estimate"), "sei": col("se")}


def recompute(outcome: Outcome) -> RevManAnalysis:
    groups = None
    if outcome.has_subgroups:
        names = {s.number: s.name for s in outcome.subgroups}
        groups = [names.get(r.subgroup, str(r.subgroup)) for r in outcome.rows]
    return revman_analysis(
        pooling_measure(outcome),
        outcome_data(outcome),
        groups,
        pooling=outcome.method,
        random=outcome.random,
        totals=outcome.totals,
        level=outcome.level_total,
    )


@dataclass(frozen=True)
class Difference:
    analysis: str  # "3.2" or "3.2 / subgroup name"
    statistic: str
    stored: float
    ours: float

    @property
    def relative(self) -> float:
        if self.stored == self.ours:
            return 0.0
        return abs(self.ours - self.stored) / max(abs(self.stored), 1e-300)


def _ours(result: MetaResult, ratio: bool) -> dict[str, float]:
    back = math.exp if ratio else float
    return {
        "effect_size": back(result.estimate),
        "ci_start": back(result.ci_low),
        "ci_end": back(result.ci_high),
        "tau2": result.tau2,
        "chi2": result.q,
        "df": float(result.q_df),
        "i2": result.i2,
        "z": abs(result.statistic),
        "p_z": result.pval,
        "p_chi2": result.q_pval,
    }


def _pairs(label: str, stored: Stored | None, result: MetaResult | None, ratio: bool) -> list[Difference]:
    if stored is None or not stored.calculated or result is None:
        return []
    ours = _ours(result, ratio)
    return [Difference(label, key, stored.values[key], value) for key, value in ours.items() if key in stored.values]


def compare(outcome: Outcome, analysis: RevManAnalysis | None = None) -> list[Difference]:
    """Every statistic RevMan stored for the outcome, its subgroups and the subgroup test, with ours."""
    analysis = analysis or recompute(outcome)
    ratio = is_ratio(outcome)
    out = _pairs(outcome.id, outcome.stored, analysis.overall, ratio)
    names = {s.number: s.name for s in outcome.subgroups}
    for sub in outcome.subgroups:
        out += _pairs(f"{outcome.id} / {sub.name}", sub.stored, analysis.subgroups.get(names[sub.number]), ratio)
    stored = outcome.stored
    if analysis.test is not None and stored is not None and outcome.has_subgroups:
        ours = {"q": analysis.test.statistic, "p_q": analysis.test.pval, "i2_q": analysis.test.i2}
        out += [Difference(outcome.id, k, stored.values[k], v) for k, v in ours.items() if k in stored.values]
    return out
