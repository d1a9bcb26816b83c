"""Checking the data folder against the declared schemas and across files.

Every problem is collected before anything is reported, so an author fixes all of them in one pass;
each names the file, the spreadsheet row and column, the value found and what was expected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from erh_report.data import prisma as prisma_mod
from erh_report.data.load import REVIEW_FILE, RawData, RawTable, read_folder
from erh_report.data.plan import Analysis, StudyInput, planned_analyses, select_effects
from erh_report.data.schema import (
    GRADE_DOMAINS,
    ROB_DOMAINS,
    TABLES,
    ExcludedRow,
    GradeRow,
    Outcome,
    OutcomeRow,
    PrismaRow,
    ReviewConfig,
    RiskOfBiasRow,
    StudyRow,
    required_columns,
)
from erh_report.errors import InputError, Problem

#: Study columns that can define subgroups, and numeric ones that can be moderators.
SUBGROUP_COLUMNS = ("population_risk", "intervention_type", "design", "country")
MODERATOR_COLUMNS = ("dose_hours", "sessions", "infant_age_weeks", "year", "n_randomised")
ROB_ORDER = {"low": 0, "some concerns": 1, "no information": 1, "high": 2}


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
    references: dict[str, dict[str, str]]
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

    def rob(self, study_id: str, outcome_id: str) -> RiskOfBiasRow | None:
        """The study's RoB 2 judgement for this outcome (a study-wide row if none is specific)."""
        return self._rob_index.get((study_id, outcome_id)) or self._rob_index.get((study_id, ""))

    def summary(self) -> str:
        """One line for ``erh-report check``."""
        dyads = sum(s.n_randomised or 0 for _, s in self.studies)
        runnable = sum(1 for a in self.analyses if len(self.selections[a.id]) >= self.config.plan.min_studies)
        randomised = f"{dyads:,} dyads randomised, " if dyads else ""
        text = (
            f"{len(self.studies)} studies, {randomised}"
            f"{len(self.outcome_data):,} outcome rows, {len(self.analyses)} analyses planned "
            f"({runnable} with at least {self.config.plan.min_studies} studies)"
        )
        if self.illustrative:
            text += "; the data are illustrative"
        return text


# ----------------------------------------------------------------------------- pydantic errors
def _g(value: Any) -> str:
    """A bound as people write it: 0 rather than 0.0."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _expected(error: dict[str, Any]) -> tuple[str, str]:
    """(message, expected) in words an author understands, from a pydantic error."""
    kind, ctx = error["type"], error.get("ctx", {})
    table = {
        "float_parsing": ("not a number", "a number (use a dot for decimals)"),
        "float_type": ("not a number", "a number"),
        "int_parsing": ("not a whole number", "a whole number"),
        "int_from_float": ("not a whole number", "a whole number"),
        "int_type": ("not a whole number", "a whole number"),
        "missing": ("required value is missing", "a value"),
        "string_too_short": ("required cell is empty", "a value"),
        "string_type": ("not text", "text"),
        "string_pattern_mismatch": ("not a valid identifier", "letters, digits, '_', '-' or '.'"),
        "bool_parsing": ("not true or false", "true or false"),
        "bool_type": ("not true or false", "true or false"),
        "extra_forbidden": ("unknown key", "only the keys described in the documentation"),
    }
    if kind in table:
        return table[kind]
    if kind == "greater_than":
        return "value out of range", f"a number > {_g(ctx.get('gt'))}"
    if kind == "greater_than_equal":
        return "value out of range", f"a number ≥ {_g(ctx.get('ge'))}"
    if kind == "less_than_equal":
        return "value out of range", f"a number ≤ {_g(ctx.get('le'))}"
    if kind == "less_than":
        return "value out of range", f"a number < {_g(ctx.get('lt'))}"
    if kind == "finite_number":
        return "not a finite number", "a finite number"
    if kind == "literal_error":
        return "value not allowed", f"one of {ctx.get('expected', '')}"
    if kind == "too_short":  # text fields report an empty cell as too_short after stripping
        if isinstance(error.get("input"), str):
            return "required cell is empty", "a value"
        return "list is empty", "at least one entry"
    if kind == "value_error":
        return "value not allowed", str(ctx.get("error", error.get("msg", "")))
    return error.get("msg", "not valid"), ""


def _validate_table(table: RawTable, model: type[BaseModel], problems: list[Problem]) -> list[tuple[int, Any]]:
    """Check every row against the table's model; return the rows that passed."""
    missing = [c for c in required_columns(model) if c not in table.columns]  # type: ignore[arg-type]
    for col in missing:
        problems.append(
            Problem(table.source, "required column is missing", row=1, column=col, expected=f"a column named '{col}'")
        )
    good: list[tuple[int, Any]] = []
    for row, cells in table.rows:
        try:
            good.append((row, model.model_validate(cells)))
        except ValidationError as exc:
            for err in exc.errors():
                column = str(err["loc"][0]) if err["loc"] else None
                if column in missing:
                    continue
                message, expected = _expected(err)
                if column is None and err["type"] == "value_error":
                    column = "judgement"
                value = cells.get(column) if column else None
                problems.append(
                    Problem(
                        table.source,
                        message,
                        row=row,
                        column=column,
                        value=value if value not in (None, "") else None,
                        expected=expected,
                    )
                )
    return good


