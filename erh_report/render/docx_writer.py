"""Semantic HTML → Word document, so that one template gives the PDF and the DOCX.

The documents are written once as templates that produce HTML; WeasyPrint lays that HTML out as PDF, and
this module walks the same HTML to build a real Word file: Word's own heading, caption and list styles
(so that an editor can restyle the manuscript), real tables with repeating header rows and journal rules,
pictures at the text width, landscape sections for wide tables, a running header and page numbers. The
same HTML always gives the same bytes, so a rebuild changes the file only when its content changed.

Supported HTML: h1 (``.title``) to h6; p (``.caption``, ``.table-note``, ``.key-points``) with inline
strong/b, em/i, u, s, sup, sub, code, small, span, a, br and img; ul/ol/li (nested), dl, blockquote;
table with caption, thead, tbody, tfoot, th/td (colspan, rowspan, ``.num``); figure with img and
figcaption; ``section.landscape``; ``div.page-break``; ``div.box``. header, nav, style and script are
left out; other containers are walked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from copy import deepcopy
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Emu, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from erh_report.render import docx_images as images
from erh_report.render import docx_ooxml as ox
from erh_report.render.docx_inline import SKIP_TAGS, Fmt, apply_format, collect, normalise
from erh_report.render.docx_styles import (
    FIGURE,
    HYPERLINK,
    SYMBOL_FONT,
    TABLE_NOTE,
    TABLE_TEXT,
    setup_page,
    setup_styles,
)
from erh_report.render.docx_tables import Grid, GridCell, add_grid_table, build_grid

#: Elements that start a new paragraph (or hold paragraphs); everything else is inline.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
    }
)

#: Figures leave this share of the text height for their caption.
FIGURE_HEIGHT_SHARE = 0.85
_SYMBOLS = re.compile("([\u2295\u2296\u2a01\u25ef\u25cb\u25cf\u2b24]+)")
_SCHEMES = ("http", "https", "mailto", "ftp", "doi")
_ALIGN = {
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
}


def write_docx(
    html: str,
    base_dir: Path,
    out_path: Path,
    *,
    title: str,
    header_text: str | None = None,
    footer_page_numbers: bool = True,
    fallback_cache: Path | None = None,
) -> None:
    """Write the Word version of ``html`` to ``out_path``; image paths are relative to ``base_dir``.

    ``header_text`` runs along the top of every page; ``footer_page_numbers`` puts the page number at the
    bottom; ``fallback_cache`` keeps the figures' fallback PNGs for the next build (``images.Fallbacks``).
    Raises FileNotFoundError naming the image when a figure's file is missing.
    """
    out_path = Path(out_path)
    out_path.write_bytes(
        docx_bytes(
            html,
            Path(base_dir),
            title=title,
            header_text=header_text,
            footer_page_numbers=footer_page_numbers,
            fallback_cache=fallback_cache,
        )
    )


def docx_bytes(
    html: str,
    base_dir: Path,
    *,
    title: str,
    header_text: str | None = None,
    footer_page_numbers: bool = True,
    fallback_cache: Path | None = None,
) -> bytes:
    """The .docx file for ``html`` as bytes (see ``write_docx``)."""
    root = lxml.html.document_fromstring(html) if html.strip() else lxml.html.document_fromstring("<p></p>")
    document = Document()
    setup_styles(document)
    setup_page(document, header_text, footer_page_numbers)
    ids = [element.get("id") for element in root.iter() if isinstance(element.tag, str) and element.get("id")]
    writer = _Writer(document, Path(base_dir), ox.bookmark_names(ids), made=images.Fallbacks(fallback_cache))
    body = root.find("body")
    writer.blocks(body if body is not None else root, _Flow(container=document))
    ox.fix_metadata(document, title)
    data, ppi = ox.package_bytes(document), images.FALLBACK_PPI
    while len(data) > images.DOCX_LIMIT and writer.fallbacks and ppi > images.FALLBACK_PPI_MIN:
        # too large to send: the PNGs for readers without SVG give way (a review of hundreds of studies)
        ppi = images.fallbacks_within(list(writer.fallbacks.values()), ppi, len(data) - images.DOCX_LIMIT, writer.made)
        data = ox.package_bytes(document)
    return data


@dataclass(frozen=True)
class _Flow:
    """Where paragraphs go and how they look: the container (document or table cell), the style of a
    paragraph written from loose text, alignment, bold (th), a box (div.box), the list level and list id."""

    container: object
    style: str | None = None
    in_cell: bool = False
    align: WD_ALIGN_PARAGRAPH | None = None
    bold: bool = False
    boxed: bool = False
    figure: bool = False
    list_level: int = 0
    num_id: int | None = None
    cell_width: int | None = None


@dataclass
class _Writer:
    """Walks the HTML tree once, in document order, adding paragraphs, tables and sections."""

    document: DocxDocument
    base_dir: Path
    anchors: dict[str, str]
    pending_ids: list[str] = field(default_factory=list)
    pending_break: bool = False
    landscape_depth: int = 0
    landscape: bool = False
    started: bool = False
    bookmark_id: int = 0
    created: list[Paragraph] = field(default_factory=list)
    next_shape_id: int = 0
    image_parts: dict[str, ImagePart] = field(default_factory=dict)
    svg_parts: dict[str, object] = field(default_factory=dict)
    fallbacks: dict[str, tuple[ImagePart, int]] = field(default_factory=dict)  # PNGs beside SVGs, placed width
    made: images.Fallbacks = field(default_factory=lambda: images.Fallbacks(None))  # fallback PNGs, maybe kept
    style_ids: dict[str, str] = field(default_factory=dict)
    #: The first plain-text cell of each kind as written, to copy for the next ones (see ``_cell``).
    cell_models: dict[tuple, tuple] = field(default_factory=dict)

    def style_id(self, name: str | None) -> str | None:
        """The style id of a style name (looked up once: python-docx's lookup by name is slow)."""
        if name is None:
            return None
        if not self.style_ids:
            self.style_ids.update((style.name, style.style_id) for style in self.document.styles)
        return self.style_ids[name]

    def set_style(self, paragraph: Paragraph, name: str) -> None:
        """Give a paragraph a style by name, fast."""
        paragraph._p.style = self.style_id(name)

    # ---- block level -------------------------------------------------------------------------------------

    def blocks(self, element, flow: _Flow, skip: frozenset[str] = frozenset()) -> None:
        """Walk a container: block children become paragraphs/tables, runs of loose inline content between
        them become paragraphs of the flow's style; children whose tag is in ``skip`` are left out."""
        loose: list = []
        if element.text:
            loose.append(element.text)
        for child in element:
            if not isinstance(child.tag, str) or child.tag in SKIP_TAGS or child.tag in skip:
                pass
            elif child.tag in BLOCK_TAGS:
                self._loose_paragraph(loose, flow)
                loose = []
                self.block(child, flow)
            else:
                loose.append(child)
            if child.tail:
                loose.append(child.tail)
        self._loose_paragraph(loose, flow)

    def _loose_paragraph(self, items: list, flow: _Flow) -> None:
        """A paragraph from inline items, unless they are only white space."""
        if not any(not isinstance(item, str) or item.strip() for item in items):
            return
        paragraph = self.paragraph(flow)
        self.inline(paragraph, items, flow)

    def block(self, element, flow: _Flow) -> None:
        """One block element, dispatched on its tag and classes."""
        tag = element.tag
        classes = set((element.get("class") or "").split())
        if element.get("id"):
            self.pending_ids.append(element.get("id"))
        if "page-break" in classes:
            self.pending_break = True
        if "landscape" in classes and not flow.in_cell:
            self.landscape_depth += 1
            try:
                self.blocks(element, flow)
            finally:
                self.landscape_depth -= 1
            return
        if flow.boxed is False and ("box" in classes or "key-points" in classes or tag == "aside"):
            flow = replace(flow, boxed=True)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            style = "Title" if tag == "h1" and "title" in classes else f"Heading {tag[1]}"
            self._paragraph_of(element, flow, style)
        elif tag == "p":
            self._paragraph_of(element, flow, self._p_style(classes, flow))
        elif tag in ("figcaption", "caption"):
            self._paragraph_of(element, replace(flow, align=None), "Caption")
        elif tag in ("ul", "ol"):
            self._list(element, flow, ordered=tag == "ol")
        elif tag == "li":
            self._list_item(element, flow)
        elif tag == "table":
            self._table(element, flow)
        elif tag == "figure":
            self._figure(element, flow)
        elif tag == "dt":
            self._paragraph_of(element, replace(flow, bold=True), flow.style)
        elif tag == "dd":
            self.blocks(element, replace(flow, style=flow.style or "List Continue"))
        elif tag == "blockquote":
            self.blocks(element, replace(flow, style="Quote"))
        elif tag == "hr":
            return
        else:
            self.blocks(element, flow)

    @staticmethod
    def _p_style(classes: set[str], flow: _Flow) -> str | None:
        if "caption" in classes:
            return "Caption"
        if "table-note" in classes or ("note" in classes and flow.in_cell):
            return TABLE_NOTE
        return flow.style

    def _paragraph_of(self, element, flow: _Flow, style: str | None) -> list[Paragraph]:
        """The paragraph(s) of an element that holds text (p, h1, caption...): one paragraph of inline content,
        or, when it holds blocks as well, one paragraph of ``style`` per block."""
        start = len(self.created)
        if any(isinstance(child.tag, str) and child.tag in BLOCK_TAGS for child in element):
            self.blocks(element, replace(flow, style=style))
        else:
            items: list = [element.text] if element.text else []
            for child in element:
                items.append(child)
                if child.tail:
                    items.append(child.tail)
            self.inline(self.paragraph(flow, style), items, flow)
        return self.created[start:]

    def paragraph(self, flow: _Flow, style: str | None = None) -> Paragraph:
        """A new paragraph at the end of the flow's container, carrying pending bookmarks and page break."""
        if not flow.in_cell:
            self._before_block()
        paragraph = flow.container.add_paragraph()
        style = style or flow.style
        if style:
            self.set_style(paragraph, style)
        if flow.align is not None:
            paragraph.alignment = flow.align
        if flow.boxed:
            ox.box_paragraph(paragraph)
        if self.pending_break and not flow.in_cell:
            paragraph.paragraph_format.page_break_before = True
            self.pending_break = False
        self._bookmark(paragraph)
        self.created.append(paragraph)
        return paragraph

    def _bookmark(self, paragraph: Paragraph, ids: list[str] | None = None) -> None:
        for html_id in ids if ids is not None else self.pending_ids:
            name = self.anchors.get(html_id)
            if name:
                ox.add_bookmark(paragraph, name, self.bookmark_id)
                self.bookmark_id += 1
        if ids is None:
            self.pending_ids = []

    def _before_block(self) -> None:
        """Switch between portrait and landscape when the content asks for it, only as content arrives, so that
        a landscape part at the start or the end adds no empty page."""
        want = self.landscape_depth > 0
        if want != self.landscape:
            if self.started:
                self._new_section()
                self.pending_break = False
            section = self.document.sections[-1]
            long_side, short_side = (
                max(section.page_width, section.page_height),
                min(section.page_width, section.page_height),
            )
            section.orientation = WD_ORIENT.LANDSCAPE if want else WD_ORIENT.PORTRAIT
            section.page_width, section.page_height = (long_side, short_side) if want else (short_side, long_side)
            self.landscape = want
        self.started = True

    def _new_section(self) -> None:
        """A section break on a new page. The previous section's properties go into its last paragraph;
        python-docx adds an empty paragraph for them, kept (and made tiny) only when a table ends the section."""
        self.document.add_section(WD_SECTION.NEW_PAGE)
        body = self.document.element.body
        holder = body.sectPr.getprevious()
        before = holder.getprevious()
        if before is not None and before.tag == qn("w:p") and (before.pPr is None or before.pPr.sectPr is None):
            before.set_sectPr(holder.pPr.sectPr)
            body.remove(holder)
        else:
            _make_tiny(Paragraph(holder, self.document._body))

    def _text_width(self) -> int:
        """Width between the margins of the current section, in EMU."""
        section = self.document.sections[-1]
        return int(section.page_width - section.left_margin - section.right_margin)

    def _text_height(self) -> int:
        section = self.document.sections[-1]
        return int(section.page_height - section.top_margin - section.bottom_margin)

    # ---- lists ------------------------------------------------------------------------------------------------

    def _list(self, element, flow: _Flow, *, ordered: bool) -> None:
        """ul/ol: Word's List Bullet / List Number styles, one level deeper per nesting; each ol restarts at 1."""
        level = min(flow.list_level + 1, 3)
        suffix = "" if level == 1 else f" {level}"
        style = ("List Number" if ordered else "List Bullet") + suffix
        num_id = ox.restarted_numbering(self.document, style) if ordered else None
        item_flow = replace(flow, style=style, list_level=level, num_id=num_id)
        self.blocks(element, item_flow)

    def _list_item(self, element, flow: _Flow) -> None:
        """li: its first paragraph carries the bullet or number, later ones continue the item unnumbered."""
        if not flow.list_level:
            flow = replace(flow, style="List Bullet", list_level=1)
        start = len(self.created)
        self.blocks(element, flow)
        own = [p for p in self.created[start:] if p._p.style == self.style_id(flow.style)]
        for index, paragraph in enumerate(own):
            if index == 0:
                if flow.num_id is not None:
                    ox.set_numbering(paragraph, flow.num_id)
            else:
                suffix = "" if flow.list_level == 1 else f" {flow.list_level}"
                self.set_style(paragraph, "List Continue" + suffix)

    # ---- tables -----------------------------------------------------------------------------------------------

    def _table(self, element, flow: _Flow) -> None:
        """Caption above (Caption style, kept with the table), the Word table, then footer notes."""
        if not flow.in_cell:
            self._before_block()
        caption = next((c for c in element if isinstance(c.tag, str) and c.tag == "caption"), None)
        if caption is not None:
            for paragraph in self._paragraph_of(caption, replace(flow, align=None, bold=False, style=None), "Caption"):
                paragraph.paragraph_format.keep_with_next = True
        elif self.pending_break or self.pending_ids or _ends_with_table(flow.container):
            _make_tiny(self.paragraph(replace(flow, align=None, style=None)))
        grid = build_grid(element)
        notes = _note_rows(grid)
        if notes:
            grid = build_grid(element, exclude=frozenset(row for row, _ in notes))
        if grid.n_cols:
            available = flow.cell_width if flow.in_cell and flow.cell_width else self._text_width()
            add_grid_table(
                flow.container, grid, int(Emu(available).twips), lambda cell, spec: self._cell(cell, spec, grid)
            )
        for _, cell_el in notes:
            self.blocks(cell_el, replace(flow, style=TABLE_NOTE, bold=False, align=None))

    def _cell(self, cell: _Cell, spec: GridCell, grid: Grid) -> None:
        """One table cell: small text, numbers right-aligned, th bold, header cells aligned to the bottom."""
        element = spec.element
        classes = set((element.get("class") or "").split())
        align = None
        style_attr = (element.get("style") or "").replace(" ", "").lower()
        match = re.search(r"text-align:(left|right|center|justify)", style_attr)
        if match:
            align = _ALIGN[match.group(1)]
        elif "num" in classes:
            align = WD_ALIGN_PARAGRAPH.RIGHT
        elif classes & {"center", "text-center"} or (element.get("align") or "").lower() == "center":
            align = WD_ALIGN_PARAGRAPH.CENTER
        text = _plain_text(element)
        kind = (element.tag == "th", align, spec.part == "head")
        model = self.cell_models.get(kind) if text is not None and not self.pending_ids else None
        if model is not None:  # a cell like one written before but for its text: that one's XML, copied
            paragraph, valign = model
            tc = cell._tc
            for placeholder in tc.findall(qn("w:p")):
                tc.remove(placeholder)
            copy = deepcopy(paragraph)
            copy.find(_TEXT).text = text
            tc.append(copy)
            tc.get_or_add_tcPr()._insert_vAlign(deepcopy(valign))
            self.created.append(Paragraph(copy, cell))
            return
        width = int(cell.width) if cell.width is not None else None
        flow = _Flow(
            container=cell, style=TABLE_TEXT, in_cell=True, align=align, bold=element.tag == "th", cell_width=width
        )
        placeholder = cell.paragraphs[0]
        self.blocks(element, flow)
        if len(cell.paragraphs) > 1 and not placeholder.runs:
            placeholder._p.getparent().remove(placeholder._p)
        else:
            self.set_style(placeholder, TABLE_TEXT)
            if align is not None:
                placeholder.alignment = align
        cell.vertical_alignment = (
            WD_CELL_VERTICAL_ALIGNMENT.BOTTOM if spec.part == "head" else WD_CELL_VERTICAL_ALIGNMENT.TOP
        )
        if text is not None and kind not in self.cell_models:
            self._keep_cell_model(cell, kind, text)

    def _keep_cell_model(self, cell: _Cell, kind: tuple, text: str) -> None:
        """Keep a plain-text cell's paragraph and vertical alignment as the model of its kind, when it was
        written as one run of that text (python-docx's way is a tenth of a millisecond per cell; a table of
        every study and outcome has thousands)."""
        paragraphs = cell._tc.findall(qn("w:p"))
        valign = cell._tc.tcPr.find(qn("w:vAlign")) if cell._tc.tcPr is not None else None
        if len(paragraphs) != 1 or valign is None:
            return
        paragraph = paragraphs[0]
        runs = [child for child in paragraph if child.tag != qn("w:pPr")]  # no bookmark, no link
        if len(runs) != 1 or runs[0].tag != qn("w:r"):
            return
        texts = [child for child in runs[0] if child.tag != qn("w:rPr")]
        if len(texts) == 1 and texts[0].tag == qn("w:t") and texts[0].text == text:
            self.cell_models[kind] = (deepcopy(paragraph), deepcopy(valign))

    # ---- figures ----------------------------------------------------------------------------------------------

    def _figure(self, element, flow: _Flow) -> None:
        """The picture(s) centred at the text width, then the caption below them."""
        self.blocks(element, replace(flow, style=FIGURE, figure=True, align=None), skip=frozenset({"figcaption"}))
        for caption in element.iterchildren("figcaption"):
            self._paragraph_of(caption, replace(flow, align=None), "Caption")

    def _picture(self, run: Run, img, flow: _Flow) -> None:
        """Insert the image of an img element: at the text width in a figure (never taller than the page),
        otherwise at its own size shrunk to fit; the alt text becomes the picture's description."""
        png, svg = self._image_source(img.get("src") or "")
        image = Image.from_blob(png)
        px_w, px_h = max(image.px_width, 1), max(image.px_height, 1)
        max_width = flow.cell_width if flow.in_cell and flow.cell_width else self._text_width()
        width = max_width if flow.figure and not flow.in_cell else min(int(image.width), max_width)
        height = int(width * px_h / px_w)
        max_height = int(self._text_height() * FIGURE_HEIGHT_SHARE)
        if height > max_height:
            height = max_height
            width = int(height * px_w / px_h)
        part = run.part
        placed = Image.from_blob(self.made.png(png, width)) if svg is not None else image
        image_part = self._image_part(placed)
        if svg is not None:
            self.fallbacks.setdefault(placed.sha1, (image_part, width))
        r_id = part.relate_to(image_part, RT.IMAGE)
        if self.next_shape_id == 0:
            self.next_shape_id = part.next_id
        inline = CT_Inline.new_pic_inline(self.next_shape_id, r_id, image.filename, Emu(width), Emu(height))
        if svg is not None:
            images.link_svg(inline, part, self._svg_part(svg))
        self.next_shape_id += 1
        run._r.add_drawing(inline)
        for doc_pr in run._r.iter(qn("wp:docPr")):
            doc_pr.set("descr", img.get("alt") or "")
            if img.get("title"):
                doc_pr.set("title", img.get("title"))

    def _image_part(self, image: Image) -> ImagePart:
        """The package's part for this image, one per distinct image (python-docx's own lookup hashes every
        image again for each new one, which is slow for a supplement with a hundred figures)."""
        part = self.image_parts.get(image.sha1)
        if part is None:
            part = self.document.part.package.image_parts._add_image_part(image)
            self.image_parts[image.sha1] = part
        return part

    def _svg_part(self, svg: bytes):
        """The package's part for this SVG, one per distinct drawing."""
        key = hashlib.sha1(svg).hexdigest()
        part = self.svg_parts.get(key)
        if part is None:
            part = images.add_svg_part(self.document.part.package, svg, len(self.svg_parts) + 1)
            self.svg_parts[key] = part
        return part

    def _image_source(self, src: str) -> tuple[bytes, bytes | None]:
        """The image bytes for an img src (a data: URI, or a file under base_dir) and, for an SVG, the SVG
        too: the picture is then the SVG with the PNG of the same name beside it as the fallback for readers
        without SVG (figures are written as both)."""
        if src.startswith("data:"):
            head, _, payload = src.partition(",")
            if "svg" in head:
                raise ValueError("an inline SVG image (data: URI) cannot go into the DOCX; give the PNG")
            try:
                data = base64.b64decode(payload) if ";base64" in head else unquote(payload).encode("latin-1")
            except (binascii.Error, ValueError) as error:
                raise ValueError(f"an img data: URI could not be decoded: {error}") from error
            return data, None
        parts = urlsplit(src)
        relative = unquote(parts.path)
        path = Path(relative) if parts.scheme == "file" else self.base_dir / relative
        svg = None
        if path.suffix.lower() == ".svg":
            svg = path.read_bytes() if path.is_file() else None
            path = path.with_suffix(".png")
        if not path.is_file():
            raise FileNotFoundError(f"image {src!r} of the document not found: {path}")
        return path.read_bytes(), svg

    # ---- inline -----------------------------------------------------------------------------------------------

    def inline(self, paragraph: Paragraph, items: list, flow: _Flow) -> None:
        """Runs for inline content: text with its formatting, line breaks, links and pictures."""
        base = Fmt(bold=flow.bold)
        segments: list[tuple[object, Fmt]] = []
        ids: list[str] = []
        for item in items:
            if isinstance(item, str):
                segments.append((item, base))
            else:
                collect(item, base, segments, ids)
        self._bookmark(paragraph, ids)
        link = None
        link_href: str | None = None
        for content, fmt in normalise(segments):
            if fmt.href != link_href:
                link_href = fmt.href
                link = self._hyperlink(paragraph, fmt.href) if fmt.href else None
            pieces = _SYMBOLS.split(content) if isinstance(content, str) else [content]
            for index, piece in enumerate(pieces):
                if isinstance(piece, str) and not piece:
                    continue
                run = paragraph.add_run()
                if isinstance(piece, str):
                    run.text = piece
                    apply_format(run, fmt)
                    if index % 2:
                        run.font.name = SYMBOL_FONT
                    if link is not None and not fmt.href.startswith("#"):
                        run._r.style = self.style_id(HYPERLINK)
                else:
                    self._picture(run, piece, flow)
                if link is not None:
                    link.append(run._r)

    def _hyperlink(self, paragraph: Paragraph, href: str):
        """A w:hyperlink for ``href``: a bookmark for ``#id``, the URL for an absolute link, else none."""
        if href.startswith("#"):
            name = self.anchors.get(unquote(href[1:]))
            return ox.hyperlink_element(paragraph, anchor=name) if name else None
        if urlsplit(href).scheme.lower() in _SCHEMES:
            return ox.hyperlink_element(paragraph, url=href)
        return None


_TEXT = f"{qn('w:r')}/{qn('w:t')}"


def _plain_text(element) -> str | None:
    """A cell's text when the cell holds only text that makes one run: no markup, no symbols of the symbol
    font, no tab or line break, and some text; else None."""
    if len(element) or not element.text:
        return None
    pieces = normalise([(element.text, Fmt())])
    if len(pieces) != 1 or not isinstance(pieces[0][0], str):
        return None
    text = pieces[0][0]
    if not text or text != text.strip() or any(c in text for c in "\t\n\r") or len(_SYMBOLS.split(text)) != 1:
        return None
    return text


def _make_tiny(paragraph: Paragraph) -> None:
    """An empty paragraph that takes (almost) no room: between two tables or ending a section."""
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(1)
    ox.set_mark_size(paragraph, 2)


def _ends_with_table(container) -> bool:
    """Whether the container's last block is a table (Word would join a table added right after it)."""
    element = container.element.body if isinstance(container, DocxDocument) else container._tc
    blocks = [child for child in element if child.tag in (qn("w:p"), qn("w:tbl"))]
    return bool(blocks) and blocks[-1].tag == qn("w:tbl")


def _note_rows(grid: Grid) -> list[tuple[object, object]]:
    """tfoot rows that are one cell across the whole table: notes, written as paragraphs under the table."""
    rows = []
    for cell in grid.cells:
        if cell.part == "foot" and cell.col == 0 and cell.colspan >= grid.n_cols:
            rows.append((cell.element.getparent(), cell.element))
    return rows
