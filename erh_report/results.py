"""Run the review's analysis plan through the analysis core: every number of the paper.

For each planned analysis the study inputs chosen by the plan become effect sizes (arms combined by
the Cochrane Handbook formula, or a shared control split; signs harmonised so a positive effect
favours the intervention), are pooled, and are followed by the subgroup, meta-regression, sensitivity
and small-study analyses the plan asks for. The result objects keep the fitted models, so figures and
documents read numbers from here and never compute them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from erh_report.analysis.bias import EggerTest, TrimAndFill, egger_test, trim_and_fill
from erh_report.analysis.effect_sizes import combine_arms, escalc
from erh_report.analysis.model import MetaResult, ModelError, fit
from erh_report.analysis.sensitivity import LeaveOneOut, leave_one_out
from erh_report.analysis.subgroup import SubgroupAnalysis, subgroup_analysis
from erh_report.data.plan import Analysis, StudyInput
from erh_report.data.validate import Review

RATIO_MEASURES = ("OR", "RR")
Progress = Callable[[str], None]


@dataclass
class AnalysisResult:
    """One analysis: its study rows (``effects``), the pooled model and the follow-up analyses."""

    analysis: Analysis
    effects: pd.DataFrame
    result: MetaResult | None
    method: str
    note: str = ""
    subgroups: dict[str, SubgroupAnalysis] = field(default_factory=dict)
    metaregression: dict[str, tuple[MetaResult, np.ndarray]] = field(default_factory=dict)
    without_high_rob: MetaResult | None = None
    high_rob_excluded: list[str] = field(default_factory=list)
    loo: LeaveOneOut | None = None
    egger: EggerTest | None = None
    trimfill: TrimAndFill | None = None

    @property
    def k(self) -> int:
        return len(self.effects)

    @property
    def participants(self) -> int:
        return int(round(float(self.effects["participants"].sum()))) if self.k else 0


@dataclass
class ReviewResults:
    """Every analysis of the review, in plan order."""

    review: Review
    analyses: list[AnalysisResult]

    def get(self, analysis_id: str) -> AnalysisResult:
        return next(a for a in self.analyses if a.analysis.id == analysis_id)


# ------------------------------------------------------------------------------- effect sizes
def _nan(x: float | int | None) -> float:
    return math.nan if x is None else float(x)


def study_effects(review: Review, analysis: Analysis, inputs: list[StudyInput]) -> pd.DataFrame:
    """One row per study (or per comparison when a shared control is split): yi, vi and provenance."""
    settings = review.config.settings
    studies = review.study_map
    records = []
    for s in inputs:
        rec: dict[str, object] = {
            "analysis_id": analysis.id,
            "study_id": s.study_id,
            "study": s.label,
            "comparison": s.comparison,
            "instrument": s.instrument,
            "instrument_name": s.instrument_name,
            "followup_months": s.followup_months,
            "direction": "higher is better" if s.sign > 0 else "lower is better",
            "data": s.kind,
        }
        if s.kind == "contrast":
            c = s.contrast
            assert c is not None
            rec.update(yi_raw=c.yi, vi_raw=(c.sei or math.nan) ** 2, participants=_nan(c.n_total))
            rec.update(
                n1i=math.nan,
                m1i=math.nan,
                sd1i=math.nan,
                n2i=math.nan,
                m2i=math.nan,
                sd2i=math.nan,
                ai=math.nan,
                n1i_events=math.nan,
                ci=math.nan,
                n2i_events=math.nan,
            )
        else:
            ctrl = s.control
            assert ctrl is not None
            share = s.control_share
            rec.update(yi_raw=math.nan, vi_raw=math.nan)
            if analysis.outcome_type == "dichotomous":
                ai = float(sum(a.events or 0 for a in s.treated))
                n1 = float(sum(a.total or 0 for a in s.treated))
                ci_, n2 = (ctrl.events or 0) * share, (ctrl.total or 0) * share
                rec.update(
                    ai=ai,
                    n1i_events=n1,
                    ci=ci_,
                    n2i_events=n2,
                    participants=n1 + n2,
                    n1i=math.nan,
                    m1i=math.nan,
                    sd1i=math.nan,
                    n2i=math.nan,
                    m2i=math.nan,
                    sd2i=math.nan,
                )
            else:
                if len(s.treated) == 1:
                    t = s.treated[0]
                    n1, m1, sd1 = float(t.n or 0), _nan(t.mean), _nan(t.sd)
                else:
                    n1, m1, sd1 = combine_arms(
                        [a.n for a in s.treated], [a.mean for a in s.treated], [a.sd for a in s.treated]
                    )
                n2 = (ctrl.n or 0) * share
                rec.update(
                    n1i=n1,
                    m1i=m1,
                    sd1i=sd1,
                    n2i=n2,
                    m2i=_nan(ctrl.mean),
                    sd2i=_nan(ctrl.sd),
                    ai=math.nan,
                    n1i_events=math.nan,
                    ci=math.nan,
                    n2i_events=math.nan,
                    participants=n1 + n2,
                )
        study = studies[s.study_id]
        rob = review.rob(s.study_id, analysis.outcome_id)
        rec.update(
            sign=s.sign,
            population_risk=study.population_risk,
            intervention_type=study.intervention_type,
            design=study.design,
            country=study.country or "",
            year=study.year,
            dose_hours=_nan(study.dose_hours),
            sessions=_nan(study.sessions),
            infant_age_weeks=_nan(study.infant_age_weeks),
            n_randomised=study.n_randomised,
            rob_overall=rob.overall if rob else "",
            source_rows=";".join(map(str, s.rows)),
            why=s.reason,
        )
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    yi = np.full(len(frame), np.nan)
    vi = np.full(len(frame), np.nan)
    arms = (frame["data"] == "arms").to_numpy()
    if arms.any():
        part = frame[arms]
        if analysis.outcome_type == "dichotomous":
            es = escalc(
                analysis.measure,
                {
                    "ai": part["ai"].to_numpy(),
                    "n1i": part["n1i_events"].to_numpy(),
                    "ci": part["ci"].to_numpy(),
                    "n2i": part["n2i_events"].to_numpy(),
                },
            )
        else:
            es = escalc(
                analysis.measure,
                {c: part[c].to_numpy() for c in ("n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")},
                smd_variant=settings.smd_variant,
            )
        yi[arms], vi[arms] = es.yi, es.vi
    yi[~arms] = frame.loc[~arms, "yi_raw"].to_numpy(dtype=float)
    vi[~arms] = frame.loc[~arms, "vi_raw"].to_numpy(dtype=float)
    frame["yi"] = yi * frame["sign"].to_numpy()
    frame["vi"] = vi
    frame["sei"] = np.sqrt(vi)
    frame = frame.drop(columns=[c for c in ("yi_raw", "vi_raw") if c in frame])
    frame = frame.rename(
        columns={
            "n1i_events": "total_i",
            "n2i_events": "total_c",
            "ai": "events_i",
            "ci": "events_c",
            "n1i": "n_i",
            "m1i": "mean_i",
            "sd1i": "sd_i",
            "n2i": "n_c",
            "m2i": "mean_c",
            "sd2i": "sd_c",
        }
    )
    return frame


# ---------------------------------------------------------------------------------- analysis
def run_analysis(review: Review, analysis: Analysis) -> AnalysisResult:
    """Pool one analysis and run its subgroup, moderator, sensitivity and small-study analyses."""
    cfg = review.config
    plan, settings = cfg.plan, cfg.settings
    method = settings.method
    label = f"{method}+HKSJ" if settings.hksj else method
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
    yi, vi = effects["yi"].to_numpy(), effects["vi"].to_numpy()
    try:
        result = fit(yi, vi, **kw)  # type: ignore[arg-type]
    except ModelError as exc:
        effects["weight"] = math.nan
        return AnalysisResult(analysis, effects, None, label, str(exc))
    effects["weight"] = result.weights
    out = AnalysisResult(analysis, effects, result, label, "; ".join(result.notes))

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
        high = (effects["rob_overall"] == "high").to_numpy()
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
    return out


def run(review: Review, progress: Progress | None = None) -> ReviewResults:
    """Every planned analysis, in plan order; ``progress`` hears about each one."""
    results = []
    total = len(review.analyses)
    for i, analysis in enumerate(review.analyses, start=1):
        if progress:
            progress(f"analysis {i}/{total}: {analysis.id}")
        results.append(run_analysis(review, analysis))
    return ReviewResults(review, results)


# ------------------------------------------------------------------------------------- tables
def _pooled_columns(res: MetaResult | None, prefix: str = "") -> dict[str, float]:
    names = (
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pi_low",
        "pi_high",
        "statistic",
        "pval",
        "tau2",
        "i2",
        "h2",
        "q",
        "q_df",
        "q_pval",
    )
    if res is None:
        return {prefix + n: math.nan for n in names}
    return {prefix + n: float(getattr(res, n)) for n in names}


def analyses_table(results: ReviewResults) -> pd.DataFrame:
    """The main table: one row per planned analysis (full precision)."""
    rows = []
    for ar in results.analyses:
        a = ar.analysis
        row: dict[str, object] = {
            "analysis_id": a.id,
            "domain": a.domain,
            "domain_id": a.domain_id,
            "domain_role": a.domain_role,
            "outcome": a.outcome,
            "outcome_id": a.outcome_id,
            "outcome_type": a.outcome_type,
            "importance": a.importance,
            "timepoint": a.window,
            "window_id": a.window_id,
            "measure": a.measure,
            "scale": "log" if a.measure in RATIO_MEASURES else "raw",
            "k": ar.k,
            "participants": ar.participants,
        }
        row.update(_pooled_columns(ar.result))
        row["tau"] = math.sqrt(row["tau2"]) if not math.isnan(row["tau2"]) else math.nan  # type: ignore[arg-type]
        ratio = a.measure in RATIO_MEASURES
        for n in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
            row[f"exp_{n}"] = math.exp(row[n]) if ratio and not math.isnan(row[n]) else math.nan  # type: ignore[arg-type]
        row.update(
            method=ar.method,
            level=results.review.config.settings.level,
            test="t" if results.review.config.settings.hksj else "z",
            note=ar.note,
        )
        rows.append(row)
    return pd.DataFrame(rows)


STUDY_COLUMNS = (
    "analysis_id",
    "study_id",
    "study",
    "comparison",
    "yi",
    "vi",
    "sei",
    "weight",
    "ci_low",
    "ci_high",
    "participants",
    "instrument",
    "instrument_name",
    "followup_months",
    "direction",
    "data",
    "n_i",
    "mean_i",
    "sd_i",
    "n_c",
    "mean_c",
    "sd_c",
    "events_i",
    "total_i",
    "events_c",
    "total_c",
    "population_risk",
    "intervention_type",
    "design",
    "country",
    "year",
    "dose_hours",
    "sessions",
    "infant_age_weeks",
    "n_randomised",
    "rob_overall",
    "source_rows",
    "why",
)


def study_table(ar: AnalysisResult, level: float) -> pd.DataFrame:
    """The study rows of one analysis with each study's own confidence interval."""
    if ar.effects.empty:
        return pd.DataFrame(columns=list(STUDY_COLUMNS))
    frame = ar.effects.copy()
    from scipy import stats

    crit = float(stats.norm.ppf(0.5 + level / 200))
    frame["ci_low"] = frame["yi"] - crit * frame["sei"]
    frame["ci_high"] = frame["yi"] + crit * frame["sei"]
    frame = frame.rename(columns={})
    return frame[list(STUDY_COLUMNS)]


