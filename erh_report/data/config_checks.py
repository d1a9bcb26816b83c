"""Checks of review.yaml: its schema (with pydantic's errors translated), then cross-references inside it
(ids unique, the plan refers to windows, outcomes, study columns and affiliations that exist)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from erh_report.data.csl_style import style_problem
from erh_report.data.load import REVIEW_FILE, RawData
from erh_report.data.problems import expected_of
from erh_report.data.schema import ReviewConfig
from erh_report.errors import Problem

#: Study columns that can define subgroups, and numeric ones that can be moderators.
SUBGROUP_COLUMNS = ("population_risk", "intervention_type", "design", "country")
MODERATOR_COLUMNS = ("dose_hours", "sessions", "infant_age_weeks", "year", "n_randomised")


def read_config(raw: RawData, problems: list[Problem]) -> ReviewConfig | None:
    if raw.config is None:
        return None
    try:
        config = ReviewConfig.model_validate(raw.config)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            message, expected = expected_of(err)
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
    check_config(config, raw, problems)
    check_reference_style(config, raw, problems)
    return config


def check_reference_style(config: ReviewConfig, raw: RawData, problems: list[Problem]) -> None:
    """The CSL style of the reference list exists and reads as a style."""
    reason = style_problem(config, raw.folder)
    if reason:
        problems.append(
            Problem(
                REVIEW_FILE,
                reason,
                row=raw.config_lines.get(("references", "style")),
                column="references.style",
                value=config.references.style,
                expected="a CSL style's name (american-medical-association, apa, vancouver's nlm-citation-sequence, "
                "jama, ...) or a .csl file in the data folder",
            )
        )


def check_config(config: ReviewConfig, raw: RawData, problems: list[Problem]) -> None:
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
        problems.append(
            Problem(
                REVIEW_FILE,
                "unknown dose moderator",
                row=where("plan", "dose", "moderator"),
                column="plan.dose.moderator",
                value=config.plan.dose.moderator,
                expected="one of " + ", ".join(MODERATOR_COLUMNS),
            )
        )
    problems.extend(dependence_problems(config, where))
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


def dependence_problems(config: ReviewConfig, where) -> list[Problem]:
    """``dependence`` and ``robust`` (settings, or an analysis's own) with what cannot go with them: the
    three-level model is fitted by REML or ML and has no Knapp-Hartung adjustment (``robust: true`` gives
    small-sample tests); an analysis pooled as RevMan does (``pooling``) has one effect per study and RevMan's
    tests."""
    s = config.settings
    out: list[Problem] = []
    entries = [] if config.plan.analyses == "all" else list(enumerate(config.plan.analyses))
    multilevel = s.dependence == "multilevel"
    for i, entry in entries:
        key = "dependence" if entry.dependence is not None else "robust" if entry.robust is not None else None
        if entry.pooling is not None and key is not None:
            out.append(
                Problem(
                    REVIEW_FILE,
                    f"an analysis pooled as RevMan does (pooling: {entry.pooling}) takes one effect per study "
                    "and RevMan's tests",
                    row=where("plan", "analyses", i, key),
                    column=f"plan.analyses.{i}.{key}",
                    value=getattr(entry, key),
                    expected="no dependence or robust key in an analysis with pooling",
                )
            )
        multilevel = multilevel or (entry.pooling is None and entry.dependence == "multilevel")
    if multilevel and s.method not in ("REML", "ML"):
        out.append(
            Problem(
                REVIEW_FILE,
                f"the three-level model (dependence: multilevel) is fitted by REML or ML, not {s.method}",
                row=where("settings", "method"),
                column="settings.method",
                value=s.method,
                expected="method: REML or ML with dependence: multilevel",
            )
        )
    if multilevel and s.hksj:
        out.append(
            Problem(
                REVIEW_FILE,
                "the three-level model (dependence: multilevel) has no Hartung-Knapp adjustment",
                row=where("settings", "hksj"),
                column="settings.hksj",
                value=True,
                expected="hksj: false; robust: true gives small-sample (CR2, Satterthwaite) tests",
            )
        )
    return out
