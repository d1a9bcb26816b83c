"""References in AMA style from the review's BibTeX entries, numbered in order of first citation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_LATEX_ACCENTS = {"\\'": "\u0301", '\\"': "\u0308", "\\`": "\u0300", "\\^": "\u0302", "\\~": "\u0303"}


def _plain(text: str) -> str:
    """BibTeX text as a reader sees it: accents applied, braces and commands dropped."""

    def accent(match: re.Match[str]) -> str:
        return unicodedata.normalize("NFC", match.group(2) + _LATEX_ACCENTS[match.group(1)])

    text = re.sub(r"(\\['\"`^~])\{?([A-Za-z])\}?", accent, text)
    text = text.replace("--", "\u2013")
    return re.sub(r"[{}]", "", text).strip()


def _author(name: str) -> str:
    """ "Page, Matthew J." -> "Page MJ" (AMA: surname and initials, no periods)."""
    name = _plain(name)
    if name.lower() == "others":
        return "et al"
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
    else:
        parts = name.split()
        last, first = parts[-1], " ".join(parts[:-1])
    initials = "".join(p[0] for p in re.split(r"[\s.\-]+", first) if p)
    return f"{last} {initials}".strip()


def ama(entry: Mapping[str, str]) -> str:
    """One reference in AMA style (journal article, book or web page)."""
    authors = [_author(a) for a in entry.get("author", "").split(" and ") if a.strip()]
    if len(authors) > 6:
        authors = authors[:3] + ["et al"]
    who = ", ".join(authors)
    title = _plain(entry.get("title", "")).rstrip(".")
    year = entry.get("year", "")
    kind = entry.get("type", "article")
    if kind == "article":
        journal = _plain(entry.get("journal", ""))
        volume = entry.get("volume", "")
        number = f"({entry['number']})" if entry.get("number") else ""
        pages = _plain(entry.get("pages", ""))
        where = f"{journal}. {year};{volume}{number}:{pages}." if volume else f"{journal}. {year}."
        text = f"{who}. {title}. {where}"
    else:
        publisher = _plain(entry.get("publisher", entry.get("howpublished", entry.get("note", ""))))
        text = f"{who}. {title}. {publisher + '; ' if publisher else ''}{year}."
    if entry.get("doi"):
        text += f" doi:{entry['doi']}"
    elif entry.get("url"):
        text += f" {entry['url']}"
    return re.sub(r"\s+", " ", text).strip()


class Citations:
    """Numbers references in order of first citation, as AMA requires; unknown keys are collected."""

    def __init__(self, entries: Mapping[str, Mapping[str, str]]) -> None:
        self.entries = entries
        self.order: list[str] = []
        self.missing: list[str] = []

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

    def listing(self) -> list[str]:
        return [ama(self.entries[key]) for key in self.order]
