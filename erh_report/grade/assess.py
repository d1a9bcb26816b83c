"""Certainty of one analysis: the five suggested judgements, the authors' overrides, lettered footnotes.

Each domain gets the rule's suggestion (rules.py); a row of the review's grade table replaces it (or sets
the certainty itself) and carries its reason. Certainty starts from the design and falls by the levels of
the final judgements. Every judgement that rates down, is not assessable or was overridden becomes a
footnote, lettered a, b, ... within the analysis (tables re-letter them across rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from erh_report.data.schema import GRADE_CERTAINTY, GRADE_DOMAINS, GRADE_DOWNGRADES, Outcome
from erh_report.errors import InputError, Problem
from erh_report.grade import rules
from erh_report.grade.footnotes import Lettering
from erh_report.grade.levels import (
    DOMAIN_WORDS,
    DOMAINS,
    DOWNGRADE,
    LEVEL_OF,
    NOT_ASSESSABLE,
    levels_phrase,
    symbols,
    word,
)
from erh_report.grade.scale import EffectScale, Thresholds, thresholds_for
from erh_report.grade.wording import (
    DASH,
    Absolute,
    absolute,
    difference_text,
    direction_verb,
    relative_text,
    size,
    statement,
)
from erh_report.numbers import STYLES, NumberStyle
from erh_report.synthesis import AnalysisResult
from erh_report.vocabulary import EFFECT_SIZES


@dataclass(frozen=True)
class Override:
    """One row of the grade table: the authors' judgement for a domain (or ``certainty``), and why."""

    analysis_id: str
    domain: str
    judgement: str
    reason: str
    file: str = "grade.csv"
    row: int | None = None


@dataclass(frozen=True)
class DomainRating:
    """One domain: what the rule suggested and why, what stands after the authors' override."""

    domain: str
    suggested: str
    final: str
    reason: str
    values: Mapping[str, float | int | str | None] = field(default_factory=dict)
    override: Override | None = None
    footnote: str | None = None  # the letter within the analysis
    footnote_text: str | None = None

    @property
    def downgrade(self) -> int:
        return DOWNGRADE[self.final]

    def as_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "suggested": self.suggested,
            "final": self.final,
            "downgrade": self.downgrade,
            "reason": self.reason,
            "values": dict(self.values),
            "overridden": self.override is not None,
            "override_reason": self.override.reason if self.override else None,
            "override_source": _source(self.override),
            "footnote": self.footnote,
        }


def _source(o: Override | None) -> str | None:
    return f"{o.file}, row {o.row}" if o and o.row is not None else (o.file if o else None)


@dataclass(frozen=True)
class EffectSummary:
    """The pooled effect in GRADE's words, in the outcome's shown direction (see scale.py)."""

    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    relative: str
    absolute: str
    direction: str
    comparator: str = DASH
    intervention: str = DASH
    risks: Absolute | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "measure": self.measure,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "relative": self.relative,
            "absolute": self.absolute,
            "direction": self.direction,
            "risk_with_comparator": self.comparator,
            "risk_with_intervention": self.intervention,
            "per_1000": self.risks.as_dict() if self.risks else None,
        }


