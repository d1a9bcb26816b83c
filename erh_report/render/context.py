"""What the templates see: the results, the GRADE report and the figures as plain values, plus the words
that depend on numbers (decided in ``words``), so that a template only lays out and formats.

Numbers stay numbers here (templates format them with the number-style filters); ratio measures are given
on their natural scale (odds ratios, not log odds ratios).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from erh_report import rob_tools
from erh_report.data import Review
from erh_report.figures import Figure
from erh_report.grade import GradeReport
from erh_report.grade.wording import size as size_index
from erh_report.numbers import STYLES, NumberStyle, get_style
from erh_report.render import study_summary, words
from erh_report.render.dependence_words import methods_sentence, result_phrases, supplement_phrases
from erh_report.render.references import Citations
from erh_report.software import versions
from erh_report.synthesis import AnalysisResult, ReviewResults
from erh_report.synthesis.tables import subgroup_rows
from erh_report.vocabulary import EFFECT_SIZES, HKSJ_NAME, measure, method, variable_name, variable_unit


def _shown(code: str, x: float) -> float:
    return measure(code).shown_float(x)


@dataclass(frozen=True)
class PooledView:
    """One pooled analysis as a manuscript reports it."""

    id: str
    domain_id: str
    domain: str
    outcome_id: str
    outcome: str
    timepoint: str
    window_id: str
    measure: str
    k: int
    participants: int
    pooled: bool
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    pi_low: float = math.nan
    pi_high: float = math.nan
    pval: float = math.nan
    tau2: float = math.nan
    i2: float = math.nan
    q: float = math.nan
    q_df: int = 0
    q_pval: float = math.nan
    significant: bool = False
    significance: str = ""
    favours: str = ""
    heterogeneity: str = ""
    size: str = ""
    certainty: str = ""
    certainty_symbols: str = ""
    statement: str = ""
    note: str = ""
    figure: str | None = None  # id of its forest plot
    primary: bool = False  # in the primary domain and the plan's primary window: a key result
    # several effects per study (render.dependence_words): "39 effects; ", the variance components, robust df
    effects_phrase: str = ""
    sigma2_phrase: str = ""
    test_phrase: str = ""

    @property
    def null(self) -> float:
        return measure(self.measure).null


def pooled_view(
    ar: AnalysisResult, grade: GradeReport, review: Review, forest: dict[str, str], style: NumberStyle = STYLES["JAMA"]
) -> PooledView:
    a = ar.analysis
    plan = review.config.plan
    base = dict(
        id=a.id,
        domain_id=a.domain_id,
        domain=a.domain,
        outcome_id=a.outcome_id,
        outcome=a.outcome,
        timepoint=a.window,
        window_id=a.window_id,
        measure=a.measure,
        k=ar.k,
        participants=ar.participants,
        figure=forest.get(a.id),
        primary=a.domain_id == primary_domain(review).id and a.window_id == plan.primary_window_id,
    )
    assessment = grade.get(a.id)
    certainty = dict(
        certainty=assessment.word or "",
        certainty_symbols=assessment.symbols or "",
        statement=assessment.statement or "",
    )
    res = ar.result
    if res is None:
        return PooledView(pooled=False, note=ar.note, **base, **certainty)
    m = a.measure
    est, lo, hi = (_shown(m, x) for x in (res.estimate, res.ci_low, res.ci_high))
    null = measure(m).null
    thresholds = review.outcome(a.outcome_id).thresholds if m == "SMD" else None
    size = EFFECT_SIZES[size_index(res.estimate, thresholds)] if thresholds else ""
    return PooledView(
        pooled=True,
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        pi_low=_shown(m, res.pi_low),
        pi_high=_shown(m, res.pi_high),
        pval=res.pval,
        tau2=res.tau2,
        i2=res.i2,
        q=res.q,
        q_df=res.q_df,
        q_pval=res.q_pval,
        significant=words.excludes_null(lo, hi, null),
        significance=words.significance(lo, hi, null),
        favours=style.spell(words.favours(res.estimate)),
        heterogeneity=words.heterogeneity(res.i2),
        size=size,
        note=ar.note,
        **base,
        **certainty,
        **result_phrases(ar, style),
    )


def primary_domain(review: Review):
    """The first domain whose role is primary (the first domain when none is marked)."""
    domains = review.config.domains
    return next((d for d in domains if d.role == "primary"), domains[0])


@dataclass(frozen=True)
class DoseView:
    analysis_id: str
    outcome: str
    timepoint: str
    moderator: str
    k: int
    slope: float
    ci_low: float
    ci_high: float
    pval: float
    r2: float
    significant: bool
    significance: str
    figure: str | None


@dataclass
class Numbering:
    """Figure and table numbers within one document, in order of first mention; labels like 'eFigure 3'."""

    figure_prefix: str = "Figure"
    table_prefix: str = "Table"
    figures: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)

    def figure(self, key: str) -> str:
        self.figures.setdefault(key, len(self.figures) + 1)
        return f"{self.figure_prefix} {self.figures[key]}"

    def table(self, key: str) -> str:
        self.tables.setdefault(key, len(self.tables) + 1)
        return f"{self.table_prefix} {self.tables[key]}"


def study_characteristics(review: Review) -> list[dict[str, Any]]:
    rows = []
    for _, s in review.studies:
        rows.append(
            {
                "id": s.study_id,
                "label": s.label,
                "country": s.country,
                "design": s.design,
                "population_risk": s.population_risk,
                "intervention": s.intervention_name,
                "type": s.intervention_type,
                "comparator": s.comparator,
                "dose_hours": s.dose_hours,
                "sessions": s.sessions,
                "infant_age_weeks": s.infant_age_weeks,
                "n": s.n_randomised,
            }
        )
    return rows


def characteristics_summary(review: Review) -> dict[str, Any]:
    studies = [s for _, s in review.studies]
    years = [s.year for s in studies if s.year is not None] or [math.nan]
    doses = [s.dose_hours for s in studies if s.dose_hours is not None]
    countries = Counter(s.country for s in studies)
    risk = Counter(s.population_risk for s in studies)
    types = Counter(s.intervention_type for s in studies)
    return {
        "k": len(studies),
        "dyads": sum(s.n_randomised or 0 for s in studies),
        "year_min": min(years),
        "year_max": max(years),
        "countries": len(countries),
        "top_countries": countries.most_common(3),
        "dose_median": statistics.median(doses) if doses else math.nan,
        "dose_min": min(doses, default=math.nan),
        "dose_max": max(doses, default=math.nan),
        "risk": risk.most_common(),
        "types": types.most_common(),
        "rcts": sum(1 for s in studies if (s.design or "").upper() == "RCT"),
        "dose_reported": bool(doses),
    }


def risk_of_bias_rows(review: Review) -> list[dict[str, Any]]:
    """One row per judgement, with the columns of the review's tool (d1..dN, overall)."""
    labels = {s.study_id: s.label for _, s in review.studies}
    names = {o.id: o.name for d in review.config.domains for o in d.outcomes}
    domains = rob_tools.tool(review.config.settings.rob_tool).domain_ids
    out = []
    for _, r in review.risk_of_bias:
        out.append(
            {
                "study": labels.get(r.study_id, r.study_id),
                "outcome": names.get(r.outcome, r.outcome),
                **{d: getattr(r, d) for d in domains},
                "overall": r.overall,
            }
        )
    return out


