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

from erh_report import rob_tools
from erh_report.data.columns import OUTCOME_COLUMNS
from erh_report.importers.model import Outcome, Review, Row, Study
from erh_report.rob_tools import RobTool

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
    base = {
        "study_id": r.study_id,
        "outcome": outcome_key(o),
        "instrument": INSTRUMENT,
        "followup_months": 0,
        "subgroup": subgroup,
    }
    where = f"analysis {o.id}{f' ({subgroup})' if subgroup else ''}, study {r.study_id}"
    if o.data_type == "DICH":
        e1, n1, e2, n2 = r.events_1, r.total_1, r.events_2, r.total_2
        if not all(_whole(x) for x in (e1, n1, e2, n2)) or min(n1, n2) < 2 or e1 > n1 or e2 > n2:  # type: ignore
            notes.append(f"{where}: left out (events/totals {e1}/{n1}, {e2}/{n2} are not usable counts)")
            return []
        if o.swap_events:
            e1, e2 = n1 - e1, n2 - e2  # type: ignore[operator]
        return [
            {**base, "arm": "experimental", "role": "intervention", "events": e1, "total": n1},
            {**base, "arm": "control", "role": "control", "events": e2, "total": n2},
        ]
    if o.data_type == "CONT":
        vals = (r.total_1, r.mean_1, r.sd_1, r.total_2, r.mean_2, r.sd_2)
        if (
            any(x is None or not math.isfinite(x) for x in vals)
            or not (_whole(r.total_1) and _whole(r.total_2))
            or min(r.total_1, r.total_2) < 2
            or min(r.sd_1, r.sd_2) <= 0
        ):  # type: ignore[type-var]
            notes.append(f"{where}: left out (n, mean, SD {vals} cannot give an effect: RevMan's 'not estimable')")
            return []
        return [
            {**base, "arm": "experimental", "role": "intervention", "n": r.total_1, "mean": r.mean_1, "sd": r.sd_1},
            {**base, "arm": "control", "role": "control", "n": r.total_2, "mean": r.mean_2, "sd": r.sd_2},
        ]
    if r.estimate is None or r.se is None or not math.isfinite(r.estimate) or not r.se > 0:
        notes.append(f"{where}: left out (estimate {r.estimate}, SE {r.se}: RevMan's 'not estimable')")
        return []
    total = (r.total_1 or 0) + (r.total_2 or 0)
    return [
        {
            **base,
            "arm": "experimental vs control",
            "role": "contrast",
            "yi": r.estimate,
            "sei": r.se,
            "n_total": total if _whole(total) and total >= 2 else None,
        }
    ]


def _analysis_entry(o: Outcome) -> dict[str, object]:
    entry: dict[str, object] = {
        "outcome": outcome_key(o),
        "window": WINDOW,
        "id": o.id,
        "measure": "GEN"
        if o.data_type == "IV" and o.measure not in ("HR", "RATIO", "OR", "RR", "MD", "SMD", "RD")
        else o.measure,
        "pooling": o.method,
        "model": "random" if o.random else "fixed",
        "totals": o.totals,
        "subgroups": o.has_subgroups,
        "subgroup_test": o.subgroup_test,
        "level": o.level_total,
    }
    if any(o.group_labels):
        entry["group_labels"] = list(o.group_labels)
    if any(o.graph_labels):
        entry["graph_labels"] = list(o.graph_labels)
    entry["source_id"] = f"CMP-{o.comparison:03d}.{o.number:02d}"
    return entry


