"""Sentences of a document that changed between two builds, old and new side by side.

Reviewers and editors read a correction as sentences ("the pooled SMD was 0.27 ... now 0.29 ..."), so the
HTML manuscript is reduced to its sentences (each with the heading it sits under) and the two lists are
aligned with difflib; sentences that were replaced are paired, the rest are shown as added or removed.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

BLOCKS = {
    "p",
    "li",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "caption",
    "figcaption",
    "dt",
    "dd",
    "blockquote",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "tr",
    "table",
    "ul",
    "ol",
}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
SKIPPED = {"script", "style", "head", "svg"}
# A sentence ends at . ! ? (and any closing quote or bracket) followed by space and a capital, digit or
# opening bracket; "P = .04", "0.27" and "et al." stay inside their sentence.
_END = re.compile(r"(?<=[.!?])[\"')\]\u201d]*\s+(?=[A-Z\u2212(\[\"\u201c0-9])")
_ABBREVIATIONS = ("et al.", "e.g.", "i.e.", "vs.", "No.", "Fig.", "approx.", "cf.", "Dr.", "St.")
_TOKEN = re.compile(r"\w+(?:[.,]\w+)*|\s+|[^\w\s]")


@dataclass(frozen=True)
class Sentence:
    text: str
    heading: str


@dataclass(frozen=True)
class SentenceChange:
    """``old`` or ``new`` is empty when the sentence was added or removed."""

    document: str
    heading: str
    old: str
    new: str


class _Blocks(HTMLParser):
    """Text of each block element in document order, with the latest heading before it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._parts: list[str] = []
        self._skip = 0
        self._heading = ""
        self._in_heading = False

    def _flush(self) -> None:
        text = " ".join("".join(self._parts).split())
        self._parts = []
        if not text:
            return
        if self._in_heading:
            self._heading = text
        self.blocks.append((text, self._heading))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self._skip += 1
        elif tag in BLOCKS:
            self._flush()
            self._in_heading = tag in HEADINGS
        elif tag == "br":
            self._parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in BLOCKS:
            self._flush()
            if tag in HEADINGS:
                self._in_heading = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._parts.append(data)


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping abbreviations and decimals inside theirs."""
    protected = text
    for i, abbreviation in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbreviation, abbreviation.replace(".", f"\x00{i}\x00"))
    pieces = _END.split(protected)
    restore = re.compile(r"\x00\d+\x00")
    return [restore.sub(".", p).strip() for p in pieces if p.strip()]


def html_sentences(markup: str) -> list[Sentence]:
    parser = _Blocks()
    parser.feed(markup)
    parser.close()
    parser._flush()
    return [Sentence(s, heading) for block, heading in parser.blocks for s in split_sentences(block)]


def compare_sentences(old: list[Sentence], new: list[Sentence], document: str) -> list[SentenceChange]:
    """Changed sentences in order of the new document; replaced sentences are paired one to one."""
    a, b = [s.text for s in old], [s.text for s in new]
    found: list[SentenceChange] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        olds, news = old[i1:i2], new[j1:j2]
        for k in range(max(len(olds), len(news))):
            before = olds[k] if k < len(olds) else None
            after = news[k] if k < len(news) else None
            heading = (after or before).heading if (after or before) else ""
            found.append(SentenceChange(document, heading, before.text if before else "", after.text if after else ""))
    return found


def compare_html(old: Path, new: Path, document: str) -> list[SentenceChange]:
    if not old.is_file() or not new.is_file():
        return []
    return compare_sentences(
        html_sentences(old.read_text(encoding="utf-8")), html_sentences(new.read_text(encoding="utf-8")), document
    )


def tokens(text: str) -> list[str]:
    """Words, numbers (0.27 and 1,024 stay whole), spaces and punctuation, so diffs read word by word."""
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) pieces with op in "equal", "delete", "insert"; joined they give old (no inserts) or new."""
    a, b = tokens(old), tokens(new)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            pieces.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("insert", "".join(b[j1:j2])))
    return pieces


def marked_html(old: str, new: str) -> tuple[str, str]:
    """Old and new sentence as HTML, the words that differ wrapped in <del> and <ins>."""
    left, right = [], []
    for op, text in word_diff(old, new):
        escaped = html.escape(text)
        if op == "equal":
            left.append(escaped)
            right.append(escaped)
        elif op == "delete":
            left.append(f"<del>{escaped}</del>")
        else:
            right.append(f"<ins>{escaped}</ins>")
    return "".join(left), "".join(right)
