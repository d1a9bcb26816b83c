"""HTML tables as Word tables: the cell grid (colspan, rowspan), column widths and journal rules.

An HTML table is laid out by the browser; Word needs the grid spelled out: which grid cells each HTML
cell covers, how wide each column is, which rows are headers that repeat on each page. This module
answers those questions; the walker in ``docx_writer`` fills the cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Twips
from docx.table import Table, _Cell

from erh_report.render import docx_ooxml as ox
from erh_report.render.font_metrics import text_width_twips

#: Rules in eighths of a point: top and bottom of the table, under the header, under a spanning header.
OUTER_RULE = 8
HEADER_RULE = 6
SPANNER_RULE = 4
#: Cell margins (twips) and the narrowest column (twips, about one character of the table font).
CELL_MARGIN = 50
CHAR_TWIPS = 98
#: The table text's size in points, and the room (twips) a word gets beyond its advance width: Word and
#: LibreOffice round glyph positions to their layout units, a word that fits exactly may still wrap.
TABLE_TEXT_PT = 8.0
WORD_SLACK = 30
#: No single column asks for more than this share of the width before the others have their minimum.
MAX_COLUMN_SHARE = 0.45

_SPACE = re.compile(r"[ \t\n\r\f]+")
#: Where a line may wrap: at a space, or after a hyphen or dash.
_BREAKS = re.compile(r" |(?<=[-\u2010\u2013\u2014])")


@dataclass(frozen=True)
class GridCell:
    """One HTML cell and the block of grid cells it covers; ``part`` is head, body or foot."""

    element: object
    row: int
    col: int
    rowspan: int
    colspan: int
    part: str


@dataclass(frozen=True)
class Grid:
    """The table as Word sees it: its size, the cells, and how many leading rows are headers."""

    n_rows: int
    n_cols: int
    cells: tuple[GridCell, ...]
    header_rows: int
    parts: tuple[str, ...]


def _span(value: str | None, default: int = 1) -> int:
    """A colspan/rowspan attribute as the browser reads it (bad values count as 1; 0 rowspan = rest)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return max(0, min(number, 1000))


def table_rows(table_el, exclude: frozenset = frozenset()) -> list[tuple[str, object]]:
    """Every ``tr`` in document order with the part it belongs to: thead first, tfoot last, like a browser;
    rows in ``exclude`` are left out."""
    head: list[tuple[str, object]] = []
    body: list[tuple[str, object]] = []
    foot: list[tuple[str, object]] = []
    for child in table_el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "thead":
            head += [("head", tr) for tr in child if tr.tag == "tr"]
        elif tag == "tfoot":
            foot += [("foot", tr) for tr in child if tr.tag == "tr"]
        elif tag == "tbody":
            body += [("body", tr) for tr in child if tr.tag == "tr"]
        elif tag == "tr":
            body.append(("body", child))
    if not head:
        # Leading rows made only of th are the header of a table written without thead.
        while body and all(cell.tag == "th" for cell in _row_cells(body[0][1])) and _row_cells(body[0][1]):
            head.append(("head", body.pop(0)[1]))
    return [(part, tr) for part, tr in head + body + foot if tr not in exclude]


def _row_cells(tr) -> list:
    return [cell for cell in tr if isinstance(cell.tag, str) and cell.tag in ("td", "th")]


def build_grid(table_el, exclude: frozenset = frozenset()) -> Grid:
    """Place every cell on the grid the way HTML's table model does (rowspans stay within their part);
    rows in ``exclude`` are left out."""
    rows = table_rows(table_el, exclude)
    part_end: list[int] = []
    for index, (part, _) in enumerate(rows):
        end = index + 1
        while end < len(rows) and rows[end][0] == part:
            end += 1
        part_end.append(end)
    taken: set[tuple[int, int]] = set()
    cells: list[GridCell] = []
    n_cols = 0
    for r, (part, tr) in enumerate(rows):
        c = 0
        for cell_el in _row_cells(tr):
            while (r, c) in taken:
                c += 1
            colspan = max(1, _span(cell_el.get("colspan")))
            rowspan = _span(cell_el.get("rowspan"))
            rowspan = part_end[r] - r if rowspan == 0 else min(max(1, rowspan), part_end[r] - r)
            for dr in range(rowspan):
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            cells.append(GridCell(cell_el, r, c, rowspan, colspan, part))
            c += colspan
            n_cols = max(n_cols, c)
    n_cols = max([n_cols, *(c + 1 for _, c in taken)]) if taken else 0
    header_rows = sum(1 for part, _ in rows if part == "head")
    return Grid(len(rows), n_cols, tuple(cells), header_rows, tuple(part for part, _ in rows))


