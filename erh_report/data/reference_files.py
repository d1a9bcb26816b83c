"""The review's reference list, from whichever reference files the data folder holds: BibTeX
(``references.bib``), CSL-JSON (``references.json``), RIS (``references.ris``) or a PubMed export
(``references.nbib``), told apart by their extension. All are read into CSL-JSON items (citation key ->
item), the form citeproc-py formats in any CSL style. Several files may be given (say, a PubMed export of
the included studies beside a BibTeX file of the methods papers); a key must then be in one only."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from erh_report.data.bibtex import read_bibtex
from erh_report.data.medline import read_medline
from erh_report.data.ris import read_ris
from erh_report.errors import Problem

Items = dict[str, dict[str, Any]]


def read_csl_json(text: str, source: str) -> tuple[Items, list[Problem]]:
    """A CSL-JSON list (what Zotero and citeproc tools export) by item id."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, [Problem(source, f"is not valid JSON: {exc.msg}", row=exc.lineno)]
    if not isinstance(items, list) or not all(isinstance(x, dict) and "id" in x for x in items):
        return {}, [Problem(source, "must be a CSL-JSON list of items, each with an id")]
    counts = Counter(str(x["id"]) for x in items)
    twice = [
        Problem(source, f"item id '{i}' appears {n} times", expected="each id once")
        for i, n in sorted(counts.items())
        if n > 1
    ]
    return ({}, twice) if twice else ({str(x["id"]): {**x, "id": str(x["id"])} for x in items}, [])


#: File name -> its reader; the order in which they are read and named.
READERS: dict[str, Callable[[str, str], tuple[Items, list[Problem]]]] = {
    "references.bib": read_bibtex,
    "references.json": read_csl_json,
    "references.ris": read_ris,
    "references.nbib": read_medline,
}
REFERENCE_FILES = tuple(READERS)


def read_references(folder: Path) -> tuple[Items | None, str | None, list[Problem]]:
    """Every reference file of ``folder`` -> (items by key, the files' names, problems); (None, None, [])
    when there is none."""
    found = [name for name in READERS if (folder / name).is_file()]
    if not found:
        return None, None, []
    names = " or ".join(found)
    items: Items = {}
    where: dict[str, str] = {}
    problems: list[Problem] = []
    for name in found:
        try:
            text = (folder / name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, f"cannot be read ({type(exc).__name__})", expected="a UTF-8 text file"))
            continue
        read, file_problems = READERS[name](text, name)
        problems.extend(file_problems)
        for key, item in read.items():
            if key in where:
                problems.append(
                    Problem(name, f"key '{key}' is also in {where[key]}", expected="each key in one reference file")
                )
            else:
                where[key] = name
                items[key] = item
    return (None, names, problems) if problems else (items, names, [])
