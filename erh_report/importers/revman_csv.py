"""RevMan 5's "export analysis data" CSV: one row per comparison, outcome, subgroup and study.

Rows are told apart by their numbers and cells: Outcome Number 0 is a comparison; a row with a Data Type
is an outcome; a row with a Q value (or df) is a subgroup's pooled result; the others are study rows
(of the subgroup given by Subgroup Number). The export does not hold the totals or the subgroup-test
setting: totals are taken as YES. Pooled values are rounded to 8 significant digits by RevMan.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict

from erh_report.errors import InputError, Problem
from erh_report.importers import names
from erh_report.importers.model import Outcome, Review, Row, Stored, Study, Subgroup

HEADER_START = ("Comparison Number", "Outcome Number", "Subgroup Number", "Name", "Data Type")
_STORED_COLUMNS = {
    "Effect Estimate": "effect_size",
    "CI Start": "ci_start",
    "CI End": "ci_end",
    "Q": "chi2",
    "P(Q)": "p_chi2",
    "I²(Q)": "i2",
    "Tau²": "tau2",
    "Z": "z",
    "P(Z)": "p_z",
    "Qint": "q",
    "P(Qint)": "p_q",
    "I²(Qint)": "i2_q",
    "df": "df",
}


def looks_like(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return all(h in first for h in HEADER_START)


def _stored(cells: dict[str, str], pooled_outcome: bool) -> Stored:
    values = {key: v for col, key in _STORED_COLUMNS.items() if (v := names.number(cells.get(col))) is not None}
    if not pooled_outcome:
        for key in ("q", "p_q", "i2_q"):
            values.pop(key, None)
    calculated = values.get("ci_start") is not None and values.get("ci_start") != values.get("ci_end")
    return Stored(values, calculated)


def parse(text: str, source: str) -> Review:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    comparisons: dict[int, str] = {}
    heads: dict[tuple[int, int], dict[str, str]] = {}
    subgroups: dict[tuple[int, int], dict[int, Subgroup]] = defaultdict(dict)
    rows: dict[tuple[int, int], list[Row]] = defaultdict(list)
    studies: dict[str, Study] = {}
    problems: list[Problem] = []
    for line, cells in enumerate(reader, start=2):
        try:
            c, o, s = (int(float(cells[k] or 0)) for k in HEADER_START[:3])
        except ValueError:
            problems.append(
                Problem(
                    source,
                    "not a comparison/outcome/subgroup number",
                    row=line,
                    expected="whole numbers in the first three columns",
                )
            )
            continue
        name = (cells.get("Name") or "").strip()
        if o == 0:
            comparisons[c] = name
        elif cells.get("Data Type"):
            heads[(c, o)] = cells
        elif names.number(cells.get("Q")) is not None or names.number(cells.get("df")) is not None:
            subgroups[(c, o)][s] = Subgroup(s, name, _stored(cells, False))
        else:
            sid = names.study_id(name)
            studies.setdefault(sid, Study(sid, name, (cells.get("Year of study") or "").strip()))
            rows[(c, o)].append(
                Row(
                    study_id=sid,
                    subgroup=s or None,
                    events_1=names.number(cells.get("Events 1")),
                    total_1=names.number(cells.get("Total 1")),
                    events_2=names.number(cells.get("Events 2")),
                    total_2=names.number(cells.get("Total 2")),
                    mean_1=names.number(cells.get("Mean 1")),
                    sd_1=names.number(cells.get("SD 1")),
                    mean_2=names.number(cells.get("Mean 2")),
                    sd_2=names.number(cells.get("SD 2")),
                    estimate=names.number(cells.get("Effect Estimate")),
                    se=names.number(cells.get("SE")),
                )
            )
    if problems:
        raise InputError(problems)
    outcomes = []
    for (c, o), cells in sorted(heads.items()):
        where = f"analysis {c}.{o}"
        data_type = names.data_type(cells["Data Type"], source, where)
        measure = names.measure_code(cells.get("Effect Measure", ""), source, where)
        method = names.method(cells.get("Statistical Method") or "IV", source, where)
        row_list = rows.get((c, o), [])
        if data_type != "IV":  # the generic columns are the study's effect on display, not inputs
            row_list = [Row(**{**r.__dict__, "estimate": None, "se": None}) for r in row_list]
        else:
            row_list = [
                Row(
                    r.study_id,
                    r.subgroup,
                    total_1=r.total_1,
                    total_2=r.total_2,
                    estimate=math.log(r.estimate)
                    if measure in ("HR", "OR", "RR", "RATIO") and r.estimate
                    else r.estimate,
                    se=r.se,
                )
                for r in row_list
            ]
        subs = tuple(subgroups[(c, o)][k] for k in sorted(subgroups[(c, o)]))
        outcomes.append(
            Outcome(
                comparison=c,
                number=o,
                comparison_name=comparisons.get(c, ""),
                name=cells.get("Name", "").strip(),
                data_type=data_type,
                measure=measure,
                method="PETO" if measure == "PETO_OR" else method,
                random=(cells.get("Analysis Model") or "").strip().lower().startswith("random"),
                has_subgroups=bool(subs),
                log_data=data_type == "IV" and measure in ("HR", "OR", "RR", "RATIO"),
                group_labels=(cells.get("Group Label 1", ""), cells.get("Group Label 2", "")),
                graph_labels=(cells.get("Left Graph Label", ""), cells.get("Right Graph Label", "")),
                rows=tuple(row_list),
                subgroups=subs,
                stored=_stored(cells, True),
            )
        )
    return Review(
        title=next(iter(comparisons.values()), source),
        source=source,
        source_format="RevMan 5 analysis data export (CSV)",
        studies=tuple(studies.values()),
        outcomes=tuple(outcomes),
    )
