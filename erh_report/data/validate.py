"""Checking a data folder, then applying its analysis plan: ``load_review`` is the entry point.

Every problem is collected before anything is reported, so an author fixes all of them in one pass; each
names the file, the spreadsheet row and column, the value found and what was expected. The jobs are in
their own modules: ``config_checks`` (review.yaml), ``table_checks`` (the tables, across files),
``problems`` (pydantic's errors in the data's words); this module runs them (``check``), then applies the
plan to what passed (``apply_plan``: which analyses, which effect of each study) and builds the ``Review``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from erh_report.data import prisma as prisma_mod
from erh_report.data.config_checks import read_config
from erh_report.data.load import RawData, read_folder
from erh_report.data.plan import Analysis, StudyInput, planned_analyses, select_effects
from erh_report.data.problems import case_only_ids, report_duplicates
from erh_report.data.review import Review
from erh_report.data.schema import (
    TABLES,
    ExcludedRow,
    GradeRow,
    OutcomeRow,
    ReviewConfig,
    RiskOfBiasRow,
    StudyRow,
)
from erh_report.data.table_checks import check_excluded, check_outcome_data, check_rob, prisma_counts, table_rows
from erh_report.errors import InputError, Problem


@dataclass
class Checked:
    """What the checks accepted, with every problem they found, before the plan is applied."""

    folder: Path
    config: ReviewConfig | None
    studies_rows: list[tuple[int, StudyRow]]
    outcome_rows: list[tuple[int, OutcomeRow]]
    usable: list[tuple[int, OutcomeRow]]  # outcome rows that may go on to the plan's selection rule
    rob_rows: list[tuple[int, RiskOfBiasRow]]
    rob_index: dict[tuple[str, str], RiskOfBiasRow]
    counts: prisma_mod.Prisma | None
    excluded_rows: list[tuple[int, ExcludedRow]]
    grade_rows: list[tuple[int, GradeRow]]
    references: dict[str, Any]
    src: dict[str, str]
    labels: dict[str, str]  # study label by study id
    problems: list[Problem]


def check(raw: RawData) -> Checked:
    """Validate what was read against the schemas and across files; the problems are collected, not raised."""
    problems = list(raw.problems)
    config = read_config(raw, problems)
    sources = {name: t.source for name, t in raw.tables.items()}
    src = {name: sources.get(name, f"{name}.csv") for name in TABLES}

    studies_rows: list[tuple[int, StudyRow]] = table_rows(raw, "studies", problems)
    studies_table = raw.tables.get("studies")
    studies_known = bool(studies_table and studies_table.columns and "study_id" in studies_table.columns)
    report_duplicates(src["studies"], studies_rows, lambda s: s.study_id, "study_id", "study_id", problems)
    problems.extend(case_only_ids(src["studies"], studies_table))
    # Rows that failed their own checks still name real studies: other tables may refer to them.
    studies: dict[str, tuple[int, StudyRow | None]] = {}
    for row, s in studies_rows:
        studies.setdefault(s.study_id, (row, s))
    if studies_table is not None:
        for row, cells in studies_table.rows:
            sid = cells.get("study_id", "").strip()
            if sid and sid not in studies:
                studies[sid] = (row, None)

    outcome_rows: list[tuple[int, OutcomeRow]] = table_rows(raw, "outcome_data", problems)
    report_duplicates(
        src["outcome_data"],
        outcome_rows,
        lambda r: (
            r.study_id,
            r.outcome,
            r.instrument,
            f"{r.followup_months:g}",
            *([r.subgroup] if r.subgroup else []),
            r.arm,
        ),
        "study, outcome, instrument, follow-up and arm",
        "arm",
        problems,
    )
    valid_studies = {k: v for k, v in studies.items() if v[1] is not None}
    usable = check_outcome_data(
        src["outcome_data"],
        outcome_rows,
        config,
        studies,
        studies_known,
        problems,
        columns=raw.tables["outcome_data"].columns if "outcome_data" in raw.tables else [],
    )

    rob_rows: list[tuple[int, RiskOfBiasRow]] = table_rows(raw, "risk_of_bias", problems)
    rob_index = check_rob(src["risk_of_bias"], rob_rows, config, studies, studies_known, problems)
    if rob_rows or "risk_of_bias" in raw.tables:
        missing_rob: dict[tuple[str, str], int] = {}
        known_outcomes = {o.id for d in config.domains for o in d.outcomes} if config else set()
        for row, r in outcome_rows:
            if (
                r.study_id in studies
                and r.outcome in known_outcomes
                and (r.study_id, r.outcome) not in rob_index
                and (r.study_id, "") not in rob_index
            ):
                missing_rob.setdefault((r.study_id, r.outcome), row)
        # A judgement row with a problem of its own still covers its study and outcome.
        rob_table = raw.tables.get("risk_of_bias")
        for _row, cells in rob_table.rows if rob_table else []:
            oid = cells.get("outcome", "").strip()
            missing_rob.pop((cells.get("study_id", "").strip(), oid), None)
            if oid.lower() in ("", "all"):
                for key in [k for k in missing_rob if k[0] == cells.get("study_id", "").strip()]:
                    missing_rob.pop(key)
        for (sid, oid), row in missing_rob.items():
            problems.append(
                Problem(
                    src["risk_of_bias"],
                    f"no risk-of-bias judgement for study {sid}, "
                    f"outcome {oid} (used in {src['outcome_data']} row {row})",
                    expected="a row for this study and outcome, or for the study with a blank outcome",
                )
            )

    counts = prisma_counts(raw, problems)
    if counts is not None:
        problems.extend(prisma_mod.check_arithmetic(counts, src["prisma"]))
        if studies_rows and counts.studies_included != len(studies):
            problems.append(
                Problem(
                    src["prisma"],
                    f"PRISMA says {counts.studies_included} studies included but {src['studies']} lists {len(studies)}",
                    row=counts.rows.get("studies_included"),
                    column="n",
                    value=counts.studies_included,
                    expected=str(len(studies)),
                )
            )

    excluded_rows: list[tuple[int, ExcludedRow]] = table_rows(raw, "excluded_studies", problems)
    if "excluded_studies" in raw.tables:
        check_excluded(src["excluded_studies"], excluded_rows, counts, src["prisma"], problems)

    grade_rows: list[tuple[int, GradeRow]] = table_rows(raw, "grade", problems)
    report_duplicates(
        src["grade"], grade_rows, lambda g: (g.analysis_id, g.domain), "analysis and domain", "domain", problems
    )
    references = raw.references or {}
    if raw.references is not None:
        for row, s in studies_rows:
            if s.reference and s.reference not in references:
                problems.append(
                    Problem(
                        src["studies"],
                        f"reference not found in {raw.references_file}",
                        row=row,
                        column="reference",
                        value=s.reference,
                        expected="a citation key of the reference list",
                    )
                )

    labels = {sid: s.label for sid, (_, s) in valid_studies.items()}
    return Checked(
        raw.folder,
        config,
        studies_rows,
        outcome_rows,
        usable,
        rob_rows,
        rob_index,
        counts,
        excluded_rows,
        grade_rows,
        references,
        src,
        labels,
        problems,
    )


def apply_plan(checked: Checked) -> tuple[list[Analysis], dict[str, list[StudyInput]], list[Problem]]:
    """The planned analyses and the one effect each study gives to each, with the problems of applying the
    plan: a GRADE row naming an analysis that is not planned, a study that would give two effects."""
    config, src = checked.config, checked.src
    if config is None:
        return [], {}, []
    problems: list[Problem] = []
    analyses = planned_analyses(config)
    ids = [a.id for a in analyses]
    for row, g in checked.grade_rows:
        if g.analysis_id not in ids:
            problems.append(
                Problem(
                    src["grade"],
                    "unknown analysis",
                    row=row,
                    column="analysis_id",
                    value=g.analysis_id,
                    expected="an analysis id such as " + ", ".join(ids[:4]) + " (outcome_window)",
                )
            )
    selections, ambiguities = select_effects(config, checked.usable, checked.labels)
    for amb in ambiguities:
        problems.append(
            Problem(
                src["outcome_data"],
                f"study {amb.study_id} would contribute two effects to analysis {amb.analysis_id}: {amb.message}",
                row=min(amb.rows),
                column="instrument",
                expected="one effect per study (change the plan's rule or remove a row); rows "
                + ", ".join(map(str, sorted(amb.rows))),
            )
        )
    return analyses, selections, problems


def load_review(folder: str | Path) -> Review:
    """Read and check a data folder and apply its plan. Raises InputError listing every problem."""
    checked = check(read_folder(Path(folder)))
    analyses, selections, plan_problems = apply_plan(checked)
    problems = checked.problems + plan_problems
    if problems or checked.config is None:
        raise InputError(problems)
    source = checked.config.source
    assert checked.counts is not None or (source is not None and "prisma" in source.not_provided)
    return Review(
        folder=checked.folder,
        config=checked.config,
        studies=checked.studies_rows,
        outcome_data=checked.outcome_rows,
        risk_of_bias=checked.rob_rows,
        prisma=checked.counts,
        excluded=checked.excluded_rows,
        grade=checked.grade_rows,
        references=checked.references,
        sources=checked.src,
        analyses=analyses,
        selections=selections,
        _rob_index=checked.rob_index,
    )


__all__ = ["Review", "apply_plan", "check", "load_review"]