def rob_tool_view(review: Review) -> dict[str, Any]:
    """The review's risk-of-bias tool for the supplement's table: its name and (column, header, name) per domain."""
    tool = rob_tools.tool(review.config.settings.rob_tool)
    return {
        "id": tool.id,
        "name": tool.name,
        "domains": [{"id": d.id, "short": d.id.upper(), "name": d.name} for d in tool.domains],
    }


def build_context(
    results: ReviewResults,
    grade: GradeReport,
    figures: list[Figure],
    *,
    citations: Citations | None = None,
    style: NumberStyle = STYLES["JAMA"],
) -> dict[str, Any]:
    """Everything the three documents need, as plain values and small frozen records."""
    review = results.review
    cfg = review.config
    figure_by_id = {f.id: f for f in figures}
    forest = {f.analysis_id: f.id for f in figures if f.kind == "forest" and f.analysis_id and not f.continues}
    analyses = [pooled_view(ar, grade, review, forest, style) for ar in results.analyses]
    by_domain: dict[str, list[PooledView]] = {}
    for v in analyses:
        by_domain.setdefault(v.domain_id, []).append(v)
    domains = [{"id": d.id, "name": d.name, "role": d.role, "analyses": by_domain.get(d.id, [])} for d in cfg.domains]
    dose = []
    for ar in results.analyses:
        for moderator, (reg, _x) in ar.metaregression.items():
            slope = reg.coefficients[1]
            fig = next(
                (f.id for f in figures if f.kind == "dose" and f.analysis_id == ar.analysis.id and moderator in f.id),
                None,
            )
            dose.append(
                DoseView(
                    ar.analysis.id,
                    ar.analysis.outcome,
                    ar.analysis.window,
                    moderator,
                    reg.k,
                    slope.estimate,
                    slope.ci_low,
                    slope.ci_high,
                    slope.pval,
                    reg.r2 or 0.0,
                    words.excludes_null(slope.ci_low, slope.ci_high),
                    words.significance(slope.ci_low, slope.ci_high),
                    fig,
                )
            )
    primary = [v for v in analyses if v.pooled and v.primary]
    dose_plan = cfg.plan.dose
    prisma = review.prisma
    citations = citations or Citations.of_review(review)
    return {
        "review": cfg,
        "illustrative": review.illustrative,
        "question": cfg.question,
        "search": cfg.search,
        "settings": cfg.settings,
        "plan": cfg.plan,
        "analyses": analyses,
        "domains": domains,
        "primary": primary,
        "dose": dose,
        "dose_main": [d for d in dose if d.moderator == dose_plan.moderator],
        "dose_name": dose_plan.name or variable_name(dose_plan.moderator).lower(),
        "dose_unit": dose_plan.unit or variable_unit(dose_plan.moderator),
        "primary_domain": primary_domain(review),
        "grade": grade,
        "sof_tables": grade.sof_tables(),
        "evidence_profiles": grade.evidence_profiles(),
        "figures": figure_by_id,
        "prisma": prisma,
        "studies": study_characteristics(review),
        "characteristics": characteristics_summary(review),
        "list_every_study": study_summary.list_every_study(review),
        "study_summary": study_summary.summary_rows(review),
        "supplement_characteristics": study_summary.SUPPLEMENT_CHARACTERISTICS,
        "rob_rows": risk_of_bias_rows(review),
        "rob_tool": rob_tool_view(review),
        "excluded": [r for _, r in review.excluded],
        "results": results,
        "measure_name": measure(cfg.settings.effect_measure).prose(style.spelling),
        "measure_names": measure(cfg.settings.effect_measure).prose(style.spelling, plural=True),
        "dichotomous_names": measure(cfg.settings.dichotomous_measure).prose(style.spelling, plural=True),
        "dichotomous_name": measure(cfg.settings.dichotomous_measure).prose(style.spelling),
        "method_name": method(cfg.settings.method).name,
        "hksj_name": HKSJ_NAME,
        "versions": versions(),
        "cite": citations.cite,
        "citations": citations,
        "significant_outcomes": [v for v in analyses if v.pooled and v.significant],
        "words": words,
    }


