"""Cross-references as links: "Figure 2", "Table 1", "eTable 3" and citation numbers point at what they name.

The templates write a mention as plain text ("See Figure 2."), numbered in order of first mention. Once a
document's HTML is complete, every figure and table is known by its caption's label ("Figure 2.",
"eTable 3."), so each mention in the running text, in a caption or in a table note becomes a link to
its figure or table (a caption's own label stays text), and each citation number (``<sup>1,3</sup>``) a
link to its entry in the reference list. The HTML, the PDF (whose parts keep links to other parts, see
``pdf.cross_part_links``) and the DOCX (bookmarks) all follow them.
"""

from __future__ import annotations

import re

import lxml.html

#: A label as a caption starts with it, and a mention in the text.
LABEL = re.compile(r"\b((?:e)?(?:Figure|Table)) (\d+)\b")
CAPTION_LABEL = re.compile(r"^\s*((?:e)?(?:Figure|Table) \d+)\.")
CITATION = re.compile(r"^\d+(?:[,\u2013-]\d+)*$")
#: Where a mention is not linked: inside a link, headings, code (in a caption, all but its own label).
NOT_LINKED = frozenset(
    {
        "a",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "code",
        "title",
        "style",
        "script",
        "head",
        "nav",
    }
)


def _slug(label: str) -> str:
    return label.lower().replace(" ", "-")


def _targets(root) -> dict[str, str]:
    """Label ("Figure 2", "eTable 3") -> the id of the figure or table it captions (given one if it has
    none), first caption of a label wins."""
    found: dict[str, str] = {}
    for caption in root.iter("caption", "figcaption"):
        match = CAPTION_LABEL.match(caption.text_content())
        if not match or match.group(1) in found:
            continue
        owner = caption.getparent()
        if owner is None or owner.tag not in ("table", "figure"):
            continue
        if not owner.get("id"):
            owner.set("id", _slug(match.group(1)))
        found[match.group(1)] = owner.get("id")
    return found


def _references(root) -> int:
    """Give every entry of the reference list an id ``ref-N``; the number of entries."""
    count = 0
    for listing in root.iter("ol"):
        if "references" not in (listing.get("class") or "").split():
            continue
        for number, item in enumerate((li for li in listing if li.tag == "li"), start=1):
            item.set("id", item.get("id") or f"ref-{number}")
            count = number
    return count


def _linked(text: str, targets: dict[str, str], start: int = 0) -> list:
    """``text`` as pieces: strings, and <a> elements for every known label in it from ``start`` on."""
    pieces: list = []
    last = 0
    for match in LABEL.finditer(text, start):
        label = f"{match.group(1)} {match.group(2)}"
        if label not in targets:
            continue
        pieces.append(text[last : match.start()])
        link = lxml.html.Element("a", href=f"#{targets[label]}")
        link.set("class", "xref")
        link.text = label
        pieces.append(link)
        last = match.end()
    pieces.append(text[last:])
    return pieces


def _caption_label(element) -> bool:
    """Whether ``element`` is the label a caption opens with (``<strong>Figure 2.</strong>``)."""
    parent = element.getparent()
    return (
        parent is not None
        and parent.tag in ("caption", "figcaption")
        and parent.index(element) == 0
        and not (parent.text or "").strip()
        and CAPTION_LABEL.match(element.text_content()) is not None
    )


def _replace_text(element, targets: dict[str, str]) -> None:
    """Link the mentions in an element's own text and its children's tails (children are walked apart).
    ``_linked`` gives text and links alternating; the text after a link becomes its tail. A caption's own
    label, written first in it, is not a mention."""
    own_label = CAPTION_LABEL.match(element.text or "") if element.tag in ("caption", "figcaption") else None
    if element.text and LABEL.search(element.text) and not _caption_label(element):
        first, *rest = _linked(element.text, targets, own_label.end() if own_label else 0)
        element.text = first
        links = [piece for piece in rest if not isinstance(piece, str)]
        for link, tail in zip(links, (piece for piece in rest if isinstance(piece, str)), strict=True):
            link.tail = tail
        for index, link in enumerate(links):
            element.insert(index, link)
    for child in list(element):
        if child.tail and LABEL.search(child.tail):
            first, *rest = _linked(child.tail, targets)
            child.tail = first
            anchor = child
            for piece in rest:
                if isinstance(piece, str):
                    anchor.tail = piece
                else:
                    anchor.addnext(piece)
                    anchor = piece


def link_cross_references(html: str) -> str:
    """The document with its figure, table and citation mentions as links (unchanged when it has none)."""
    if not LABEL.search(html) and "<sup>" not in html:
        return html
    root = lxml.html.document_fromstring(html)
    targets = _targets(root)
    references = _references(root)
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.tag in NOT_LINKED:
            continue
        if any(a.tag in NOT_LINKED for a in element.iterancestors()):
            continue
        if targets:
            _replace_text(element, targets)
        if (
            element.tag == "sup"
            and references
            and len(element) == 0
            and element.text
            and CITATION.match(element.text.strip())
        ):
            _link_citation(element, references)
    doctype = "<!DOCTYPE html>\n" if html.lstrip().lower().startswith("<!doctype") else ""
    return doctype + lxml.html.tostring(root, encoding="unicode")


def _link_citation(sup, references: int) -> None:
    """<sup>1,3-5</sup>: each number a link to its reference (a range's ends only)."""
    text = sup.text.strip()
    sup.text = None
    previous = None
    for piece in re.split(r"([,\u2013-])", text):
        if piece.isdigit() and 1 <= int(piece) <= references:
            link = lxml.html.Element("a", href=f"#ref-{int(piece)}")
            link.set("class", "cite")
            link.text = piece
            sup.append(link)
            previous = link
        elif previous is None:
            sup.text = (sup.text or "") + piece
        else:
            previous.tail = (previous.tail or "") + piece
