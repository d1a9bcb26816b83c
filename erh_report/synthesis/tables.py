"""The result objects as the tables written to ``results/`` (full precision, one row per ...).

Each table's columns are declared once, as the fields of its row class; the supplement reads the same row
objects (``subgroup_rows``), so a table and the document that prints it cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields

import numpy as np
import pandas as pd

from erh_report.analysis.model import MetaResult
from erh_report.synthesis.results import ReviewResults
from erh_report.vocabulary import measure

NAN = math.nan
#: The statistics of a pooled model, by their names on ``MetaResult``.
POOLED = (
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


def _nan(x: float | int | None) -> float:
    return NAN if x is None else float(x)


def _pooled(res: MetaResult | None, row: type) -> dict[str, float]:
    """The pooled statistics that the row class ``row`` has, from ``res`` (NaN without a model)."""
    names = [f.name for f in fields(row) if f.name in POOLED]
    return {n: NAN if res is None else float(getattr(res, n)) for n in names}


def frame(rows: Iterable[object], row: type) -> pd.DataFrame:
    """Row objects as a table whose columns are the row class's fields, in their order."""
    return pd.DataFrame([astuple(r) for r in rows], columns=[f.name for f in fields(row)])


@dataclass(frozen=True)
class AnalysisRow:
    """The main table: one row per planned analysis; ``exp_*`` for ratio measures."""

    analysis_id: str
    domain: str
    domain_id: str
    domain_role: str
    outcome: str
    outcome_id: str
    outcome_type: str
    importance: str
    timepoint: str
    window_id: str
    measure: str
    scale: str
    k: int
    participants: int
    estimate: float = NAN
    se: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    pi_low: float = NAN
    pi_high: float = NAN
    statistic: float = NAN
    pval: float = NAN
    tau2: float = NAN
    i2: float = NAN
    h2: float = NAN
    q: float = NAN
    q_df: float = NAN
    q_pval: float = NAN
    tau: float = NAN
    exp_estimate: float = NAN
    exp_ci_low: float = NAN
    exp_ci_high: float = NAN
    exp_pi_low: float = NAN
    exp_pi_high: float = NAN
    method: str = ""
    level: float = 95.0
    test: str = "z"
    note: str = ""


def analysis_rows(results: ReviewResults) -> list[AnalysisRow]:
    settings = results.review.config.settings
    rows = []
    for ar in results.analyses:
        a = ar.analysis
        pooled = _pooled(ar.result, AnalysisRow)
        ratio = measure(a.measure).ratio
        exp = {
            f"exp_{n}": math.exp(pooled[n]) if ratio and not math.isnan(pooled[n]) else NAN
            for n in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
        }
        rows.append(
            AnalysisRow(
                analysis_id=a.id,
                domain=a.domain,
                domain_id=a.domain_id,
                domain_role=a.domain_role,
                outcome=a.outcome,
                outcome_id=a.outcome_id,
                outcome_type=a.outcome_type,
                importance=a.importance,
                timepoint=a.window,
                window_id=a.window_id,
                measure=a.measure,
                scale=measure(a.measure).scale,
                k=ar.k,
                participants=ar.participants,
                **pooled,
                tau=math.sqrt(pooled["tau2"]) if not math.isnan(pooled["tau2"]) else NAN,
                **exp,
                method=ar.method,
                level=settings.level,
                test="t" if settings.hksj else "z",
                note=ar.note,
            )
        )
    return rows


def analyses_table(results: ReviewResults) -> pd.DataFrame:
    table = frame(analysis_rows(results), AnalysisRow)
    if dependent_columns(results):
        table = _with_dependence(table, results)
    return table


def dependent_columns(results: ReviewResults) -> bool:
    """Whether some analysis's main model is not the paper's (aggregate, multilevel or robust tests): the
    tables then show its extra columns, empty for the analyses run as the paper ran them."""
    from erh_report.synthesis.dependent import any_dependent

    return any_dependent(results.review.config, [ar.analysis for ar in results.analyses])


#: The columns of the main table for several effects per study and robust tests (``_with_dependence``).
DEPENDENCE_COLUMNS = (
    "dependence",
    "within_study_correlation",
    "k_effects",
    "k_studies",
    "sigma2_between",
    "sigma2_within",
    "i2_between",
    "i2_within",
    "robust_se",
    "robust_df",
    "robust_ci_low",
    "robust_ci_high",
    "robust_pval",
    "follow_up_analyses",
)


def dependence_values(ar) -> dict[str, object]:
    """The extra columns of one analysis: its model's effects, studies, variance components and robust tests
    (empty where it has none)."""
    from erh_report.analysis.dependent import DependentResult

    res = ar.result
    row: dict[str, object] = dict.fromkeys(DEPENDENCE_COLUMNS, NAN)
    row.update(dependence="select", follow_up_analyses=ar.follow_up_note, k_effects=ar.k, k_studies=ar.k)
    if isinstance(res, DependentResult):
        row.update(dependence=res.choice.dependence, k_effects=res.k_effects, k_studies=res.k_studies)
        if res.choice.dependence == "aggregate":
            row["within_study_correlation"] = res.choice.rho
        if res.sigma2 is not None and res.i2_levels is not None:
            row.update(
                sigma2_between=res.sigma2[0],
                sigma2_within=res.sigma2[1],
                i2_between=res.i2_levels[0],
                i2_within=res.i2_levels[1],
            )
        if res.robust is not None:
            c = res.robust.coefficients[0]
            row.update(
                robust_se=c.se, robust_df=c.df, robust_ci_low=c.ci_low, robust_ci_high=c.ci_high, robust_pval=c.pval
            )
    return row


