"""The DOCX writer: small HTML documents in, the Word file read back with python-docx."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx
import lxml.etree
import lxml.html
import matplotlib
import PIL.Image
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Emu
from docx_checks import pictures

from erh_report.render.docx_images import FALLBACK_PPI, SVG_BLIP_URI, fallback_png, svg_blip_targets
from erh_report.render.docx_styles import HEADING_FONT, SYMBOL_FONT, TEXT_FONT
from erh_report.render.docx_tables import (
    CELL_MARGIN,
    CHAR_TWIPS,
    TABLE_TEXT_PT,
    WORD_SLACK,
    build_grid,
    column_widths,
    longest_word,
    text_width,
)
from erh_report.render.docx_writer import write_docx

matplotlib.use("Agg")

BANNER = "Illustrative data — not real results"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A build folder with one figure written as SVG and PNG, like the figures stage writes them."""
    import matplotlib.pyplot as plt

    (tmp_path / "figures").mkdir()
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1, 2], [0, 1, 0])
    fig.savefig(tmp_path / "figures" / "forest.png", dpi=50)
    fig.savefig(tmp_path / "figures" / "forest.svg")
    plt.close(fig)
    return tmp_path


def _write(html: str, base: Path, name: str = "out.docx", **options) -> docx.document.Document:
    options.setdefault("title", "Test document")
    out = base / name
    write_docx(html, base, out, **options)
    return docx.Document(str(out))


def _body_paragraphs(document) -> list:
    return [p for p in document.paragraphs if p.text.strip()]


def _styled(document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]


def test_headings_use_word_styles(base: Path) -> None:
    html = (
        '<h1 class="title">A review</h1><h1>Introduction</h1><h2>Methods</h2><h3>Search</h3><h4>Sources</h4>'
        "<p>Text.</p>"
    )
    document = _write(html, base)
    assert [(p.style.name, p.text) for p in _body_paragraphs(document)] == [
        ("Title", "A review"),
        ("Heading 1", "Introduction"),
        ("Heading 2", "Methods"),
        ("Heading 3", "Search"),
        ("Heading 4", "Sources"),
        ("Normal", "Text."),
    ]
    assert document.core_properties.title == "Test document"


def test_inline_formatting_white_space_and_breaks(base: Path) -> None:
    html = (
        "<p>  Effect   <strong>SMD</strong> <em>0.38</em><sup>a</sup>, H<sub>2</sub>O\n and "
        "<b><i>both</i></b>.<br> Next line <span>plain</span> </p>"
    )
    document = _write(html, base)
    (paragraph,) = _body_paragraphs(document)
    assert paragraph.text == "Effect SMD 0.38a, H2O and both.\nNext line plain"
    runs = {run.text: run for run in paragraph.runs}
    assert runs["SMD"].bold and not runs["SMD"].italic
    assert runs["0.38"].italic
    assert runs["a"].font.superscript
    assert runs["2"].font.subscript
    assert runs["both"].bold and runs["both"].italic
    assert paragraph._p.xpath(".//w:br"), "br is a line break inside the paragraph"


def test_grade_symbols_get_a_font_that_has_them(base: Path) -> None:
    document = _write("<p>Certainty \u2a01\u2a01\u25ef\u25ef Low</p>", base)
    runs = _body_paragraphs(document)[0].runs
    assert [(r.text, r.font.name) for r in runs] == [
        ("Certainty ", None),
        ("\u2a01\u2a01\u25ef\u25ef", SYMBOL_FONT),
        (" Low", None),
    ]


def test_non_breaking_space_is_kept(base: Path) -> None:
    document = _write("<p>93&nbsp;studies</p>", base)
    assert _body_paragraphs(document)[0].text == "93\u00a0studies"


