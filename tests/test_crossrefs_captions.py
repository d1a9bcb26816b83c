"""Mentions inside captions and table notes ("as in eTable 2" in a figure's caption) are links too, in the
HTML and in the PDF; a caption's own label is not a link."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader

from erh_report.render.crossrefs import link_cross_references
from erh_report.render.pdf import render_part

PAGE = """<!DOCTYPE html>
<html><head><title>t</title></head><body>
<figure><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>
<figcaption><strong>Figure 1.</strong> Forest plot; the data are in eTable 2 and Table 1.</figcaption></figure>
<div style="page-break-before: always"></div>
<table style="width: 100%"><caption><strong>Table 1.</strong> Studies (see Figure 1)</caption>
<tr><td>a</td></tr></table>
<p class="table-note">Risk of bias as in Figure 1; pooled as in eTable 2.</p>
<div style="page-break-before: always"></div>
<table style="width: 100%"><caption><strong>eTable 2.</strong> Data of Figure 1</caption><tr><td>b</td></tr></table>
</body></html>
"""


def _links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="#([^"]+)" class="xref">([^<]+)</a>', html)


def test_mentions_in_captions_and_table_notes_are_links_and_own_labels_are_not():
    html = link_cross_references(PAGE)
    assert _links(html) == [
        ("etable-2", "eTable 2"),
        ("table-1", "Table 1"),
        ("figure-1", "Figure 1"),
        ("figure-1", "Figure 1"),
        ("etable-2", "eTable 2"),
        ("figure-1", "Figure 1"),
    ]
    for label in ("Figure 1", "Table 1", "eTable 2"):
        assert f"<strong>{label}.</strong>" in html  # the caption's own label stays text
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    assert {target for target, _ in _links(html)} <= ids


def test_caption_mentions_are_pdf_links_to_their_pages(tmp_path: Path):
    pdf_path = tmp_path / "captions.pdf"
    render_part(link_cross_references(PAGE), tmp_path, pdf_path)
    reader = PdfReader(pdf_path)
    page_of = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    targets = []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            dest = annot.get("/Dest")
            if dest is None and annot.get("/A") is not None:
                dest = annot["/A"].get("/D")
            if isinstance(dest, str):
                dest = reader.named_destinations[dest]
                target = reader.get_destination_page_number(dest)
            else:
                target = page_of[dest[0].idnum]
            targets.append((number, target))
    # page 1: the figure's caption -> eTable 2 (page 3), Table 1 (page 2); page 2: caption and note -> the
    # figure (page 1) twice and eTable 2; page 3: eTable 2's caption -> the figure
    assert sorted(targets) == [(0, 1), (0, 2), (1, 0), (1, 0), (1, 2), (2, 0)]


def test_caption_mentions_are_word_hyperlinks_to_bookmarks(tmp_path: Path):
    import io

    from docx import Document

    from erh_report.render.docx_writer import docx_bytes

    document = Document(io.BytesIO(docx_bytes(link_cross_references(PAGE), tmp_path, title="t")))
    captions = [p for p in document.paragraphs if p.style.name == "Caption"]
    assert [p.text for p in captions][0] == "Figure 1. Forest plot; the data are in eTable 2 and Table 1."
    xml = captions[0]._p.xml
    anchors = re.findall(r'w:hyperlink [^>]*w:anchor="([^"]+)"', xml)
    bookmarks = set(re.findall(r'w:bookmarkStart [^>]*w:name="([^"]+)"', document.element.body.xml))
    assert len(anchors) == 2 and set(anchors) <= bookmarks, (anchors, bookmarks)
