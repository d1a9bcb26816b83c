"""The checked review: its settings, its tables (row = spreadsheet row) and its analysis plan applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from erh_report.data import prisma as prisma_mod
from erh_report.data.plan import Analysis, StudyInput
from erh_report.data.schema import ExcludedRow, GradeRow, Outcome, OutcomeRow, ReviewConfig, RiskOfBiasRow, StudyRow


@dataclass
class Review:
    """A checked review: its settings, its tables (row = spreadsheet row) and its plan applied."""

    folder: Path
    config: ReviewConfig
    studies: list[tuple[int, StudyRow]]
    outcome_data: list[tuple[int, OutcomeRow]]
    risk_of_bias: list[tuple[int, RiskOfBiasRow]]
    prisma: prisma_mod.Prisma | None  # None when the source holds no PRISMA counts (source.not_provided)
    excluded: list[tuple[int, ExcludedRow]]
    grade: list[tuple[int, GradeRow]]
    references: dict[str, dict[str, Any]]  # CSL-JSON items by citation key
    sources: dict[str, str]
    analyses: list[Analysis]
    selections: dict[str, list[StudyInput]]
    _rob_index: dict[tuple[str, str], RiskOfBiasRow] = field(default_factory=dict, repr=False)

    @property
    def illustrative(self) -> bool:
        return self.config.illustrative

    @property
    def study_map(self) -> dict[str, StudyRow]:
        return {s.study_id: s for _, s in self.studies}

    def outcome(self, outcome_id: str) -> Outcome:
        return next(o for d in self.config.domains for o in d.outcomes if o.id == outcome_id)

    @property
    def not_provided(self) -> set[str]:
        """Tables an imported review's source does not hold (review.yaml's ``source.not_provided``)."""
        source = self.config.source
        return set(source.not_provided) if source else set()

    def rob(self, study_id: str, outcome_id: str) -> RiskOfBiasRow | None:
        """The study's risk-of-bias judgement for this outcome (a study-wide row if none is specific)."""
        return self._rob_index.get((study_id, outcome_id)) or self._rob_index.get((study_id, ""))

    def summary(self) -> str:
        """One line for ``erh-report check``."""
        dyads = sum(s.n_randomised or 0 for _, s in self.studies)
        runnable = sum(1 for a in self.analyses if len(self.selections[a.id]) >= self.config.plan.min_studies)
        randomised = f"{dyads:,} dyads randomised, " if dyads else ""
        text = (
            f"{len(self.studies)} studies, {randomised}"
            f"{len(self.outcome_data):,} outcome rows, {len(self.analyses)} analyses planned "
            f"({runnable} with at least {self.config.plan.min_studies} "
            f"{'study' if self.config.plan.min_studies == 1 else 'studies'})"
        )
        if self.illustrative:
            text += "; the data are illustrative"
        return text
