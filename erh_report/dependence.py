"""Several effects per study in the review: each analysis under the three ways of handling them, side by
side, so that a reader sees whether the choice matters.

``select`` is the plan's rule (one instrument and time point per study, what the main analyses use);
``aggregate`` combines every effect a study reports in the window (compound symmetry with the setting
``within_study_correlation``, which an entry of the plan's analyses may override); ``multilevel`` fits the
three-level model to them. Every row also carries cluster-robust (CR2) tests by study.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from erh_report.analysis.aggregate import aggregate
from erh_report.analysis.model import ModelError, fit
from erh_report.analysis.multilevel import MULTILEVEL_METHODS, fit_multilevel
from erh_report.analysis.robust import robust_multilevel, robust_uni
from erh_report.data.plan import Analysis, StudyInput, select_effects
from erh_report.data.validate import Review

APPROACHES = ("select", "aggregate", "multilevel")
COLUMNS = (
    "analysis_id",
    "analysis",
    "approach",
    "within_study_correlation",
    "method",
    "k_effects",
    "k_studies",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pval",
    "tau2",
    "sigma2_between",
    "sigma2_within",
    "i2",
    "robust_se",
    "robust_df",
    "robust_ci_low",
    "robust_ci_high",
    "robust_pval",
    "note",
)


def correlation_for(review: Review, analysis: Analysis) -> float:
    """The within-study correlation for aggregating this analysis: the plan's entry for it, or the setting."""
    planned = [] if review.config.plan.analyses == "all" else review.config.plan.analyses
    for entry in planned:
        if (entry.outcome, entry.window) == (
            analysis.outcome_id,
            analysis.window_id,
        ) and entry.within_study_correlation is not None:
            return entry.within_study_correlation
    return review.config.settings.within_study_correlation


def _kept(store: dict, review: Review, make):
    """``make(review)``, made once per review while it lives (the results files, the workbook, the supplement
    and every analysis of the synthesis ask for the same)."""
    kept = store.get(id(review))
    if kept is not None and kept[0]() is review:
        return kept[1]
    return _keep(store, review, make(review))


def _keep(store: dict, review: Review, value):
    key = id(review)
    store[key] = (weakref.ref(review, lambda _ref: store.pop(key, None)), value)
    return value


_EVERY: dict[int, tuple[weakref.ref, dict]] = {}


def every_effect(review: Review) -> dict[str, list[StudyInput]]:
    """Per analysis, every instrument and time point each study reports in the window."""

    def make(review: Review) -> dict[str, list[StudyInput]]:
        labels = {s.study_id: s.label for _, s in review.studies}
        return select_effects(review.config, review.outcome_data, labels, every=True)[0]

    return _kept(_EVERY, review, make)


def _effects(review: Review, analysis: Analysis, inputs: list[StudyInput]) -> tuple[np.ndarray, ...]:
    from erh_report.synthesis.effects import study_effects

    frame = study_effects(review, analysis, inputs)
    keep = np.isfinite(frame["yi"].to_numpy(float)) & np.isfinite(frame["vi"].to_numpy(float))
    frame = frame[keep]
    return frame["yi"].to_numpy(float), frame["vi"].to_numpy(float), frame["study_id"].to_numpy()


def _robust_columns(robust) -> dict[str, float]:
    c = robust.coefficients[0]
    return {
        "robust_se": c.se,
        "robust_df": c.df,
        "robust_ci_low": c.ci_low,
        "robust_ci_high": c.ci_high,
        "robust_pval": c.pval,
    }


def _pooled(result) -> dict[str, float]:
    return {
        "estimate": result.estimate,
        "se": result.se,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "pval": result.pval,
        "i2": result.i2,
    }


def _usual(yi, vi, study, settings) -> dict:
    result = fit(yi, vi, method=settings.method, hksj=settings.hksj, level=settings.level)
    row = {"method": result.method_label, "tau2": result.tau2, **_pooled(result)}
    try:
        row.update(_robust_columns(robust_uni(result, study)))
    except ModelError as exc:
        row["note"] = f"no robust tests: {exc}"
    return row


