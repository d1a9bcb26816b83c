"""How wide a text is set in the DOCX table font, from the font files' own advance widths.

Word sets the tables in Arial and LibreOffice in Liberation Sans, its metric twin: every glyph has the same
advance width, so the widths read here from Liberation Sans (with fontTools) are the widths either program
sets. Glyphs the text font lacks (the GRADE symbols ⨁ ◯) come from a fallback font, DejaVu Sans, as in the
PDF. Without the font files the width is estimated from an average character, as a browser would guess.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

#: The table font's family (Arial's metric twin), and the family that has the symbols it lacks.
TABLE_FAMILY = "Liberation Sans"
FALLBACK_FAMILY = "DejaVu Sans"
#: Width of an average character of Arial, in ems, when the font files are missing.
AVERAGE_EM = 0.55
#: Twips (twentieths of a point) per point.
TWIPS_PER_POINT = 20


@dataclass(frozen=True)
class FontWidths:
    """Advance widths of one font file: per code point, in font units, and the font's units per em."""

    advances: dict[int, int]
    units_per_em: int

    def em(self, char: str) -> float | None:
        """The advance of ``char`` in ems, or None when the font has no glyph for it."""
        advance = self.advances.get(ord(char))
        return None if advance is None else advance / self.units_per_em


@functools.lru_cache(maxsize=8)
def font_file(family: str, bold: bool = False) -> Path | None:
    """The file of ``family`` (bold or regular) as matplotlib's font manager finds it, or None."""
    from matplotlib import font_manager

    properties = font_manager.FontProperties(family=family, weight="bold" if bold else "normal")
    try:
        path = Path(font_manager.findfont(properties, fallback_to_default=False))
    except ValueError:
        return None
    return path if path.is_file() else None


@functools.lru_cache(maxsize=8)
def load_widths(path: Path) -> FontWidths:
    """Every mapped character's advance width in ``path`` (a TrueType or OpenType file)."""
    with TTFont(str(path), lazy=True) as font:
        metrics = font["hmtx"].metrics
        cmap = font.getBestCmap() or {}
        advances = {code: metrics[glyph][0] for code, glyph in cmap.items() if glyph in metrics}
        return FontWidths(advances, int(font["head"].unitsPerEm))


@functools.lru_cache(maxsize=4)
def table_fonts(bold: bool) -> tuple[FontWidths, ...]:
    """The table font and its fallback, those that are installed, in the order they are tried."""
    found = []
    for family in (TABLE_FAMILY, FALLBACK_FAMILY):
        path = font_file(family, bold)
        if path is not None:
            found.append(load_widths(path))
    return tuple(found)


def char_em(char: str, bold: bool = False) -> float:
    """The advance of ``char`` in ems: from the first table font that has it, else an average character's."""
    for font in table_fonts(bold):
        advance = font.em(char)
        if advance is not None:
            return advance
    return AVERAGE_EM


@functools.lru_cache(maxsize=2)
def _known_ems(bold: bool) -> dict[str, float]:
    """The advances looked up so far (a table of every study measures tens of thousands of texts)."""
    return {}


def text_width_twips(text: str, size_pt: float, bold: bool = False) -> float:
    """The advance width of ``text`` set in the table font at ``size_pt``, in twips (no kerning: Word and
    LibreOffice do not kern table text by default)."""
    known = _known_ems(bold)
    ems = 0.0
    for char in text:
        advance = known.get(char)
        if advance is None:
            advance = known[char] = char_em(char, bold)
        ems += advance
    return ems * size_pt * TWIPS_PER_POINT
