"""The Word styles and page of every DOCX: journal-plain versions of Word's built-in styles and the few
the tables and figures need, all by name so that an editor can restyle them; the PDF's fonts by the
names Word knows; US Letter with the running header and page numbers."""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Inches, Pt, RGBColor

from erh_report.render import docx_ooxml as ox
from erh_report.render.docx_tables import TABLE_TEXT_PT

TABLE_TEXT = "Table Text"
TABLE_NOTE = "Table Note"
FIGURE = "Figure"
HYPERLINK = "Hyperlink"
#: GRADE certainty symbols (⨁◯) are missing from the text fonts, and a fallback font may draw ◯ filled:
#: they get a symbol font that has them (Windows has it; elsewhere Word substitutes a font with the glyphs).
SYMBOL_FONT = "Segoe UI Symbol"
#: The PDF's fonts by the names Word knows: Liberation Serif and Sans are their metric twins, and
#: LibreOffice sets these names in them.
TEXT_FONT = "Times New Roman"
HEADING_FONT = "Arial"


def setup_styles(document: DocxDocument) -> None:
    """Journal-plain versions of Word's built-in styles, plus the few styles the tables and figures need,
    all by name so that an editor can restyle them."""
    styles = document.styles
    normal = styles["Normal"]
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "Heading 5", "Heading 6"):
        styles[name].font.color.rgb = RGBColor(0, 0, 0)
    styles["Title"].font.size = Pt(20)
    caption = styles["Caption"]
    caption.font.bold = False
    caption.font.size = Pt(10)
    caption.font.color.rgb = RGBColor(0, 0, 0)
    caption.paragraph_format.space_before = Pt(12)
    caption.paragraph_format.space_after = Pt(6)

    add_paragraph_style(document, TABLE_TEXT, size=TABLE_TEXT_PT, before=1, after=1)
    add_paragraph_style(document, TABLE_NOTE, size=8, before=0, after=2)
    figure = add_paragraph_style(document, FIGURE, size=None, before=12, after=0)
    figure.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    figure.paragraph_format.keep_with_next = True
    ox.set_style_font(normal, TEXT_FONT)
    for name in (
        "Title",
        "Heading 1",
        "Heading 2",
        "Heading 3",
        "Heading 4",
        "Heading 5",
        "Heading 6",
        "Caption",
        TABLE_TEXT,
        TABLE_NOTE,
    ):
        ox.set_style_font(styles[name], HEADING_FONT)

    link = styles.add_style(HYPERLINK, WD_STYLE_TYPE.CHARACTER)
    link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
    link.font.underline = True


def add_paragraph_style(document: DocxDocument, name: str, *, size: float | None, before: float, after: float):
    """A paragraph style based on Normal with single line spacing, its size and spacing in points."""
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    if size is not None:
        style.font.size = Pt(size)
    style.paragraph_format.space_before = Pt(before)
    style.paragraph_format.space_after = Pt(after)
    style.paragraph_format.line_spacing = 1.0
    return style


def setup_page(document: DocxDocument, header_text: str | None, page_numbers: bool) -> None:
    """US Letter, 1-inch margins, the running header and the page number; later sections inherit them."""
    section = document.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))
    if header_text:
        header = section.header
        header.is_linked_to_previous = False
        paragraph = header.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(header_text)
        run.font.size = Pt(9)
    if page_numbers:
        footer = section.footer
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        ox.add_page_field(paragraph)
