"""Tracked-changes DOCX: revision marks hold the right words, accepting them all gives the new text and
rejecting them all gives the old text."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from erh_report.diff.tracked import flow_paragraphs, paragraph_text, tracked_docx

W = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}


def make_docx(
    path: Path,
    paragraphs: list[str | list[tuple[str, dict]]],
    table: list[list[str]] | None = None,
    tail: list[str] | None = None,
) -> Path:
    """A small DOCX: paragraphs (plain, or runs with bold/italic), an optional table, more paragraphs."""
    document = Document()
    for item in paragraphs:
        p = document.add_paragraph()
        for text, fmt in [(item, {})] if isinstance(item, str) else item:
            run = p.add_run(text)
            run.bold, run.italic = fmt.get("bold"), fmt.get("italic")
    if table is not None:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    for text in tail or []:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def body(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("word/document.xml")).find(qn("w:body"))


def _resolve(tree: etree._Element, keep: str, drop: str) -> etree._Element:
    """Accept (keep ins, drop del) or reject (keep del, drop ins) every revision, as Word would."""
    tree = copy.deepcopy(tree)
    for p in list(tree.iter(qn("w:p"))):  # paragraphs whose mark is dropped merge away (here: are empty)
        if p.find(f"w:pPr/w:rPr/w:{drop}", W) is not None:
            p.getparent().remove(p)
    for tr in list(tree.iter(qn("w:tr"))):
        if tr.find(f"w:trPr/w:{drop}", W) is not None:
            tr.getparent().remove(tr)
    for tbl in list(tree.iter(qn("w:tbl"))):
        if tbl.find("w:tr", W) is None:
            tbl.getparent().remove(tbl)
    for element in list(tree.iter(qn(f"w:{drop}"))):
        if element.getparent().tag != qn("w:rPr") and element.getparent().tag != qn("w:trPr"):
            element.getparent().remove(element)
    for element in list(tree.iter(qn(f"w:{keep}"))):
        parent = element.getparent()
        if parent.tag in (qn("w:rPr"), qn("w:trPr")):
            parent.remove(element)
            continue
        index = parent.index(element)
        for child in reversed(list(element)):
            parent.insert(index, child)
        parent.remove(element)
    for text in tree.iter(qn("w:delText")):
        text.tag = qn("w:t")
    return tree


def texts(tree: etree._Element) -> list[str]:
    return [paragraph_text(p) for p in flow_paragraphs(tree)]


def words(tree: etree._Element, tag: str) -> list[str]:
    inner = "w:delText" if tag == "del" else "w:t"
    return [
        "".join(e.itertext())
        for e in tree.iter(qn(f"w:{tag}"))
        if e.getparent().tag != qn("w:rPr") and e.xpath(f".//{inner}", namespaces=W)
    ]


def check_round_trip(tmp_path: Path, old: Path, new: Path) -> etree._Element:
    out = tmp_path / "tracked.docx"
    tracked_docx(old, new, out)
    marked = body(out)
    assert texts(_resolve(marked, "ins", "del")) == texts(body(new))
    assert texts(_resolve(marked, "del", "ins")) == texts(body(old))
    return marked


def test_changed_numbers_are_marked_word_by_word(tmp_path: Path):
    old = make_docx(
        tmp_path / "old.docx",
        ["Title", "The pooled SMD was 0.27 (95% CI, 0.16 to 0.38; P < .001).", "Unchanged paragraph."],
    )
    new = make_docx(
        tmp_path / "new.docx",
        ["Title", "The pooled SMD was 0.29 (95% CI, 0.18 to 0.38; P < .001).", "Unchanged paragraph."],
    )
    marked = check_round_trip(tmp_path, old, new)
    assert words(marked, "del") == ["0.27", "0.16"]
    assert words(marked, "ins") == ["0.29", "0.18"]
    for mark in marked.xpath("//w:ins | //w:del", namespaces=W):
        assert mark.get(qn("w:author")) == "erh-report"
        assert mark.get(qn("w:date")) == "2000-01-01T00:00:00Z"
    ids = marked.xpath("//w:ins/@w:id | //w:del/@w:id", namespaces=W)
    assert len(ids) == len(set(ids))


def test_formatting_of_runs_is_kept(tmp_path: Path):
    old = make_docx(tmp_path / "old.docx", [[("Bold ", {"bold": True}), ("value 12 here.", {"italic": True})]])
    new = make_docx(tmp_path / "new.docx", [[("Bold ", {"bold": True}), ("value 13 here.", {"italic": True})]])
    marked = check_round_trip(tmp_path, old, new)
    for mark in marked.xpath("//w:ins | //w:del", namespaces=W):
        assert mark.find("w:r/w:rPr/w:i", W) is not None
    assert marked.xpath("//w:r[w:rPr/w:b]/w:t/text()", namespaces=W) == ["Bold "]


def test_whole_paragraphs_added_and_removed(tmp_path: Path):
    old = make_docx(tmp_path / "old.docx", ["One.", "Two is going away entirely.", "Three."])
    new = make_docx(tmp_path / "new.docx", ["One.", "Three.", "A brand new closing sentence.", "Four."])
    marked = check_round_trip(tmp_path, old, new)
    assert "Two is going away entirely." in words(marked, "del")
    assert {"A brand new closing sentence.", "Four."} <= set(words(marked, "ins"))
    assert len(marked.xpath("//w:pPr/w:rPr/w:del", namespaces=W)) == 1
    assert len(marked.xpath("//w:pPr/w:rPr/w:ins", namespaces=W)) == 2


def test_table_cells_and_rows(tmp_path: Path):
    old = make_docx(
        tmp_path / "old.docx", ["Table 1"], [["Outcome", "SMD"], ["Bonding", "0.27"], ["Gone", "0.10"]], ["After."]
    )
    new = make_docx(
        tmp_path / "new.docx",
        ["Table 1"],
        [["Outcome", "SMD"], ["Bonding", "0.29"], ["Added", "0.50"], ["More", "0.60"]],
        ["After."],
    )
    marked = check_round_trip(tmp_path, old, new)
    assert "0.27" in words(marked, "del") and "0.29" in words(marked, "ins")
    cell = marked.xpath("//w:tbl/w:tr[2]/w:tc[2]", namespaces=W)[0]
    assert cell.xpath(".//w:del//w:delText/text()", namespaces=W) == ["0.27"]


def test_whole_table_removed_and_paragraph_at_end(tmp_path: Path):
    old = make_docx(tmp_path / "old.docx", ["Intro."], [["a", "b"], ["c", "d"]], ["Last words."])
    new = make_docx(tmp_path / "new.docx", ["Intro."])
    marked = check_round_trip(tmp_path, old, new)
    assert len(marked.xpath("//w:tr/w:trPr/w:del", namespaces=W)) == 2


def test_same_text_gives_no_marks_and_same_bytes_each_time(tmp_path: Path):
    old = make_docx(tmp_path / "old.docx", ["Same.", "Text."])
    assert tracked_docx(old, old, tmp_path / "a.docx") == 0
    assert not body(tmp_path / "a.docx").xpath("//w:ins | //w:del", namespaces=W)
    new = make_docx(tmp_path / "new.docx", ["Same.", "Text changed."])
    tracked_docx(old, new, tmp_path / "b.docx", date="2024-05-01T12:00:00Z")
    tracked_docx(old, new, tmp_path / "c.docx", date="2024-05-01T12:00:00Z")
    assert (tmp_path / "b.docx").read_bytes() == (tmp_path / "c.docx").read_bytes()
    assert body(tmp_path / "b.docx").xpath("//w:ins/@w:date", namespaces=W) == ["2024-05-01T12:00:00Z"]
