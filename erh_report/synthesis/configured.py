"""Analyses that review.yaml sets up themselves, as RevMan does: pooling (IV, M-H, Peto), fixed or random
(DerSimonian-Laird) model, measure, totals and subgroups (an imported RevMan review).

The study rows come from the plan as for every analysis; here they are pooled by ``analysis.revman``
with RevMan's rules, so an imported review's results equal the ones RevMan stored. Each study's own
effect and weight are RevMan's too (zero cells corrected, "not estimable" studies without a weight).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from erh_report.analysis.model import MetaResult
from erh_report.analysis.pooling import revman_effects
from erh_report.analysis.revman import RevManAnalysis, revman_analysis
from erh_report.analysis.subgroup import SubgroupAnalysis
from erh_report.data.plan import Analysis
from erh_report.synthesis.effects import study_intervals
from erh_report.vocabulary import POOLINGS

SUBGROUP_VARIABLE = "subgroup"
GENERIC = ("HR", "RATIO", "GEN")


def method_label(analysis: Analysis) -> str:
    """RevMan's words for the method: "M-H, Random"."""
    s = analysis.settings
    assert s is not None and s.pooling is not None
    return f"{POOLINGS[s.pooling][0]}, {'Random' if s.model == 'random' else 'Fixed'}"


def _data(analysis: Analysis, effects: pd.DataFrame) -> tuple[str, dict[str, np.ndarray]] | str:
    """(measure for the pooling engine, metafor-named columns), or why the rows cannot be pooled."""
    arms = (effects["data"] == "arms").to_numpy()
    m = analysis.measure
    if arms.all() and m not in GENERIC:
        col = lambda c: effects[c].to_numpy(dtype=float)  # noqa: E731
        if analysis.outcome_type == "dichotomous":
            return ("OR" if m == "PETO_OR" else m), {
                "ai": col("events_i"),
                "n1i": col("total_i"),
                "ci": col("events_c"),
                "n2i": col("total_c"),
            }
        return m, {
            "n1i": col("n_i"),
            "m1i": col("mean_i"),
            "sd1i": col("sd_i"),
            "n2i": col("n_c"),
            "m2i": col("mean_c"),
            "sd2i": col("sd_c"),
        }
    if not arms.any():
        return "GEN", {"yi": effects["yi"].to_numpy(dtype=float), "sei": effects["sei"].to_numpy(dtype=float)}
    return "arm data and precomputed effects mixed in one analysis: RevMan's methods pool one kind"


def run(
    analysis: Analysis, effects: pd.DataFrame, smd_variant: str
) -> tuple[MetaResult | None, dict[str, SubgroupAnalysis], str]:
    """Pool as set up: (overall result if shown, subgroup analyses, note). Sets the study rows' effects,
    variances and weights to RevMan's."""
    s = analysis.settings
    assert s is not None and s.pooling is not None
    effects["weight"] = math.nan
    made = _data(analysis, effects)
    if isinstance(made, str):
        return None, {}, made
    measure, data = made
    groups = None
    if s.subgroups:
        groups = [str(g) if isinstance(g, str) and g else "(no subgroup)" for g in effects[SUBGROUP_VARIABLE]]
    level = s.level or 95.0
    if measure != "GEN":
        es = revman_effects(measure, data, smd_variant=smd_variant)
        effects["yi"], effects["vi"] = es.yi, es.vi
        effects["sei"] = np.sqrt(es.vi)
        effects["ci_low"], effects["ci_high"] = study_intervals(es.yi, np.sqrt(es.vi), s.level or 95.0)
    ra = revman_analysis(
        measure,
        data,
        groups,
        pooling=s.pooling,
        random=s.model == "random",
        totals=s.totals,
        level=level,
        smd_variant=smd_variant,
    )
    _weights(effects, ra, groups)
    subgroups = {}
    if groups is not None and s.totals != "NO":
        levels = tuple(dict.fromkeys(groups))
        test = ra.test if s.subgroup_test else None
        subgroups[SUBGROUP_VARIABLE] = SubgroupAnalysis(levels, ra.subgroups, ra.errors, None, test)
    notes = []
    if s.totals == "SUB":
        notes.append("subtotals only: no overall estimate (the analysis shows subgroup totals alone)")
    elif s.totals == "NO":
        notes.append("no totals: the study results are shown without a pooled estimate")
    elif "overall" in ra.errors:
        notes.append(ra.errors["overall"])
    overall = ra.overall if ra.overall_shown and s.totals == "YES" else None
    if overall is not None:
        notes.extend(overall.notes)
    return overall, subgroups, "; ".join(notes)


def _weights(effects: pd.DataFrame, ra: RevManAnalysis, groups: list[str] | None) -> None:
    """Each estimable study's percent weight: in the overall pooling, or within its subgroup."""
    estimable = np.isfinite(effects["yi"].to_numpy(dtype=float)) & np.isfinite(effects["vi"].to_numpy(dtype=float))
    weights = np.full(len(effects), np.nan)
    if groups is None or ra.overall_shown:
        if ra.overall is not None and ra.overall.weights.size == estimable.sum():
            weights[estimable] = ra.overall.weights
    else:
        labels = np.asarray(groups)
        for level, res in ra.subgroups.items():
            mask = (labels == level) & estimable
            if res.weights.size == mask.sum():
                weights[mask] = res.weights
    effects["weight"] = weights
