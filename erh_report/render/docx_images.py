"""Figures in a Word file the way Word 2016 and later write them: the SVG, with a PNG for older readers.

A figure drawn as SVG stays sharp at any zoom; Word 2016+ and LibreOffice show the SVG, older readers the
PNG that the same picture element names first (``a:blip`` with the ``asvg:svgBlip`` extension). The PNG
is resampled for the size at which the figure is placed, not kept at the 300 dpi of the figure's own size,
so a supplement of a hundred and seventy figures stays a file that e-mail and submission systems take.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from pathlib import Path

import PIL
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree
from PIL import Image as PilImage

#: The extension Word 2016+ writes inside ``a:blip`` to name the SVG of a picture.
SVG_BLIP_URI = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"
SVG_NAMESPACE = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
SVG_CONTENT_TYPE = "image/svg+xml"
#: Pixels per inch of the fallback PNG at the size the figure is placed: sharp at 200% zoom on a 96 dpi
#: screen (2 x 96 = 192), and on paper at a laser printer's usual halftone resolution.
FALLBACK_PPI = 192
#: Colours of the fallback PNG's palette.
FALLBACK_COLOURS = 64
#: How the fallback PNG is resampled (named in the kept fallbacks' key).
FALLBACK_FILTER = PilImage.Resampling.BOX
EMU_PER_INCH = 914400


def fallback_png(png: bytes, width_emu: int, ppi: int = FALLBACK_PPI) -> bytes:
    """The PNG resampled to ``ppi`` at the placed width ``width_emu``; returned unchanged when it has no
    more pixels than that already. The same input gives the same bytes (no time stamps in a PNG)."""
    with PilImage.open(io.BytesIO(png)) as image:
        target_w = max(1, round(width_emu / EMU_PER_INCH * ppi))
        if image.width <= target_w:
            return png
        target_h = max(1, round(image.height * target_w / image.width))
        rgb = image if image.mode == "RGB" else image.convert("RGB")  # the figures' PNGs are RGB: no copy
        # A box filter (each new pixel the mean of the area it covers) smooths the edges as a fallback needs:
        # resampling was most of the time a supplement's DOCX took; Lanczos (support 3) took twice Hamming's
        # (support 1) time, and Hamming a third more than the box, whose palette PNGs are also 5% smaller.
        smaller = rgb.resize((target_w, target_h), FALLBACK_FILTER, reducing_gap=3.0)
        # A plot has few colours, and anti-aliased edges need few more: a palette PNG is a quarter the size.
        palette = smaller.quantize(FALLBACK_COLOURS, method=PilImage.Quantize.FASTOCTREE, dither=PilImage.Dither.NONE)
        out = io.BytesIO()
        palette.save(out, format="png", dpi=(ppi, ppi), compress_level=6)
        return out.getvalue()


#: The largest DOCX file that submission systems and e-mail take (bytes): the outputs' limit of 20 MB.
DOCX_LIMIT = 20_000_000
#: The coarsest fallback a large document's PNGs are brought down to (pixels per inch at the placed size).
FALLBACK_PPI_MIN = 48


class Fallbacks:
    """Fallback PNGs kept in a folder between builds (the build's cache), so that a rebuild resamples only
    the figures that changed: resampling is most of the time a supplement's DOCX takes. An entry is named
    by what it is made from (the PNG, the placed width, the resolution) and by the hash of its own bytes,
    which is checked before it is used; a damaged entry is made again. Without a folder, nothing is kept."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._entries: dict[str, list[Path]] | None = None

    def _kept(self, key: str) -> list[Path]:
        """The kept entries made from ``key``: the folder is listed once (a glob per figure read the whole
        folder each time, which at several hundred figures and a few resolutions took seconds)."""
        if self._entries is None:
            self._entries = {}
            if self.folder is not None and self.folder.is_dir():
                for entry in sorted(self.folder.glob("*-*.png")):
                    self._entries.setdefault(entry.stem.split("-", 1)[0], []).append(entry)
        return self._entries.get(key, [])

    def png(self, png: bytes, width_emu: int, ppi: int = FALLBACK_PPI) -> bytes:
        if self.folder is None:
            return fallback_png(png, width_emu, ppi)
        recipe = hashlib.sha256(png)
        recipe.update(f"{width_emu} {ppi} {FALLBACK_COLOURS} {FALLBACK_FILTER.name} {PIL.__version__}".encode())
        key = recipe.hexdigest()
        for entry in self._kept(key):
            data = entry.read_bytes() if entry.is_file() else b""
            if data and entry.stem.endswith(hashlib.sha256(data).hexdigest()):
                return data
            entry.unlink(missing_ok=True)
        data = fallback_png(png, width_emu, ppi)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{key}-{hashlib.sha256(data).hexdigest()}.png"
            partial = target.with_suffix(f".tmp{os.getpid()}")
            partial.write_bytes(data)
            partial.replace(target)
            if self._entries is not None:
                self._entries[key] = [target]
        except OSError:  # a cache that cannot be written only makes the next build slower
            pass
        return data


def fallbacks_within(parts: list[tuple[object, int]], ppi: int, excess: int, made: Fallbacks | None = None) -> int:
    """Make every fallback PNG of a document coarser, all at one resolution, so that together they shed
    about ``excess`` bytes (their bytes go nearly as their pixels, so as the square of the resolution);
    ``parts`` are (image part, placed width in EMU). Returns the new pixels per inch. Readers of the SVG
    (Word 2016 and later, LibreOffice) see no change; the same document gives the same bytes."""
    total = sum(len(part.blob) for part, _ in parts)
    keep = max(total - 1.1 * excess, 0.05 * total)  # a tenth more: the bytes do not fall quite as the pixels
    new = max(FALLBACK_PPI_MIN, math.floor(ppi * math.sqrt(keep / total)))
    made = made or Fallbacks(None)
    for part, width_emu in parts:
        part._blob = made.png(part.blob, width_emu, new)  # python-docx keeps a part's bytes in _blob
    return new


def add_svg_part(package, svg: bytes, number: int) -> Part:
    """A new ``/word/media/imageN.svg`` part of the package holding ``svg``."""
    return Part(PackURI(f"/word/media/image{number}.svg"), SVG_CONTENT_TYPE, svg, package)


def link_svg(inline, part, svg_part: Part) -> None:
    """Name ``svg_part`` as the SVG of the picture in ``inline`` (its ``a:blip`` keeps the PNG)."""
    r_id = part.relate_to(svg_part, RT.IMAGE)
    blip = inline.find(".//" + qn("a:blip"))
    ext_lst = OxmlElement("a:extLst")
    ext = OxmlElement("a:ext")
    ext.set("uri", SVG_BLIP_URI)
    svg_blip = etree.SubElement(ext, f"{{{SVG_NAMESPACE}}}svgBlip", nsmap={"asvg": SVG_NAMESPACE})
    svg_blip.set(qn("r:embed"), r_id)
    ext_lst.append(ext)
    blip.append(ext_lst)


def svg_blip_targets(document_xml: bytes) -> list[str]:
    """The relationship ids of every SVG named by a picture in a part's XML (for checks and tests)."""
    root = etree.fromstring(document_xml)
    return [element.get(qn("r:embed")) for element in root.iter(f"{{{SVG_NAMESPACE}}}svgBlip")]