def subgroup_table(results: ReviewResults) -> pd.DataFrame:
    rows = []
    for ar in results.analyses:
        for var, sg in ar.subgroups.items():
            mod, sep = sg.moderator_test, sg.separate_tau2_test
            for level in sg.levels:
                res = sg.results.get(level)
                mask = ar.effects[var].astype(str) == level
                rows.append(
                    {
                        "analysis_id": ar.analysis.id,
                        "variable": var,
                        "level": level,
                        "k": int(mask.sum()),
                        "participants": float(ar.effects.loc[mask, "participants"].sum()),
                        **{
                            k: v
                            for k, v in _pooled_columns(res).items()
                            if k in ("estimate", "se", "ci_low", "ci_high", "pval", "tau2", "i2")
                        },
                        "note": sg.errors.get(level, ""),
                        "test_statistic": mod.statistic if mod else math.nan,
                        "test_df": mod.df[0] if mod else math.nan,
                        "test_df2": mod.df[1] if mod and len(mod.df) > 1 else math.nan,
                        "test_pval": mod.pval if mod else math.nan,
                        "separate_tau2_chi2": sep.statistic if sep else math.nan,
                        "separate_tau2_df": sep.df[0] if sep else math.nan,
                        "separate_tau2_pval": sep.pval if sep else math.nan,
                        "separate_tau2_i2": sep.i2 if sep else math.nan,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "analysis_id",
            "variable",
            "level",
            "k",
            "participants",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "pval",
            "tau2",
            "i2",
            "note",
            "test_statistic",
            "test_df",
            "test_df2",
            "test_pval",
            "separate_tau2_chi2",
            "separate_tau2_df",
            "separate_tau2_pval",
            "separate_tau2_i2",
        ],
    )


