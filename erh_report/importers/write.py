"""A RevMan review (``importers.model.Review``) as a data folder in the project's own format.

One catalogue outcome per RevMan outcome (its comparison is the domain), one instrument (the data as
RevMan holds them: no sign reversal), one time window; one plan entry per analysis carrying RevMan's id
("3.2"), measure, pooling method, model, totals and labels. Study rows that RevMan cannot estimate
either (no participants, a zero SD or SE, fractional counts) are left out and listed as notes. What the
source does not hold is named in ``source.not_provided`` instead of being invented.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field

import yaml

from erh_report.importers.model import Outcome, Review, Row, Study

OUTCOME_COLUMNS = ("study_id", "outcome", "instrument", "followup_months", "arm", "role", "n", "mean", "sd",
                   "events", "total", "yi", "sei", "n_total", "subgroup")
ROB2_DOMAINS = ("d1", "d2", "d3", "d4", "d5")
WINDOW = "all"
INSTRUMENT = "data"


@dataclass
class Folder:
    """The files of the data folder (name -> text) and what the import had to say."""

    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def outcome_key(o: Outcome) -> str:
    return f"o{o.comparison}_{o.number}"


def _year(text: str, name: str) -> str:
    for candidate in (text, name):
        m = re.search(r"\b(19\d\d|20\d\d|2100)\b", candidate or "")
        if m:
            return m.group(1)
    return ""


def _csv(header: tuple[str, ...] | list[str], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(v) for k, v in r.items()})
    return out.getvalue()


def _cell(v: object) -> object:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
        return int(v)
    return v


def _whole(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x == int(x)


def _outcome_rows(o: Outcome, r: Row, subgroup: str, notes: list[str]) -> list[dict[str, object]]:
    """The outcome_data rows of one study row, or none (with a note) when RevMan could not use it either."""
    base = {"study_id": r.study_id, "outcome": outcome_key(o), "instrument": INSTRUMENT, "followup_months": 0,
            "subgroup": subgroup}
    where = f"analysis {o.id}{f' ({subgroup})' if subgroup else ''}, study {r.study_id}"
    if o.data_type == "DICH":
        e1, n1, e2, n2 = r.events_1, r.total_1, r.events_2, r.total_2
        if not all(_whole(x) for x in (e1, n1, e2, n2)) or min(n1, n2) < 2 or e1 > n1 or e2 > n2:  # type: ignore
            notes.append(f"{where}: left out (events/totals {e1}/{n1}, {e2}/{n2} are not usable counts)")
            return []
        if o.swap_events:
            e1, e2 = n1 - e1, n2 - e2  # type: ignore[operator]
        return [{**base, "arm": "experimental", "role": "intervention", "events": e1, "total": n1},
                {**base, "arm": "control", "role": "control", "events": e2, "total": n2}]
    if o.data_type == "CONT":
        vals = (r.total_1, r.mean_1, r.sd_1, r.total_2, r.mean_2, r.sd_2)
        if (any(x is None or not math.isfinite(x) for x in vals) or not (_whole(r.total_1) and _whole(r.total_2))
                or min(r.total_1, r.total_2) < 2 or min(r.sd_1, r.sd_2) <= 0):  # type: ignore[type-var]
            notes.append(f"{where}: left out (n, mean, SD {vals} cannot give an effect: RevMan's 'not estimable')")
            return []
        return [{**base, "arm": "experimental", "role": "intervention", "n": r.total_1, "mean": r.mean_1,
                 "sd": r.sd_1},
                {**base, "arm": "control", "role": "control", "n": r.total_2, "mean": r.mean_2, "sd": r.sd_2}]
    if r.estimate is None or r.se is None or not math.isfinite(r.estimate) or not r.se > 0:
        notes.append(f"{where}: left out (estimate {r.estimate}, SE {r.se}: RevMan's 'not estimable')")
        return []
    total = (r.total_1 or 0) + (r.total_2 or 0)
    return [{**base, "arm": "experimental vs control", "role": "contrast", "yi": r.estimate, "sei": r.se,
             "n_total": total if _whole(total) and total >= 2 else None}]


def _analysis_entry(o: Outcome) -> dict[str, object]:
    entry: dict[str, object] = {
        "outcome": outcome_key(o), "window": WINDOW, "id": o.id,
        "measure": "GEN" if o.data_type == "IV" and o.measure not in ("HR", "RATIO", "OR", "RR", "MD", "SMD", "RD")
        else o.measure,
        "pooling": o.method, "model": "random" if o.random else "fixed", "totals": o.totals,
        "subgroups": o.has_subgroups, "subgroup_test": o.subgroup_test, "level": o.level_total,
    }
    if any(o.group_labels):
        entry["group_labels"] = list(o.group_labels)
    if any(o.graph_labels):
        entry["graph_labels"] = list(o.graph_labels)
    entry["source_id"] = f"CMP-{o.comparison:03d}.{o.number:02d}"
    return entry


def review_yaml(review: Review, not_provided: list[str]) -> dict[str, object]:
    domains: dict[int, dict[str, object]] = {}
    for o in review.outcomes:
        d = domains.setdefault(o.comparison, {"id": f"c{o.comparison}", "name": o.comparison_name
                                              or f"Comparison {o.comparison}", "role": "primary", "outcomes": []})
        d["outcomes"].append({  # type: ignore[union-attr]
            "id": outcome_key(o), "name": o.name or f"Outcome {o.id}",
            "type": "dichotomous" if o.data_type == "DICH" else "continuous",
            "instruments": [{"id": INSTRUMENT, "name": (o.name or o.id) + (f" ({o.units})" if o.units else ""),
                             "higher_is_better": True}]})
    source: dict[str, object] = {"file": review.source, "format": review.source_format}
    if review.doi:
        source["doi"] = review.doi
    source["not_provided"] = not_provided
    return {
        "illustrative": False,
        "source": source,
        "title": review.title or review.source,
        "authors": [{"name": a} for a in review.authors],
        "settings": {"method": "DL", "level": 95, "number_style": "RevMan5", "smd_variant": "revman"},
        "domains": list(domains.values()),
        "plan": {
            "windows": [{"id": WINDOW, "label": "As reported", "min_months": 0}],
            "analyses": [_analysis_entry(o) for o in review.outcomes],
            "min_studies": 1, "subgroups": [], "moderators": [],
            "sensitivity": {"exclude_high_rob": False, "leave_one_out": False},
        },
    }


def build_folder(review: Review, *, rob2: str | None = None, prisma: str | None = None) -> Folder:
    """The data folder's files. ``rob2``: a risk_of_bias.csv (RoB 2) made from --rob; ``prisma``: --prisma's text."""
    out = Folder()
    used = {r.study_id for o in review.outcomes for r in o.rows}
    studies = [s for s in review.studies]
    known = {s.id for s in studies}
    for sid in sorted(used - known):
        out.notes.append(f"study {sid} has data but is not in the list of included studies: added")
        studies.append(Study(sid, sid))
    refs = []
    study_rows = []
    for s in studies:
        row: dict[str, object] = {"study_id": s.id, "label": s.name or s.id, "year": _year(s.year, s.name)}
        if s.references:
            row["reference"] = s.id
            refs.append({"id": s.id, "type": "article", "title": s.references[0], "note": "; ".join(s.references)})
        study_rows.append(row)
    out.files["studies.csv"] = _csv(("study_id", "label", "year", "reference"), study_rows)
    data_rows: list[dict[str, object]] = []
    for o in review.outcomes:
        names = {g.number: g.name for g in o.subgroups}
        before = len(data_rows)
        for r in o.rows:
            subgroup = names.get(r.subgroup, str(r.subgroup)) if o.has_subgroups and r.subgroup else ""
            data_rows.extend(_outcome_rows(o, r, subgroup, out.notes))
        if len(data_rows) == before:
            out.notes.append(f"analysis {o.id} ({o.name}): no usable study rows; it is kept in the plan without data")
    out.files["outcome_data.csv"] = _csv(OUTCOME_COLUMNS, data_rows)
    not_provided = ["grade"]
    if rob2 is not None:
        out.files["risk_of_bias.csv"] = rob2
    else:
        not_provided.append("risk_of_bias")
        if review.risk_of_bias:
            out.files["imported/risk_of_bias_revman.csv"] = _csv(
                ("study_id", "domain", "judgement", "support"),
                [{"study_id": b.study_id, "domain": b.domain, "judgement": b.judgement, "support": b.support}
                 for b in review.risk_of_bias])
            out.notes.append(f"{len(review.risk_of_bias)} risk-of-bias judgements (RevMan's Cochrane tool, not RoB 2) "
                             "kept in imported/risk_of_bias_revman.csv; the outputs say risk of bias not provided")
    if prisma is not None:
        out.files["prisma.csv"] = prisma
    else:
        not_provided.append("prisma")
    if refs:
        out.files["references.json"] = json.dumps(refs, indent=1, ensure_ascii=False) + "\n"
    text = yaml.safe_dump(review_yaml(review, not_provided), sort_keys=False, allow_unicode=True, width=110)
    head = f"# Imported by erh-report import from {review.source} ({review.source_format}).\n"
    out.files["review.yaml"] = head + text
    if out.notes:
        out.files["imported/notes.txt"] = "\n".join(out.notes) + "\n"
    return out


def rob2_from_robvis(text: str, source: str, study_ids: dict[str, str]) -> tuple[str, list[str]]:
    """A robvis RoB 2 CSV (Study, D1..D5, Overall[, Weight]) as risk_of_bias.csv; robvis's words (Low, Some
    concerns, High, No information) are RoB 2's. ``study_ids`` maps study names to ids."""
    from erh_report.errors import InputError, Problem

    reader = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not reader:
        raise InputError([Problem(source, "the file is empty", expected="a robvis RoB 2 table")])
    header = [h.strip() for h in reader[0]]
    if len(header) < 7 or not header[1].upper().startswith("D1") or header[6].lower() != "overall":
        raise InputError([Problem(source, "not a robvis RoB 2 table", row=1, value=", ".join(header[:8]),
                                  expected="Study, D1, D2, D3, D4, D5, Overall (ROBINS-I and ROB1 tables have more "
                                  "domains and do not fit RoB 2)")])
    rows, notes, problems = [], [], []
    words = {"low": "low", "some concerns": "some concerns", "high": "high", "no information": "no information"}
    for line, cells in enumerate(reader[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        name = cells[0].strip()
        sid = study_ids.get(name) or study_ids.get(name.lower())
        if sid is None:
            notes.append(f"{source} row {line}: study '{name}' is not in the review; left out")
            continue
        judged = {}
        for col, cell in zip(("d1", "d2", "d3", "d4", "d5", "overall"), cells[1:7], strict=False):
            word = words.get(" ".join(cell.split()).lower())
            if word is None:
                problems.append(Problem(source, "not a RoB 2 judgement", row=line, column=col, value=cell,
                                        expected="Low, Some concerns, High or No information"))
            judged[col] = word
        rows.append({"study_id": sid, "outcome": "", **judged})
    if problems:
        raise InputError(problems)
    return _csv(("study_id", "outcome", *ROB2_DOMAINS, "overall"), rows), notes
