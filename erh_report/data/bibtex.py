"""A BibTeX file as CSL-JSON items, read by bibtexparser; its LaTeX (accents, braces, ``--``) decoded by
pylatexenc. The brace and duplicate-key checks of ``bibtex_check`` run first, since bibtexparser reads an
entry closed too early without a word and keys differing only by case as two entries."""

from __future__ import annotations

import logging
from typing import Any

import bibtexparser
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

from erh_report.data.bibtex_check import bibtex_problems
from erh_report.data.csl import csl_date, csl_page
from erh_report.errors import Problem

#: BibTeX entry type -> CSL item type (anything else: ``document``).
TYPES = {
    "article": "article-journal",
    "book": "book",
    "booklet": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "manual": "report",
    "techreport": "report",
    "report": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "unpublished": "manuscript",
    "misc": "document",
    "dataset": "dataset",
    "software": "software",
}
#: BibTeX field -> CSL variable, for fields whose value is copied as text.
FIELDS = {
    "title": "title",
    "journal": "container-title",
    "journaltitle": "container-title",
    "booktitle": "container-title",
    "shortjournal": "container-title-short",
    "series": "collection-title",
    "publisher": "publisher",
    "institution": "publisher",
    "school": "publisher",
    "organization": "publisher",
    "address": "publisher-place",
    "location": "publisher-place",
    "volume": "volume",
    "number": "issue",
    "edition": "edition",
    "doi": "DOI",
    "url": "URL",
    "isbn": "ISBN",
    "issn": "ISSN",
    "pmid": "PMID",
    "note": "note",
    "howpublished": "publisher",
    "abstract": "abstract",
    "language": "language",
    "urldate": "accessed",
}
_LATEX = LatexNodes2Text()


def plain(text: str) -> str:
    """BibTeX text as a reader sees it: accents applied, braces and commands dropped, one space."""
    return " ".join(_LATEX.latex_to_text(text).split())


def _person(name: str) -> dict[str, str]:
    """One BibTeX name -> a CSL name; ``{Committee on ...}`` stays whole as an institution's name and
    ``others`` (a list cut short) becomes "et al", as the list was given."""
    stripped = name.strip()
    if stripped.lower() == "others":
        return {"literal": "et al"}  # as ``render.references.ET_AL``
    if stripped.startswith("{") and stripped.endswith("}"):
        return {"literal": plain(stripped)}
    parts = parse_single_name_into_parts(stripped)
    person = {
        "family": plain(" ".join(parts.last)),
        "given": plain(" ".join(parts.first)),
        "non-dropping-particle": plain(" ".join(parts.von)),
        "suffix": plain(" ".join(parts.jr)),
    }
    return {k: v for k, v in person.items() if v}


def entry_to_csl(key: str, kind: str, fields: dict[str, str]) -> dict[str, Any]:
    """One BibTeX entry (raw field values) -> a CSL-JSON item."""
    kind = kind.lower()
    item: dict[str, Any] = {"id": key, "type": TYPES.get(kind, "document")}
    for name in ("author", "editor"):
        if fields.get(name, "").strip():
            item[name] = [_person(n) for n in split_multiple_persons_names(fields[name])]
    for name, variable in FIELDS.items():
        value = fields.get(name, "").strip()
        if value and variable not in item:
            item[variable] = value if variable in ("DOI", "URL") else plain(value)
    if kind == "techreport" and "issue" in item:
        item["number"] = item.pop("issue")
    if fields.get("pages"):
        item["page"] = csl_page(plain(fields["pages"]))
    year = plain(fields.get("date") or fields.get("year", ""))
    if year:
        item["issued"] = csl_date(year, plain(fields.get("month", "")))
    if "accessed" in item:
        item["accessed"] = csl_date(item["accessed"])
    return item


def read_bibtex(text: str, source: str) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """The entries of a BibTeX file as CSL items by key, or the problems that stop them being read."""
    problems = bibtex_problems(text, source)
    if problems:
        return {}, problems
    logging.getLogger("bibtexparser").disabled = True  # its warnings become problems below
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        line = block.start_line + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            message = f"entry '{block.key}': the same key is already used"
        elif isinstance(block, ParsingFailedBlock):
            message = f"an entry cannot be read ({block.error or 'not BibTeX'})"
        else:
            message = "a block cannot be read"
        problems.append(Problem(source, message, row=line, expected="@article{key, field = {value}, ...}"))
    if problems:
        return {}, problems
    items = {
        entry.key: entry_to_csl(entry.key, entry.entry_type, {f.key.lower(): str(f.value) for f in entry.fields})
        for entry in library.entries
    }
    if not items and text.strip():
        return {}, [Problem(source, "no BibTeX entries found", expected="@article{key, ...}")]
    return items, []