def cell_lines(element) -> list[str]:
    """The cell's text as it would wrap at its line breaks (br and block children)."""
    pieces: list[str] = []

    def walk(node) -> None:
        if node.text:
            pieces.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                if child.tag in ("br", "p", "div", "li"):
                    pieces.append("\n")
                walk(child)
            if child.tail:
                pieces.append(child.tail)

    walk(element)
    return [_SPACE.sub(" ", line).strip() for line in "".join(pieces).split("\n")]


def _bold_inside(element) -> bool:
    """Whether some of the cell's text is bold (a header cell, or strong/b inside)."""
    return element.tag == "th" or any(child.tag in ("strong", "b") for child in element.iter() if child is not element)


def text_width(text: str, bold: bool = False, size_pt: float = TABLE_TEXT_PT) -> float:
    """Width of ``text`` in twips as Word and LibreOffice set it in the table font (see font_metrics)."""
    return text_width_twips(text.replace("\u00ad", ""), size_pt, bold)


def longest_word(
    lines: list[str], breaks: re.Pattern = _BREAKS, bold: bool = False, size_pt: float = TABLE_TEXT_PT
) -> float:
    """Width in twips of the widest piece of text between two places where a line may wrap."""
    return max((text_width(piece, bold, size_pt) for line in lines for piece in breaks.split(line)), default=0.0)


def _hyphenated_piece(lines: list[str], bold: bool, size_pt: float) -> float:
    """Width of the widest piece of a header broken at its soft hyphens too, a drawn hyphen included."""
    widest = 0.0
    for line in lines:
        for word in _BREAKS.split(line):
            syllables = word.split("\u00ad")
            for index, syllable in enumerate(syllables):
                hyphen = "-" if index < len(syllables) - 1 else ""
                widest = max(widest, text_width(syllable + hyphen, bold, size_pt))
    return widest


def column_widths(grid: Grid, available: int, size_pt: float = TABLE_TEXT_PT) -> list[int]:
    """Column widths in twips that add up to ``available``, like a browser's automatic table layout.

    Widths are measured from the table font's advance widths (``font_metrics``). They grow in steps while
    there is room: first every body word on one line (headers may still wrap at a soft hyphen), then whole
    header words, then whole numbers (a number and its interval read best unbroken), then every line of text
    unwrapped; the room left at a step is shared by how much each column still wants. A table too wide even
    for its body words is squeezed alike."""
    if grid.n_cols == 0:
        return []
    least = float(CHAR_TWIPS + 2 * CELL_MARGIN)
    words = [least] * grid.n_cols
    head_words = [least] * grid.n_cols
    unbroken = [least] * grid.n_cols
    lines_wide = [least] * grid.n_cols
    padding = WORD_SLACK + 2 * CELL_MARGIN
    for cell in grid.cells:
        if cell.colspan != 1:
            continue
        lines = cell_lines(cell.element)
        bold = _bold_inside(cell.element)
        word = longest_word(lines, _BREAKS, bold, size_pt) + padding
        whole = max((text_width(line, bold, size_pt) for line in lines), default=0.0) + padding
        numeric = "num" in (cell.element.get("class") or "").split()
        col = cell.col
        if cell.part != "head":
            words[col] = max(words[col], word)
        else:  # a header may wrap at a soft hyphen too, the hyphen drawn; whole words come next
            words[col] = max(words[col], _hyphenated_piece(lines, bold, size_pt) + padding)
            head_words[col] = max(head_words[col], word)
        unbroken[col] = max(unbroken[col], whole if numeric else word)
        lines_wide[col] = max(lines_wide[col], whole)
    cap = available * MAX_COLUMN_SHARE
    widths = [min(w, cap) for w in words]
    if sum(widths) >= available:
        widths = [w * available / sum(widths) for w in widths]
    for wanted in (head_words, unbroken, lines_wide):
        target = [max(w, min(t, cap)) for w, t in zip(widths, wanted, strict=True)]
        spare = available - sum(widths)
        need = sum(target) - sum(widths)
        if need <= 0:
            continue
        share = min(1.0, spare / need)
        widths = [w + (t - w) * share for w, t in zip(widths, target, strict=True)]
    if sum(widths) < available:  # every line fits: the rest in proportion, so the table spans the page
        widths = [w * available / sum(widths) for w in widths]
    rounded = [int(w) for w in widths]
    rounded[-1] += available - sum(rounded)
    return rounded


