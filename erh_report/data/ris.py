"""An RIS file (what EndNote, Zotero, Mendeley and most databases export) as CSL-JSON items, read by
rispy. The citation key of a record is its ``ID`` tag. rispy drops a record whose ``ER`` line is missing
without a word, so the records are counted here first and each problem names the record's line."""

from __future__ import annotations

import re
from typing import Any

import rispy

from erh_report.data.csl import csl_date, csl_page
from erh_report.errors import Problem

#: RIS reference type -> CSL item type (anything else: ``document``).
TYPES = {
    "JOUR": "article-journal",
    "EJOUR": "article-journal",
    "JFULL": "article-journal",
    "INPR": "article-journal",
    "MGZN": "article-magazine",
    "NEWS": "article-newspaper",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "CONF": "paper-conference",
    "CPAPER": "paper-conference",
    "RPRT": "report",
    "GOVDOC": "report",
    "THES": "thesis",
    "ELEC": "webpage",
    "BLOG": "post-weblog",
    "UNPB": "manuscript",
    "MANSCPT": "manuscript",
    "DATA": "dataset",
    "COMP": "software",
}
_TAG = re.compile(r"^([A-Z][A-Z0-9])  -( |$)")


def _names(values: list[str]) -> list[dict[str, str]]:
    """ "Page, Matthew J." -> family and given; a name without a comma (an organisation) stays whole."""
    names = []
    for value in values:
        family, _, given = (part.strip() for part in value.partition(","))
        names.append({"family": family, "given": given} if given else {"literal": family})
    return names


def record_to_csl(record: dict[str, Any]) -> dict[str, Any]:
    """One rispy record -> a CSL-JSON item."""
    kind = record.get("type_of_reference", "")
    item: dict[str, Any] = {"id": str(record.get("id", "")).strip(), "type": TYPES.get(kind, "document")}
    authors = record.get("authors", []) + record.get("first_authors", [])
    if authors:
        item["author"] = _names(authors)
    if record.get("secondary_authors") and item["type"] in ("chapter", "book", "paper-conference"):
        item["editor"] = _names(record["secondary_authors"])
    title = record.get("title") or record.get("primary_title")
    journal = record.get("secondary_title") or record.get("journal_name") or record.get("alternate_title3")
    short = record.get("alternate_title2") or record.get("alternate_title1")
    texts = {
        "title": title,
        "container-title": journal,
        "container-title-short": short if short != journal else None,
        "volume": record.get("volume"),
        "issue": record.get("number"),
        "publisher": record.get("publisher"),
        "publisher-place": record.get("place_published"),
        "edition": record.get("edition"),
        "DOI": record.get("doi"),
        "URL": (record.get("urls") or [None])[0],
        "ISSN": record.get("issn"),
        "note": record.get("notes", [None])[0] if isinstance(record.get("notes"), list) else record.get("notes"),
    }
    item.update({k: str(v).strip() for k, v in texts.items() if v and str(v).strip()})
    start, end = record.get("start_page", ""), record.get("end_page", "")
    if start:
        item["page"] = csl_page(f"{start}-{end}" if end and end != start else start)
    year = record.get("year") or record.get("publication_year") or record.get("date")
    if year:
        item["issued"] = csl_date(str(year))
    return item


def _record_lines(text: str, source: str) -> tuple[list[int], list[Problem]]:
    """The line of each record's ``TY`` tag, and records left open (no ``ER`` before the next one)."""
    starts: list[int] = []
    problems: list[Problem] = []
    open_at: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _TAG.match(line)
        if not match:
            continue
        if match.group(1) == "TY":
            if open_at is not None:
                problems.append(Problem(source, "record not closed by an 'ER  - ' line", row=open_at))
            starts.append(number)
            open_at = number
        elif match.group(1) == "ER":
            open_at = None
    if open_at is not None:
        problems.append(Problem(source, "record not closed by an 'ER  - ' line", row=open_at))
    return starts, problems


def read_ris(text: str, source: str) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """The records of an RIS file as CSL items by their ``ID``, or the problems that stop them being read."""
    lines, problems = _record_lines(text, source)
    if problems:
        return {}, problems
    if not lines:
        return {}, [Problem(source, "no RIS records found", expected="records from 'TY  - JOUR' to 'ER  - '")]
    try:
        records = rispy.loads(text)
    except (ValueError, KeyError) as exc:
        return {}, [Problem(source, f"cannot be read as RIS ({exc})", expected="records of 'XX  - value' lines")]
    items: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for line, record in zip(lines, records, strict=True):
        item = record_to_csl(record)
        key = item["id"]
        if not key:
            problems.append(
                Problem(source, "record without an ID", row=line, expected="an 'ID  - ' line: the citation key")
            )
        elif key.lower() in seen:
            problems.append(
                Problem(
                    source, f"ID '{key}' already used at line {seen[key.lower()]}", row=line, expected="each ID once"
                )
            )
        else:
            seen[key.lower()] = line
            items[key] = item
    return ({}, problems) if problems else (items, [])
