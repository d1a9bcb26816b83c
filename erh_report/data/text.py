"""Reading a table file as text and checking its cells: which encoding it is in (UTF-8, UTF-8 or UTF-16
with a byte-order mark, Windows-1252), and cells that would break an output (control characters, line
breaks, invisible direction marks, labels too long for a table or a figure).

Every problem names the real cause, so that an author saving a file from Excel as UTF-16 is told so,
not that a column is missing.
"""

from __future__ import annotations

import codecs
import functools
import unicodedata

from erh_report.errors import Problem

#: Cells drawn in figures and table columns: longer ones break Table 1 and make a forest plot huge.
LABEL_LIMITS = {("studies", "label"): 80, ("studies", "intervention_type"): 80, ("outcome_data", "arm"): 80}
MAX_CELL = 2000  # any other cell (notes and reasons are a sentence or two)
#: Invisible characters that reorder or hide text (bidirectional overrides, zero-width marks).
INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
SAVE_AS = "a CSV file saved as UTF-8 (in Excel: Save As, 'CSV UTF-8')"


def decode(data: bytes, source: str) -> tuple[str | None, list[Problem]]:
    """The file's text, from its byte-order mark or else UTF-8, else Windows-1252; or the reason it is
    not a text table."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None, [Problem(source, "is saved as UTF-32", expected=SAVE_AS)]
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(b"PK\x03\x04"):
        return None, [
            Problem(
                source,
                "is a ZIP file (an XLSX workbook renamed?), not a CSV file",
                expected=f"{SAVE_AS}, or the workbook with its .xlsx name",
            )
        ]
    elif data[:1000].count(b"\x00") > len(data[:1000]) // 4:
        return None, [
            Problem(source, "looks like UTF-16 without a byte-order mark (every other byte is 0)", expected=SAVE_AS)
        ]
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding), []
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            return None, [Problem(source, f"is not valid {encoding.upper()} text (byte {exc.start})", expected=SAVE_AS)]
        utf8_error = exc
    try:
        return data.decode("cp1252"), []
    except UnicodeDecodeError:
        byte = data[utf8_error.start]
        return None, [
            Problem(
                source,
                f"is neither UTF-8 nor Windows-1252 text (byte 0x{byte:02X} at offset "
                f"{utf8_error.start} cannot be read)",
                expected=SAVE_AS,
            )
        ]


def _character_problem(text: str) -> str | None:
    for ch in text:
        if ch in "\n\r\u2028\u2029\x85\x0b\x0c":
            return f"a line break (U+{ord(ch):04X}) inside the cell"
        if ch in INVISIBLE:
            return f"an invisible character (U+{ord(ch):04X} {unicodedata.name(ch, 'format character')})"
        if unicodedata.category(ch) == "Cc":
            return f"a control character (U+{ord(ch):04X}) in the cell"
    return None


def cell_problems(table: str, source: str, row: int, cells: dict[str, str]) -> list[Problem]:
    """Control characters, line breaks, invisible characters and over-long text in one row's cells."""
    problems = []
    for column, text in cells.items():
        if not text:
            continue
        reason = _character_problem(text)
        if reason:
            problems.append(
                Problem(
                    source,
                    reason,
                    row=row,
                    column=column,
                    value=text[:40],
                    expected="plain text on one line, without control characters",
                )
            )
        missing = missing_glyphs(text)
        if missing:
            shown = ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in missing[:5])
            problems.append(
                Problem(
                    source,
                    f"characters that no installed font can show: {shown}",
                    row=row,
                    column=column,
                    expected="text the fonts cover (Latin, Greek, Cyrillic, CJK and "
                    "common symbols), or a font with these characters installed",
                )
            )
        limit = LABEL_LIMITS.get((table, column), MAX_CELL)
        if len(text) > limit:
            problems.append(
                Problem(
                    source,
                    f"the text is {len(text):,} characters long, more than {limit:,}",
                    row=row,
                    column=column,
                    value=text[:40] + "…",
                    expected=f"at most {limit:,} characters"
                    + (" (it is shown in tables and figures)" if limit < MAX_CELL else ""),
                )
            )
    return problems


@functools.lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """Code points that one of the installed figure fonts can draw (empty when none can be read); the PDFs
    find the same fonts through fontconfig."""
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    from erh_report.figures.style import RC

    points: set[int] = set()
    for family in RC["font.family"]:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
            points.update(TTFont(path, lazy=True, fontNumber=0).getBestCmap() or {})
        except Exception:  # noqa: BLE001 - a font that is missing or unreadable covers nothing
            continue
    return frozenset(points)


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that no figure font can draw (they would print as empty boxes)."""
    if all(ord(ch) < 0x250 for ch in text):  # Latin: DejaVu Sans has it all
        return []
    covered = _covered()
    if not covered:
        return []
    return sorted({ch for ch in text if ord(ch) not in covered and not ch.isspace()})