def _with_dependence(table: pd.DataFrame, results: ReviewResults) -> pd.DataFrame:
    from erh_report.analysis.dependent import DependentResult

    extra = pd.DataFrame([dependence_values(ar) for ar in results.analyses], columns=list(DEPENDENCE_COLUMNS))
    table["test"] = [
        ar.result.test if isinstance(ar.result, DependentResult) else t
        for ar, t in zip(results.analyses, table["test"], strict=True)
    ]
    at = table.columns.get_loc("participants") + 1
    return pd.concat([table.iloc[:, :at], extra, table.iloc[:, at:]], axis=1)


#: The columns of the study rows written to results/ (``synthesis.effects`` makes them).
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


def study_table(results: ReviewResults) -> pd.DataFrame:
    """The study rows of every analysis, each with its own confidence interval."""
    columns = list(STUDY_COLUMNS)
    if any("subgroup" in ar.effects and ar.effects["subgroup"].astype(bool).any() for ar in results.analyses):
        columns.insert(columns.index("comparison") + 1, "subgroup")  # an imported review's RevMan subgroups
    if dependent_columns(results):
        columns.insert(columns.index("weight") + 1, "effects_in_study")
    shown = [ar.effects if ar.model_effects is None else ar.model_effects for ar in results.analyses]
    parts = [fx.reindex(columns=columns) for fx in shown if not fx.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


@dataclass(frozen=True)
class SubgroupRow:
    """One subgroup of one variable of one analysis, with the analysis's tests for subgroup differences
    (moderator test with a common τ², and RevMan's test with a separate τ² per subgroup)."""

    analysis_id: str
    variable: str
    level: str
    k: int
    participants: float
    estimate: float = NAN
    se: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    pval: float = NAN
    tau2: float = NAN
    i2: float = NAN
    q: float = NAN
    q_df: float = NAN
    note: str = ""
    test_statistic: float = NAN
    test_df: float = NAN
    test_df2: float = NAN
    test_pval: float = NAN
    separate_tau2_chi2: float = NAN
    separate_tau2_df: float = NAN
    separate_tau2_pval: float = NAN
    separate_tau2_i2: float = NAN


def subgroup_rows(results: ReviewResults) -> list[SubgroupRow]:
    rows = []
    for ar in results.analyses:
        for var, sg in ar.subgroups.items():
            mod, sep = sg.moderator_test, sg.separate_tau2_test
            for level in sg.levels:
                mask = ar.effects[var].astype(str) == level
                rows.append(
                    SubgroupRow(
                        analysis_id=ar.analysis.id,
                        variable=var,
                        level=level,
                        k=int(mask.sum()),
                        participants=float(ar.effects.loc[mask, "participants"].sum()),
                        **_pooled(sg.results.get(level), SubgroupRow),
                        note=sg.errors.get(level, ""),
                        test_statistic=mod.statistic if mod else NAN,
                        test_df=mod.df[0] if mod else NAN,
                        test_df2=mod.df[1] if mod and len(mod.df) > 1 else NAN,
                        test_pval=mod.pval if mod else NAN,
                        separate_tau2_chi2=sep.statistic if sep else NAN,
                        separate_tau2_df=sep.df[0] if sep else NAN,
                        separate_tau2_pval=sep.pval if sep else NAN,
                        separate_tau2_i2=sep.i2 if sep else NAN,
                    )
                )
    return rows


@dataclass(frozen=True)
class MetaregressionRow:
    """Random-effects meta-regression of one analysis on one moderator."""

    analysis_id: str
    moderator: str
    k: int
    moderator_min: float
    moderator_max: float
    intercept: float
    intercept_se: float
    slope: float
    slope_se: float
    slope_ci_low: float
    slope_ci_high: float
    slope_statistic: float
    slope_pval: float
    qm: float
    qm_df: int
    qm_pval: float
    tau2: float
    i2: float
    r2: float
    q_residual: float
    q_residual_df: int
    q_residual_pval: float


def metaregression_rows(results: ReviewResults) -> list[MetaregressionRow]:
    rows = []
    for ar in results.analyses:
        for mod, (reg, keep) in ar.metaregression.items():
            icpt, slope = reg.coefficients[0], reg.coefficients[1]
            x = ar.effects[mod].to_numpy(dtype=float)[keep]
            rows.append(
                MetaregressionRow(
                    ar.analysis.id,
                    mod,
                    reg.k,
                    float(x.min()),
                    float(x.max()),
                    icpt.estimate,
                    icpt.se,
                    slope.estimate,
                    slope.se,
                    slope.ci_low,
                    slope.ci_high,
                    slope.statistic,
                    slope.pval,
                    reg.qm,
                    reg.qm_df[0],
                    reg.qm_pval,
                    reg.tau2,
                    reg.i2,
                    reg.r2 if reg.r2 is not None else NAN,
                    reg.q,
                    reg.q_df,
                    reg.q_pval,
                )
            )
    return rows


@dataclass(frozen=True)
class SensitivityRow:
    """An analysis with all studies, and without those at high risk of bias (which are listed)."""

    analysis_id: str
    analysis: str
    k: int
    estimate: float = NAN
    se: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    pi_low: float = NAN
    pi_high: float = NAN
    statistic: float = NAN
    pval: float = NAN
    tau2: float = NAN
    i2: float = NAN
    h2: float = NAN
    q: float = NAN
    q_df: float = NAN
    q_pval: float = NAN
    excluded: str = ""


def sensitivity_rows(results: ReviewResults) -> list[SensitivityRow]:
    rows = []
    for ar in results.analyses:
        if ar.result is None:
            continue
        rows.append(SensitivityRow(ar.analysis.id, "all studies", ar.result.k, **_pooled(ar.result, SensitivityRow)))
        if results.review.config.plan.sensitivity.exclude_high_rob:
            res = ar.without_high_rob
            rows.append(
                SensitivityRow(
                    ar.analysis.id,
                    "excluding high risk of bias",
                    res.k if res is not None else ar.k - len(ar.high_rob_excluded),
                    **_pooled(res, SensitivityRow),
                    excluded="; ".join(ar.high_rob_excluded),
                )
            )
    return rows


@dataclass(frozen=True)
class LeaveOneOutRow:
    """An analysis without one of its studies."""

    analysis_id: str
    omitted_study_id: str
    omitted_study: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pval: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    q: float
    q_pval: float


def leave_one_out_rows(results: ReviewResults) -> list[LeaveOneOutRow]:
    rows = []
    stats = [f.name for f in fields(LeaveOneOutRow)][3:]
    for ar in results.analyses:
        if ar.loo is None:
            continue
        for i, (sid, label) in enumerate(zip(ar.effects["study_id"], ar.effects["study"], strict=True)):
            rows.append(
                LeaveOneOutRow(ar.analysis.id, sid, label, *(float(getattr(ar.loo, name)[i]) for name in stats))
            )
    return rows


@dataclass(frozen=True)
class SmallStudyRow:
    """Egger's regression test and trim-and-fill of one analysis."""

    analysis_id: str
    k: int
    egger_statistic: float
    egger_pval: float
    egger_df: float
    limit_estimate: float
    trimfill_k0: float
    trimfill_side: str
    trimfill_estimate: float
    trimfill_ci_low: float
    trimfill_ci_high: float


def small_study_rows(results: ReviewResults) -> list[SmallStudyRow]:
    rows = []
    for ar in results.analyses:
        if ar.egger is None:
            continue
        eg, tf = ar.egger, ar.trimfill
        rows.append(
            SmallStudyRow(
                ar.analysis.id,
                ar.k,
                eg.statistic,
                eg.pval,
                eg.df if eg.df is not None else NAN,
                _nan(eg.limit_estimate),
                tf.k0 if tf else NAN,
                tf.side if tf else "",
                tf.estimate if tf else NAN,
                tf.ci_low if tf else NAN,
                tf.ci_high if tf else NAN,
            )
        )
    return rows


#: Columns that count something: written as whole numbers when every value is one.
COUNT_COLUMNS = (
    "k",
    "k_effects",
    "k_studies",
    "effects_in_study",
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


def _whole_numbers(table: pd.DataFrame) -> pd.DataFrame:
    """Counts print as 95, not 95.0 (nullable integers), unless a split control made them fractional."""
    for col in COUNT_COLUMNS:
        if col in table and table[col].dtype.kind == "f":
            values = table[col].to_numpy(dtype=float)
            finite = values[~np.isnan(values)]
            if np.all(finite == np.round(finite)):
                table[col] = table[col].round().astype("Int64")
    return table


def tables(results: ReviewResults) -> dict[str, pd.DataFrame]:
    """Every results table, keyed by the name it is written under."""
    frames = {
        "analyses": analyses_table(results),
        "study_effects": study_table(results),
        "subgroups": frame(subgroup_rows(results), SubgroupRow),
        "metaregression": frame(metaregression_rows(results), MetaregressionRow),
        "sensitivity": frame(sensitivity_rows(results), SensitivityRow),
        "leave_one_out": frame(leave_one_out_rows(results), LeaveOneOutRow),
        "small_study_effects": frame(small_study_rows(results), SmallStudyRow),
        "prisma": pd.DataFrame(
            results.review.prisma.as_rows() if results.review.prisma else [],
            columns=None if results.review.prisma else ["box", "label", "n"],
        ),
    }
    from erh_report.dependence import dependence_table  # several effects per study: select/aggregate/multilevel

    frames["dependence"] = dependence_table(results.review)
    return {name: _whole_numbers(table) for name, table in frames.items()}