def _duplicates(
    source: str,
    rows: Iterable[tuple[int, Any]],
    key: Any,
    what: str,
    column: str,
    problems: list[Problem],
) -> None:
    """Report a row whose key was already used by an earlier row."""
    first: dict[Any, int] = {}
    for row, item in rows:
        k = key(item)
        if k in first:
            problems.append(
                Problem(
                    source,
                    f"duplicate row: same {what} as row {first[k]}",
                    row=row,
                    column=column,
                    value=k if isinstance(k, str) else ", ".join(map(str, k)),
                    expected="each combination once",
                )
            )
        else:
            first[k] = row


# ----------------------------------------------------------------------------------- config
def _config(raw: RawData, problems: list[Problem]) -> ReviewConfig | None:
    if raw.config is None:
        return None
    try:
        config = ReviewConfig.model_validate(raw.config)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            message, expected = _expected(err)
            line = raw.config_lines.get(loc)
            while line is None and loc:
                loc = loc[:-1]
                line = raw.config_lines.get(loc)
            value = err.get("input") if err["type"] not in ("missing",) else None
            if isinstance(value, dict | list):
                value = None
            problems.append(
                Problem(
                    REVIEW_FILE,
                    message,
                    row=line,
                    column=".".join(str(p) for p in err["loc"]),
                    value=value,
                    expected=expected,
                )
            )
        return None
    _check_config(config, raw, problems)
    return config


