"""The result objects of the synthesis: what figures, GRADE and documents read (they never compute)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from erh_report.analysis.bias import EggerTest, TrimAndFill
from erh_report.analysis.model import MetaResult
from erh_report.analysis.sensitivity import LeaveOneOut
from erh_report.analysis.subgroup import SubgroupAnalysis
from erh_report.data.plan import Analysis
from erh_report.data.review import Review


@dataclass
class AnalysisResult:
    """One analysis: its study rows (``effects``, see ``synthesis.effects``), the pooled model and the
    follow-up analyses."""

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
    #: every effect of a multilevel main model (its forest plot and study table); None: ``effects`` are
    model_effects: pd.DataFrame | None = None
    #: what the follow-up analyses used when the main model is not the paper's (``synthesis.dependent``)
    follow_up_note: str = ""

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