def approach_row(review: Review, analysis: Analysis, approach: str, inputs: list[StudyInput], rho: float) -> dict:
    """One analysis under one approach: the pooled effect, heterogeneity and robust tests."""
    settings = review.config.settings
    yi, vi, study = _effects(review, analysis, inputs)
    row: dict = {
        "analysis_id": analysis.id,
        "analysis": f"{analysis.outcome}, {analysis.window}",
        "approach": approach,
        "k_effects": len(yi),
        "k_studies": len(set(study)),
        "note": "",
    }
    try:
        if approach == "select":
            row.update(_usual(yi, vi, study, settings))
        elif approach == "aggregate":
            agg = aggregate(yi, vi, study, rho)
            row["within_study_correlation"] = rho
            row.update(_usual(agg.yi, agg.vi, np.array(agg.labels), settings))
        else:
            method = settings.method if settings.method in MULTILEVEL_METHODS else "REML"
            result = fit_multilevel(yi, vi, study, method=method, level=settings.level)
            row.update(
                method=method,
                sigma2_between=result.sigma2[0],
                sigma2_within=result.sigma2[1],
                **_pooled(result),
                **_robust_columns(robust_multilevel(result)),
            )
    except ModelError as exc:
        row["note"] = str(exc)
    return row


_TABLES: dict[int, tuple[weakref.ref, pd.DataFrame]] = {}


def dependence_table(review: Review) -> pd.DataFrame:
    """Every analysis with enough studies under select, aggregate and multilevel (one row each). Kept per
    review while it lives: the results files, the workbook and the supplement all show it."""
    return _kept(_TABLES, review, _dependence_table).copy()


def keep_dependence_table(review: Review, table: pd.DataFrame) -> None:
    """Keep ``table`` as the review's, made by another process (the one that writes the results files), so
    that this one does not make it again."""
    _keep(_TABLES, review, table)


def _dependence_table(review: Review) -> pd.DataFrame:
    every = every_effect(review)
    rows = []
    for analysis in review.analyses:
        selected = review.selections[analysis.id]
        if len({s.study_id for s in selected}) < max(review.config.plan.min_studies, 2):
            continue
        rho = correlation_for(review, analysis)
        for approach in APPROACHES:
            inputs = selected if approach == "select" else every[analysis.id]
            rows.append(approach_row(review, analysis, approach, inputs, rho))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def supplement_rows(review: Review, natural) -> list[dict]:
    """One row per analysis for the supplement: the three approaches side by side on the reported scale
    (``natural(measure, x)`` turns log ratios into ratios)."""
    frame = dependence_table(review)
    measures = {a.id: a.measure for a in review.analyses}
    titles = {a.id: f"{a.outcome} ({a.window.lower()})" for a in review.analyses}
    out = []
    for analysis_id, part in frame.groupby("analysis_id", sort=False):
        rows = part.set_index("approach")
        m = measures[analysis_id]

        def scaled(approach: str, column: str, m=m, rows=rows) -> float:
            return float(natural(m, rows.loc[approach, column]))

        view = {"analysis": titles[analysis_id], "rho": rows.loc["aggregate", "within_study_correlation"]}
        for approach in APPROACHES:
            view[approach] = {
                "fitted": bool(np.isfinite(rows.loc[approach, "estimate"])),
                "note": rows.loc[approach, "note"],
                "k_studies": rows.loc[approach, "k_studies"],
                "k_effects": rows.loc[approach, "k_effects"],
                "estimate": scaled(approach, "estimate"),
                "ci_low": scaled(approach, "ci_low"),
                "ci_high": scaled(approach, "ci_high"),
                "i2": rows.loc[approach, "i2"],
                "sigma2_between": rows.loc[approach, "sigma2_between"],
                "sigma2_within": rows.loc[approach, "sigma2_within"],
                "robust_ci_low": scaled(approach, "robust_ci_low"),
                "robust_ci_high": scaled(approach, "robust_ci_high"),
                "robust_df": rows.loc[approach, "robust_df"],
            }
        out.append(view)
    return out