def metaregression_table(results: ReviewResults) -> pd.DataFrame:
    rows = []
    for ar in results.analyses:
        for mod, (reg, keep) in ar.metaregression.items():
            icpt, slope = reg.coefficients[0], reg.coefficients[1]
            rows.append(
                {
                    "analysis_id": ar.analysis.id,
                    "moderator": mod,
                    "k": reg.k,
                    "moderator_min": float(ar.effects[mod].to_numpy(dtype=float)[keep].min()),
                    "moderator_max": float(ar.effects[mod].to_numpy(dtype=float)[keep].max()),
                    "intercept": icpt.estimate,
                    "intercept_se": icpt.se,
                    "slope": slope.estimate,
                    "slope_se": slope.se,
                    "slope_ci_low": slope.ci_low,
                    "slope_ci_high": slope.ci_high,
                    "slope_statistic": slope.statistic,
                    "slope_pval": slope.pval,
                    "qm": reg.qm,
                    "qm_df": reg.qm_df[0],
                    "qm_pval": reg.qm_pval,
                    "tau2": reg.tau2,
                    "i2": reg.i2,
                    "r2": reg.r2 if reg.r2 is not None else math.nan,
                    "q_residual": reg.q,
                    "q_residual_df": reg.q_df,
                    "q_residual_pval": reg.q_pval,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "analysis_id",
            "moderator",
            "k",
            "moderator_min",
            "moderator_max",
            "intercept",
            "intercept_se",
            "slope",
            "slope_se",
            "slope_ci_low",
            "slope_ci_high",
            "slope_statistic",
            "slope_pval",
            "qm",
            "qm_df",
            "qm_pval",
            "tau2",
            "i2",
            "r2",
            "q_residual",
            "q_residual_df",
            "q_residual_pval",
        ],
    )


