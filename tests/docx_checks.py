"""Checks of a written DOCX file read back from its XML, as Word and LibreOffice would lay it out: which
words of a table do not fit their cell (from the table font's advance widths), and what each picture is."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image

from erh_report.render.docx_images import SVG_NAMESPACE
from erh_report.render.docx_tables import TABLE_TEXT_PT, text_width

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
NS = {"w": W, "r": R, "a": A, "wp": WP, "asvg": SVG_NAMESPACE}
EMU_PER_INCH = 914400
#: Where Word and LibreOffice may wrap a line: at a space, after a hyphen or dash.
BREAKS = re.compile(r" |(?<=[-\u2010\u2013\u2014])")


@dataclass(frozen=True)
class Overflow:
    table: int
    row: int
    cell: int
    word: str
    width: float  # twips the word takes, cell margins included
    room: float  # twips of the cell


def _attr(element, path: str, name: str, default: str | None = None) -> str | None:
    found = element.find(path, NS)
    return default if found is None else found.get(f"{{{W}}}{name}", default)


def _is_bold(run) -> bool:
    bold = run.find("w:rPr/w:b", NS)
    return bold is not None and bold.get(f"{{{W}}}val", "true") not in ("0", "false")


def _pieces(paragraph) -> list[list[tuple[str, bool]]]:
    """The paragraph's unbreakable pieces, each a list of (text, bold) runs; a soft hyphen may break a
    word (the hyphen is then drawn, so it counts in the piece before)."""
    pieces: list[list[tuple[str, bool]]] = [[]]
    for run in paragraph.iter(f"{{{W}}}r"):
        if run.getparent().tag == f"{{{W}}}del":
            continue
        bold = _is_bold(run)
        for node in run:
            if node.tag == f"{{{W}}}br":
                pieces.append([])
            elif node.tag == f"{{{W}}}softHyphen":
                pieces[-1].append(("-", bold))
                pieces.append([])
            elif node.tag == f"{{{W}}}t" and node.text:
                for index, part in enumerate(BREAKS.split(node.text.replace("\u00ad", "-\u00ad"))):
                    if index:
                        pieces.append([])
                    for syllable_index, syllable in enumerate(part.split("\u00ad")):
                        if syllable_index:
                            pieces.append([])
                        pieces[-1].append((syllable, bold))
    return [piece for piece in pieces if any(text for text, _ in piece)]


def overflowing_words(docx_path: Path) -> tuple[list[Overflow], int]:
    """Every word of every table cell that is wider than its cell, and the number of cells checked."""
    with zipfile.ZipFile(docx_path) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    found: list[Overflow] = []
    checked = 0
    for t_index, table in enumerate(root.iter(f"{{{W}}}tbl")):
        margin_left = int(_attr(table, "w:tblPr/w:tblCellMar/w:left", "w", "108"))
        margin_right = int(_attr(table, "w:tblPr/w:tblCellMar/w:right", "w", "108"))
        for r_index, row in enumerate(table.findall("w:tr", NS)):
            for c_index, cell in enumerate(row.findall("w:tc", NS)):
                room = int(_attr(cell, "w:tcPr/w:tcW", "w"))
                checked += 1
                for paragraph in cell.findall("w:p", NS):
                    for piece in _pieces(paragraph):
                        width = sum(text_width(text, bold, TABLE_TEXT_PT) for text, bold in piece)
                        width += margin_left + margin_right
                        if width > room:
                            word = "".join(text for text, _ in piece)
                            found.append(Overflow(t_index, r_index, c_index, word, round(width), room))
    return found, checked


@dataclass(frozen=True)
class Picture:
    png_name: str
    svg_name: str | None
    placed_width_in: float
    png_width_px: int
    png_height_px: int

    @property
    def ppi(self) -> float:
        """Pixels per inch of the PNG at the size it is placed."""
        return self.png_width_px / self.placed_width_in


def pictures(docx_path: Path) -> list[Picture]:
    """Every picture of the document body: its PNG, its SVG (if any), its placed width and pixel size."""
    with zipfile.ZipFile(docx_path) as package:
        root = etree.fromstring(package.read("word/document.xml"))
        rels = etree.fromstring(package.read("word/_rels/document.xml.rels"))
        targets = {rel.get("Id"): "word/" + rel.get("Target") for rel in rels}
        found = []
        for inline in root.iter(f"{{{WP}}}inline", f"{{{WP}}}anchor"):
            width_in = int(inline.find("wp:extent", NS).get("cx")) / EMU_PER_INCH
            blip = inline.find(".//a:blip", NS)
            png = targets[blip.get(f"{{{R}}}embed")]
            svg_blip = blip.find(".//asvg:svgBlip", NS)
            svg = targets[svg_blip.get(f"{{{R}}}embed")] if svg_blip is not None else None
            with Image.open(io.BytesIO(package.read(png))) as image:
                found.append(Picture(png, svg, width_in, image.width, image.height))
    return found