INSTRUMENT_RULES = {
    "catalogue_order": "the first instrument in the order of the outcome catalogue",
}


def manuscript_extras(ctx: dict[str, Any], style) -> dict[str, Any]:
    """Phrases of the manuscript that summarise several results; decided here, not in the templates."""
    cfg = ctx["review"]
    pooled = [v for v in ctx["analyses"] if v.pooled]
    levels = [v for v in pooled if v.certainty]
    order = ["Very low", "Low", "Moderate", "High"]
    ranked = sorted({v.certainty for v in levels}, key=lambda w: order.index(w) if w in order else -1)
    key = [v for v in pooled if v.window_id == cfg.plan.primary_window_id]
    findings = [
        ("improved " if v.estimate > v.null else "worse ") + v.outcome[0].lower() + v.outcome[1:]
        for v in key
        if v.significant
    ]
    sources = cfg.search.sources if cfg.search else []
    dose = ctx["dose_main"]
    significant_dose = [d for d in dose if d.significant]
    if not dose:
        dose_sentence = "No analysis had enough studies to assess the association of dose with effect size."
    elif significant_dose:
        which = words.join_and([f"{d.outcome.lower()} ({d.timepoint.lower()})" for d in significant_dose])
        others = style.integer(len(dose) - len(significant_dose))
        dose_sentence = (
            f"Dose ({ctx['dose_name']}) was associated with effect size for {which} "
            f"and not for the other {others} analyses assessed."
        )
    else:
        dose_sentence = (
            f"Dose ({ctx['dose_name']}) was not significantly associated with effect size in any of "
            f"the {style.integer(len(dose))} analyses with enough studies."
        )
    follow = [v for v in pooled if v.window_id != cfg.plan.primary_window_id]
    follow_sig = [v for v in follow if v.significant]
    followup_phrase = (
        (
            f"statistically significant in {style.integer(len(follow_sig))} of {style.integer(len(follow))} "
            f"{words.count_word(len(follow), 'analysis', 'analyses')}"
        )
        if follow
        else "not assessed"
    )
    risk = dict(ctx["characteristics"]["risk"])
    high = risk.get("high", 0)
    secondary = [d for d in cfg.domains if d.role != "primary"]
    rule = cfg.plan.instrument_rule
    instrument_rule_text = (
        INSTRUMENT_RULES.get(rule, rule.replace("_", " "))
        + ", at the "
        + words.join_and(sorted({w.pick for w in cfg.plan.windows}))
        + " time point in the window"
    )
    return {
        "key_findings": findings,
        "certainty_range": (ranked[0], ranked[-1]) if ranked else ("not rated", "not rated"),
        "databases": [s.name for s in sources if s.kind == "database"],
        "registers": [s.name for s in sources if s.kind == "register"],
        "other_sources": [s.name for s in sources if s.kind not in ("database", "register")],
        "primary_outcome_names": [o.name for o in ctx["primary_domain"].outcomes],
        "primary_short": ctx["primary_domain"].abbreviation or ctx["primary_domain"].name.lower(),
        "domain_phrases": [d.name.lower() + (f" ({d.abbreviation})" if d.abbreviation else "") for d in cfg.domains],
        "secondary_domain_names": [d.name for d in secondary],
        "dose_sentence": dose_sentence,
        "dose_assessed": bool(dose),
        "dose_any_significant": bool(significant_dose),
        # "1 of 24 analyses" when dose mattered in some analyses only, so that a sentence never generalises
        "dose_share": (
            f"{style.integer(len(significant_dose))} of {style.integer(len(dose))} "
            f"{words.count_word(len(dose), 'analysis', 'analyses')}"
            if significant_dose and len(significant_dose) < len(dose)
            else ""
        ),
        "domain_significant": {d.id: any(v.significant for v in pooled if v.domain_id == d.id) for d in cfg.domains},
        "instrument_rule_text": instrument_rule_text,
        "subgroup_names": [variable_name(s).lower() for s in cfg.plan.subgroups],
        "moderator_names": [variable_name(s).lower() for s in cfg.plan.moderators],
        "risk_phrase": (
            f"{style.integer(high)} of {style.integer(ctx['characteristics']['k'])} studies enrolled "
            f"families at high risk"
        ),
        "followup_phrase": followup_phrase,
        "followup_assessed": bool(follow),
        "dependence_methods": methods_sentence(ctx["results"], style, instrument_rule_text),
    }