def _check_config(config: ReviewConfig, raw: RawData, problems: list[Problem]) -> None:
    """Cross-references inside review.yaml: ids unique, plan refers to what exists."""
    lines = raw.config_lines

    def where(*path: Any) -> int | None:
        return lines.get(tuple(path))

    seen: dict[str, str] = {}
    for di, domain in enumerate(config.domains):
        for oi, outcome in enumerate(domain.outcomes):
            if outcome.id in seen:
                problems.append(
                    Problem(
                        REVIEW_FILE,
                        f"outcome id used twice (also in domain {seen[outcome.id]})",
                        row=where("domains", di, "outcomes", oi, "id"),
                        column=f"domains.{di}.outcomes.{oi}.id",
                        value=outcome.id,
                        expected="unique outcome ids",
                    )
                )
            seen[outcome.id] = domain.id
    window_ids = [w.id for w in config.plan.windows]
    for wi, window in enumerate(config.plan.windows):
        if window_ids.count(window.id) > 1:
            problems.append(
                Problem(
                    REVIEW_FILE,
                    "window id used twice",
                    row=where("plan", "windows", wi),
                    column=f"plan.windows.{wi}.id",
                    value=window.id,
                )
            )
        for wj, other in enumerate(config.plan.windows[wi + 1 :], start=wi + 1):
            hi_a = window.max_months if window.max_months is not None else float("inf")
            hi_b = other.max_months if other.max_months is not None else float("inf")
            if window.min_months < hi_b and other.min_months < hi_a:
                problems.append(
                    Problem(
                        REVIEW_FILE,
                        f"time windows '{window.id}' and '{other.id}' overlap",
                        row=where("plan", "windows", wj),
                        column=f"plan.windows.{wj}",
                        expected="windows that share no month",
                    )
                )
    if config.plan.analyses != "all":
        for ai, planned in enumerate(config.plan.analyses):
            if planned.outcome not in seen:
                problems.append(
                    Problem(
                        REVIEW_FILE,
                        "analysis of an outcome not in the catalogue",
                        row=where("plan", "analyses", ai, "outcome"),
                        column=f"plan.analyses.{ai}.outcome",
                        value=planned.outcome,
                        expected="one of " + ", ".join(seen),
                    )
                )
            if planned.window not in window_ids:
                problems.append(
                    Problem(
                        REVIEW_FILE,
                        "analysis in an unknown time window",
                        row=where("plan", "analyses", ai, "window"),
                        column=f"plan.analyses.{ai}.window",
                        value=planned.window,
                        expected="one of " + ", ".join(window_ids),
                    )
                )
    for i, name in enumerate(config.plan.subgroups):
        if name not in SUBGROUP_COLUMNS:
            problems.append(
                Problem(
                    REVIEW_FILE,
                    "unknown subgroup variable",
                    row=where("plan", "subgroups", i),
                    column=f"plan.subgroups.{i}",
                    value=name,
                    expected="one of " + ", ".join(SUBGROUP_COLUMNS),
                )
            )
    for i, name in enumerate(config.plan.moderators):
        if name not in MODERATOR_COLUMNS:
            problems.append(
                Problem(
                    REVIEW_FILE,
                    "unknown moderator",
                    row=where("plan", "moderators", i),
                    column=f"plan.moderators.{i}",
                    value=name,
                    expected="one of " + ", ".join(MODERATOR_COLUMNS),
                )
            )
    if config.plan.dose.moderator not in MODERATOR_COLUMNS:
        problems.append(Problem(REVIEW_FILE, "unknown dose moderator", row=where("plan", "dose", "moderator"),
                                column="plan.dose.moderator", value=config.plan.dose.moderator,
                                expected="one of " + ", ".join(MODERATOR_COLUMNS)))
    aff_ids = {a.id for a in config.affiliations}
    for ai, author in enumerate(config.authors):
        for fi, aff in enumerate(author.affiliations):
            if aff not in aff_ids:
                problems.append(
                    Problem(
                        REVIEW_FILE,
                        "author refers to an unknown affiliation",
                        row=where("authors", ai, "affiliations", fi),
                        column=f"authors.{ai}.affiliations.{fi}",
                        value=aff,
                        expected="an id listed under affiliations",
                    )
                )


