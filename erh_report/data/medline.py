"""A PubMed export (MEDLINE format, the ``.nbib`` file PubMed's "Cite" and "Send to: Citation manager"
give) as CSL-JSON items, keyed by PMID.

The format is a tag padded to four characters, "- ", the value; a value goes on over lines indented by
six spaces; a blank line ends a record. That is read here in a few lines rather than with the ``nbib``
package, which has had no release since 2021, gives no line numbers for errors, and turns records into
its own typed structure that would be translated to CSL all the same."""

from __future__ import annotations

import re
from typing import Any

from erh_report.data.csl import csl_date, csl_page
from erh_report.errors import Problem

_LINE = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")
_CONTINUED = "      "


def parse_medline(text: str, source: str) -> tuple[list[tuple[int, dict[str, list[str]]]], list[Problem]]:
    """Records as (line of their first tag, tag -> values in order); lines that are neither a tag nor a
    continuation are problems."""
    records: list[tuple[int, dict[str, list[str]]]] = []
    problems: list[Problem] = []
    current: dict[str, list[str]] | None = None
    last_tag = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            current = None
            continue
        if line.startswith(_CONTINUED) and current is not None:
            current[last_tag][-1] += " " + line.strip()
            continue
        match = _LINE.match(line)
        if not match:
            problems.append(
                Problem(source, "line is neither a 'TAG - value' line nor its continuation", row=number, value=line)
            )
            continue
        if current is None:
            current = {}
            records.append((number, current))
        last_tag = match.group(1)
        current.setdefault(last_tag, []).append(match.group(2).strip())
    return records, problems


def _first(record: dict[str, list[str]], *tags: str) -> str:
    return next((record[t][0] for t in tags if record.get(t)), "")


def _doi(record: dict[str, list[str]]) -> str:
    for value in record.get("LID", []) + record.get("AID", []):
        if value.endswith("[doi]"):
            return value.removesuffix("[doi]").strip()
    return ""


def record_to_csl(record: dict[str, list[str]]) -> dict[str, Any]:
    """One MEDLINE record -> a CSL-JSON item (article, or book and chapter for PubMed Bookshelf)."""
    kind = "chapter" if record.get("BTI") and record.get("TI") else "book" if record.get("BTI") else "article-journal"
    item: dict[str, Any] = {"id": _first(record, "PMID"), "type": kind}
    authors = [
        {"family": f.partition(",")[0].strip(), "given": f.partition(",")[2].strip()} for f in record.get("FAU", [])
    ]
    if not authors:
        authors = [{"family": a.rpartition(" ")[0] or a, "given": a.rpartition(" ")[2]} for a in record.get("AU", [])]
    authors += [{"literal": c.strip()} for c in record.get("CN", [])]
    if authors:
        item["author"] = authors
    title = _first(record, "TI", "BTI")
    if title.endswith("."):
        title = title[:-1]  # MEDLINE ends every title with a full stop; the style adds its own
    journal = _first(record, "JT") if kind == "article-journal" else _first(record, "BTI") if kind == "chapter" else ""
    texts = {
        "title": title,
        "container-title": journal,
        "container-title-short": _first(record, "TA") if kind == "article-journal" else "",
        "volume": _first(record, "VI"),
        "issue": _first(record, "IP"),
        "page": csl_page(_first(record, "PG")),
        "DOI": _doi(record),
        "PMID": _first(record, "PMID"),
        "PMCID": _first(record, "PMC"),
        "publisher": _first(record, "PB"),
        "publisher-place": _first(record, "PL") if kind != "article-journal" else "",
        "language": _first(record, "LA"),
    }
    item.update({k: v for k, v in texts.items() if v})
    date = _first(record, "DP")
    if date:
        item["issued"] = csl_date(date)
    return item


def read_medline(text: str, source: str) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """The records of a PubMed/MEDLINE export as CSL items by PMID, or the problems that stop them."""
    records, problems = parse_medline(text, source)
    if not records and not problems:
        problems.append(Problem(source, "no PubMed records found", expected="records of 'PMID- 12345678' lines"))
    items: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for line, record in records:
        item = record_to_csl(record)
        key = item["id"]
        if not key:
            problems.append(Problem(source, "record without a PMID", row=line, expected="a 'PMID- ' line"))
        elif key in seen:
            problems.append(
                Problem(source, f"PMID {key} already given at line {seen[key]}", row=line, expected="each record once")
            )
        elif not item.get("title"):
            problems.append(Problem(source, f"record PMID {key} has no title", row=line, expected="a 'TI  - ' line"))
        else:
            seen[key] = line
            items[key] = item
    return ({}, problems) if problems else (items, [])
