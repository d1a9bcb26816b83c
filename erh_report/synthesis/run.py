"""Running the analysis plan: each planned analysis pooled, then its subgroup, moderator, sensitivity and
small-study analyses, as the plan asks. The result objects keep the fitted models, so figures and
documents read numbers from them and never compute."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from erh_report import rob_tools
from erh_report.analysis.bias import egger_test, trim_and_fill
from erh_report.analysis.model import MetaResult, ModelError, fit
from erh_report.analysis.sensitivity import leave_one_out
from erh_report.analysis.subgroup import subgroup_analysis
from erh_report.data.plan import Analysis
from erh_report.data.review import Review
from erh_report.limits import check_study_effects
from erh_report.synthesis import configured, dependent
from erh_report.synthesis.effects import study_effects
from erh_report.synthesis.results import AnalysisResult, ReviewResults
from erh_report.vocabulary import method_label

Progress = Callable[[str], None]


def run_analysis(review: Review, analysis: Analysis) -> AnalysisResult:
    """Pool one analysis and run its subgroup, moderator, sensitivity and small-study analyses."""
    cfg = review.config
    plan, settings = cfg.plan, cfg.settings
    method = settings.method
    label = method_label(method, settings.hksj)
    kw = dict(method=method, hksj=settings.hksj, level=settings.level)
    effects = study_effects(review, analysis, review.selections[analysis.id])
    k = len(effects)
    if k < plan.min_studies or k == 0:
        note = (
            "no study reports this outcome in this window"
            if k == 0
            else (f"{k} stud{'y' if k == 1 else 'ies'}: fewer than {plan.min_studies}, not pooled")
        )
        if k:
            effects["weight"] = math.nan
        return AnalysisResult(analysis, effects, None, label, note)
    if analysis.pooling:  # set up in review.yaml itself, as RevMan does
        result, subgroups, note = configured.run(analysis, effects, settings.smd_variant)
        return AnalysisResult(analysis, effects, result, configured.method_label(analysis), note, subgroups=subgroups)
    check_study_effects(review.sources["outcome_data"], analysis.id, effects)
    choice = dependent.choice_for(cfg, analysis)
    if not choice.usual:  # several effects per study, or robust tests (review.yaml's dependence, robust)
        return dependent.run_dependent(review, analysis, effects, choice, label)
    yi, vi = effects["yi"].to_numpy(), effects["vi"].to_numpy()
    try:
        result = fit(yi, vi, **kw)  # type: ignore[arg-type]
    except ModelError as exc:
        effects["weight"] = math.nan
        return AnalysisResult(analysis, effects, None, label, str(exc))
    effects["weight"] = result.weights
    out = AnalysisResult(analysis, effects, result, label, "; ".join(result.notes))
    follow_ups(review, out, effects, result)
    return out


def follow_ups(review: Review, out: AnalysisResult, effects, result: MetaResult) -> None:
    """The subgroup, moderator, sensitivity and small-study analyses of one analysis, on its study rows
    ``effects`` (one effect per study) and their usual model ``result``."""
    plan, settings = review.config.plan, review.config.settings
    kw = dict(method=settings.method, hksj=settings.hksj, level=settings.level)
    yi, vi = effects["yi"].to_numpy(), effects["vi"].to_numpy()
    k = len(effects)
    if k >= plan.min_studies_subgroup:
        for var in plan.subgroups:
            groups = effects[var].astype(str).to_numpy()
            if len(set(groups)) > 1:
                out.subgroups[var] = subgroup_analysis(yi, vi, groups, **kw)  # type: ignore[arg-type]
    for mod in plan.moderators:
        x = effects[mod].to_numpy(dtype=float)
        keep = ~np.isnan(x)
        if keep.sum() >= plan.min_studies_metaregression and np.ptp(x[keep]) > 0:
            try:
                reg = fit(yi[keep], vi[keep], moderators=x[keep][:, None], terms=[mod], **kw)  # type: ignore[arg-type]
            except ModelError:
                continue
            out.metaregression[mod] = (reg, keep)
    if plan.sensitivity.exclude_high_rob:
        concern = rob_tools.tool(settings.rob_tool).concern  # "high": a very serious concern for GRADE
        high = effects["rob_overall"].map(lambda j: concern.get(j) == "very serious").to_numpy(dtype=bool)
        out.high_rob_excluded = effects.loc[high, "study"].tolist()
        if high.any() and (~high).sum() >= plan.min_studies:
            try:
                out.without_high_rob = fit(yi[~high], vi[~high], **kw)  # type: ignore[arg-type]
            except ModelError:
                out.without_high_rob = None
        elif not high.any():
            out.without_high_rob = result
    if plan.sensitivity.leave_one_out and k >= 3:
        out.loo = leave_one_out(yi, vi, **kw)  # type: ignore[arg-type]
    if k >= plan.min_studies_egger:
        out.egger = egger_test(result)
        try:
            out.trimfill = trim_and_fill(result)
        except ValueError:
            out.trimfill = None


def run(review: Review, progress: Progress | None = None) -> ReviewResults:
    """Every planned analysis, in plan order; ``progress`` hears about each one."""
    results = []
    total = len(review.analyses)
    for i, analysis in enumerate(review.analyses, start=1):
        if progress:
            progress(f"analysis {i}/{total}: {analysis.id}")
        results.append(run_analysis(review, analysis))
    return ReviewResults(review, results)