# ------------------------------------------------------------------------------ cross-checks
def _check_outcome_data(
    source: str,
    rows: list[tuple[int, OutcomeRow]],
    config: ReviewConfig | None,
    studies: dict[str, tuple[int, StudyRow | None]],
    studies_known: bool,
    problems: list[Problem],
    columns: list[str],
) -> list[tuple[int, OutcomeRow]]:
    """Catalogue membership, arm data complete for the outcome's type, arms structured.
    Returns the rows that can go on to the selection rule."""
    outcomes = {o.id: o for d in config.domains for o in d.outcomes} if config else {}
    usable: list[tuple[int, OutcomeRow]] = []
    absent: dict[str, int] = {}
    for row, r in rows:
        ok = True
        if studies_known and r.study_id not in studies:
            problems.append(
                Problem(
                    source,
                    "unknown study",
                    row=row,
                    column="study_id",
                    value=r.study_id,
                    expected="a study_id listed in studies",
                )
            )
            ok = False
        if config is None:
            continue
        outcome = outcomes.get(r.outcome)
        if outcome is None:
            problems.append(
                Problem(
                    source,
                    "outcome not in the catalogue",
                    row=row,
                    column="outcome",
                    value=r.outcome,
                    expected="an outcome id from review.yaml: " + ", ".join(outcomes),
                )
            )
            continue
        ids = [i.id for i in outcome.instruments]
        if r.instrument not in ids:
            elsewhere = [o.id for o in outcomes.values() if r.instrument in {i.id for i in o.instruments}]
            hint = f" (it is listed under {', '.join(elsewhere)})" if elsewhere else ""
            problems.append(
                Problem(
                    source,
                    f"instrument not in the catalogue for outcome '{r.outcome}'" + hint,
                    row=row,
                    column="instrument",
                    value=r.instrument,
                    expected="one of " + ", ".join(ids),
                )
            )
            ok = False
        if r.role == "contrast":
            need = ("yi", "sei")
        elif outcome.type == "dichotomous":
            need = ("events", "total")
        else:
            need = ("n", "mean", "sd")
        for col in need:
            if col not in columns:
                if col not in absent:
                    absent[col] = row
                    problems.append(
                        Problem(
                            source,
                            "required column is missing",
                            row=1,
                            column=col,
                            expected=f"a column named '{col}' (needed by {r.role} rows of "
                            f"{outcome.type} outcomes, e.g. row {row})",
                        )
                    )
                ok = False
            elif getattr(r, col) is None:
                problems.append(
                    Problem(
                        source,
                        f"value needed for a {r.role} row of a {outcome.type} outcome",
                        row=row,
                        column=col,
                        expected=f"{', '.join(need)} filled in",
                    )
                )
                ok = False
        if r.events is not None and r.total is not None and r.events > r.total:
            problems.append(
                Problem(
                    source,
                    "more events than participants",
                    row=row,
                    column="events",
                    value=r.events,
                    expected=f"at most total ({r.total})",
                )
            )
            ok = False
        if ok:
            usable.append((row, r))

    # Arm structure of every measurement (study x outcome x instrument x time point).
    groups: dict[tuple[str, str, str, float, str], list[tuple[int, OutcomeRow]]] = defaultdict(list)
    for row, r in usable:
        groups[(r.study_id, r.outcome, r.instrument, r.followup_months, r.subgroup or "")].append((row, r))
    bad: set[int] = set()
    for (study_id, outcome_id, instrument, months, _subgroup), members in groups.items():
        roles = [r.role for _, r in members]
        first_row = members[0][0]
        what = f"{study_id} {outcome_id}/{instrument} at {months:g} months"
        if "contrast" in roles and len(members) > 1:
            problems.append(
                Problem(
                    source,
                    f"{what} has both a precomputed effect and other rows "
                    f"(rows {', '.join(str(m[0]) for m in members)})",
                    row=first_row,
                    column="role",
                    expected="either arm rows or one contrast row",
                )
            )
            bad.update(m[0] for m in members)
        elif "contrast" not in roles and (roles.count("control") != 1 or "intervention" not in roles):
            problems.append(
                Problem(
                    source,
                    f"{what} needs exactly one control arm and at least one "
                    f"intervention arm (found {roles.count('control')} control, "
                    f"{roles.count('intervention')} intervention)",
                    row=first_row,
                    column="role",
                    expected="intervention and control rows",
                )
            )
            bad.update(m[0] for m in members)
        study = studies.get(study_id)
        if study and study[1] is not None and "contrast" not in roles:
            size = sum((r.n or r.total or 0) for _, r in members)
            if study[1].n_randomised is not None and size > study[1].n_randomised:
                problems.append(
                    Problem(
                        source,
                        f"{what}: arms add up to {size} participants, more "
                        f"than the {study[1].n_randomised} randomised (studies row "
                        f"{study[0]})",
                        row=first_row,
                        column="n",
                        value=size,
                        expected=f"at most {study[1].n_randomised}",
                    )
                )
    return [(row, r) for row, r in usable if row not in bad]


