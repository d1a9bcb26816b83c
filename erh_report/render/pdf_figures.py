"""The figures' SVG as WeasyPrint draws it fastest: the same picture in fewer, plainer elements.

WeasyPrint spends most of a PDF's time drawing figures, and its cost grows with the number of SVG
elements and with what each must be parsed for, not with what they draw. matplotlib writes every artist in
a group of its own, every marker as a ``<use>`` of a shared path (WeasyPrint searches the whole tree for
each), every style as CSS in a ``style`` attribute, and a zero rotation on every text. For the PDF only
(the SVG files and the HTML keep matplotlib's own), each figure is rewritten: groups that carry nothing but
an id are dissolved, markers become paths at their place, styles become presentation attributes, the
stylesheet's defaults move to the root (inherited, as the ``*`` rule gave them), zero rotations and the
metadata go. The figure is handed to WeasyPrint inline, as a ``data:`` URL, so nothing else is written.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from lxml import etree

_SVG = "{http://www.w3.org/2000/svg}"
_HREF = "{http://www.w3.org/1999/xlink}href"
_DECLARATION = re.compile(r"([\w-]+)\s*:\s*([^;}]+)")
_ZERO_ROTATION = re.compile(r"rotate\(-?0(?:\.0*)? [^)]*\)")
_NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
#: What keeps a ``<use>`` from becoming a path: a size (for a referenced <svg> or <symbol>), an id or
#: class something could point at. Its presentation attributes pass to the path, as inheritance would
#: pass them; its transform too, applied after the move by x and y as the use applies it.
_USE_KEEPS = {"width", "height", "id", "class"}


def _declarations(text: str) -> list[tuple[str, str]]:
    return [(name, value.strip()) for name, value in _DECLARATION.findall(text)]


def _moved(d: str, dx: float, dy: float) -> str:
    """Path data (matplotlib's: absolute commands, coordinates in x y pairs) moved by (dx, dy)."""
    count = iter(range(1 << 30))

    def move(match: re.Match[str]) -> str:
        value = float(match.group(0)) + (dx if next(count) % 2 == 0 else dy)
        return f"{value:.6f}".rstrip("0").rstrip(".")

    return _NUMBER.sub(move, d)


def _markers_as_paths(root: etree._Element) -> None:
    paths = {el.get("id"): el for el in root.iter(f"{_SVG}path") if el.get("id")}
    for use in list(root.iter(f"{_SVG}use")):
        shape = paths.get((use.get(_HREF) or "").removeprefix("#"))
        d = shape.get("d") if shape is not None else None
        if (
            shape is None
            or not d
            or re.search(r"[^MLQCZz\d\s.eE+-]", d)  # only absolute commands move by adding to each pair
            or "transform" in shape.attrib
            or _USE_KEEPS & set(use.attrib)
        ):
            continue
        path = etree.Element(f"{_SVG}path")
        # The use's paint is inherited by the shape: the shape's own properties win over it.
        for name, value in [*use.attrib.items(), *shape.attrib.items()]:
            if name not in (_HREF, "x", "y", "id", "d"):
                path.set(name, value)
        path.set("d", _moved(d, float(use.get("x", 0)), float(use.get("y", 0))))
        path.tail = use.tail
        use.getparent().replace(use, path)


def _dissolve_bare_groups(root: etree._Element) -> None:
    for group in list(root.iter(f"{_SVG}g")):
        parent = group.getparent()
        if parent is None or set(group.attrib) - {"id"}:
            continue
        at = parent.index(group)
        parent[at : at + 1] = list(group)


def simplify_svg(svg: bytes) -> bytes:
    """The same picture with fewer elements for WeasyPrint to parse (see the module's docstring)."""
    root = etree.fromstring(svg)
    for sheet in list(root.iter(f"{_SVG}style")):
        if not re.fullmatch(r"\s*\*\s*\{[^{}]*\}\s*", sheet.text or ""):
            continue  # only the universal rule matplotlib writes moves to the root
        for name, value in _declarations(sheet.text or ""):
            root.set(name, value)
        sheet.getparent().remove(sheet)
    for metadata in list(root.iter(f"{_SVG}metadata")):
        metadata.getparent().remove(metadata)
    for el in root.iter(etree.Element):
        style = el.attrib.pop("style", None)
        if style is not None:
            for name, value in _declarations(style):
                el.set(name, value)
        transform = el.get("transform")
        if transform is not None and _ZERO_ROTATION.fullmatch(transform.strip()):
            del el.attrib["transform"]
    _markers_as_paths(root)
    _dissolve_bare_groups(root)
    return etree.tostring(root, encoding="utf-8")


_FIGURE = re.compile(r'(<img\b[^>]*?\bsrc=")figures/([^"/]+\.svg)(")')


def figures_for_pdf(html: str, base_dir: Path) -> str:
    """The document's HTML with each figure's SVG (figures/*.svg under ``base_dir``) simplified and given
    inline as a ``data:`` URL."""

    def inline(match: re.Match[str]) -> str:
        svg = simplify_svg((base_dir / "figures" / match.group(2)).read_bytes())
        return f"{match.group(1)}data:image/svg+xml;base64,{base64.b64encode(svg).decode('ascii')}{match.group(3)}"

    return _FIGURE.sub(inline, html)