@dataclass(frozen=True)
class Assessment:
    """The GRADE assessment of one analysis. ``level`` is 1 (very low) to 4 (high), None when the analysis
    was not pooled and the authors set no certainty."""

    analysis_id: str
    outcome_id: str
    outcome: str
    domain_id: str
    domain: str
    timepoint: str
    measure: str
    importance: str
    k: int
    participants: int
    participants_intervention: float | None
    participants_comparator: float | None
    events_intervention: float | None
    events_comparator: float | None
    instruments: tuple[str, ...]
    design: str
    start: int
    domains: tuple[DomainRating, ...]
    suggested_level: int | None
    level: int | None
    certainty_override: Override | None
    footnotes: tuple[tuple[str, str], ...]  # (letter, text) in letter order
    start_footnote: str | None  # letter of the note on a mixed or non-randomised body of evidence
    certainty_footnotes: tuple[str, ...]  # letter of the authors' certainty override
    effect: EffectSummary | None
    size: str | None
    statement: str
    note: str = ""

    @property
    def pooled(self) -> bool:
        return self.effect is not None

    @property
    def symbols(self) -> str:
        return symbols(self.level) if self.level else DASH

    @property
    def word(self) -> str:
        return word(self.level) if self.level else "Not assessed"

    def rating(self, domain: str) -> DomainRating:
        return next(d for d in self.domains if d.domain == domain)

    def as_dict(self) -> dict[str, object]:
        keys = (
            "analysis_id",
            "outcome_id",
            "outcome",
            "domain_id",
            "domain",
            "timepoint",
            "measure",
            "importance",
            "k",
            "participants",
            "participants_intervention",
            "participants_comparator",
            "events_intervention",
            "events_comparator",
            "design",
            "start",
            "suggested_level",
            "level",
            "size",
            "statement",
            "note",
        )
        out: dict[str, object] = {key: getattr(self, key) for key in keys}
        out.update(
            instruments=list(self.instruments),
            symbols=self.symbols,
            word=self.word,
            domains={d.domain: d.as_dict() for d in self.domains},
            certainty_override=(
                {
                    "judgement": self.certainty_override.judgement,
                    "reason": self.certainty_override.reason,
                    "source": _source(self.certainty_override),
                }
                if self.certainty_override
                else None
            ),
            footnotes=[{"letter": let, "text": text} for let, text in self.footnotes],
            start_footnote=self.start_footnote,
            certainty_footnotes=list(self.certainty_footnotes),
            effect=self.effect.as_dict() if self.effect else None,
        )
        return out


# ------------------------------------------------------------------------------------ overrides
def read_overrides(
    rows: list[tuple[int, object]], analysis_ids: list[str], source: str = "grade.csv"
) -> dict[str, dict[str, Override]]:
    """The grade table as {analysis_id: {domain: Override}}; every bad row is reported at once, naming the
    file and row (validation catches these first; this guards results built from other reviews)."""
    problems: list[Problem] = []
    out: dict[str, dict[str, Override]] = {}
    known = set(analysis_ids)
    for row, g in rows:
        aid, domain = str(getattr(g, "analysis_id", "")), str(getattr(g, "domain", ""))
        judgement, reason = str(getattr(g, "judgement", "")), str(getattr(g, "reason", "") or "").strip()
        allowed = GRADE_CERTAINTY if domain == "certainty" else GRADE_DOWNGRADES
        checks = [
            (
                aid in known,
                "analysis_id",
                aid,
                "unknown analysis",
                "an analysis id such as " + ", ".join(analysis_ids[:4]),
            ),
            (domain in GRADE_DOMAINS, "domain", domain, "not a GRADE domain", "one of " + ", ".join(GRADE_DOMAINS)),
            (
                domain not in GRADE_DOMAINS or judgement in allowed,
                "judgement",
                judgement,
                "not a GRADE level",
                f"one of {', '.join(allowed)} for domain {domain}",
            ),
            (bool(reason), "reason", None, "an override needs a reason", "the reason, printed as the footnote"),
            (
                domain not in out.get(aid, {}),
                "domain",
                domain,
                "a second override of this analysis and domain",
                "one row per analysis and domain",
            ),
        ]
        bad = [
            Problem(source, msg, row=row, column=col, value=val, expected=exp)
            for ok, col, val, msg, exp in checks
            if not ok
        ]
        problems.extend(bad)
        if not bad:
            out.setdefault(aid, {})[domain] = Override(aid, domain, judgement, reason, source, row)
    if problems:
        raise InputError(problems)
    return out


# ---------------------------------------------------------------------------------- one analysis
def _sum(frame, *cols: str) -> float | None:
    """Sum of the first column with any value (arm counts; contrast rows have none)."""
    for col in cols:
        if col in frame and frame[col].notna().any():
            return float(np.nansum(frame[col].to_numpy(dtype=float)))
    return None


def _scale(ar: AnalysisResult, style: NumberStyle) -> EffectScale:
    signs = set(ar.effects["sign"].tolist()) if ar.k else {1}
    return EffectScale(ar.analysis.measure, int(signs.pop()) if len(signs) == 1 else 0, style)


def _comparator_risk(ar: AnalysisResult) -> float | None:
    """GRADEpro's "study population" risk: control events over control participants, studies with counts."""
    if ar.analysis.outcome_type != "dichotomous" or not ar.k or "events_c" not in ar.effects:
        return None
    rows = ar.effects[ar.effects["events_c"].notna() & ar.effects["total_c"].notna()]
    total = float(rows["total_c"].sum())
    return float(rows["events_c"].sum()) / total if total > 0 else None