def _check_rob(
    source: str,
    rows: list[tuple[int, RiskOfBiasRow]],
    config: ReviewConfig | None,
    studies: dict[str, tuple[int, StudyRow | None]],
    studies_known: bool,
    problems: list[Problem],
) -> dict[tuple[str, str], RiskOfBiasRow]:
    outcomes = {o.id for d in config.domains for o in d.outcomes} if config else None
    index: dict[tuple[str, str], RiskOfBiasRow] = {}
    first: dict[tuple[str, str], int] = {}
    for row, r in rows:
        outcome = "" if (r.outcome or "").lower() in ("", "all") else str(r.outcome)
        if studies_known and r.study_id not in studies:
            problems.append(
                Problem(
                    source,
                    "unknown study",
                    row=row,
                    column="study_id",
                    value=r.study_id,
                    expected="a study_id listed in studies",
                )
            )
        if outcomes is not None and outcome and outcome not in outcomes:
            problems.append(
                Problem(
                    source,
                    "outcome not in the catalogue",
                    row=row,
                    column="outcome",
                    value=outcome,
                    expected="an outcome id from review.yaml, or blank for all outcomes",
                )
            )
        worst = max(ROB_DOMAINS, key=lambda d: ROB_ORDER[getattr(r, d)])
        if ROB_ORDER[r.overall] < ROB_ORDER[getattr(r, worst)]:
            problems.append(
                Problem(
                    source,
                    f"overall judgement is better than domain {worst.upper()} ('{getattr(r, worst)}')",
                    row=row,
                    column="overall",
                    value=r.overall,
                    expected=f"at least '{getattr(r, worst)}' (RoB 2 algorithm)",
                )
            )
        key = (r.study_id, outcome)
        if key in first:
            problems.append(
                Problem(
                    source,
                    f"duplicate row: same study and outcome as row {first[key]}",
                    row=row,
                    column="outcome",
                    value=outcome or None,
                    expected="one judgement per study and outcome",
                )
            )
            continue
        first[key] = row
        index[key] = r
    return index


def _check_excluded(
    source: str,
    rows: list[tuple[int, ExcludedRow]],
    counts: prisma_mod.Prisma | None,
    prisma_source: str,
    problems: list[Problem],
) -> None:
    """excluded_studies must list the reports that PRISMA says were excluded, reason by reason."""
    if counts is None:
        return
    for route, items, box in (
        ("databases", counts.fulltext_excluded, "fulltext_excluded"),
        ("other", counts.other_excluded, "other_excluded"),
    ):
        listed: dict[str, int] = defaultdict(int)
        for _, r in rows:
            if r.source == route:
                listed[r.reason.strip().lower()] += 1
        total = sum(n for _, n in items)
        if not rows and total:
            problems.append(
                Problem(
                    source,
                    f"no excluded reports listed, but {prisma_source} counts {total} in {box}",
                    expected=f"{total} rows with reasons",
                )
            )
            return
        if sum(listed.values()) != total:
            problems.append(
                Problem(
                    source,
                    f"{sum(listed.values())} reports listed with source "
                    f"'{route}', but {prisma_source} counts {total} in {box}",
                    expected=f"{total} rows",
                )
            )
            continue
        if any(label for label, _ in items):
            for label, n in items:
                if listed.get(label.strip().lower(), 0) != n:
                    problems.append(
                        Problem(
                            source,
                            f"reason '{label}': {listed.get(label.lower(), 0)} reports listed, {n} in {prisma_source}",
                            column="reason",
                            value=label,
                            expected=f"{n} rows with this reason",
                        )
                    )
            known = {label.strip().lower() for label, _ in items}
            for row, r in rows:
                if r.source == route and r.reason.strip().lower() not in known:
                    problems.append(
                        Problem(
                            source,
                            f"reason not among the {box} reasons in {prisma_source}",
                            row=row,
                            column="reason",
                            value=r.reason,
                            expected="one of " + "; ".join(lbl for lbl, _ in items),
                        )
                    )


