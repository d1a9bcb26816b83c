"""A tracked-changes DOCX: the new document with Word revision marks (w:ins / w:del) from the old text.

Journals ask for a marked copy of a corrected paper; Word and LibreOffice show these marks and let the
editor accept or reject them. The new DOCX is taken as it is and only its changed paragraphs are
rewritten, so accepting every change gives the new document and rejecting every change gives the old
text. Paragraphs (body and table cells, in document order) are aligned by their text with difflib; a
changed paragraph is rewritten word by word keeping each word's run formatting and hyperlink; whole
paragraphs, table rows and tables that were added or removed are marked as such. Author and date are
arguments, so the same two inputs give the same bytes.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from erh_report.diff.text import tokens

AUTHOR = "erh-report"
DATE = "2000-01-01T00:00:00Z"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
OBJECT = "\ufffc"  # stands for a drawing, field character or reference inside the text being compared

W_P, W_R, W_T, W_TR, W_TBL, W_TC = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:tr"), qn("w:tbl"), qn("w:tc")
W_PPR, W_RPR, W_HYPERLINK, W_BODY = qn("w:pPr"), qn("w:rPr"), qn("w:hyperlink"), qn("w:body")
_IGNORED_IN_P = {qn("w:proofErr"), qn("w:permStart"), qn("w:permEnd")}
_MARKERS = {qn("w:bookmarkStart"), qn("w:bookmarkEnd")}
_IGNORED_IN_R = {W_RPR, qn("w:lastRenderedPageBreak")}
_TEXT_IN_R = {W_T: None, qn("w:tab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-"}
_OUTSIDE_RUNS = {qn("w:txbxContent")}  # paragraphs in text boxes belong to their drawing, not the flow


@dataclass(frozen=True)
class Unit:
    """One character of a paragraph with what it needs to be written back: its run properties, the
    hyperlink it sits in, and for a non-text item (drawing, field character) the element itself."""

    char: str
    rpr: etree._Element | None
    link: etree._Element | None
    element: etree._Element | None = None


class Complex(Exception):
    """A paragraph holding structures this module does not rewrite word by word (existing revisions,
    content controls, equations): it is replaced as a whole instead."""


def _run_units(run: etree._Element, link: etree._Element | None) -> Iterator[Unit]:
    rpr = run.find(W_RPR)
    for child in run:
        if child.tag in _IGNORED_IN_R or not isinstance(child.tag, str):
            continue
        if child.tag in _TEXT_IN_R:
            text = child.text or "" if child.tag == W_T else _TEXT_IN_R[child.tag]
            for char in text:
                yield Unit(char, rpr, link)
        else:
            yield Unit(OBJECT, rpr, link, child)


def units(p: etree._Element, strict: bool = True) -> list[Unit]:
    """The paragraph as units; with ``strict`` raise Complex on anything not understood, else skip it."""
    found: list[Unit] = []
    for child in p:
        if not isinstance(child.tag, str) or child.tag in _IGNORED_IN_P or child.tag in _MARKERS or child.tag == W_PPR:
            continue
        if child.tag == W_R:
            found += _run_units(child, None)
        elif child.tag == W_HYPERLINK and all(c.tag in (W_R, *_IGNORED_IN_P, *_MARKERS) for c in child):
            for run in child.iter(W_R):
                found += _run_units(run, child)
        elif strict:
            raise Complex(child.tag)
    return found


def paragraph_text(p: etree._Element) -> str:
    """Text of a paragraph as compared here (tabs, breaks and objects included)."""
    return "".join(u.char for u in units(p, strict=False))


def flow_paragraphs(body: etree._Element) -> list[etree._Element]:
    """Paragraphs of the body and its tables, in reading order (not those inside text boxes)."""
    return [p for p in body.iter(W_P) if not any(a.tag in _OUTSIDE_RUNS for a in p.iterancestors())]


_ALL_IDS = etree.XPath("//@w:id", namespaces={"w": W_NS})


class _Marker:
    """Writes revision elements with unique ids, one author and one date."""

    def __init__(self, root: etree._Element, author: str, date: str) -> None:
        ids = [int(v) for v in _ALL_IDS(root) if str(v).lstrip("-").isdigit()]
        self.next_id = max(ids, default=0) + 1
        self.author, self.date = author, date

    def mark(self, tag: str) -> etree._Element:
        element = etree.Element(qn(tag))
        element.set(qn("w:id"), str(self.next_id))
        element.set(qn("w:author"), self.author)
        element.set(qn("w:date"), self.date)
        self.next_id += 1
        return element

    def paragraph_mark(self, p: etree._Element, tag: str) -> None:
        """Mark the paragraph mark itself inserted/deleted, so that the whole paragraph comes or goes."""
        ppr = p.find(W_PPR)
        if ppr is None:
            ppr = etree.Element(W_PPR)
            p.insert(0, ppr)
        rpr = ppr.find(W_RPR)
        if rpr is None:
            rpr = etree.Element(W_RPR)
            later = [c for c in ppr if c.tag in (qn("w:sectPr"), qn("w:pPrChange"))]
            if later:
                later[0].addprevious(rpr)
            else:
                ppr.append(rpr)
        rpr.insert(0, self.mark(tag))

    def row_mark(self, tr: etree._Element, tag: str) -> None:
        trpr = tr.find(qn("w:trPr"))
        if trpr is None:
            trpr = etree.Element(qn("w:trPr"))
            after = [c for c in tr if c.tag in (qn("w:tblPrEx"),)]
            if after:
                after[0].addnext(trpr)
            else:
                tr.insert(0, trpr)
        trpr.append(self.mark(tag))


def _runs(chunk: list[Unit], deleted: bool) -> list[etree._Element]:
    """Runs for consecutive units, one run per stretch of identical run properties."""
    runs: list[etree._Element] = []
    run, key, text_el = None, None, None
    for unit in chunk:
        unit_key = id(unit.rpr) if unit.rpr is not None else None
        if run is None or unit_key != key:
            run, key, text_el = etree.Element(W_R), unit_key, None
            if unit.rpr is not None:
                run.append(copy.deepcopy(unit.rpr))
            runs.append(run)
        if unit.element is not None:
            if not deleted:
                run.append(copy.deepcopy(unit.element))
            text_el = None
        elif unit.char in "\t\n":
            run.append(etree.Element(qn("w:tab") if unit.char == "\t" else qn("w:br")))
            text_el = None
        else:
            if text_el is None:
                text_el = etree.SubElement(run, qn("w:delText") if deleted else W_T)
                text_el.set(qn("xml:space"), "preserve")
                text_el.text = ""
            text_el.text += unit.char
    return [r for r in runs if len(r) > (1 if r.find(W_RPR) is not None else 0)]


def _link_shell(link: etree._Element) -> etree._Element:
    shell = etree.Element(link.tag, attrib=dict(link.attrib))
    return shell


def _emit(pieces: list[tuple[str, list[Unit]]], marker: _Marker) -> list[etree._Element]:
    """Paragraph content for (op, units) pieces: w:ins/w:del sit inside a hyperlink, never around it."""
    out: list[etree._Element] = []
    link_el, link_src = None, None
    for op, chunk in pieces:
        start = 0
        while start < len(chunk):
            link = chunk[start].link if op != "delete" else None
            end = start
            while end < len(chunk) and (chunk[end].link if op != "delete" else None) is link:
                end += 1
            runs = _runs(chunk[start:end], deleted=op == "delete")
            start = end
            if not runs:
                continue
            if op != "equal":
                wrapper = marker.mark("w:ins" if op == "insert" else "w:del")
                wrapper.extend(runs)
                runs = [wrapper]
            if link is None:
                link_el = link_src = None
                out.extend(runs)
                continue
            if link is not link_src:
                link_el, link_src = _link_shell(link), link
                out.append(link_el)
            link_el.extend(runs)
    return out


def _rewrite(p: etree._Element, content: list[etree._Element]) -> None:
    keep = [c for c in p if c.tag == W_PPR or c.tag in _MARKERS]
    for child in list(p):
        p.remove(child)
    p.extend(keep)
    p.extend(content)


def word_pieces(old: list[Unit], new: list[Unit]) -> list[tuple[str, list[Unit]]]:
    """Word-level diff of two unit lists: deleted pieces carry old units, the others new units."""
    a = tokens("".join(u.char for u in old))
    b = tokens("".join(u.char for u in new))
    ao = [0]
    for t in a:
        ao.append(ao[-1] + len(t))
    bo = [0]
    for t in b:
        bo.append(bo[-1] + len(t))
    pieces: list[tuple[str, list[Unit]]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("equal", new[bo[j1] : bo[j2]]))
            continue
        if i2 > i1:
            pieces.append(("delete", old[ao[i1] : ao[i2]]))
        if j2 > j1:
            pieces.append(("insert", new[bo[j1] : bo[j2]]))
    return pieces


# -- alignment -------------------------------------------------------------------------------------------
def _pair(olds: list[str], news: list[str]) -> list[tuple[int | None, int | None]]:
    """Monotone pairing of a replaced block: most similar pairs first-come, the rest added/removed."""
    if len(olds) == len(news) or len(olds) * len(news) > 40_000:
        pairs: list[tuple[int | None, int | None]] = list(zip(range(len(olds)), range(len(news)), strict=False))
        pairs += [(i, None) for i in range(len(news), len(olds))]
        pairs += [(None, j) for j in range(len(olds), len(news))]
        return pairs
    # dynamic programme on similarity; a pair counts only if the texts are at least half alike
    n, m = len(olds), len(news)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = difflib.SequenceMatcher(None, olds[i], news[j], autojunk=False).ratio()
            best = max(score[i + 1][j], score[i][j + 1])
            score[i][j] = max(best, s + score[i + 1][j + 1]) if s >= 0.5 else best
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        s = difflib.SequenceMatcher(None, olds[i], news[j], autojunk=False).ratio()
        if s >= 0.5 and abs(score[i][j] - (s + score[i + 1][j + 1])) < 1e-12:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif score[i + 1][j] >= score[i][j + 1]:
            pairs.append((i, None))
            i += 1
        else:
            pairs.append((None, j))
            j += 1
    pairs += [(k, None) for k in range(i, n)] + [(None, k) for k in range(j, m)]
    return pairs


def align(old_texts: list[str], new_texts: list[str]) -> list[tuple[int | None, int | None]]:
    """(old index, new index) for every paragraph of either side, in document order."""
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(None, old_texts, new_texts, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs += [(i1 + k, j1 + k) for k in range(i2 - i1)]
        else:
            pairs += [
                (None if i is None else i1 + i, None if j is None else j1 + j)
                for i, j in _pair(old_texts[i1:i2], new_texts[j1:j2])
            ]
    return pairs


# -- deleted content ---------------------------------------------------------------------------------------
def _deleted_paragraph(old_p: etree._Element, marker: _Marker) -> etree._Element:
    """A copy of an old paragraph with all its text deleted (objects such as drawings are left out, as
    they refer to parts of the old package)."""
    p = etree.Element(W_P)
    ppr = old_p.find(W_PPR)
    if ppr is not None:
        ppr = copy.deepcopy(ppr)
        for child in ppr.findall(qn("w:sectPr")) + ppr.findall(qn("w:pPrChange")):
            ppr.remove(child)
        p.append(ppr)
    p.extend(_emit([("delete", units(old_p, strict=False))], marker))
    marker.paragraph_mark(p, "w:del")
    return p


def _deleted_block(element: etree._Element, marker: _Marker) -> etree._Element:
    """A copy of an old table or row: every paragraph deleted, every row marked deleted."""
    block = copy.deepcopy(element)
    for p in list(block.iter(W_P)):
        p.getparent().replace(p, _deleted_paragraph(p, marker))
    rows = [block] if block.tag == W_TR else list(block.iter(W_TR))
    for tr in rows:
        marker.row_mark(tr, "w:del")
    return block


def _ancestor(p: etree._Element, tag: str) -> etree._Element | None:
    return next((a for a in p.iterancestors() if a.tag == tag), None)


def _top(p: etree._Element) -> etree._Element:
    """The body-level element (paragraph or table) holding ``p``."""
    node = p
    while node.getparent() is not None and node.getparent().tag != W_BODY:
        node = node.getparent()
    return node


def _deleted_unit(old_p: etree._Element, removed: set[int]) -> etree._Element:
    """What to re-insert for a removed old paragraph: its table if all of it went, else its row if all
    of that went, else the paragraph."""
    for tag in (W_TBL, W_TR):
        holder = _ancestor(old_p, tag)
        if holder is not None and all(id(q) in removed for q in holder.iter(W_P)):
            outer = _ancestor(holder, W_TBL) if tag == W_TBL else None
            if outer is None or not all(id(q) in removed for q in outer.iter(W_P)):
                return holder
    return old_p


def _place(
    block: etree._Element, anchor: etree._Element, before: bool, in_cell: bool, last: dict[str, etree._Element]
) -> None:
    """Insert a deleted block next to an anchor paragraph of the new document, at a level where it is
    valid: a row beside the anchor's row, a cell paragraph beside a cell paragraph, else at body level."""
    if block.tag == W_TR:
        level, ref = "row", _ancestor(anchor, W_TR)
    elif block.tag == W_P and in_cell and _ancestor(anchor, W_TC) is not None:
        level, ref = "cell", anchor
    else:
        level, ref = "top", _top(anchor)
    if before:
        ref.addprevious(block)
    else:
        (last.get(level) if last.get(level) is not None else ref).addnext(block)
        last[level] = block


