"""The GRADE layer's entry point: ``assess_review(results) -> GradeReport``.

Reads only results (and the review they carry); the documents layer renders the report's tables.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from erh_report.grade import tables as tables_mod
from erh_report.grade.assess import Assessment, assess_analysis, read_overrides
from erh_report.grade.rules import GradeSettings
from erh_report.jsonable import plain
from erh_report.numbers import STYLES, NumberStyle
from erh_report.synthesis import ReviewResults

#: review.yaml's number_style names; "RevMan5" is the Cochrane preset of numbers.py.
_STYLE_NAMES = {"RevMan5": "Cochrane"}


def style_of(results: ReviewResults) -> NumberStyle:
    name = results.review.config.settings.number_style
    return STYLES.get(_STYLE_NAMES.get(name, name), STYLES["JAMA"])


@dataclass
class GradeReport:
    """Every analysis's GRADE assessment, and the tables made from them."""

    assessments: list[Assessment]
    question: dict[str, str]
    style: NumberStyle
    settings: GradeSettings
    illustrative: bool = False

    def get(self, analysis_id: str) -> Assessment:
        return next(a for a in self.assessments if a.analysis_id == analysis_id)

    def sof_tables(self) -> list[dict[str, Any]]:
        """Summary-of-findings tables, one per outcome domain: header, rows, lettered footnotes."""
        return tables_mod.sof_tables(self.assessments, self.question, self.style)

    def evidence_profiles(self) -> list[dict[str, Any]]:
        """GRADE evidence profiles, one per outcome domain, sharing the footnotes of the SoF table."""
        return tables_mod.evidence_profiles(self.assessments, self.question, self.style)

    def as_dict(self) -> dict[str, Any]:
        return {
            "illustrative": self.illustrative,
            "settings": asdict(self.settings),
            "assessments": [a.as_dict() for a in self.assessments],
            "summary_of_findings": self.sof_tables(),
            "evidence_profiles": self.evidence_profiles(),
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, NaN as null), the same bytes for the same results."""
        return json.dumps(plain(self.as_dict()), sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Flat tables for CSV/XLSX, keyed by the name they are written under."""
        return tables_mod.frames(self.assessments, self.question, self.style)


def assess_review(
    results: ReviewResults, style: NumberStyle | None = None, settings: GradeSettings | None = None
) -> GradeReport:
    """GRADE every analysis of the review: suggested judgements, the grade table's overrides, footnotes.

    Raises InputError (file and row) for an override of an unknown analysis or domain, a judgement that is
    not a GRADE level, or an override without a reason."""
    review = results.review
    style = style or style_of(results)
    settings = settings or GradeSettings(rob_tool=review.config.settings.rob_tool)
    ids = [ar.analysis.id for ar in results.analyses]
    overrides = read_overrides(review.grade, ids, review.sources.get("grade", "grade.csv"))
    plan = review.config.plan
    level = review.config.settings.level
    assessments = [
        assess_analysis(
            ar,
            review.outcome(ar.analysis.outcome_id),
            overrides=overrides.get(ar.analysis.id),
            min_studies_egger=plan.min_studies_egger,
            level=level,
            style=style,
            settings=settings,
        )
        for ar in results.analyses
    ]
    q = review.config.question
    question = (
        {"population": q.population, "intervention": q.intervention, "comparator": q.comparator}
        if q
        else dict.fromkeys(("population", "intervention", "comparator"), "not provided")
    )
    return GradeReport(assessments, question, style, settings, review.illustrative)
