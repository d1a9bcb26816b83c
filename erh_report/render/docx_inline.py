"""Inline HTML in a Word paragraph: the character formatting that inline elements (strong, em, sup, a, ...)
give their text, flattened into runs with HTML's white-space rule."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from docx.shared import Pt
from docx.text.run import Run

#: Elements whose content is not part of the document text.
SKIP_TAGS = frozenset(
    {
        "head",
        "header",
        "nav",
        "style",
        "script",
        "template",
        "noscript",
        "title",
        "meta",
        "link",
        "svg",
        "math",
        "source",
    }
)
_SPACE = re.compile(r"[ \t\n\r\f]+")


@dataclass(frozen=True)
class Fmt:
    """Character formatting inherited from the inline elements around a piece of text."""

    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    sup: bool = False
    sub: bool = False
    mono: bool = False
    small: bool = False
    href: str | None = None


INLINE_FMT = {
    "strong": {"bold": True}, "b": {"bold": True},
    "em": {"italic": True}, "i": {"italic": True}, "cite": {"italic": True}, "var": {"italic": True},
    "dfn": {"italic": True},
    "u": {"underline": True}, "ins": {"underline": True},
    "s": {"strike": True}, "del": {"strike": True}, "strike": {"strike": True},
    "sup": {"sup": True, "sub": False}, "sub": {"sub": True, "sup": False},
    "code": {"mono": True}, "kbd": {"mono": True}, "samp": {"mono": True}, "tt": {"mono": True},
    "small": {"small": True},
}  # fmt: skip


def collect(element, fmt: Fmt, out: list, ids: list[str]) -> None:
    """Flatten an inline element into (text or img, formatting) pieces; ids found become bookmarks."""
    tag = element.tag
    if not isinstance(tag, str) or tag in SKIP_TAGS:
        return
    if element.get("id"):
        ids.append(element.get("id"))
    if tag == "br":
        out.append(("\n", fmt))
        return
    if tag == "img":
        out.append((element, fmt))
        return
    changes = dict(INLINE_FMT.get(tag, {}))
    if tag == "a" and element.get("href"):
        changes["href"] = element.get("href")
    inner = replace(fmt, **changes) if changes else fmt
    if element.text:
        out.append((element.text, inner))
    for child in element:
        collect(child, inner, out, ids)
        if child.tail:
            out.append((child.tail, inner))


def normalise(segments: list[tuple[object, Fmt]]) -> list[tuple[object, Fmt]]:
    """HTML white space: runs of spaces and newlines become one space, none at the start or end of a line
    (non-breaking spaces are kept)."""
    result: list[list] = []
    line_start = True
    after_space = False

    def trim_end() -> None:
        while result and isinstance(result[-1][0], str) and result[-1][0] != "\n":
            result[-1][0] = result[-1][0].rstrip(" ")
            if result[-1][0]:
                return
            result.pop()

    for content, fmt in segments:
        if content == "\n":
            trim_end()
            result.append(["\n", fmt])
            line_start, after_space = True, False
        elif isinstance(content, str):
            text = _SPACE.sub(" ", content)
            if line_start or after_space:
                text = text.lstrip(" ")
            if not text:
                continue
            result.append([text, fmt])
            line_start, after_space = False, text.endswith(" ")
        else:
            result.append([content, fmt])
            line_start, after_space = False, False
    trim_end()
    merged: list[tuple[object, Fmt]] = []
    for content, fmt in result:
        if merged and isinstance(content, str) and isinstance(merged[-1][0], str) and merged[-1][1] == fmt:
            merged[-1] = (merged[-1][0] + content, fmt)
        else:
            merged.append((content, fmt))
    return merged


def apply_format(run: Run, fmt: Fmt) -> None:
    """Character formatting of one run."""
    if fmt.bold:
        run.bold = True
    if fmt.italic:
        run.italic = True
    if fmt.underline:
        run.underline = True
    if fmt.strike:
        run.font.strike = True
    if fmt.sup:
        run.font.superscript = True
    if fmt.sub:
        run.font.subscript = True
    if fmt.mono:
        run.font.name = "Courier New"
    if fmt.small:
        run.font.size = Pt(8)
