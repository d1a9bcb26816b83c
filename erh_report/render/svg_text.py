"""SVG text drawn as whole strings while WeasyPrint lays out the PDF's figures.

WeasyPrint places SVG text one letter at a time: a Pango layout and a PDF text object for every letter,
so that it can honour per-letter positions (``x``/``dx`` lists, ``rotate``, ``letter-spacing``,
``textLength``). A figure from matplotlib never uses them: each text is one string at one point. Laid out
whole, such a text is drawn in one text object, shaped as a browser shapes it (with the font's kerning),
at a third of the cost; figures are most of a PDF's layout time. Any text that needs more, and any
WeasyPrint whose drawing code this was not checked against, is left to WeasyPrint's own drawing.

Used as a context manager around one layout, so that WeasyPrint is unchanged outside it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from math import inf
from typing import Any

#: WeasyPrint releases whose SVG text drawing the whole-string drawing was compared with (tests/test_pdf_figures).
CHECKED_VERSIONS = ("70.",)
#: Attributes that place or space letters one by one: a text with any of them is left to WeasyPrint.
_PER_LETTER = (
    "dx",
    "dy",
    "rotate",
    "letter-spacing",
    "textLength",
    "lengthAdjust",
    "dominant-baseline",
    "alignment-baseline",
    "display-anchor",
    "direction",
    "writing-mode",
)
_ONE_NUMBER = re.compile(r"\s*-?[\d.]+(?:[eE][-+]?\d+)?(?:px)?\s*")
_PLAIN_TEXT = re.compile(r"\S(?:.*\S)?")


def available() -> bool:
    """Whether the installed WeasyPrint is one the whole-string drawing was checked against."""
    import weasyprint

    return weasyprint.__version__.startswith(CHECKED_VERSIONS)


def _whole_string(node: Any) -> bool:
    """A text WeasyPrint would draw letter by letter only because it always does."""
    attrib = node.attrib
    text = node.text or ""
    return (
        node.tag == "text"
        and _ONE_NUMBER.fullmatch(attrib.get("x", "")) is not None
        and _ONE_NUMBER.fullmatch(attrib.get("y", "")) is not None
        and not any(name in attrib for name in _PER_LETTER)
        and _PLAIN_TEXT.fullmatch(text) is not None
        and "  " not in text
        and len(node._etree_node) == 0  # no tspan or other children
    )


def _font_weight(value: Any) -> int:
    if value in ("normal", 400):
        return 400
    if value == "bold":
        return 700
    try:
        return int(value)
    except ValueError:
        return 400


@contextmanager
def whole_string_text() -> Iterator[None]:
    """Within the block, WeasyPrint draws plain SVG texts whole (see the module's docstring)."""
    if not available():
        yield
        return
    svg = importlib.import_module("weasyprint.svg")
    text_module = importlib.import_module("weasyprint.svg.text")
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.utils import size
    from weasyprint.text.line_break import split_first_line

    per_letter = text_module.text

    def text(drawing: Any, node: Any, font_size: float) -> None:
        if not _whole_string(node):
            per_letter(drawing, node, font_size)
            return
        # The style WeasyPrint's own drawing builds for each letter, here for the string.
        style = text_module.Style()
        style.update(INITIAL_VALUES)
        style.font_config = drawing.font_config
        style["font_family"] = [font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")]
        style["font_style"] = node.get("font-style", "normal")
        style["font_weight"] = _font_weight(node.get("font-weight", 400))
        style["font_size"] = font_size
        layout, _, _, width, height, baseline = split_first_line(node.text, style, drawing.context, inf, 0)
        x = size(node.attrib["x"], font_size, drawing.inner_width)
        y = size(node.attrib["y"], font_size, drawing.inner_height)
        drawing.cursor_d_position = [0, 0]
        node.text_bounding_box = extend_bounding_box(
            node.text_bounding_box, ((x, y - baseline), (x + width, y - baseline + height))
        )
        drawing.cursor_position = (x + width, y)

        drawing.stream.push_state()
        fill, stroke = drawing.set_graphical_state(node, font_size)
        drawing.stream.begin_text()
        layout.reactivate(style)
        drawing.fill_stroke(fill, stroke, text=True)
        box = text_module.TextBox(layout, style)
        box.baseline = baseline
        emojis = draw_first_line(drawing.stream, box, "none", "none", Matrix(a=1, d=-1, e=x, f=y))
        drawing.stream.end_text()
        drawing.stream.pop_state()
        draw_emojis(drawing.stream, style, x, y, emojis)

    # draw_node finds the drawing function in TAGS (text, tspan, a, textPath share it) and recognises text
    # nodes by comparing with the module's ``text``: all are swapped, and swapped back.
    tags = [tag for tag, function in svg.TAGS.items() if function is per_letter]
    svg.text = text
    svg.TAGS.update(dict.fromkeys(tags, text))
    try:
        yield
    finally:
        svg.text = per_letter
        svg.TAGS.update(dict.fromkeys(tags, per_letter))
