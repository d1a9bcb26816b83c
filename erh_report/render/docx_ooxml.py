"""Small WordprocessingML pieces that python-docx has no API for.

Borders, shading, fields, bookmarks, hyperlinks, list restarts and a byte-stable package: each is a few
elements of OOXML, kept here so that the HTML walker reads as a walk and not as XML plumbing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.pkgwriter import _ContentTypesItem
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

#: Fixed date written into the core properties, so that two builds of the same HTML are equal.
FIXED_DATE = dt.datetime(2000, 1, 1, 0, 0, 0)
#: Earliest date a zip entry can carry; every entry gets it.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_BORDER_EDGES = ("top", "left", "bottom", "right", "insideH", "insideV")


def _child(parent, tag: str, *, before: tuple[str, ...] = ()):
    """Return ``parent``'s child ``tag``, adding it (ahead of any of ``before``) when absent."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    element = OxmlElement(tag)
    for successor in before:
        anchor = parent.find(qn(successor))
        if anchor is not None:
            anchor.addprevious(element)
            return element
    parent.append(element)
    return element


def _edge(tag: str, size_eighths: int | None, color: str = "000000"):
    """One border edge: a single line of ``size_eighths`` eighths of a point, or no line when None."""
    edge = OxmlElement(tag)
    if size_eighths is None:
        edge.set(qn("w:val"), "nil")
    else:
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), str(size_eighths))
        edge.set(qn("w:space"), "0")
        edge.set(qn("w:color"), color)
    return edge


def set_table_borders(tbl, **sizes: int | None) -> None:
    """Table-level borders (``top=8, bottom=8``; other edges none): the journal's outer rules."""
    tbl_pr = tbl.tblPr
    old = tbl_pr.find(qn("w:tblBorders"))
    if old is not None:
        tbl_pr.remove(old)
    borders = OxmlElement("w:tblBorders")
    for name in _BORDER_EDGES:
        borders.append(_edge(f"w:{name}", sizes.get(name)))
    successors = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")
    for successor in successors:
        anchor = tbl_pr.find(qn(successor))
        if anchor is not None:
            anchor.addprevious(borders)
            return
    tbl_pr.append(borders)


def set_cell_border(tc, edge: str, size_eighths: int) -> None:
    """Add one border edge to a table cell (the rule under a header row or a spanning header)."""
    tc_pr = tc.get_or_add_tcPr()
    borders = _child(tc_pr, "w:tcBorders", before=("w:shd", "w:noWrap", "w:tcMar", "w:vAlign", "w:hideMark"))
    order = ("top", "start", "left", "bottom", "end", "right", "insideH", "insideV", "tl2br", "tr2bl")
    _insert_in_order(borders, _edge(f"w:{edge}", size_eighths), order)


def set_cell_margins(tbl, *, left: int, right: int, top: int = 0, bottom: int = 0) -> None:
    """Default cell margins of a table in twips: narrow margins leave room for many columns."""
    tbl_pr = tbl.tblPr
    old = tbl_pr.find(qn("w:tblCellMar"))
    if old is not None:
        tbl_pr.remove(old)
    margins = OxmlElement("w:tblCellMar")
    for name, value in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        side = OxmlElement(f"w:{name}")
        side.set(qn("w:w"), str(value))
        side.set(qn("w:type"), "dxa")
        margins.append(side)
    anchor = tbl_pr.find(qn("w:tblLook"))
    if anchor is not None:
        anchor.addprevious(margins)
    else:
        tbl_pr.append(margins)


def mark_header_row(tr) -> None:
    """Repeat this row at the top of every page the table runs onto (w:tblHeader)."""
    tr_pr = tr.get_or_add_trPr()
    _child(tr_pr, "w:tblHeader")


def keep_row_together(tr) -> None:
    """Never split one table row across two pages (w:cantSplit)."""
    tr_pr = tr.get_or_add_trPr()
    _child(tr_pr, "w:cantSplit", before=("w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden"))


def box_paragraph(paragraph: Paragraph, fill: str = "F2F2F2", line: str = "808080") -> None:
    """Shade and frame a paragraph; consecutive framed paragraphs join into one box in Word."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for name in ("top", "left", "bottom", "right"):
        edge = _edge(f"w:{name}", 4, line)
        edge.set(qn("w:space"), "4")
        borders.append(edge)
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    _insert_ppr_child(p_pr, borders)
    _insert_ppr_child(p_pr, shading)


_PPR_ORDER = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr", "suppressLineNumbers",
    "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct",
    "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
    "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap",
    "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange",
)  # fmt: skip


def _insert_ppr_child(p_pr, element) -> None:
    """Insert a w:pPr child in schema order (Word refuses a file whose pPr children are out of order)."""
    _insert_in_order(p_pr, element, _PPR_ORDER)


def _insert_in_order(parent, element, order: tuple[str, ...]) -> None:
    """Put ``element`` into ``parent`` in place of one with its tag, or before the first later sibling in
    the schema's ``order`` of local names."""
    old = parent.find(element.tag)
    if old is not None:
        parent.remove(old)
    rank = order.index(element.tag.split("}")[1])
    for existing in parent:
        name = existing.tag.split("}")[1]
        if name in order and order.index(name) > rank:
            existing.addprevious(element)
            return
    parent.append(element)


