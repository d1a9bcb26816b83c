"""The main analysis of an outcome and window under review.yaml's ``dependence`` (aggregate or multilevel)
and ``robust`` settings, each overridable per analysis in the plan.

What the analysis reports (``AnalysisResult.result``) is the chosen model (``analysis.dependent``). Its
study rows (``effects``) stay one per study: under ``aggregate`` each study's effects combined, under
``multilevel`` the selected effect of each study, weighted by the study's share of the three-level model;
every effect the multilevel model used is in ``model_effects`` (forest plot, study table).

The follow-up analyses use one effect per study, as metafor's do: after ``aggregate()`` every follow-up
(subgroups, meta-regression, leave-one-out, Egger's test, trim-and-fill) runs on the aggregated effects;
with a multilevel model they run on the selected effects (``regtest()``, ``trimfill()`` and
``leave1out()`` need one effect per study), except the sensitivity analysis without studies at high risk
of bias, which refits the chosen model. ``follow_up_note`` says so in the outputs.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from erh_report import rob_tools
from erh_report.analysis.dependent import Choice, DependentResult, fit_dependent
from erh_report.analysis.model import ModelError, fit
from erh_report.data.plan import Analysis
from erh_report.data.review import Review
from erh_report.data.schema import ReviewConfig
from erh_report.limits import check_study_effects
from erh_report.synthesis.effects import study_effects, study_intervals
from erh_report.synthesis.results import AnalysisResult

#: Under ``multilevel``, what the follow-up analyses use, as the outputs say it.
SELECTED_NOTE = "one effect per study (the selection rule): the three-level model was used for the main analysis"
ONE_EFFECT_EACH = "every study gives one effect in this window"
AGGREGATED_NOTE = "one effect per study (each study's effects aggregated), as in the main analysis"


def choice_for(config: ReviewConfig, analysis: Analysis) -> Choice:
    """The analysis's dependence, robust and correlation: its plan entry's where given, else the settings."""
    s, planned = config.settings, analysis.settings
    if analysis.pooling:  # pooled as RevMan does: one effect per study, RevMan's tests
        return Choice(rho=s.within_study_correlation)

    def pick(name: str):
        own = getattr(planned, name) if planned is not None else None
        return getattr(s, name) if own is None else own

    return Choice(pick("dependence"), bool(pick("robust")), float(pick("within_study_correlation")))


def any_dependent(config: ReviewConfig, analyses: list[Analysis]) -> bool:
    """Whether some analysis is not run as the paper ran it (results tables then show the extra columns)."""
    return any(not choice_for(config, a).usual for a in analyses)


def _every_effect(review: Review, analysis: Analysis) -> pd.DataFrame:
    from erh_report.dependence import every_effect

    frame = study_effects(review, analysis, every_effect(review)[analysis.id])
    check_study_effects(review.sources["outcome_data"], analysis.id, frame)
    return frame


def _per_study(frame: pd.DataFrame, column: str, how) -> pd.Series:
    return frame.groupby("study_id", sort=False)[column].agg(how)


def aggregated_rows(selected: pd.DataFrame, every: pd.DataFrame, result: DependentResult, level: float):
    """One row per study: its descriptions from its selected row, its effect and variance aggregated,
    the instruments and time points it combined, how many effects, and the rows of outcome_data used."""
    agg = result.model
    rows = selected.drop_duplicates("study_id").set_index("study_id", drop=False)
    participants = _per_study(selected, "participants", "sum")
    rows = rows.loc[list(dict.fromkeys(every["study_id"]))].copy()
    rows["participants"] = participants.reindex(rows.index).to_numpy()
    rows["yi"], rows["vi"] = agg.yi, agg.vi
    rows["sei"] = np.sqrt(agg.vi)
    rows["ci_low"], rows["ci_high"] = study_intervals(agg.yi, np.sqrt(agg.vi), level)
    joined = lambda values: "; ".join(dict.fromkeys(str(v) for v in values))  # noqa: E731
    rows["instrument"] = _per_study(every, "instrument", joined).reindex(rows.index).to_numpy()
    rows["instrument_name"] = _per_study(every, "instrument_name", joined).reindex(rows.index).to_numpy()
    rows["source_rows"] = _per_study(every, "source_rows", lambda v: ";".join(v)).reindex(rows.index).to_numpy()
    counts = every.groupby("study_id", sort=False).size().reindex(rows.index).to_numpy()
    rows["effects_in_study"] = counts
    rows["why"] = [
        f"{n} effect{'s' if n > 1 else ''} aggregated (within-study correlation {result.choice.rho:g})" for n in counts
    ]
    combined = counts > 1
    for column in ("mean_i", "sd_i", "mean_c", "sd_c"):  # one instrument's arms no longer describe a combined row
        rows.loc[combined, column] = math.nan
    rows.loc[combined, "data"] = "aggregated"
    rows["weight"] = result.weights
    return rows.reset_index(drop=True)


def _fit(frame: pd.DataFrame, choice: Choice, review: Review) -> DependentResult:
    s = review.config.settings
    return fit_dependent(
        frame["yi"].to_numpy(float),
        frame["vi"].to_numpy(float),
        frame["study_id"].tolist(),
        choice,
        method=s.method,
        hksj=s.hksj,
        level=s.level,
    )


def run_dependent(
    review: Review, analysis: Analysis, selected: pd.DataFrame, choice: Choice, label: str
) -> AnalysisResult:
    """The analysis under its choice, with its follow-up analyses (see the module's docstring)."""
    from erh_report.synthesis.run import follow_ups

    settings = review.config.settings
    every = selected if choice.dependence == "select" else _every_effect(review, analysis)
    fallback = ""
    if choice.dependence == "multilevel" and not every["study_id"].duplicated().any():
        fallback = f"{ONE_EFFECT_EACH}: the usual random-effects model"  # the two levels cannot be told apart
        choice = replace(choice, dependence="select")
    try:
        result = _fit(every, choice, review)
    except ModelError as exc:
        selected["weight"] = math.nan
        return AnalysisResult(analysis, selected, None, label, str(exc))
    note = "; ".join((fallback, *result.notes) if fallback else result.notes)
    if choice.dependence == "aggregate":
        effects = aggregated_rows(selected, every, result, settings.level)
        usual, follow_note = result.model, AGGREGATED_NOTE
        model_effects = None
    else:
        effects = selected
        if choice.dependence == "multilevel":
            every = every.assign(weight=result.weights, effects_in_study=every.groupby("study_id").yi.transform("size"))
            share = every.groupby("study_id", sort=False)["weight"].sum()
            first = ~selected["study_id"].duplicated()  # a study's share once, on its first comparison
            selected["weight"] = np.where(first, selected["study_id"].map(share), 0.0)
            try:  # the follow-up analyses' model of the selected effects
                usual = fit(selected["yi"].to_numpy(), selected["vi"].to_numpy(), **_kw(review))
            except ModelError:
                usual = None
            model_effects, follow_note = every, SELECTED_NOTE
        else:  # one selected effect per study with robust tests
            selected["weight"] = result.weights
            usual, model_effects, follow_note = result.model, None, ""
    out = AnalysisResult(analysis, effects, result, result.method_label, note)
    out.model_effects = model_effects
    out.follow_up_note = follow_note
    if usual is not None:
        follow_ups(review, out, effects, usual)
    _without_high_rob(review, out, effects, every, choice)
    return out


def _kw(review: Review) -> dict:
    s = review.config.settings
    return dict(method=s.method, hksj=s.hksj, level=s.level)


def _without_high_rob(
    review: Review, out: AnalysisResult, effects: pd.DataFrame, every: pd.DataFrame, choice: Choice
) -> None:
    """The sensitivity analysis without studies at high risk of bias, refitted with the chosen model."""
    if not review.config.plan.sensitivity.exclude_high_rob:
        return
    concern = rob_tools.tool(review.config.settings.rob_tool).concern
    high = {
        sid
        for sid, j in zip(effects["study_id"], effects["rob_overall"], strict=True)
        if concern.get(j) == "very serious"
    }
    if not high:
        out.without_high_rob = out.result
        return
    rest = every[~every["study_id"].isin(high)]
    out.without_high_rob = None
    if rest["study_id"].nunique() >= review.config.plan.min_studies:
        try:
            out.without_high_rob = _fit(rest, choice, review)
        except ModelError:
            out.without_high_rob = None