def _table_rows(raw: RawData, name: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    table = raw.tables.get(name)
    if table is None or not table.columns:
        return []
    model, may_be_empty = TABLES[name]
    if not table.rows and not may_be_empty:
        problems.append(Problem(table.source, "the table has a header but no rows", expected="at least one data row"))
    return _validate_table(table, model, problems)


# ---------------------------------------------------------------------------------- entry point
def check(raw: RawData) -> Review:
    """Validate what was read; raise InputError with every problem, or return the Review."""
    problems = list(raw.problems)
    config = _config(raw, problems)
    sources = {name: t.source for name, t in raw.tables.items()}
    src = {name: sources.get(name, f"{name}.csv") for name in TABLES}

    studies_rows: list[tuple[int, StudyRow]] = _table_rows(raw, "studies", problems)
    studies_table = raw.tables.get("studies")
    studies_known = bool(studies_table and studies_table.columns and "study_id" in studies_table.columns)
    _duplicates(src["studies"], studies_rows, lambda s: s.study_id, "study_id", "study_id", problems)
    # Rows that failed their own checks still name real studies: other tables may refer to them.
    studies: dict[str, tuple[int, StudyRow | None]] = {}
    for row, s in studies_rows:
        studies.setdefault(s.study_id, (row, s))
    if studies_table is not None:
        for row, cells in studies_table.rows:
            sid = cells.get("study_id", "").strip()
            if sid and sid not in studies:
                studies[sid] = (row, None)

    outcome_rows: list[tuple[int, OutcomeRow]] = _table_rows(raw, "outcome_data", problems)
    _duplicates(
        src["outcome_data"],
        outcome_rows,
        lambda r: (r.study_id, r.outcome, r.instrument, f"{r.followup_months:g}", *([r.subgroup] if r.subgroup else []),
                   r.arm),
        "study, outcome, instrument, follow-up and arm",
        "arm",
        problems,
    )
    valid_studies = {k: v for k, v in studies.items() if v[1] is not None}
    usable = _check_outcome_data(
        src["outcome_data"],
        outcome_rows,
        config,
        studies,
        studies_known,
        problems,
        columns=raw.tables["outcome_data"].columns if "outcome_data" in raw.tables else [],
    )

    rob_rows: list[tuple[int, RiskOfBiasRow]] = _table_rows(raw, "risk_of_bias", problems)
    rob_index = _check_rob(src["risk_of_bias"], rob_rows, config, studies, studies_known, problems)
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

    counts = _prisma(raw, problems)
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

    excluded_rows: list[tuple[int, ExcludedRow]] = _table_rows(raw, "excluded_studies", problems)
    if "excluded_studies" in raw.tables:
        _check_excluded(src["excluded_studies"], excluded_rows, counts, src["prisma"], problems)

    grade_rows: list[tuple[int, GradeRow]] = _table_rows(raw, "grade", problems)
    _duplicates(
        src["grade"], grade_rows, lambda g: (g.analysis_id, g.domain), "analysis and domain", "domain", problems
    )
    analyses = planned_analyses(config) if config else []
    if config:
        ids = [a.id for a in analyses]
        for row, g in grade_rows:
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

    selections: dict[str, list[StudyInput]] = {}
    if config is not None:
        labels = {sid: s.label for sid, (_, s) in valid_studies.items()}
        selections, ambiguities = select_effects(config, usable, labels)
        for amb in ambiguities:
            problems.append(
                Problem(
                    src["outcome_data"],
                    f"study {amb.study_id} would contribute two effects to analysis {amb.analysis_id}: {amb.message}",
                    row=min(amb.rows),
                    column="instrument",
                    expected="one effect per study (change the plan's rule or "
                    "remove a row); rows " + ", ".join(map(str, sorted(amb.rows))),
                )
            )

    if problems or config is None:
        raise InputError(problems)
    assert counts is not None or "prisma" not in raw.tables
    return Review(
        folder=raw.folder,
        config=config,
        studies=studies_rows,
        outcome_data=outcome_rows,
        risk_of_bias=rob_rows,
        prisma=counts,
        excluded=excluded_rows,
        grade=grade_rows,
        references=references,
        sources=src,
        analyses=analyses,
        selections=selections,
        _rob_index=rob_index,
    )


def _prisma(raw: RawData, problems: list[Problem]) -> prisma_mod.Prisma | None:
    """PRISMA counts from either accepted layout."""
    table = raw.tables.get("prisma")
    if table is None or not table.columns:
        return None
    if (
        all(c in table.columns for c in prisma_mod.TEMPLATE_COLUMNS)
        and "box" in table.columns
        and ("data" in table.columns)
    ):
        counts, found = prisma_mod.from_template(table.source, table.rows)
        problems.extend(found)
        return counts
    before = len(problems)
    rows = _validate_table(table, PrismaRow, problems)
    if not table.rows:
        problems.append(Problem(table.source, "the table has a header but no rows", expected="the PRISMA counts"))
        return None
    counts, found = prisma_mod.from_rows(table.source, [(row, r.model_dump()) for row, r in rows])
    problems.extend(found)
    return counts if len(problems) == before else None


def load_review(folder: str | Path) -> Review:
    """Read and check a data folder. Raises InputError listing every problem."""
    return check(read_folder(Path(folder)))


__all__ = ["GRADE_DOMAINS", "Review", "check", "load_review"]