def _insert_deleted(
    group: list[etree._Element],
    anchor: etree._Element | None,
    before: bool,
    removed: set[int],
    body: etree._Element,
    marker: _Marker,
) -> None:
    last: dict[str, etree._Element] = {}
    done: set[int] = set()
    for old_p in group:
        unit = _deleted_unit(old_p, removed)
        if id(unit) in done:
            continue
        done.add(id(unit))
        block = _deleted_block(unit, marker) if unit.tag != W_P else _deleted_paragraph(unit, marker)
        if block.tag == W_TR and (anchor is None or _ancestor(anchor, W_TR) is None):
            table = copy.deepcopy(_ancestor(unit, W_TBL))
            for tr in list(table.iter(W_TR)):
                tr.getparent().remove(tr)
            table.append(block)
            block = table
        if anchor is None:
            sect = body.find(qn("w:sectPr"))
            if sect is not None:
                sect.addprevious(block)
            else:
                body.append(block)
            continue
        _place(block, anchor, before, unit.tag == W_P and _ancestor(old_p, W_TC) is not None, last)


# -- the document ------------------------------------------------------------------------------------------
def track_changes(old_body: etree._Element, new_body: etree._Element, author: str = AUTHOR, date: str = DATE) -> int:
    """Rewrite ``new_body`` in place with revision marks from ``old_body``; returns the number of changed
    paragraphs (0: the texts are the same and nothing was touched)."""
    marker = _Marker(new_body.getroottree().getroot(), author, date)
    old_ps, new_ps = flow_paragraphs(old_body), flow_paragraphs(new_body)
    pairs = align([paragraph_text(p) for p in old_ps], [paragraph_text(p) for p in new_ps])
    removed = {id(old_ps[i]) for i, j in pairs if j is None}
    inserted: set[int] = set()
    changed = 0
    pending: list[etree._Element] = []
    for i, j in pairs:
        if j is None:
            pending.append(old_ps[i])
            continue
        new_p = new_ps[j]
        if pending:
            _insert_deleted(pending, new_p, True, removed, new_body, marker)
            changed += len(pending)
            pending = []
        if i is None:
            _mark_inserted(new_p, marker)
            inserted.add(id(new_p))
            changed += 1
            continue
        old_p = old_ps[i]
        try:
            old_units, new_units = units(old_p), units(new_p)
        except Complex:
            if paragraph_text(old_p) != paragraph_text(new_p):
                new_p.addprevious(_deleted_paragraph(old_p, marker))
                _mark_inserted(new_p, marker)
                changed += 1
            continue
        if "".join(u.char for u in old_units) == "".join(u.char for u in new_units):
            continue
        _rewrite(new_p, _emit(word_pieces(old_units, new_units), marker))
        changed += 1
    if pending:
        anchor = new_ps[-1] if new_ps else None
        _insert_deleted(pending, anchor, False, removed, new_body, marker)
        changed += len(pending)
    for tr in new_body.iter(W_TR):
        ps = list(tr.iter(W_P))
        if ps and all(id(p) in inserted for p in ps):
            marker.row_mark(tr, "w:ins")
    return changed


def _mark_inserted(p: etree._Element, marker: _Marker) -> None:
    for run in list(p.iter(W_R)):
        parent = run.getparent()
        if parent.tag in (W_P, W_HYPERLINK):
            wrapper = marker.mark("w:ins")
            run.addprevious(wrapper)
            wrapper.append(run)
    marker.paragraph_mark(p, "w:ins")


def tracked_docx(old: Path, new: Path, out: Path, author: str = AUTHOR, date: str = DATE) -> int:
    """Write ``out``: the NEW document with revision marks from OLD. Returns the number of changed
    paragraphs; the file is written even when there are none (then it equals NEW's content)."""
    old_doc, new_doc = Document(str(old)), Document(str(new))
    changed = track_changes(old_doc.element.body, new_doc.element.body, author, date)
    out.parent.mkdir(parents=True, exist_ok=True)
    new_doc.save(str(out))
    _normalise(out)
    return changed


def _normalise(path: Path) -> None:
    from erh_report.reproducible import normalise_zip

    normalise_zip(path)