def review_yaml(review: Review, not_provided: list[str], rob_tool: str | None = None) -> dict[str, object]:
    domains: dict[int, dict[str, object]] = {}
    for o in review.outcomes:
        d = domains.setdefault(
            o.comparison,
            {
                "id": f"c{o.comparison}",
                "name": o.comparison_name or f"Comparison {o.comparison}",
                "role": "primary",
                "outcomes": [],
            },
        )
        d["outcomes"].append(
            {  # type: ignore[union-attr]
                "id": outcome_key(o),
                "name": o.name or f"Outcome {o.id}",
                "type": "dichotomous" if o.data_type == "DICH" else "continuous",
                "instruments": [
                    {
                        "id": INSTRUMENT,
                        "name": (o.name or o.id) + (f" ({o.units})" if o.units else ""),
                        "higher_is_better": True,
                    }
                ],
            }
        )
    source: dict[str, object] = {"file": review.source, "format": review.source_format}
    if review.doi:
        source["doi"] = review.doi
    source["not_provided"] = not_provided
    return {
        "illustrative": False,
        "source": source,
        "title": review.title or review.source,
        "authors": [{"name": a} for a in review.authors],
        "settings": {
            "method": "DL",
            "level": 95,
            "number_style": "RevMan5",
            "smd_variant": "revman",
            **({"rob_tool": rob_tool} if rob_tool else {}),
        },
        "domains": list(domains.values()),
        "plan": {
            "windows": [{"id": WINDOW, "label": "As reported", "min_months": 0}],
            "analyses": [_analysis_entry(o) for o in review.outcomes],
            "min_studies": 1,
            "subgroups": [],
            "moderators": [],
            "sensitivity": {"exclude_high_rob": False, "leave_one_out": False},
        },
    }


def build_folder(review: Review, *, rob: tuple[str, str] | None = None, prisma: str | None = None) -> Folder:
    """The data folder's files. ``rob``: (tool, risk_of_bias.csv) made from --rob, else RevMan's own
    judgements (ROB 1) when the source holds some; ``prisma``: --prisma's text."""
    out = Folder()
    out.notes.extend(review.notes)  # what the reader could not bring in
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
    if review.risk_of_bias:  # RevMan's judgements as stored, with their support, per item and group
        out.files["imported/risk_of_bias_revman.csv"] = _csv(
            ("study_id", "domain", "judgement", "support"),
            [
                {"study_id": b.study_id, "domain": b.domain, "judgement": b.judgement, "support": b.support}
                for b in review.risk_of_bias
            ],
        )
    if rob is None and review.risk_of_bias:
        table, rob_notes = rob1_from_revman(review)
        out.notes += rob_notes
        if table.count("\n") > 1:
            rob = (rob_tools.ROB1.id, table)
            out.notes.append(
                f"{len(review.risk_of_bias)} risk-of-bias judgements (RevMan's Cochrane tool, ROB 1) "
                "written to risk_of_bias.csv; each study's overall judgement is derived (any high: "
                "high; all low: low; else unclear)"
            )
    if rob is not None:
        out.files["risk_of_bias.csv"] = rob[1]
    else:
        not_provided.append("risk_of_bias")
    if prisma is not None:
        out.files["prisma.csv"] = prisma
    else:
        not_provided.append("prisma")
    if refs:
        out.files["references.json"] = json.dumps(refs, indent=1, ensure_ascii=False) + "\n"
    text = yaml.safe_dump(
        review_yaml(review, not_provided, rob[0] if rob else None), sort_keys=False, allow_unicode=True, width=110
    )
    head = f"# Imported by erh-report import from {review.source} ({review.source_format}).\n"
    out.files["review.yaml"] = head + text
    if out.notes:
        out.files["imported/notes.txt"] = "\n".join(out.notes) + "\n"
    return out


def _robvis_candidates(header: list[str]) -> list[RobTool]:
    """The tools whose robvis template has this header (Study, domains, Overall[, Weight])."""
    cols = [" ".join(re.split(r"[\s._]+", h)).strip().lower() for h in header[1:]]  # R's "Random.sequence."
    if cols and cols[-1] == "weight":
        cols = cols[:-1]
    if not cols or cols[-1] != "overall":
        return []
    domains = cols[:-1]
    out = []
    for t in rob_tools.TOOLS.values():
        if len(domains) != len(t.domains):
            continue
        short = [d.header.lower() for d in t.domains]
        if domains == [f"d{i}" for i in range(1, len(t.domains) + 1)] or all(
            c.startswith(h) for c, h in zip(domains, short, strict=True)
        ):
            out.append(t)
    return out