def _title(ar: AnalysisResult) -> str:
    return f"{ar.analysis.outcome} ({ar.analysis.window.lower()})"


def supplement_extras(results: ReviewResults) -> dict[str, Any]:
    """Rows of the supplement's subgroup, sensitivity and small-study tables, on the reported scale."""
    titles = {ar.analysis.id: (_title(ar), ar.analysis.measure) for ar in results.analyses}
    subgroups = []
    previous = None
    for r in subgroup_rows(results):
        title, m = titles[r.analysis_id]
        first = (r.analysis_id, r.variable) != previous
        previous = (r.analysis_id, r.variable)
        subgroups.append(
            {
                "analysis": title,
                "variable": variable_name(r.variable).lower(),
                "level": r.level,
                "k": r.k,
                "participants": r.participants,
                "pooled": not r.note,
                "note": r.note,
                "estimate": _shown(m, r.estimate),
                "ci_low": _shown(m, r.ci_low),
                "ci_high": _shown(m, r.ci_high),
                "i2": r.i2,
                "first": first,
                "has_test": not math.isnan(r.separate_tau2_chi2),
                "chi2": r.separate_tau2_chi2,
                "df": 0 if math.isnan(r.separate_tau2_df) else r.separate_tau2_df,
                "p_separate": r.separate_tau2_pval,
                "p_moderator": r.test_pval,
            }
        )
    sensitivity_rows, small_rows = [], []
    for ar in results.analyses:
        m = ar.analysis.measure
        if ar.result is None:
            continue
        res = ar.result
        low = ar.without_high_rob
        loo = ar.loo
        sensitivity_rows.append(
            {
                "analysis": _title(ar),
                "k": ar.k,
                "all": _shown(m, res.estimate),
                "all_low": _shown(m, res.ci_low),
                "all_high": _shown(m, res.ci_high),
                "has_low": low is not None,
                "low": _shown(m, low.estimate) if low else math.nan,
                "low_low": _shown(m, low.ci_low) if low else math.nan,
                "low_high": _shown(m, low.ci_high) if low else math.nan,
                "low_k": low.k if low else 0,
                "low_note": "no study at high risk of bias" if not ar.high_rob_excluded else "too few studies left",
                "has_loo": loo is not None,
                "loo_min": _shown(m, float(loo.estimate.min())) if loo else math.nan,
                "loo_max": _shown(m, float(loo.estimate.max())) if loo else math.nan,
            }
        )
        if ar.egger is not None and ar.trimfill is not None:
            tf = ar.trimfill
            small_rows.append(
                {
                    "analysis": _title(ar),
                    "k": ar.k,
                    "z": ar.egger.statistic,
                    "p": ar.egger.pval,
                    "k0": tf.k0,
                    "side": tf.side,
                    "est": _shown(m, tf.estimate),
                    "low": _shown(m, tf.ci_low),
                    "high": _shown(m, tf.ci_high),
                }
            )
    from erh_report.dependence import supplement_rows  # several effects per study

    return {
        "subgroup_rows": subgroups,
        "sensitivity_rows": sensitivity_rows,
        "small_study_rows": small_rows,
        "moderator_label": lambda name: variable_name(name).lower(),
        "dependence_rows": supplement_rows(results.review, _shown),
        **supplement_phrases(results, get_style(results.review.config.settings.number_style)),
    }