def test_links_external_and_internal(base: Path) -> None:
    html = (
        '<p>See <a href="#tbl-1">Table 1</a> and <a href="https://example.org/">the site</a>'
        ' and <a href="#missing">nowhere</a>.</p><table id="tbl-1"><caption>Table 1. T</caption>'
        "<tr><td>x</td></tr></table>"
    )
    document = _write(html, base)
    paragraph = _body_paragraphs(document)[0]
    assert paragraph.text == "See Table 1 and the site and nowhere."
    links = paragraph._p.findall(qn("w:hyperlink"))
    assert len(links) == 2
    internal, external = links
    anchor = internal.get(qn("w:anchor"))
    names = [b.get(qn("w:name")) for b in document.element.body.iter(qn("w:bookmarkStart"))]
    assert anchor in names
    caption = next(p for p in document.paragraphs if p.style.name == "Caption")
    assert caption._p.find(qn("w:bookmarkStart")).get(qn("w:name")) == anchor
    rel = document.part.rels[external.get(qn("r:id"))]
    assert rel.is_external and rel.target_ref == "https://example.org/"


def test_captions_and_table_notes(base: Path) -> None:
    html = (
        '<p class="caption">Table 3. A caption</p><table><tr><td>1</td></tr></table>'
        '<p class="table-note"><sup>a</sup> Downgraded for imprecision.</p>'
    )
    document = _write(html, base)
    assert _styled(document, "Caption") == ["Table 3. A caption"]
    (note,) = [p for p in document.paragraphs if p.style.name == "Table Note"]
    assert note.text == "a Downgraded for imprecision."
    assert note.runs[0].font.superscript
    assert document.styles["Table Note"].font.size.pt == 8


def test_lists_bullets_numbers_nesting_and_restart(base: Path) -> None:
    html = (
        "<ul><li>one</li><li>two<ul><li>two a</li></ul></li></ul>"
        "<ol><li>first</li><li><p>second</p><p>more of second</p></li></ol><p>between</p>"
        "<ol><li>again</li></ol>"
    )
    document = _write(html, base)
    styles = [(p.style.name, p.text) for p in _body_paragraphs(document)]
    assert styles == [
        ("List Bullet", "one"),
        ("List Bullet", "two"),
        ("List Bullet 2", "two a"),
        ("List Number", "first"),
        ("List Number", "second"),
        ("List Continue", "more of second"),
        ("Normal", "between"),
        ("List Number", "again"),
    ]
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    num_ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert num_ids[0] == num_ids[1] != num_ids[2], "each ol is its own list, numbered from 1"
    overrides = document.part.numbering_part.element.xpath(
        f'./w:num[@w:numId="{num_ids[2]}"]/w:lvlOverride/w:startOverride/@w:val'
    )
    assert overrides == ["1"]


TABLE = """
<table id="t1"><caption><strong>Table 1.</strong> Characteristics</caption>
<thead>
<tr><th rowspan="2">Study</th><th colspan="2">Outcome</th></tr>
<tr><th class="num">N</th><th class="num">SMD (95% CI)</th></tr>
</thead>
<tbody>
<tr><th>Smith 2019</th><td class="num">120</td><td class="num">0.38 (0.21 to 0.55)</td></tr>
<tr><td rowspan="2">Jones 2020</td><td class="num">80</td><td class="num">0.12 (−0.10 to 0.34)<sup>a</sup></td></tr>
<tr><td class="num">81</td><td class="num">0.20 (0.01 to 0.39)</td></tr>
</tbody>
<tfoot><tr><td colspan="3">Abbreviation: SMD, standardized mean difference.</td></tr></tfoot>
</table>
<p class="table-note"><sup>a</sup> Crossover trial.</p>
"""