def sensitivity_table(results: ReviewResults) -> pd.DataFrame:
    rows = []
    for ar in results.analyses:
        if ar.result is None:
            continue
        rows.append(
            {
                "analysis_id": ar.analysis.id,
                "analysis": "all studies",
                "k": ar.result.k,
                **_pooled_columns(ar.result),
                "excluded": "",
            }
        )
        if results.review.config.plan.sensitivity.exclude_high_rob:
            res = ar.without_high_rob
            rows.append(
                {
                    "analysis_id": ar.analysis.id,
                    "analysis": "excluding high risk of bias",
                    "k": res.k if res is not None else ar.k - len(ar.high_rob_excluded),
                    **_pooled_columns(res),
                    "excluded": "; ".join(ar.high_rob_excluded),
                }
            )
    return pd.DataFrame(rows, columns=["analysis_id", "analysis", "k", *_pooled_columns(None), "excluded"])


def leave_one_out_table(results: ReviewResults) -> pd.DataFrame:
    rows = []
    for ar in results.analyses:
        if ar.loo is None:
            continue
        loo = ar.loo
        for i, (sid, label) in enumerate(zip(ar.effects["study_id"], ar.effects["study"], strict=True)):
            rows.append(
                {
                    "analysis_id": ar.analysis.id,
                    "omitted_study_id": sid,
                    "omitted_study": label,
                    "estimate": float(loo.estimate[i]),
                    "se": float(loo.se[i]),
                    "ci_low": float(loo.ci_low[i]),
                    "ci_high": float(loo.ci_high[i]),
                    "pval": float(loo.pval[i]),
                    "pi_low": float(loo.pi_low[i]),
                    "pi_high": float(loo.pi_high[i]),
                    "tau2": float(loo.tau2[i]),
                    "i2": float(loo.i2[i]),
                    "q": float(loo.q[i]),
                    "q_pval": float(loo.q_pval[i]),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "analysis_id",
            "omitted_study_id",
            "omitted_study",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "pval",
            "pi_low",
            "pi_high",
            "tau2",
            "i2",
            "q",
            "q_pval",
        ],
    )