def _strip_stop(text: str) -> str:
    return text.strip().rstrip(".")


def _footnote(domain: str, suggestion: rules.Judgement, final: str, override: Override | None) -> str | None:
    words = DOMAIN_WORDS[domain]
    n = DOWNGRADE[final]
    if override is not None:
        done = f"Rated down {levels_phrase(n)} for {words}" if n else f"Not rated down for {words}"
        told = (
            "As the rules suggest."
            if final == suggestion.rating
            else f"The rules suggest {suggestion.rating}: {suggestion.reason}."
        )
        return f"{done} by the review authors: {_strip_stop(override.reason)}. {told}"
    if final == NOT_ASSESSABLE:
        return f"{words[0].upper()}{words[1:]} not assessable: {suggestion.reason}."
    if n:
        return f"Rated down {levels_phrase(n)} for {words}: {suggestion.reason}."
    return None


def _suggestions(
    ar: AnalysisResult,
    outcome: Outcome,
    scale: EffectScale,
    thresholds: Thresholds,
    comparator_risk: float | None,
    level: float,
    min_studies_egger: int,
    settings: rules.GradeSettings,
) -> dict[str, rules.Judgement]:
    res = ar.result
    if res is None:
        why = f"not pooled: {ar.note}" if ar.note else "not pooled"
        return {d: rules.Judgement(NOT_ASSESSABLE, why) for d in DOMAINS}
    fx = ar.effects
    small = thresholds.small
    studies = ar.effects
    direction = 1 if scale.oriented(res.estimate) >= 0 else -1
    ois = rules.optimal_information_size(ar.analysis.measure, small, comparator_risk, settings, direction)
    name = "the minimal important difference" if outcome.mid else "the threshold for a small effect"
    tf = ar.trimfill
    return {
        "risk_of_bias": rules.risk_of_bias(
            fx["weight"].to_numpy(dtype=float),
            [str(j or "no information") for j in fx["rob_overall"]],
            estimate=res.estimate,
            without_high=ar.without_high_rob.estimate if ar.without_high_rob else None,
            small=small,
            settings=settings,
            scale=scale,
        ),
        "inconsistency": _total_heterogeneity(
            res,
            scale,
            rules.inconsistency(
                res.k,
                res.i2,
                res.pi_low,
                res.pi_high,
                res.estimate,
                studies["ci_low"].tolist(),
                studies["ci_high"].tolist(),
                small=small,
                settings=settings,
                scale=scale,
            ),
        ),
        "indirectness": rules.indirectness(),
        "imprecision": rules.imprecision(
            res.ci_low,
            res.ci_high,
            small=small,
            participants=ar.participants,
            ois=ois,
            level=level,
            threshold_name=name,
            settings=settings,
            scale=scale,
        ),
        "publication_bias": rules.publication_bias(
            ar.k,
            min_studies=min_studies_egger,
            egger_p=ar.egger.pval if ar.egger else None,
            egger_statistic=ar.egger.statistic if ar.egger else None,
            estimate=res.estimate,
            trimfill_k0=tf.k0 if tf else None,
            trimfill_estimate=tf.estimate if tf else None,
            settings=settings,
            scale=scale,
        ),
    }


def _total_heterogeneity(res, scale: EffectScale, judgement: rules.Judgement) -> rules.Judgement:
    """A three-level model is judged on its total I² (the sum of its levels'), and says so, with each level's."""
    levels = getattr(res, "i2_levels", None)
    if levels is None:
        return judgement
    i2 = scale.style.i2(res.i2)
    between, within = (scale.style.percent(x) for x in levels)
    total = f"total {i2} (three-level model: between studies {between}, within studies {within})"
    values = {**judgement.values, "i2_between": levels[0], "i2_within": levels[1]}
    return replace(judgement, reason=judgement.reason.replace(i2, total, 1), values=values)