def test_table_cells_spans_and_caption(base: Path) -> None:
    document = _write(TABLE, base)
    (table,) = document.tables
    assert len(table.rows) == 5 and len(table.columns) == 3
    assert [c.text for c in table.rows[0].cells] == ["Study", "Outcome", "Outcome"]
    assert [c.text for c in table.rows[1].cells] == ["Study", "N", "SMD (95% CI)"]
    assert [c.text for c in table.rows[2].cells] == ["Smith 2019", "120", "0.38 (0.21 to 0.55)"]
    assert [c.text for c in table.rows[4].cells] == ["Jones 2020", "81", "0.20 (0.01 to 0.39)"]
    assert table.rows[0]._tr.tc_lst[1].grid_span == 2
    assert table.rows[1]._tr.tc_lst[0].vMerge == "continue"
    caption = document.paragraphs[0]
    assert caption.style.name == "Caption" and caption.text == "Table 1. Characteristics"
    assert caption.paragraph_format.keep_with_next
    assert caption.runs[0].bold
    sup = [r for r in table.rows[3].cells[2].paragraphs[0].runs if r.font.superscript]
    assert [r.text for r in sup] == ["a"]


def test_table_header_rows_repeat_and_rules(base: Path) -> None:
    document = _write(TABLE, base)
    tbl = document.tables[0]._tbl
    header_flags = [tr.trPr is not None and tr.trPr.find(qn("w:tblHeader")) is not None for tr in tbl.tr_lst]
    assert header_flags == [True, True, False, False, False]
    borders = tbl.tblPr.find(qn("w:tblBorders"))
    assert borders.find(qn("w:top")).get(qn("w:val")) == "single"
    assert borders.find(qn("w:bottom")).get(qn("w:val")) == "single"
    assert borders.find(qn("w:insideH")).get(qn("w:val")) == "nil"
    assert borders.find(qn("w:left")).get(qn("w:val")) == "nil"
    for tc in tbl.tr_lst[1].tc_lst:  # the rule under the header, across every column
        assert tc.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom")).get(qn("w:val")) == "single"
    spanner = tbl.tr_lst[0].tc_lst[1]  # "Outcome" over two columns has its own short rule
    assert spanner.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom")) is not None
    assert tbl.tr_lst[2].tc_lst[0].tcPr.find(qn("w:tcBorders")) is None


def test_table_cells_small_numbers_right_and_widths_fit_page(base: Path) -> None:
    document = _write(TABLE, base)
    table = document.tables[0]
    number = table.rows[2].cells[1].paragraphs[0]
    assert number.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert number.style.name == "Table Text" and document.styles["Table Text"].font.size.pt == TABLE_TEXT_PT
    assert table.rows[2].cells[0].paragraphs[0].alignment is None
    assert table.rows[2].cells[0].paragraphs[0].runs[0].bold, "th is bold"
    section = document.sections[0]
    text_width = Emu(section.page_width - section.left_margin - section.right_margin).twips
    grid = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(grid) == text_width
    assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    for tr in table._tbl.tr_lst:
        assert sum(tc.width.twips for tc in tr.tc_lst) == pytest.approx(text_width, abs=2)


def test_table_footer_notes_follow_the_table(base: Path) -> None:
    document = _write(TABLE, base)
    body = list(document.element.body.iterchildren())
    position = body.index(document.tables[0]._tbl)
    after = [docx.text.paragraph.Paragraph(e, document) for e in body[position + 1 : position + 3]]
    assert [(p.style.name, p.text) for p in after] == [
        ("Table Note", "Abbreviation: SMD, standardized mean difference."),
        ("Table Note", "a Crossover trial."),
    ]


def test_header_rows_from_leading_th_rows_without_thead(base: Path) -> None:
    html = "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>"
    tbl = _write(html, base).tables[0]._tbl
    assert tbl.tr_lst[0].trPr.find(qn("w:tblHeader")) is not None
    assert tbl.tr_lst[1].trPr.find(qn("w:tblHeader")) is None


def test_two_tables_in_a_row_stay_two_tables(base: Path) -> None:
    html = "<table><tr><td>1</td></tr></table><table><tr><td>2</td></tr></table>"
    document = _write(html, base)
    assert [t.cell(0, 0).text for t in document.tables] == ["1", "2"]