def rob_from_robvis(text: str, source: str, study_ids: dict[str, str]) -> tuple[str, str, list[str]]:
    """A robvis CSV as risk_of_bias.csv: the tool (from the header, and from the words when a D1..D7
    header fits both ROBINS-I and ROB 1), the table and notes. ``study_ids`` maps study names to ids."""
    from erh_report.errors import InputError, Problem

    reader = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not reader:
        raise InputError([Problem(source, "the file is empty", expected="a robvis table")])
    header = [h.strip() for h in reader[0]]
    candidates = _robvis_candidates(header)
    if not candidates:
        raise InputError(
            [
                Problem(
                    source,
                    "not a robvis table",
                    row=1,
                    value=", ".join(header[:10]),
                    expected="robvis's template for RoB 2 (Study, D1-D5, Overall), ROBINS-I "
                    "(Study, D1-D7, Overall) or ROB 1 (Study, Random sequence generation, ..., "
                    "Other sources of bias, Overall), each with an optional Weight",
                )
            ]
        )
    body = [(line, cells) for line, cells in enumerate(reader[1:], start=2) if any(c.strip() for c in cells)]
    width = len(candidates[0].domains) + 1
    words = {" ".join(c.split()).lower() for _, cells in body for c in cells[1 : width + 1]}
    tool = next((t for t in candidates if words <= set(t.judgements)), candidates[0])
    cols = (*tool.domain_ids, "overall")
    rows, notes, problems = [], [], []
    for line, cells in body:
        name = cells[0].strip()
        sid = study_ids.get(name) or study_ids.get(name.lower())
        if sid is None:
            notes.append(f"{source} row {line}: study '{name}' is not in the review; left out")
            continue
        judged = {}
        for col, cell in zip(cols, [*cells[1:], *[""] * len(cols)][: len(cols)], strict=True):
            word = " ".join(cell.split()).lower()
            if word not in tool.judgements:
                problems.append(
                    Problem(
                        source,
                        f"not a {tool.name} judgement",
                        row=line,
                        column=header[len(judged) + 1],
                        value=cell,
                        expected=tool.expected(),
                    )
                )
            judged[col] = word
        rows.append({"study_id": sid, "outcome": "", **judged})
    if problems:
        raise InputError(problems)
    return tool.id, _csv(("study_id", "outcome", *cols), rows), notes


def rob1_from_revman(review: Review) -> tuple[str, list[str]]:
    """RevMan 5's own risk-of-bias table (the Cochrane tool, ROB 1) as risk_of_bias.csv, one row per study.

    RevMan keeps no overall judgement: it is derived as robvis and the Cochrane Handbook summarise a
    study (``rob_tools.rob1_overall``). A domain judged per outcome group takes the study's worst
    judgement; a domain without a judgement for a study is "no information"; items that are not one of
    the tool's domains (a review's own items) are left out with a note."""
    tool = rob_tools.ROB1
    judged: dict[str, dict[str, str]] = {}
    skipped: set[str] = set()
    for b in review.risk_of_bias:
        domains = _rob1_domains(b.domain)
        if not domains:
            skipped.add(b.domain)
        for d in domains:
            cell = judged.setdefault(b.study_id, {})
            word = b.judgement.lower()
            if d not in cell or tool.rank[word] > tool.rank[cell[d]]:
                cell[d] = word
    notes = [
        f"risk-of-bias item '{name}' is not a domain of the Cochrane tool (ROB 1): left out" for name in sorted(skipped)
    ]
    rows = []
    for s in review.studies:
        if s.id not in judged:
            continue
        cells = {d: judged[s.id].get(d, "no information") for d in tool.domain_ids}
        overall = rob_tools.rob1_overall(list(cells.values()))
        rows.append({"study_id": s.id, "outcome": "", **cells, "overall": overall})
    return _csv(("study_id", "outcome", *tool.domain_ids, "overall"), rows), notes


def _rob1_domains(item: str) -> tuple[str, ...]:
    """The ROB 1 domain(s) of a RevMan risk-of-bias item, by its name (RevMan 5.0's six items included)."""
    name = item.lower()
    rules = (
        ("sequence", ("d1",)),
        ("allocation", ("d2",)),
        ("participants", ("d3",)),
        ("performance", ("d3",)),
        ("outcome assess", ("d4",)),
        ("detection", ("d4",)),
        ("blinding", ("d3", "d4")),
        ("incomplete", ("d5",)),
        ("attrition", ("d5",)),
        ("selective", ("d6",)),
        ("other", ("d7",)),
    )
    return next((domains for key, domains in rules if key in name), ())