def set_style_font(style, name: str) -> None:
    """Name a style's font for every script, dropping the theme fonts, which would take precedence."""
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)


def set_mark_size(paragraph: Paragraph, half_points: int) -> None:
    """Font size of the paragraph mark, which sets the height of an empty paragraph."""
    p_pr = paragraph._p.get_or_add_pPr()
    r_pr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(half_points))
    r_pr.append(size)
    _insert_ppr_child(p_pr, r_pr)


def set_numbering(paragraph: Paragraph, num_id: int, level: int = 0) -> None:
    """Attach a paragraph to list ``num_id`` at ``level`` (overrides the numbering of its style)."""
    p_pr = paragraph._p.get_or_add_pPr()
    num_pr = OxmlElement("w:numPr")
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), str(level))
    num_id_el = OxmlElement("w:numId")
    num_id_el.set(qn("w:val"), str(num_id))
    num_pr.append(ilvl)
    num_pr.append(num_id_el)
    _insert_ppr_child(p_pr, num_pr)


def restarted_numbering(document: DocxDocument, style_name: str) -> int | None:
    """A new list id that shares ``style_name``'s numbering format but starts again at 1.

    Word continues one numbered style across the whole document; each HTML ``ol`` starts at 1, so each
    gets its own w:num with a start override. None when the style carries no numbering.
    """
    style = document.styles[style_name]
    found = style.element.xpath("./w:pPr/w:numPr/w:numId/@w:val")
    if not found:
        return None
    numbering = document.part.numbering_part.element
    base = numbering.num_having_numId(int(found[0]))
    num = numbering.add_num(base.abstractNumId.val)
    override = num.add_lvlOverride(ilvl=0)
    override.add_startOverride(1)
    return int(num.numId)


def add_page_field(paragraph: Paragraph) -> None:
    """Append a PAGE field (the page number, updated by Word and LibreOffice when shown)."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run._r.append(begin)
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run._r.append(instr)
    run = paragraph.add_run()
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run._r.append(separate)
    paragraph.add_run("1")
    run = paragraph.add_run()
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def add_bookmark(paragraph: Paragraph, name: str, bookmark_id: int) -> None:
    """A point bookmark at the start of the paragraph: the target of internal ``#id`` links."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(bookmark_id))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(bookmark_id))
    p_pr = paragraph._p.pPr
    if p_pr is not None:
        p_pr.addnext(start)
    else:
        paragraph._p.insert(0, start)
    start.addnext(end)


def hyperlink_element(paragraph: Paragraph, *, url: str | None = None, anchor: str | None = None):
    """An empty w:hyperlink at the end of the paragraph, to an external URL or to a bookmark."""
    link = OxmlElement("w:hyperlink")
    if url is not None:
        r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
        link.set(qn("r:id"), r_id)
    if anchor is not None:
        link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    paragraph._p.append(link)
    return link


_BOOKMARK_BAD = re.compile(r"[^A-Za-z0-9_]")


def bookmark_names(ids: list[str]) -> dict[str, str]:
    """Word bookmark names for HTML ids: letters, digits and _ only, a letter first, at most 40 characters,
    unique."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for html_id in ids:
        if html_id in names:
            continue
        base = _BOOKMARK_BAD.sub("_", html_id)
        if not base[:1].isalpha():
            base = "b" + base
        base = base[:40]
        name, n = base, 1
        while name.lower() in used:
            n += 1
            suffix = f"_{n}"
            name = base[: 40 - len(suffix)] + suffix
        used.add(name.lower())
        names[html_id] = name
    return names


def fix_metadata(document: DocxDocument, title: str) -> None:
    """Core properties that do not change from one build to the next, and no stale thumbnail."""
    props = document.core_properties
    props.title = title
    props.author = ""
    props.comments = ""
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.revision = 1
    core = props._element
    for name in ("cp:lastModifiedBy", "cp:lastPrinted"):
        for element in core.findall(qn(name)):
            core.remove(element)
    package = document.part.package
    for r_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(r_id)


#: Already compressed: stored as they are, which is faster and no larger.
_STORED_SUFFIXES = (".png", ".jpeg", ".jpg", ".gif")


def package_bytes(document: DocxDocument) -> bytes:
    """The .docx file, written so that its bytes depend on its content only: fixed entry dates and
    attributes, fixed compression, [Content_Types].xml first (as some readers expect), then by name.

    This does what python-docx's save does (the same parts, relationships and content types) without its
    zip's current time stamps and without compressing pictures a second time.
    """
    package = document.part.package
    parts = list(package.iter_parts())
    entries = {"[Content_Types].xml": _ContentTypesItem.from_parts(parts).blob, "_rels/.rels": package.rels.xml}
    for part in parts:
        entries[part.partname.membername] = part.blob
        if len(part.rels):
            entries[part.partname.rels_uri.membername] = part.rels.xml
    first = "[Content_Types].xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in sorted(entries, key=lambda name: (name != first, name)):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            stored = name.lower().endswith(_STORED_SUFFIXES)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, entries[name], compresslevel=None if stored else 6)
    return out.getvalue()