def test_grid_places_spans_like_a_browser() -> None:
    table = lxml.html.fragment_fromstring(
        "<table><tbody><tr><td rowspan='2'>a</td><td colspan='2'>b</td></tr><tr><td>c</td><td>d</td></tr>"
        "<tr><td colspan='0'>e</td><td rowspan='9'>f</td></tr></tbody></table>"
    )
    grid = build_grid(table)
    placed = {cell.element.text: (cell.row, cell.col, cell.rowspan, cell.colspan) for cell in grid.cells}
    assert placed == {
        "a": (0, 0, 2, 1),
        "b": (0, 1, 1, 2),
        "c": (1, 1, 1, 1),
        "d": (1, 2, 1, 1),
        "e": (2, 0, 1, 1),
        "f": (2, 1, 1, 1),
    }
    assert (grid.n_rows, grid.n_cols, grid.header_rows) == (3, 3, 0)


def test_column_widths_share_the_width_by_content() -> None:
    table = lxml.html.fragment_fromstring(
        "<table><tr><td>A fairly long description of an intervention with many words</td><td>12</td>"
        "<td>0.38 (0.21 to 0.55)</td></tr></table>"
    )
    widths = column_widths(build_grid(table), 9000)
    assert sum(widths) == 9000
    assert widths[0] > widths[2] > widths[1]
    assert widths[1] >= 3 * CHAR_TWIPS, "a column is never narrower than its longest word"


def test_header_wraps_at_its_soft_hyphen_only_when_the_table_is_too_narrow_for_the_whole_word() -> None:
    """A narrow numeric column holds its header's longest piece with the hyphen drawn, and the whole word
    as soon as there is room for it."""
    table = lxml.html.fragment_fromstring(
        "<table><thead><tr><th>Outcome</th><th>Stud\u00adies</th><th>Absolute effect</th></tr></thead>"
        "<tbody><tr><td>A long outcome name that wants most of the width of the table</td><td>31</td>"
        "<td>SMD 0.28 SD higher (0.17 higher to 0.38 higher)</td></tr></tbody></table>"
    )
    padding = WORD_SLACK + 2 * CELL_MARGIN
    piece = text_width("Stud-", bold=True) + padding
    whole = text_width("Studies", bold=True) + padding
    first = max(text_width("Outcome", bold=True), longest_word(["A long outcome name that wants most of the"]))
    smallest = first + padding + piece + max(text_width("Absolute", bold=True), text_width("higher)")) + padding
    narrow = column_widths(build_grid(table), int(smallest) + 3)
    assert piece <= narrow[1] < whole, narrow
    wide = column_widths(build_grid(table), 9000)
    assert wide[1] >= whole, wide


def test_words_in_capitals_get_the_room_their_glyphs_take() -> None:
    """CRITICAL and IMPORTANT (GRADE's importance column) are wider than their letter count suggests: the
    column holds the word's advance width in the table font."""
    table = lxml.html.fragment_fromstring(
        "<table><tr><td>IMPORTANT</td><td>important</td><td>A description long enough to want the rest of "
        "the width of the table for itself</td></tr></table>"
    )
    widths = column_widths(build_grid(table), 4000)
    assert widths[0] > widths[1]
    assert widths[0] >= text_width("IMPORTANT") + 2 * CELL_MARGIN
    assert widths[1] >= text_width("important") + 2 * CELL_MARGIN


def test_text_width_is_the_sum_of_the_fonts_advance_widths() -> None:
    """Liberation Sans (Arial's metric twin): 'W' is 1933 and 'i' 455 of 2048 units per em."""
    assert text_width("Wi", size_pt=10) == pytest.approx((1933 + 455) / 2048 * 10 * 20)


def test_styles_name_the_pdf_fonts_without_theme_fonts(base: Path) -> None:
    document = _write("<h1>Title</h1><p>Text</p>", base)

    def fonts(style_name: str) -> dict[str, str]:
        r_fonts = document.styles[style_name].element.rPr.rFonts
        return {key.split("}")[1]: value for key, value in r_fonts.attrib.items()}

    assert fonts("Normal") == dict.fromkeys(("ascii", "hAnsi", "eastAsia", "cs"), TEXT_FONT)
    for name in ("Heading 1", "Title", "Caption", "Table Text"):
        assert fonts(name) == dict.fromkeys(("ascii", "hAnsi", "eastAsia", "cs"), HEADING_FONT), name


