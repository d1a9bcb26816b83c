"""What the documents of an imported review (``erh-report import``) say: per comparison and analysis, with
each analysis's own method, as RevMan lays a review out. Numbers stay numbers (templates format them);
ratios are given on their natural scale. The Methods are written from the analyses' settings, and what the
source does not hold is named, not invented."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from erh_report.data import Review
from erh_report.figures import Figure
from erh_report.grade import GradeReport
from erh_report.numbers import NumberStyle
from erh_report.render import words
from erh_report.render.context import PooledView, pooled_view
from erh_report.synthesis import AnalysisResult, ReviewResults
from erh_report.vocabulary import POOLINGS, measure

NOT_PROVIDED_WORDS = {
    "prisma": "PRISMA flow counts",
    "risk_of_bias": "risk-of-bias judgements",
    "grade": "GRADE certainty assessments",
}
DATA_WORDS = {"dichotomous": "dichotomous", "continuous": "continuous"}


@dataclass(frozen=True)
class SubtotalView:
    level: str
    k: int
    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    i2: float
    pooled: bool


@dataclass(frozen=True)
class ImportedView:
    """One analysis of an imported review as its documents report it: the pooled view every document
    uses (``pooled``, ``estimate``, ``ci_low`` ... are read from it) with RevMan's method and subtotals."""

    view: PooledView
    measure_name: str  # "Odds Ratio"
    method: str  # "M-H, Random"
    random: bool
    subtotals: tuple[SubtotalView, ...] = ()
    test: Any = None  # RevMan's test for subgroup differences (SubgroupTest) or None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


@dataclass(frozen=True)
class ComparisonView:
    id: str
    name: str
    analyses: list[ImportedView] = field(default_factory=list)


def _subtotals(ar: AnalysisResult) -> tuple[tuple[SubtotalView, ...], Any]:
    sg = ar.subgroups.get("subgroup")
    if sg is None:
        return (), None
    m = measure(ar.analysis.measure)
    groups = ar.effects["subgroup"].astype(str)
    out = []
    for level in sg.levels:
        r = sg.results.get(level)
        k = int((groups == level).sum())
        if r is None:
            out.append(SubtotalView(level, k, m.code, math.nan, math.nan, math.nan, math.nan, False))
        else:
            out.append(
                SubtotalView(
                    level,
                    k,
                    m.code,
                    m.shown_float(r.estimate),
                    m.shown_float(r.ci_low),
                    m.shown_float(r.ci_high),
                    r.i2,
                    True,
                )
            )
    return tuple(out), sg.separate_tau2_test


def _view(
    ar: AnalysisResult, grade: GradeReport, forest: dict[str, str], style: NumberStyle, review: Review
) -> ImportedView:
    a, s = ar.analysis, ar.analysis.settings
    random = bool(s and s.model == "random")
    method = f"{POOLINGS[s.pooling][0]}, {'Random' if random else 'Fixed'}" if s and s.pooling else ar.method
    subtotals, test = _subtotals(ar)
    return ImportedView(
        pooled_view(ar, grade, review, forest, style), measure(a.measure).header, method, random, subtotals, test
    )


def methods_sentences(results: ReviewResults) -> list[str]:
    """The Methods' statistical paragraph, from the settings the analyses actually use."""
    used: dict[tuple[str, str, str], list[str]] = {}
    for ar in results.analyses:
        a, s = ar.analysis, ar.analysis.settings
        if s is None or s.pooling is None:
            continue
        used.setdefault((a.measure, s.pooling, s.model or "fixed"), []).append(a.id)
    out = []
    for (code, pooling, model), ids in used.items():
        name = measure(code).name + "s"
        how = POOLINGS[pooling][1]
        model_words = (
            "a random-effects model, with the between-study variance τ² estimated by the "
            "DerSimonian-Laird method and the pooled estimate weighted by inverse variance"
            if model == "random"
            else "a fixed-effect model"
        )
        which = f"analysis {ids[0]}" if len(ids) == 1 else f"analyses {words.join_and(ids)}"
        ratio = " (pooled on the log scale)" if measure(code).ratio else ""
        out.append(f"{name[:1].upper()}{name[1:]}{ratio} were pooled by the {how} method with {model_words} ({which}).")
    dichotomous = [
        ar
        for ar in results.analyses
        if ar.analysis.outcome_type == "dichotomous"
        and ar.analysis.settings is not None
        and ar.analysis.settings.pooling != "PETO"
    ]
    if dichotomous:
        out.append(
            "A study with no events or no non-events in one group had 0.5 added to each cell of its 2×2 "
            "table; a study with no events (or only events) in both groups was not estimable for a ratio "
            "measure."
        )
    if any(measure(ar.analysis.measure).code == "SMD" for ar in results.analyses):
        out.append("Standardised mean differences are Hedges' adjusted g as RevMan 5 computes it.")
    out.append(
        "Heterogeneity was assessed with the χ² test (Q) and I² = (Q − df)/Q. Where an analysis was "
        "divided into subgroups, the test for subgroup differences compared the subgroup estimates "
        "(χ² with one degree of freedom fewer than the number of subgroups, and its I²)."
    )
    return out


def imported_context(
    results: ReviewResults, grade: GradeReport, figures: list[Figure], style: NumberStyle
) -> dict[str, Any]:
    review = results.review
    cfg = review.config
    assert cfg.source is not None
    forest: dict[str, str] = {}
    for f in figures:  # the subgroup layout, when there is one, is the analysis's forest plot
        if f.continues or not f.analysis_id:  # a later page of a figure printed over several pages
            continue
        if f.kind == "forest_subgroup" or (f.kind == "forest" and f.analysis_id not in forest):
            forest[f.analysis_id] = f.id
    comparisons: dict[str, ComparisonView] = {}
    for ar in results.analyses:
        a = ar.analysis
        view = _view(ar, grade, forest, style, review)
        comparisons.setdefault(a.domain_id, ComparisonView(a.domain_id, a.domain)).analyses.append(view)
    views = [v for c in comparisons.values() for v in c.analyses]
    return {
        "source": cfg.source,
        "comparisons": list(comparisons.values()),
        "imported_analyses": views,
        "imported_pooled": [v for v in views if v.pooled],
        "methods_sentences": methods_sentences(results),
        "not_provided": [NOT_PROVIDED_WORDS.get(x, x) for x in cfg.source.not_provided],
        "study_rows": [{"label": s.label, "year": s.year} for _, s in review.studies],
    }