def small_study_table(results: ReviewResults) -> pd.DataFrame:
    rows = []
    for ar in results.analyses:
        if ar.egger is None:
            continue
        eg, tf = ar.egger, ar.trimfill
        rows.append(
            {
                "analysis_id": ar.analysis.id,
                "k": ar.k,
                "egger_statistic": eg.statistic,
                "egger_pval": eg.pval,
                "egger_df": eg.df if eg.df is not None else math.nan,
                "limit_estimate": _nan(eg.limit_estimate),
                "trimfill_k0": tf.k0 if tf else math.nan,
                "trimfill_side": tf.side if tf else "",
                "trimfill_estimate": tf.estimate if tf else math.nan,
                "trimfill_ci_low": tf.ci_low if tf else math.nan,
                "trimfill_ci_high": tf.ci_high if tf else math.nan,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "analysis_id",
            "k",
            "egger_statistic",
            "egger_pval",
            "egger_df",
            "limit_estimate",
            "trimfill_k0",
            "trimfill_side",
            "trimfill_estimate",
            "trimfill_ci_low",
            "trimfill_ci_high",
        ],
    )


COUNT_COLUMNS = (
    "k",
    "participants",
    "q_df",
    "n_i",
    "n_c",
    "events_i",
    "total_i",
    "events_c",
    "total_c",
    "sessions",
    "year",
    "n_randomised",
    "test_df",
    "test_df2",
    "separate_tau2_df",
    "qm_df",
    "q_residual_df",
    "egger_df",
    "trimfill_k0",
)


def _whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts print as 95, not 95.0 (nullable integers), unless a split control made them fractional."""
    for col in COUNT_COLUMNS:
        if col in frame and frame[col].dtype.kind == "f":
            values = frame[col].to_numpy(dtype=float)
            finite = values[~np.isnan(values)]
            if np.all(finite == np.round(finite)):
                frame[col] = frame[col].round().astype("Int64")
    return frame


def tables(results: ReviewResults) -> dict[str, pd.DataFrame]:
    """Every results table, keyed by the name it is written under."""
    level = results.review.config.settings.level
    studies = [study_table(ar, level) for ar in results.analyses if not ar.effects.empty]
    frames = {
        "analyses": analyses_table(results),
        "study_effects": pd.concat(studies, ignore_index=True)
        if studies
        else pd.DataFrame(columns=list(STUDY_COLUMNS)),
        "subgroups": subgroup_table(results),
        "metaregression": metaregression_table(results),
        "sensitivity": sensitivity_table(results),
        "leave_one_out": leave_one_out_table(results),
        "small_study_effects": small_study_table(results),
        "prisma": pd.DataFrame(results.review.prisma.as_rows()),
    }
    from erh_report.dependence import dependence_table  # several effects per study: select/aggregate/multilevel

    frames["dependence"] = dependence_table(results.review)
    return {name: _whole_numbers(frame) for name, frame in frames.items()}
