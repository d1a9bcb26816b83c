"""Summary-of-findings tables and evidence profiles as plain rows (dicts of text and numbers, JSON-ready).

One table of each kind per outcome domain of the review (GRADEpro: one per comparison and question), in the
Cochrane/GRADEpro layout. Both tables of a domain share one set of lettered footnotes, lettered in order of
appearance and reused for identical text, so that a letter means the same thing in the paper and supplement.
Rendering (HTML, DOCX, PDF) belongs to the documents layer; nothing here is laid out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from erh_report.grade.assess import Assessment
from erh_report.grade.footnotes import Lettering
from erh_report.grade.levels import NOT_ASSESSABLE, SERIOUS, VERY_SERIOUS
from erh_report.grade.wording import DASH
from erh_report.numbers import NumberStyle

OTHER_CONSIDERATIONS = {
    SERIOUS: "publication bias strongly suspected",
    VERY_SERIOUS: "publication bias very strongly suspected",
    NOT_ASSESSABLE: "publication bias not assessable",
}


def _groups(assessments: Sequence[Assessment]) -> list[tuple[str, str, list[Assessment]]]:
    """(domain id, domain name, its assessments), domains in plan order."""
    out: dict[str, tuple[str, str, list[Assessment]]] = {}
    for a in assessments:
        out.setdefault(a.domain_id, (a.domain_id, a.domain, []))[2].append(a)
    return list(out.values())


def _lettered(rows: Iterable[Assessment]) -> tuple[list[tuple[Assessment, dict[str, str]]], list[dict[str, str]]]:
    """Each assessment with {its own letter: the table's letter}, and the table's footnotes."""
    lettering = Lettering()
    out = [(a, {local: lettering(text) for local, text in a.footnotes}) for a in rows]
    return out, lettering.notes()


def _letters(mapping: dict[str, str], local: Iterable[str | None]) -> list[str]:
    return [mapping[x] for x in local if x]


def _header(domain_id: str, domain: str, question: dict[str, str]) -> dict[str, Any]:
    title = (
        f"{question.get('intervention', 'Intervention')} compared with "
        f"{question.get('comparator', 'control')} for {question.get('population', 'the population')}"
    )
    return {
        "id": domain_id,
        "domain": domain,
        "title": title,
        "population": question.get("population"),
        "intervention": question.get("intervention"),
        "comparison": question.get("comparator"),
    }


def _count(style: NumberStyle, x: float | None) -> str:
    return style.integer(x) if x is not None else DASH


def _participants_studies(a: Assessment, style: NumberStyle) -> str:
    """ "3,709 (31 RCTs)", as GRADEpro writes the № of participants (studies)."""
    if a.design == "randomised trials":
        studies = f"{a.k} RCT{'s' if a.k != 1 else ''}"
    else:
        studies = f"{a.k} stud{'ies' if a.k != 1 else 'y'}"
    return f"{style.integer(a.participants)} ({studies})"


def _outcome_cell(a: Assessment) -> str:
    lines = [f"{a.outcome} ({a.timepoint.lower()})"]
    if a.instruments:
        lines.append("assessed with: " + "; ".join(a.instruments))
    if a.effect is not None and a.measure in ("SMD", "MD"):
        lines.append(a.effect.direction)
    return "\n".join(lines)


def sof_row(a: Assessment, mapping: dict[str, str], style: NumberStyle) -> dict[str, Any]:
    """One outcome of a summary-of-findings table: every explanation's letter sits by the certainty."""
    e = a.effect
    letters = sorted(set(mapping.values()), key=lambda s: (len(s), s))
    certainty = f"{a.symbols} {a.word}"
    return {
        "analysis_id": a.analysis_id,
        "outcome": a.outcome,
        "timepoint": a.timepoint,
        "instruments": list(a.instruments),
        "outcome_cell": _outcome_cell(a),
        "risk_with_comparator": e.comparator if e else DASH,
        "risk_with_intervention": e.intervention if e else DASH,
        "risk_difference": e.absolute if e else DASH,
        "relative_effect": e.relative if e else DASH,
        "participants_studies": _participants_studies(a, style),
        "k": a.k,
        "participants": a.participants,
        "measure": a.measure,
        "estimate": e.estimate if e else None,
        "ci_low": e.ci_low if e else None,
        "ci_high": e.ci_high if e else None,
        "comparator_risk": e.risks.comparator_risk if e and e.risks else None,
        "certainty": certainty,
        "certainty_level": a.level,
        "certainty_symbols": a.symbols,
        "certainty_word": a.word,
        "footnotes": letters,
        "comments": a.statement if e else (a.note or a.statement),
        "importance": a.importance,
    }


def _arm(style: NumberStyle, events: float | None, total: float | None, dichotomous: bool) -> str:
    if total is None:
        return DASH
    if dichotomous and events is not None and total > 0:
        return f"{style.integer(events)}/{style.integer(total)} ({style.number(100 * events / total, 1)}%)"
    return style.integer(total)


def profile_row(a: Assessment, mapping: dict[str, str], style: NumberStyle) -> dict[str, Any]:
    """One outcome of an evidence profile: each domain cell with its own footnote letters."""
    dichotomous = a.events_comparator is not None
    row: dict[str, Any] = {
        "analysis_id": a.analysis_id,
        "outcome": a.outcome,
        "timepoint": a.timepoint,
        "instruments": list(a.instruments),
        "number_of_studies": a.k,
        "study_design": style.spell(a.design),
        "study_design_footnotes": _letters(mapping, [a.start_footnote]),
    }
    for d in a.domains:
        if d.domain == "publication_bias":
            row["other_considerations"] = OTHER_CONSIDERATIONS.get(d.final, "none")
            row["other_considerations_footnotes"] = _letters(mapping, [d.footnote])
        else:
            row[d.domain] = d.final
            row[f"{d.domain}_footnotes"] = _letters(mapping, [d.footnote])
    e = a.effect
    row.update(
        participants_intervention=a.participants_intervention,
        participants_comparator=a.participants_comparator,
        intervention_arm=_arm(style, a.events_intervention, a.participants_intervention, dichotomous),
        comparator_arm=_arm(style, a.events_comparator, a.participants_comparator, dichotomous),
        participants=a.participants,
        relative_effect=e.relative if e else DASH,
        absolute_effect=e.absolute if e else DASH,
        certainty=f"{a.symbols} {a.word}",
        certainty_level=a.level,
        certainty_footnotes=_letters(mapping, a.certainty_footnotes),
        importance=a.importance,
    )
    return row


def _tables(
    assessments: Sequence[Assessment], question: dict[str, str], style: NumberStyle, make_row: Any
) -> list[dict[str, Any]]:
    out = []
    for domain_id, domain, rows in _groups(assessments):
        lettered, notes = _lettered(rows)
        out.append(
            {
                **_header(domain_id, domain, question),
                "rows": [make_row(a, mapping, style) for a, mapping in lettered],
                "footnotes": notes,
            }
        )
    return out


def sof_tables(assessments: Sequence[Assessment], question: dict[str, str], style: NumberStyle) -> list[dict]:
    """Summary-of-findings tables, one per outcome domain."""
    return _tables(assessments, question, style, sof_row)


def evidence_profiles(assessments: Sequence[Assessment], question: dict[str, str], style: NumberStyle) -> list[dict]:
    """GRADE evidence profiles, one per outcome domain."""
    return _tables(assessments, question, style, profile_row)


# --------------------------------------------------------------------------------- flat tables
def _flat(tables: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of every table in one frame for CSV/XLSX: lists joined by commas, the table named per row."""
    records = []
    for t in tables:
        for r in t["rows"]:
            rec = {"table": t["id"], "domain": t["domain"]}
            rec.update({k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in r.items()})
            records.append(rec)
    return pd.DataFrame.from_records(records)


def frames(assessments: Sequence[Assessment], question: dict[str, str], style: NumberStyle) -> dict[str, pd.DataFrame]:
    """The GRADE tables keyed by the name they are written under."""
    sof = sof_tables(assessments, question, style)
    domains = pd.DataFrame.from_records(
        [
            {
                "analysis_id": a.analysis_id,
                **{
                    k: (", ".join(f"{x}={y}" for x, y in v.items()) if isinstance(v, dict) else v)
                    for k, v in d.as_dict().items()
                },
            }
            for a in assessments
            for d in a.domains
        ]
    )
    certainty = pd.DataFrame.from_records(
        [
            {
                "analysis_id": a.analysis_id,
                "outcome": a.outcome,
                "timepoint": a.timepoint,
                "design": style.spell(a.design),
                "start": a.start,
                "suggested_level": a.suggested_level,
                "level": a.level,
                "symbols": a.symbols,
                "word": a.word,
                "overridden": a.certainty_override is not None,
                "override_reason": a.certainty_override.reason if a.certainty_override else None,
                "size": a.size,
                "statement": a.statement,
            }
            for a in assessments
        ]
    )
    notes = pd.DataFrame.from_records(
        [{"table": t["id"], **n} for t in sof for n in t["footnotes"]], columns=["table", "letter", "text"]
    )
    return {
        "grade_certainty": certainty,
        "grade_domains": domains,
        "summary_of_findings": _flat(sof),
        "evidence_profiles": _flat(evidence_profiles(assessments, question, style)),
        "grade_footnotes": notes,
    }