def test_figure_picture_at_text_width_with_alt_and_caption(base: Path) -> None:
    html = (
        '<figure id="fig1"><img src="figures/forest.svg" alt="Forest plot of ERH outcomes">'
        "<figcaption><strong>Figure 1.</strong> Forest plot.</figcaption></figure><p>After.</p>"
    )
    document = _write(html, base)
    (shape,) = document.inline_shapes
    section = document.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    assert abs(shape.width - text_width) < 10
    assert shape.height == pytest.approx(shape.width / 2, rel=0.02), "aspect of the 4 x 2 inch PNG kept"
    doc_pr = shape._inline.docPr
    assert doc_pr.get("descr") == "Forest plot of ERH outcomes"
    picture_paragraph = next(p for p in document.paragraphs if p._p.xpath(".//w:drawing"))
    assert picture_paragraph.style.name == "Figure" and picture_paragraph.paragraph_format.keep_with_next is None
    assert document.styles["Figure"].paragraph_format.keep_with_next
    texts = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    assert texts == [("Caption", "Figure 1. Forest plot."), ("Normal", "After.")]
    package = zipfile.ZipFile(base / "out.docx")
    media = [n for n in package.namelist() if n.startswith("word/media/")]
    assert media == ["word/media/image1.png", "word/media/image1.svg"], "the SVG and the PNG beside it"
    assert package.read("word/media/image1.svg") == (base / "figures" / "forest.svg").read_bytes()


