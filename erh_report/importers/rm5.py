"""RevMan 5 XML (``.rm5``): comparisons, outcomes, subgroups, study rows and the results RevMan stored.

The XML declaration names the encoding (ISO-8859-1 or UTF-8) and the parser honours it. Study ids
escape characters XML names cannot hold as ``_xHHHH_`` (``STD-MRC_x002d_1`` is study ``MRC-1``);
numbers may be written as ``6.5E-4`` or ``NaN``, and an empty attribute means "not calculated".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from erh_report.errors import InputError, Problem
from erh_report.importers.model import (
    STORED_KEYS,
    Outcome,
    Review,
    RiskOfBias,
    Row,
    Stored,
    Study,
    Subgroup,
)
from erh_report.importers.names import MEASURE_NAMES, number, study_id

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
KNOWN_MEASURES = ("OR", "RR", "RD", "PETO_OR", "MD", "SMD")
RESULT_WORDS = {"YES": "Low", "NO": "High", "UNKNOWN": "Unclear"}


def unescape(text: str) -> str:
    """``_x002d_`` -> ``-`` (XML name escapes, as RevMan writes study ids)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def study_key(revman_id: str) -> str:
    """A study's id in the data folder: RevMan's id without its ``STD-`` prefix, unescaped, and with what an
    identifier cannot hold replaced ("D'Ancona-1998" -> "D-Ancona-1998")."""
    s = unescape(revman_id)
    return study_id(s[4:] if s.startswith("STD-") else s)


def _text(el: ET.Element | None) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def _stored(el: ET.Element) -> Stored:
    values = {}
    for key in STORED_KEYS:
        v = number(el.get(key.upper()))
        if v is not None:
            values[key] = v
    calculated = number(el.get("EFFECT_SIZE")) is not None
    return Stored(values, calculated)


def _row(el: ET.Element, subgroup: int | None) -> Row:
    g = el.get
    return Row(
        study_id=study_key(g("STUDY_ID", "")),
        subgroup=subgroup,
        events_1=number(g("EVENTS_1")),
        total_1=number(g("TOTAL_1")),
        events_2=number(g("EVENTS_2")),
        total_2=number(g("TOTAL_2")),
        mean_1=number(g("MEAN_1")),
        sd_1=number(g("SD_1")),
        mean_2=number(g("MEAN_2")),
        sd_2=number(g("SD_2")),
        estimate=number(g("ESTIMATE")),
        se=number(g("SE")) if el.tag == "IV_DATA" else None,
        footnote=_text(el.find("FOOTNOTE")),
    )


def _measure(el: ET.Element, data_type: str, source: str) -> tuple[str, str]:
    """(measure code, RevMan's name for a generic measure)."""
    if data_type == "IV":
        name = _text(el.find("EFFECT_MEASURE"))
        code = MEASURE_NAMES.get(name.lower())
        if code is None:
            code = "RATIO" if el.get("LOG_DATA") == "YES" else "GEN"
        return code, name
    code = el.get("EFFECT_MEASURE", "")
    if code not in KNOWN_MEASURES:
        raise InputError(
            [
                Problem(
                    source,
                    f"analysis {el.get('ID')}: unknown effect measure",
                    value=code,
                    expected=", ".join(KNOWN_MEASURES),
                )
            ]
        )
    return code, ""


#: RevMan 5 outcome types the importer does not read: said in a note, never dropped silently.
UNSUPPORTED_OUTCOMES = {
    "IPD_OUTCOME": "RevMan's 'O-E and variance' data",
    "OTHER_OUTCOME": "RevMan's 'other data' (text, not pooled)",
}


def _outcome(el: ET.Element, comparison: int, comparison_name: str, source: str) -> Outcome:
    data_type = el.tag.split("_")[0]
    measure, generic = _measure(el, data_type, source)
    rows: list[Row] = []
    subgroups: list[Subgroup] = []
    data_tag = f"{data_type}_DATA"
    for child in el:
        if child.tag == data_tag:
            rows.append(_row(child, None))
        elif child.tag == f"{data_type}_SUBGROUP":
            no = int(child.get("NO", len(subgroups) + 1))
            subgroups.append(Subgroup(no, _text(child.find("NAME")), _stored(child)))
            rows.extend(_row(r, no) for r in child.findall(data_tag))
    method = el.get("METHOD") or "IV"
    if measure == "PETO_OR":
        method = "PETO"
    return Outcome(
        comparison=comparison,
        number=int(el.get("NO", "0")),
        comparison_name=comparison_name,
        name=_text(el.find("NAME")),
        data_type=data_type,
        measure=measure,
        method=method,
        random=el.get("RANDOM") == "YES",
        totals=el.get("TOTALS", "YES"),
        has_subgroups=el.get("SUBGROUPS") == "YES" or bool(subgroups),
        subgroup_test=el.get("SUBGROUP_TEST", "YES") == "YES",
        log_data=el.get("LOG_DATA") == "YES",
        generic_measure=generic,
        level_study=number(el.get("CI_STUDY")) or 95.0,
        level_total=number(el.get("CI_TOTAL")) or 95.0,
        group_labels=(_text(el.find("GROUP_LABEL_1")), _text(el.find("GROUP_LABEL_2"))),
        graph_labels=(_text(el.find("GRAPH_LABEL_1")), _text(el.find("GRAPH_LABEL_2"))),
        units=el.get("UNITS", ""),
        swap_events=el.get("SWAP_EVENTS") == "YES",
        rows=tuple(rows),
        subgroups=tuple(subgroups),
        stored=_stored(el),
    )