def _effect(ar: AnalysisResult, scale: EffectScale, comparator_risk: float | None) -> EffectSummary | None:
    res = ar.result
    if res is None:
        return None
    est, lo, hi = res.estimate, res.ci_low, res.ci_high
    shown_lo, shown_hi = sorted((scale.shown(lo), scale.shown(hi)))
    if scale.harmonised:
        direction = "harmonised: higher values favour the intervention (instruments of both directions)"
    else:
        direction = "higher values are better" if scale.sign > 0 else "lower values are better"
    common = dict(
        measure=scale.measure,
        estimate=scale.shown(est),
        ci_low=shown_lo,
        ci_high=shown_hi,
        relative=relative_text(scale, est, lo, hi),
        direction=scale.style.spell(direction),
    )
    if ar.analysis.outcome_type == "dichotomous":
        if comparator_risk is None or scale.harmonised:
            return EffectSummary(absolute=DASH, **common)  # type: ignore[arg-type]
        risks = absolute(scale, comparator_risk, est, lo, hi)
        return EffectSummary(
            absolute=risks.difference_text,
            comparator=risks.comparator_text,
            intervention=risks.intervention_text,
            risks=risks,
            **common,
        )  # type: ignore[arg-type]
    text = difference_text(scale, est, lo, hi)
    return EffectSummary(absolute=text, intervention=text, **common)  # type: ignore[arg-type]


def assess_analysis(
    ar: AnalysisResult,
    outcome: Outcome,
    *,
    overrides: Mapping[str, Override] | None = None,
    min_studies_egger: int = 10,
    level: float = 95,
    style: NumberStyle = STYLES["JAMA"],
    settings: rules.GradeSettings = rules.DEFAULT_SETTINGS,
    subject: str = "The intervention",
) -> Assessment:
    """The GRADE assessment of one analysis result, its overrides applied and its footnotes lettered."""
    overrides = overrides or {}
    a = ar.analysis
    scale = _scale(ar, style)
    cr = _comparator_risk(ar)
    t = outcome.thresholds
    thresholds = thresholds_for(a.measure, (t.small, t.moderate, t.large), outcome.mid, cr)
    designs = ar.effects["design"].astype(str).tolist() if ar.k else []
    start, design, start_note = rules.start_level(designs, settings)
    suggested = _suggestions(ar, outcome, scale, thresholds, cr, level, min_studies_egger, settings)

    letters = Lettering(style.spell)
    certainty_letters: list[str] = []
    start_letter = letters(f"{start_note[0].upper()}{start_note[1:]}.") if start_note else None
    ratings = []
    for domain in DOMAINS:
        s = suggested[domain]
        o = overrides.get(domain)
        final = o.judgement if o else s.rating
        text = _footnote(domain, s, final, o)
        ratings.append(
            DomainRating(domain, s.rating, final, s.reason, s.values, o, letters(text) if text else None, text)
        )
    suggested_level = (
        rules.certainty(start, (DOWNGRADE[s.rating] for s in suggested.values())) if ar.result is not None else None
    )
    final_level = rules.certainty(start, (r.downgrade for r in ratings)) if ar.result is not None else None
    c = overrides.get("certainty")
    if c is not None:
        final_level = LEVEL_OF[c.judgement]
        before = word(suggested_level).lower() if suggested_level else "not assessed"
        certainty_letters.append(
            letters(
                f"Certainty set to {c.judgement} by the review authors: {_strip_stop(c.reason)}. "
                f"The domains give {before}."
            )
        )
    effect = _effect(ar, scale, cr)
    size_index = size(ar.result.estimate, thresholds) if ar.result is not None else 0
    verb = direction_verb(scale, ar.result.estimate) if ar.result is not None else "increase"
    fx = ar.effects
    return Assessment(
        analysis_id=a.id,
        outcome_id=a.outcome_id,
        outcome=a.outcome,
        domain_id=a.domain_id,
        domain=a.domain,
        timepoint=a.window,
        measure=a.measure,
        importance=a.importance,
        k=ar.k,
        participants=ar.participants,
        participants_intervention=_sum(fx, "n_i", "total_i"),
        participants_comparator=_sum(fx, "n_c", "total_c"),
        events_intervention=_sum(fx, "events_i"),
        events_comparator=_sum(fx, "events_c"),
        instruments=tuple(dict.fromkeys(fx["instrument_name"].tolist())) if ar.k else (),
        design=design,
        start=start,
        domains=tuple(ratings),
        suggested_level=suggested_level,
        level=final_level,
        certainty_override=c,
        footnotes=tuple((let, text) for text, let in letters.items()),
        start_footnote=start_letter,
        certainty_footnotes=tuple(certainty_letters),
        effect=effect,
        size=None if ar.result is None else EFFECT_SIZES[size_index],
        statement=statement(final_level if ar.result is not None else None, size_index, verb, a.outcome, subject),
        note=ar.note,
    )