def test_svg_figure_is_named_by_the_picture_with_the_png_as_fallback(base: Path) -> None:
    """As Word 2016+ writes it: a:blip embeds the PNG and its svgBlip extension the SVG."""
    _write('<figure><img src="figures/forest.svg" alt="x"></figure>', base)
    package = zipfile.ZipFile(base / "out.docx")
    (blip,) = lxml.etree.fromstring(package.read("word/document.xml")).iter(qn("a:blip"))
    (ext,) = blip.iter(qn("a:ext"))
    assert ext.get("uri") == SVG_BLIP_URI
    rels = lxml.etree.fromstring(package.read("word/_rels/document.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels}
    assert targets[blip.get(qn("r:embed"))] == "media/image1.png"
    assert [targets[r_id] for r_id in svg_blip_targets(package.read("word/document.xml"))] == ["media/image1.svg"]
    types = package.read("[Content_Types].xml").decode()
    assert '<Override PartName="/word/media/image1.svg" ContentType="image/svg+xml"/>' in types


def test_png_fallback_is_resampled_for_the_placed_size(base: Path) -> None:
    """A 300 dpi PNG of a wide figure is stored at FALLBACK_PPI of the width it is placed at, no more."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 3))
    fig.savefig(base / "figures" / "wide.png", dpi=300)
    fig.savefig(base / "figures" / "wide.svg")
    plt.close(fig)
    document = _write('<figure><img src="figures/wide.svg" alt="wide"></figure>', base)
    (shape,) = document.inline_shapes
    png = zipfile.ZipFile(base / "out.docx").read("word/media/image1.png")
    with PIL.Image.open(io.BytesIO(png)) as image:
        assert image.width == round(shape.width / Emu(914400) * FALLBACK_PPI)
        assert image.height == pytest.approx(image.width / 4, abs=1)
    again = fallback_png((base / "figures" / "wide.png").read_bytes(), shape.width)
    assert again == png, "the same figure gives the same bytes"


def test_figure_caption_placed_below_the_picture(base: Path) -> None:
    html = '<figure><figcaption>Figure 2. On top in HTML.</figcaption><img src="figures/forest.png" alt="x"></figure>'
    document = _write(html, base)
    body = [child for child in document.element.body if child.tag == qn("w:p")]
    assert body[0].xpath(".//w:drawing") and "Figure 2" in docx.text.paragraph.Paragraph(body[1], document).text


def test_tall_figure_is_limited_to_the_page_height(base: Path) -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 8))
    fig.savefig(base / "figures" / "tall.png", dpi=30)
    plt.close(fig)
    document = _write('<figure><img src="figures/tall.png" alt="tall"></figure>', base)
    (shape,) = document.inline_shapes
    section = document.sections[0]
    assert shape.height <= section.page_height - section.top_margin - section.bottom_margin
    assert shape.width == pytest.approx(shape.height / 8, rel=0.02)


def test_missing_figure_names_the_file(base: Path) -> None:
    with pytest.raises(FileNotFoundError, match="figures/none.svg"):
        _write('<figure><img src="figures/none.svg" alt="x"></figure>', base)


def test_landscape_section_and_back_to_portrait(base: Path) -> None:
    html = (
        '<p>Portrait.</p><section class="landscape"><table><caption>Wide</caption><tr><td>1</td></tr></table>'
        "</section><p>Portrait again.</p>"
    )
    document = _write(html, base)
    sections = document.sections
    assert [s.orientation for s in sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    assert sections[1].page_width > sections[1].page_height
    assert sections[2].page_width < sections[2].page_height
    grid = [int(col.get(qn("w:w"))) for col in document.tables[0]._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(grid) == Emu(sections[1].page_width - sections[1].left_margin - sections[1].right_margin).twips
    assert [p.text for p in document.paragraphs if p.text] == ["Portrait.", "Wide", "Portrait again."]


def test_landscape_at_start_or_end_adds_no_empty_page(base: Path) -> None:
    first = _write('<section class="landscape"><p>Wide.</p></section><p>Tall.</p>', base, "a.docx")
    assert [s.orientation for s in first.sections] == [WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    last = _write(
        '<p>Tall.</p><div class="page-break"></div><section class="landscape"><p>Wide.</p></section>', base, "b.docx"
    )
    assert [s.orientation for s in last.sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE]
    assert not any(p.paragraph_format.page_break_before for p in last.paragraphs), "the new section is the break"
    assert [p.text for p in last.paragraphs] == ["Tall.", "Wide."]


def test_page_break_before_next_block(base: Path) -> None:
    document = _write('<p>One.</p><div class="page-break"></div><h1>Two</h1>', base)
    one, two = document.paragraphs
    assert not one.paragraph_format.page_break_before and two.paragraph_format.page_break_before


def test_skipped_elements_and_walked_containers(base: Path) -> None:
    html = (
        "<header>HEADER</header><nav>NAV</nav><style>p {}</style><script>var x;</script>"
        "<main><article><section><div>Loose text <em>here</em><p>Inner.</p></div></section></article></main>"
    )
    document = _write(html, base)
    assert [p.text for p in document.paragraphs] == ["Loose text here", "Inner."]


def test_boxes_are_shaded(base: Path) -> None:
    document = _write(
        '<div class="box"><p>Question</p><p>Findings</p></div><p class="key-points">K</p><p>Out</p>', base
    )
    shaded = [p.text for p in document.paragraphs if p._p.pPr is not None and p._p.pPr.find(qn("w:shd")) is not None]
    assert shaded == ["Question", "Findings", "K"]


def test_running_header_and_page_numbers_on_every_section(base: Path) -> None:
    html = '<p>a</p><section class="landscape"><p>b</p></section><p>c</p>'
    document = _write(html, base, header_text=BANNER)
    for section in document.sections:
        assert section.header.paragraphs[0].text == BANNER
        instr = "".join(section.footer._element.itertext())
        assert "PAGE" in instr
    plain = _write("<p>a</p>", base, "plain.docx", footer_page_numbers=False)
    assert plain.sections[0].header.is_linked_to_previous and plain.sections[0].footer.is_linked_to_previous


def test_same_html_gives_the_same_bytes(base: Path) -> None:
    html = TABLE + '<figure><img src="figures/forest.png" alt="f"><figcaption>F</figcaption></figure>'
    html += '<p><a href="https://example.org">x</a></p><section class="landscape"><p>w</p></section><ol><li>i</li></ol>'
    first = base / "first.docx"
    second = base / "second.docx"
    write_docx(html, base, first, title="T", header_text=BANNER)
    write_docx(html, base, second, title="T", header_text=BANNER)
    assert first.read_bytes() == second.read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(first.read_bytes()))
    names = archive.namelist()
    assert names[0] == "[Content_Types].xml" and names[1:] == sorted(names[1:])
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "docProps/thumbnail.jpeg" not in names
    props = docx.Document(str(first)).core_properties
    assert props.created == props.modified == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert props.revision == 1 and not props.last_modified_by and props.title == "T"


def test_a_document_too_large_to_send_gets_coarser_fallbacks_and_stays_within_the_limit(
    base: Path, monkeypatch
) -> None:
    """Many large figures (a review of hundreds of studies): every fallback PNG is brought down to one
    common resolution below FALLBACK_PPI until the file is within DOCX_LIMIT; the SVGs stay as they are."""
    import matplotlib.pyplot as plt
    import numpy as np

    from erh_report.render import docx_images

    rng = np.random.default_rng(3)
    figures = []
    for n in range(6):  # noisy pictures: their PNGs do not compress away
        fig = plt.figure(figsize=(8, 9))
        fig.figimage(rng.integers(0, 255, (300, 260, 3)).astype(np.uint8), resize=True)
        fig.savefig(base / "figures" / f"big{n}.png", dpi=150)
        fig.savefig(base / "figures" / f"big{n}.svg")
        plt.close(fig)
        figures.append(f'<figure><img src="figures/big{n}.svg" alt="big {n}"></figure>')
    html = "".join(figures)
    write_docx(html, base, base / "full.docx", title="t")
    full = (base / "full.docx").stat().st_size
    limit = int(full * 0.6)
    monkeypatch.setattr(docx_images, "DOCX_LIMIT", limit)
    write_docx(html, base, base / "small.docx", title="t")
    assert (base / "small.docx").stat().st_size <= limit < full
    found = pictures(base / "small.docx")
    assert len(found) == 6 and all(p.svg_name for p in found)
    ppis = {round(p.ppi) for p in found}
    assert len(ppis) == 1 and docx_images.FALLBACK_PPI_MIN <= ppis.pop() < FALLBACK_PPI
    with zipfile.ZipFile(base / "small.docx") as package:
        assert package.read(found[0].svg_name) == (base / "figures" / "big0.svg").read_bytes()
    write_docx(html, base, base / "again.docx", title="t")
    assert (base / "again.docx").read_bytes() == (base / "small.docx").read_bytes()


def test_fallbacks_kept_between_builds_are_reused_and_a_damaged_one_is_made_again(base: Path, monkeypatch) -> None:
    """With a fallback folder, the second DOCX resamples nothing and equals the first byte for byte; an
    edited entry is not used."""
    import matplotlib.pyplot as plt

    from erh_report.render import docx_images

    fig = plt.figure(figsize=(12, 3))
    fig.savefig(base / "figures" / "wide.png", dpi=300)
    fig.savefig(base / "figures" / "wide.svg")
    plt.close(fig)
    html = '<figure><img src="figures/wide.svg" alt="wide"></figure>'
    kept = base / "kept"
    write_docx(html, base, base / "plain.docx", title="t")
    write_docx(html, base, base / "first.docx", title="t", fallback_cache=kept)
    (entry,) = kept.glob("*.png")
    made = []
    original = docx_images.fallback_png
    monkeypatch.setattr(docx_images, "fallback_png", lambda *a, **k: made.append(a) or original(*a, **k))
    write_docx(html, base, base / "second.docx", title="t", fallback_cache=kept)
    assert made == []
    entry.write_bytes(entry.read_bytes()[:-10])  # damaged
    write_docx(html, base, base / "third.docx", title="t", fallback_cache=kept)
    assert len(made) == 1
    same = {(base / f"{name}.docx").read_bytes() for name in ("plain", "first", "second", "third")}
    assert len(same) == 1


MIXED_CELLS = """<html><body><main>
<table id="t1"><caption>Table 2. Mixed cells</caption>
<thead><tr><th>Study</th><th class="num">N</th><th style="text-align: center">Effect</th><th>Note</th></tr></thead>
<tbody>
<tr><th>Smith 2019</th><td class="num">120</td><td style="text-align:center">0.38 (0.21 to 0.55)</td><td>plain</td></tr>
<tr><th>Jones&#160;2020</th><td class="num">81</td>
<td style="text-align:center">  0.20   (0.01 to 0.39) </td><td></td></tr>
<tr><th>Lee 2021</th><td class="num"><em>9</em></td><td style="text-align:center">⊕⊕◯◯ low</td><td>a<br/>b</td></tr>
<tr><th id="row-kim">Kim 2022</th><td class="num">1,204</td>
<td style="text-align:center">&lt;0.001 &amp; more</td><td>last</td></tr>
</tbody></table>
<p>After the <a href="#row-kim">table</a>.</p>
</main></body></html>"""


def test_plain_cells_copied_from_their_first_of_a_kind_equal_python_docx_cells(base: Path, monkeypatch) -> None:
    """Plain-text cells are written by copying the first cell of their kind; the file is the one
    python-docx gives cell by cell, byte for byte, with markup, symbols, breaks and empty cells among them."""
    from erh_report.render import docx_writer

    _write(MIXED_CELLS, base, "copied.docx")
    monkeypatch.setattr(docx_writer, "_plain_text", lambda _element: None)
    _write(MIXED_CELLS, base, "each.docx")
    copied, each = (zipfile.ZipFile(base / name).read("word/document.xml") for name in ("copied.docx", "each.docx"))
    assert copied == each
    (table,) = docx.Document(str(base / "copied.docx")).tables
    assert [c.text for c in table.rows[2].cells] == ["Jones\xa02020", "81", "0.20 (0.01 to 0.39)", ""]
    assert [c.text for c in table.rows[4].cells] == ["Kim 2022", "1,204", "<0.001 & more", "last"]
    assert table.rows[4].cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert table.rows[4].cells[0].paragraphs[0].runs[0].bold


def test_plain_text_of_a_cell_is_one_run_or_none() -> None:
    from erh_report.render.docx_writer import _plain_text

    def cell(html: str):
        return lxml.html.fragment_fromstring(html)

    assert _plain_text(cell("<td>  0.20   (0.01 to\n0.39) </td>")) == "0.20 (0.01 to 0.39)"
    assert _plain_text(cell("<td><em>9</em></td>")) is None
    assert _plain_text(cell("<td>⊕⊕◯◯ low</td>")) is None  # the symbols take a font of their own
    assert _plain_text(cell("<td>   </td>")) is None and _plain_text(cell("<td></td>")) is None
    assert _plain_text(cell("<td>\xa012</td>")) is None  # a kept non-breaking space at the start


def test_table_text_widths_from_each_characters_advance() -> None:
    from erh_report.render.font_metrics import AVERAGE_EM, char_em, text_width_twips

    assert text_width_twips("\ue000", 8) == pytest.approx(AVERAGE_EM * 8 * 20)  # in no font: an average one
    first = text_width_twips("0.38 (0.21 to 0.55)", 8)
    assert text_width_twips("0.38 (0.21 to 0.55)", 8) == first  # the second time from the advances kept
    ems = 0.0
    for char in "0.38 (0.21 to 0.55)":
        ems += char_em(char)
    assert first == ems * 8 * 20
    assert text_width_twips("WW", 8) > text_width_twips("ii", 8)
    assert text_width_twips("Study", 8, bold=True) > text_width_twips("Study", 8)