def _set_widths(table: Table, widths: list[int]) -> None:
    """Fixed layout: table, grid columns and every cell get their width in twips, so Word and LibreOffice
    draw the same table."""
    tbl = table._tbl
    tbl_pr = tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(sum(widths)))
    tbl_w.set(qn("w:type"), "dxa")
    table.autofit = False
    for grid_col, width in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        grid_col.set(qn("w:w"), str(width))
    for tr in tbl.tr_lst:
        col = tr.grid_before
        for tc in tr.tc_lst:
            span = tc.grid_span
            tc.width = Twips(sum(widths[col : col + span]))
            col += span


def _rules(table: Table, grid: Grid) -> None:
    """Three-line journal rules: above the table, under the header, at the bottom; a short rule under each
    header that spans columns; a rule above footer rows."""
    tbl = table._tbl
    ox.set_table_borders(tbl, top=OUTER_RULE, bottom=OUTER_RULE)
    trs = tbl.tr_lst
    if grid.header_rows:
        for tc in trs[grid.header_rows - 1].tc_lst:
            ox.set_cell_border(tc, "bottom", HEADER_RULE)
    for cell in grid.cells:
        if cell.part == "head" and cell.colspan > 1 and cell.row + cell.rowspan < grid.header_rows:
            ox.set_cell_border(trs[cell.row].tc_lst[_tc_index(trs[cell.row], cell.col)], "bottom", SPANNER_RULE)
    first_foot = next((r for r, part in enumerate(grid.parts) if part == "foot"), None)
    if first_foot is not None and first_foot > 0:
        for tc in trs[first_foot].tc_lst:
            ox.set_cell_border(tc, "top", HEADER_RULE)


def _tc_index(tr, grid_col: int) -> int:
    """Index among the row's w:tc of the cell that starts at ``grid_col``."""
    col = tr.grid_before
    for index, tc in enumerate(tr.tc_lst):
        if col == grid_col:
            return index
        col += tc.grid_span
    raise IndexError(grid_col)


def add_grid_table(container, grid: Grid, available: int, fill: Callable[[_Cell, GridCell], None]) -> Table:
    """Add the Word table for ``grid`` to ``container`` (document or cell), merged, sized, ruled, with its
    header rows repeating, and call ``fill`` once per HTML cell with the merged Word cell."""
    table = container.add_table(rows=grid.n_rows, cols=grid.n_cols)
    table.style = None
    per_row = grid.n_cols
    flat = table._cells
    targets: list[tuple[_Cell, GridCell]] = []
    for cell in grid.cells:
        top_left = flat[cell.row * per_row + cell.col]
        if cell.rowspan > 1 or cell.colspan > 1:
            bottom_right = flat[(cell.row + cell.rowspan - 1) * per_row + cell.col + cell.colspan - 1]
            top_left = top_left.merge(bottom_right)
        targets.append((top_left, cell))
    ox.set_cell_margins(table._tbl, left=CELL_MARGIN, right=CELL_MARGIN)
    _set_widths(table, column_widths(grid, available))
    for index, tr in enumerate(table._tbl.tr_lst):
        ox.keep_row_together(tr)
        if index < grid.header_rows:
            ox.mark_header_row(tr)
    _rules(table, grid)
    for word_cell, cell in targets:
        fill(word_cell, cell)
    return table
