"""Checks of the tables (studies, outcome data, risk of bias, PRISMA, excluded studies) against their
schemas and across files. Each adds its problems to a list, so that every problem is reported at once."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from erh_report import rob_tools
from erh_report.data import prisma as prisma_mod
from erh_report.data.load import RawData
from erh_report.data.problems import validate_rows
from erh_report.data.schema import (
    TABLES,
    ExcludedRow,
    OutcomeRow,
    PrismaRow,
    ReviewConfig,
    RiskOfBiasRow,
    StudyRow,
)
from erh_report.errors import Problem


def check_outcome_data(
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


def _rob_words_fit(source: str, row: int, r: RiskOfBiasRow, tool: rob_tools.RobTool, problems: list[Problem]) -> bool:
    """Each of the tool's domains and overall holds one of its words; columns beyond its domains are blank."""
    before = len(problems)
    for col in (*tool.domain_ids, "overall"):
        value = getattr(r, col)
        if value not in tool.judgements:
            problems.append(
                Problem(
                    source,
                    f"value not allowed for {tool.name}" if value else "missing judgement",
                    row=row,
                    column=col,
                    value=value,
                    expected=tool.expected(),
                )
            )
    for n in range(len(tool.domains) + 1, rob_tools.MAX_DOMAINS + 1):
        if getattr(r, f"d{n}"):
            problems.append(
                Problem(
                    source,
                    f"{tool.name} has {len(tool.domains)} domains",
                    row=row,
                    column=f"d{n}",
                    value=getattr(r, f"d{n}"),
                    expected="blank, or settings.rob_tool naming a tool with this domain",
                )
            )
    return len(problems) == before


def check_rob(
    source: str,
    rows: list[tuple[int, RiskOfBiasRow]],
    config: ReviewConfig | None,
    studies: dict[str, tuple[int, StudyRow | None]],
    studies_known: bool,
    problems: list[Problem],
) -> dict[tuple[str, str], RiskOfBiasRow]:
    outcomes = {o.id for d in config.domains for o in d.outcomes} if config else None
    tool = rob_tools.tool(config.settings.rob_tool if config else None)
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
        worst = (
            max(tool.domain_ids, key=lambda d: tool.rank[getattr(r, d)])
            if _rob_words_fit(source, row, r, tool, problems)
            else None
        )
        if worst and tool.rank[r.overall] < tool.rank[getattr(r, worst)]:
            problems.append(
                Problem(
                    source,
                    f"overall judgement is better than domain {worst.upper()} ('{getattr(r, worst)}')",
                    row=row,
                    column="overall",
                    value=r.overall,
                    expected=f"at least '{getattr(r, worst)}' ({tool.name} algorithm)",
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


def check_excluded(
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


def table_rows(raw: RawData, name: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    table = raw.tables.get(name)
    if table is None or not table.columns:
        return []
    model, may_be_empty = TABLES[name]
    if not table.rows and not may_be_empty:
        problems.append(Problem(table.source, "the table has a header but no rows", expected="at least one data row"))
    return validate_rows(table, model, problems)


def prisma_counts(raw: RawData, problems: list[Problem]) -> prisma_mod.Prisma | None:
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
    rows = validate_rows(table, PrismaRow, problems)
    if not table.rows:
        problems.append(Problem(table.source, "the table has a header but no rows", expected="the PRISMA counts"))
        return None
    counts, found = prisma_mod.from_rows(table.source, [(row, r.model_dump()) for row, r in rows])
    problems.extend(found)
    return counts if len(problems) == before else None
