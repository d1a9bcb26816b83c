"""PDF from the document's HTML with WeasyPrint, made in parts so that a rebuild lays out only what changed.

A template marks where a new part begins with ``PART_MARK`` (always at a place that starts a new page
anyway: a landscape table, a figure page). Each part is laid out on its own, without page numbers, and can
be kept in the build cache; the parts are then joined with pikepdf, and the page numbers ("n of N", in the
style the document's CSS gives them) are laid over every page, with the bookmarks and named destinations
of the whole document rebuilt from the parts' layouts. Fixed identifiers make the bytes reproducible.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

PART_MARK = "<!-- pdf-part -->"
_NO_PAGE_NUMBERS = "<style>@page { @bottom-center { content: none; } }</style>"
_PT_PER_PX = 0.75  # CSS pixels to PDF points


def _quiet() -> None:
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


_FONT_CONFIG: list[Any] = []  # this process's FontConfiguration, once made
os.register_at_fork(after_in_child=_FONT_CONFIG.clear)  # Pango's state is not to be shared across a fork


def _font_config() -> Any:
    """The font configuration every part laid out in this process shares: Pango loads the fonts, and
    keeps what it shaped with them, once per process instead of once per part (the PDFs' bytes are the
    same). A forked child makes its own (as ``agg_text`` forgets FreeType's fonts in one)."""
    from weasyprint.text.fonts import FontConfiguration

    if not _FONT_CONFIG:
        _FONT_CONFIG.append(FontConfiguration())
    return _FONT_CONFIG[0]


def _split_document(html: str) -> tuple[str, str, str]:
    """(everything up to <main>, the content of <main>, everything after it)."""
    head, rest = html.split("<main>", 1)
    body, tail = rest.rsplit("</main>", 1)
    return head, body, tail


def split_parts(html: str) -> list[str]:
    """The document's parts, each a whole HTML document with the same head and running header."""
    head, body, tail = _split_document(html)
    head = head.replace("</head>", _NO_PAGE_NUMBERS + "</head>", 1)
    pieces = [piece for piece in body.split(PART_MARK) if piece.strip()] or [""]
    return cross_part_links([f"{head}<main>{piece}</main>{tail}" for piece in pieces])


#: A link to an anchor in another part is written as a URI of this scheme (a part alone cannot resolve it);
#: the join turns it into a link to the named destination of the whole document.
CROSS_PART = "erh-dest:"
_HREF = re.compile(r'href="#([^"]+)"')
_ID = re.compile(r'\bid="([^"]+)"')


def cross_part_links(parts: list[str]) -> list[str]:
    """Each part with its links to anchors of other parts as ``erh-dest:`` links (same-part links stay)."""
    ids = [set(_ID.findall(part)) for part in parts]
    every = set().union(*ids) if ids else set()

    def rewrite(part: str, own: set[str]) -> str:
        return _HREF.sub(
            lambda m: (
                m.group(0) if m.group(1) in own or m.group(1) not in every else f'href="{CROSS_PART}{m.group(1)}"'
            ),
            part,
        )

    return [rewrite(part, own) for part, own in zip(parts, ids, strict=True)]


def _identifier(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32].encode("ascii")


def render_part(html: str, base_dir: Path, pdf_path: Path) -> dict[str, Any]:
    """Lay out one part, write its PDF and return its layout: page sizes (points), bookmarks and anchors
    with their page (counted in the part) and position (points from the bottom left, as PDF has them)."""
    from weasyprint import HTML  # heavy import: only when a PDF is made

    from erh_report.render.pdf_figures import figures_for_pdf
    from erh_report.render.svg_text import whole_string_text

    _quiet()
    with whole_string_text():  # figures are drawn when the PDF is written, not when laid out
        document = HTML(string=figures_for_pdf(html, base_dir), base_url=str(base_dir)).render(
            font_config=_font_config()
        )
        document.write_pdf(pdf_path, pdf_identifier=_identifier(html), uncompressed_pdf=False, optimize_images=False)
    pages, bookmarks, anchors = [], [], []
    for number, page in enumerate(document.pages):
        width, height = page.width * _PT_PER_PX, page.height * _PT_PER_PX
        pages.append([round(width, 4), round(height, 4)])
        for level, label, (x, y), state in page.bookmarks:
            bookmarks.append([number, level, label, round(x * _PT_PER_PX, 4), round(height - y * _PT_PER_PX, 4), state])
        for name, (x, y, *_) in sorted(page.anchors.items()):
            anchors.append([name, number, round(x * _PT_PER_PX, 4), round(height - y * _PT_PER_PX, 4)])
    return {"pages": pages, "bookmarks": bookmarks, "anchors": anchors}


def write_layout(layout: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(layout, sort_keys=True), encoding="utf-8")


def read_layout(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def page_numbers_html(html: str, sizes: list[list[float]]) -> str:
    """An HTML document of empty pages, one per page of the joined parts and of the same size, showing
    only the page number as the document's CSS styles it."""
    head, _, _ = _split_document(html)
    head = head.split("<body", 1)[0]
    distinct = sorted({(w, h) for w, h in sizes})
    names = {size: f"pdf-page-{i}" for i, size in enumerate(distinct)}
    rules = "".join(
        f"@page {names[(w, h)]} {{ size: {w}pt {h}pt; @top-center {{ content: none; }} }}"
        f"div.{names[(w, h)]} {{ page: {names[(w, h)]}; }}"
        for w, h in distinct
    )
    style = f"<style>{rules} div.pdf-page {{ break-before: page; height: 0; }}</style>"
    pages = "".join(f'<div class="pdf-page {names[(w, h)]}"></div>' for w, h in sizes)
    return head.replace("</head>", style + "</head>", 1) + f"<body>{pages}</body></html>"


def render_page_numbers(html: str, sizes: list[list[float]], pdf_path: Path) -> None:
    from weasyprint import HTML

    _quiet()
    numbers = page_numbers_html(html, sizes)
    HTML(string=numbers).write_pdf(pdf_path, pdf_identifier=_identifier(numbers), uncompressed_pdf=False)


def assemble_pdf(parts: list[tuple[Path, dict[str, Any]]], page_numbers: Path, out_path: Path) -> None:
    """Join the parts' PDFs, lay the page numbers over every page, and rebuild the document's bookmarks
    (nested by heading level) and named destinations from the parts' layouts."""
    import pikepdf

    out = pikepdf.new()
    sources = [pikepdf.open(path) for path, _ in parts]
    numbers = pikepdf.open(page_numbers)
    try:
        first = sources[0]
        offsets: list[int] = []
        for source in sources:
            offsets.append(len(out.pages))
            with warnings.catch_warnings():  # the named destinations are rebuilt for the whole below
                if hasattr(pikepdf, "PageCopyWarning"):
                    warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
                out.pages.extend(source.pages)
        if len(numbers.pages) != len(out.pages):
            raise RuntimeError(f"page numbers for {len(numbers.pages)} pages, document has {len(out.pages)}")
        for page, number in zip(out.pages, numbers.pages, strict=True):
            _overlay(out, page, number)
        if "/Lang" in first.Root:
            out.Root.Lang = first.Root.Lang
        for key in ("/Title", "/Creator", "/Producer"):
            if key in first.docinfo:
                out.docinfo[key] = first.docinfo[key]
        _outline(out, parts, offsets)
        _named_destinations(out, parts, offsets)
        _resolve_cross_part_links(out)
        out.save(
            out_path, deterministic_id=True, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate
        )
    finally:
        numbers.close()
        for source in sources:
            source.close()


def _overlay(out: Any, page: Any, other: Any) -> None:
    """Draw ``other`` (a page of the same size) over ``page``, under a fixed resource name (pikepdf's own
    add_overlay picks a random one, which would make the bytes differ from build to build)."""
    import pikepdf

    form = out.copy_foreign(other.as_form_xobject())
    # WeasyPrint's pages share one resource dictionary: each page gets its own, naming its own number.
    resources = pikepdf.Dictionary(dict(page.obj.get("/Resources", pikepdf.Dictionary()).items()))
    xobjects = pikepdf.Dictionary(dict(resources.get("/XObject", pikepdf.Dictionary()).items()))
    xobjects.PageNumber = form
    resources.XObject = xobjects
    page.obj.Resources = resources
    page.contents_add(pikepdf.Stream(out, b"q\n"), prepend=True)
    page.contents_add(pikepdf.Stream(out, b"\nQ\nq /PageNumber Do Q\n"))


def _outline(out: Any, parts: list[tuple[Path, dict[str, Any]]], offsets: list[int]) -> None:
    import pikepdf

    with out.open_outline() as outline:
        stack: list[tuple[int, Any]] = []
        for (_, layout), offset in zip(parts, offsets, strict=True):
            for page, level, label, left, top, state in layout["bookmarks"]:
                item = pikepdf.OutlineItem(label, page + offset, pikepdf.PageLocation.XYZ, left=left, top=top)
                item.is_closed = state == "closed"
                while stack and stack[-1][0] >= level:
                    stack.pop()
                (stack[-1][1].children if stack else outline.root).append(item)
                stack.append((level, item))


def _named_destinations(out: Any, parts: list[tuple[Path, dict[str, Any]]], offsets: list[int]) -> None:
    import pikepdf

    tree = pikepdf.NameTree.new(out)
    seen: set[str] = set()
    for (_, layout), offset in zip(parts, offsets, strict=True):
        for name, page, left, top in layout["anchors"]:
            if name in seen:  # as in HTML, the first element with an id wins
                continue
            seen.add(name)
            tree[name] = pikepdf.Array([out.pages[page + offset].obj, pikepdf.Name.XYZ, left, top, 0])
    out.Root.Names = pikepdf.Dictionary(Dests=tree.obj)


def _resolve_cross_part_links(out: Any) -> None:
    """Turn every ``erh-dest:NAME`` link of the joined pages into a link to the named destination NAME."""
    import pikepdf

    for page in out.pages:
        for annot in page.obj.get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(CROSS_PART):
                del annot["/A"]
                annot.Dest = pikepdf.String(uri[len(CROSS_PART) :])


def write_pdf(html: str, base_dir: Path, out_path: Path) -> None:
    """The whole document in one call (parts laid out one after another, nothing cached)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="erh-pdf-") as folder:
        work = Path(folder)
        parts = []
        for i, part in enumerate(split_parts(html)):
            path = work / f"part-{i}.pdf"
            parts.append((path, render_part(part, base_dir, path)))
        numbers = work / "page-numbers.pdf"
        render_page_numbers(html, [size for _, layout in parts for size in layout["pages"]], numbers)
        assemble_pdf(parts, numbers, out_path)