def _studies(root: ET.Element, source: str) -> tuple[Study, ...]:
    out: list[Study] = []
    seen: set[str] = set()
    for s in root.iterfind(".//STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES/STUDY"):  # not excluded, ongoing
        key = study_key(s.get("ID", ""))
        if key in seen:
            raise InputError(
                [
                    Problem(
                        source,
                        "duplicate study id",
                        value=s.get("ID"),
                        expected="each study once in STUDIES_AND_REFERENCES",
                    )
                ]
            )
        seen.add(key)
        refs = []
        for ref in s.findall("REFERENCE"):
            parts = [_text(ref.find(t)) for t in ("AU", "TI", "SO", "YR", "VL", "NO", "PG")]
            text = ". ".join(p for p in parts if p)
            if text:
                refs.append(text)
        out.append(Study(study_key(s.get("ID", "")), unescape(s.get("NAME", "")), s.get("YEAR", ""), tuple(refs)))
    return tuple(out)


def _risk_of_bias(root: ET.Element) -> tuple[RiskOfBias, ...]:
    out = []
    for item in root.iterfind(".//QUALITY_ITEMS/QUALITY_ITEM"):
        domain = _text(item.find("NAME"))
        for entry in item.iterfind("QUALITY_ITEM_DATA/QUALITY_ITEM_DATA_ENTRY"):
            result = entry.get("RESULT", "")
            if result in RESULT_WORDS:
                out.append(
                    RiskOfBias(
                        study_key(entry.get("STUDY_ID", "")),
                        domain,
                        RESULT_WORDS[result],
                        _text(entry.find("DESCRIPTION")),
                    )
                )
    return tuple(out)


def _authors(root: ET.Element) -> tuple[str, ...]:
    names = []
    for p in root.iterfind("COVER_SHEET/CREATORS/PERSON"):
        name = " ".join(
            x for x in (_text(p.find("FIRST_NAME")), _text(p.find("MIDDLE_INITIALS")), _text(p.find("LAST_NAME"))) if x
        )
        if name:
            names.append(name)
    return tuple(names)


def parse(data: bytes, source: str) -> Review:
    """A ``Review`` from the bytes of a RevMan 5 file (``source`` names it in messages)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InputError(
            [Problem(source, f"is not well-formed XML ({exc})", expected="a RevMan 5 file (.rm5)")]
        ) from None
    if root.tag != "COCHRANE_REVIEW":
        raise InputError([Problem(source, f"XML root is <{root.tag}>", expected="<COCHRANE_REVIEW> (RevMan 5)")])
    outcomes, skipped = [], []
    for cmp in root.iterfind(".//ANALYSES_AND_DATA/COMPARISON"):
        cno, cname = int(cmp.get("NO", "0")), _text(cmp.find("NAME"))
        for el in cmp:
            if el.tag in ("DICH_OUTCOME", "CONT_OUTCOME", "IV_OUTCOME"):
                outcomes.append(_outcome(el, cno, cname, source))
            elif el.tag.endswith("_OUTCOME"):  # O-E and variance (IPD_OUTCOME), other data (OTHER_OUTCOME)
                kind = UNSUPPORTED_OUTCOMES.get(el.tag, el.tag)
                skipped.append(f"analysis {cno}.{el.get('NO', '?')} ({_text(el.find('NAME'))}): {kind} is not imported")
    version = root.get("REVMAN_SUB_VERSION") or root.get("REVMAN_VERSION", "")
    return Review(
        title=_text(root.find("COVER_SHEET/TITLE")),
        source=source,
        source_format=f"RevMan 5 XML (RevMan {version})" if version else "RevMan 5 XML",
        authors=_authors(root),
        doi=root.get("DOI", ""),
        studies=_studies(root, source),
        outcomes=tuple(outcomes),
        risk_of_bias=_risk_of_bias(root),
        notes=tuple(skipped),
    )


def read(path: Path) -> Review:
    return parse(Path(path).read_bytes(), Path(path).name)
