"""Matplotlib's Agg renderer with its text work remembered across figures: the same pixels, less work.

Agg lays out every string it measures or draws with FreeType (about 20 µs a character), and draws it
glyph by glyph with a few numpy calls each. The review's figures repeat the same strings (study names,
numbers, labels) in figure after figure, each with a new renderer, so matplotlib's own per-renderer cache
never sees them again. Here the measurements and layouts are kept for the process, keyed by everything
they depend on (font files, size, resolution, hinting, the string), and a glyph is drawn with the same
FreeType calls, minus those that repeat what is already set; a glyph's bitmap is kept for the fraction of
a pixel its pen falls on and moved by whole pixels where the glyph recurs: the pixels are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontManager, FontProperties, fontManager, get_font
from matplotlib.textpath import TextToPath

#: The matplotlib whose Agg text code (``_prepare_font``, ``draw_text``, ``_draw_text_glyphs_and_boxes``)
#: the renderer below repeats call for call; with any other it leaves text to Agg itself.
REPLICATES = mpl.__version_info__[:2] == (3, 11)
RenderMode = getattr(ft2font, "RenderMode", None)  # matplotlib 3.10 and later

_SIZE = 1 << 14  # remembered strings per table (a few MB)
_IDENTITY = np.array([[0x10000, 0], [0, 0x10000]])  # Agg's glyph transform at angle 0 (16.16 fixed point)


def _font(files: tuple[str, ...], size: float, dpi: float):
    """The FreeType font of ``files`` at ``size`` points and ``dpi``, cleared: as Agg prepares a font."""
    font = get_font(files)
    font.clear()
    font.set_size(size, dpi)
    return font


def _key(prop: FontProperties, dpi: float) -> tuple:
    """What a string's measure and layout depend on, besides the string: font files (with the hinting
    factor, part of the font's identity), size, resolution and hinting."""
    files = tuple(fontManager._find_fonts_by_props(prop))
    return files, mpl.rcParams["text.hinting_factor"], prop.get_size_in_points(), dpi, get_hinting_flag()


#: Measures known from an earlier build (``load_measures``) or made here, by ``_extent``'s arguments.
_KNOWN: dict[tuple, tuple[float, float, float]] = {}


@lru_cache(maxsize=_SIZE)
def _extent(files: tuple, _factor: int, size: float, dpi: float, flags, text: str) -> tuple[float, float, float]:
    faces = tuple((str(f), getattr(f, "face_index", 0)) for f in files)  # as saved: path and face
    key = (faces, _factor, size, dpi, getattr(flags, "value", flags), text)
    known = _KNOWN.get(key)
    if known is None:
        font = _font(files, size, dpi)
        font.set_text(text, 0.0, flags=flags)
        w, h = font.get_width_height()
        known = (w / 64.0, h / 64.0, font.get_descent() / 64.0)
        if len(_KNOWN) < 8 * _SIZE:  # a bound on what a process keeps (and a build saves)
            _KNOWN[key] = known
    return known


def _fonts_signature(files: set[str]) -> list:
    """What identifies the font files measured with, and the code that measures: a change discards all."""
    found = []
    for name in sorted(files):
        try:
            info = os.stat(name)
        except OSError:
            return []
        found.append([name, info.st_size, info.st_mtime_ns])
    return [mpl.__version__, ft2font.__freetype_version__, found]


def save_measures(path: Path, if_more_than: int = -1) -> None:
    """Write this process's text measures (``_extent``'s) to ``path`` as JSON, for the next build's plan:
    measuring the figures' texts is most of planning them, and a rebuild measures the same texts again.
    Nothing is written unless the process knows more than ``if_more_than`` measures (what it loaded)."""
    if len(_KNOWN) <= if_more_than:
        return
    known = dict(_KNOWN)
    files = {name for key in known for name, _ in key[0]}
    rows = [[[list(face) for face in key[0]], *key[1:], list(value)] for key, value in known.items()]
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    partial = path.with_suffix(f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = {"signature": _fonts_signature(files), "sha256": digest, "measures": rows}
        partial.write_text(json.dumps(saved), encoding="utf-8")
        partial.replace(path)
    except OSError:  # a cache that cannot be written only makes the next plan slower
        partial.unlink(missing_ok=True)


def load_measures(path: Path) -> int:
    """Take the text measures in ``path`` (``save_measures``) as known, if made with the same fonts and
    code; anything unreadable is ignored (measured again). Returns how many were taken."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        rows = saved["measures"]
        if hashlib.sha256(json.dumps(rows).encode()).hexdigest() != saved["sha256"]:  # damaged: measured again
            return 0
        known = {
            (
                tuple((str(name), int(index)) for name, index in faces),
                factor,
                float(size),
                float(dpi),
                int(flags),
                str(text),
            ): (
                float(w),
                float(h),
                float(d),
            )
            for faces, factor, size, dpi, flags, text, (w, h, d) in rows
        }
        files = {name for key in known for name, _ in key[0]}
        if saved["signature"] != _fonts_signature(files) or not files:
            return 0
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    _KNOWN.update(known)
    _extent.cache_clear()
    return len(known)


@lru_cache(maxsize=_SIZE)
def _layout(
    files: tuple, _factor: int, size: float, dpi: float, flags, text: str, features, language, _thread: int
) -> tuple:
    """The glyphs of ``text``: the FreeType font drawing each (the font's own or a fallback), its index
    and position. The fonts are this thread's (as matplotlib keeps them), and forgotten in a forked
    child, whose fonts matplotlib opens anew (FreeType's state does not survive a fork)."""
    glyphs = _font(files, size, dpi)._layout(text, flags=flags, features=features, language=language)
    return tuple((item.ft_object, item.glyph_index, item.x, item.y) for item in glyphs)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_layout.cache_clear)


_GLYPHS: dict[tuple, tuple[np.ndarray, int, int]] = {}


def _glyph(font, glyph_index: int, size: float, dpi: float, flags, mode, frac_x: int, frac_y: int) -> tuple:
    """A glyph's bitmap and its place (left, top) for a pen at (frac_x, frac_y) 64ths of a pixel. FreeType
    draws a glyph moved by whole pixels into the same bitmap, moved: the bitmap at the pen's fraction of
    a pixel serves every pen position with that fraction. A review's figures repeat their glyphs at few
    such fractions (four of five glyphs drawn are found here)."""
    key = (font, glyph_index, size, dpi, flags, mode, frac_x, frac_y)
    found = _GLYPHS.get(key)
    if found is None:
        font.set_size(size, dpi)
        font._set_transform(_IDENTITY, (frac_x, frac_y))
        bitmap = font._render_glyph(glyph_index, flags, mode)
        buffer = bitmap.buffer  # the bitmap's own array: kept as is
        if mode is RenderMode.MONO:
            buffer *= 0xFF
        if len(_GLYPHS) >= _SIZE * 4:
            _GLYPHS.clear()
        found = _GLYPHS[key] = (buffer, bitmap.left, bitmap.top)
    return found


if hasattr(os, "register_at_fork"):  # FreeType's fonts are opened anew in a forked child
    os.register_at_fork(after_in_child=_GLYPHS.clear)


@lru_cache(maxsize=_SIZE)
def _outline_extent(files: tuple, _factor: int, text: str) -> tuple[float, float, float]:
    """``TextToPath``'s measure of ``text`` at its own scale (100 points, 72 dpi, unhinted)."""
    font = get_font(files)
    font.set_size(TextToPath.FONT_SCALE, TextToPath.DPI)
    font.set_text(text, 0.0, flags=ft2font.LoadFlags.NO_HINTING)
    w, h = font.get_width_height()
    return w / 64.0, h / 64.0, font.get_descent() / 64.0


def _remembered_outline_measure(self, s, prop, ismath):
    if ismath:
        return _outline_measure(self, s, prop, ismath)
    files = tuple(fontManager._find_fonts_by_props(prop))
    scale = prop.get_size_in_points() / self.FONT_SCALE
    w, h, d = _outline_extent(files, mpl.rcParams["text.hinting_factor"], s)
    return w * scale, h * scale, d * scale


_outline_measure = TextToPath.get_text_width_height_descent


@contextmanager
def remembered_svg_measures() -> Iterator[None]:
    """Within the block, the SVG renderer's text measures (``TextToPath``'s, every text of a figure at
    every save) are remembered for the process, as the Agg renderer's are here: the same numbers."""
    if not REPLICATES:
        yield
        return
    TextToPath.get_text_width_height_descent = _remembered_outline_measure
    try:
        yield
    finally:
        TextToPath.get_text_width_height_descent = _outline_measure


#: The rcParams ``FontManager.findfont`` reads (it keys its own cache on them).
_FONT_PARAMS = tuple(
    f"font.{key}"
    for key in (
        "family",
        "style",
        "variant",
        "weight",
        "stretch",
        "size",
        "serif",
        "sans-serif",
        "cursive",
        "fantasy",
        "monospace",
    )
)
_find_fonts = FontManager._find_fonts_by_props
_FONTS_FOUND: dict[tuple, list] = {}


def _remembered_find_fonts(
    self: FontManager,
    prop: Any,
    fontext: str = "ttf",
    directory: str | None = None,
    fallback_to_default: bool = True,
    rebuild_if_missing: bool = True,
) -> list:
    """``FontManager._find_fonts_by_props`` remembered for the process. Every text measured or drawn asks
    for its fonts again, and matplotlib answers each time from its own cache after building a key per
    family (a copy of the properties and eleven rcParams): a tenth of drawing a figure. The key here holds
    what that key does: the properties (by their hash, as matplotlib compares them), the rcParams, the
    arguments and the font manager's lists of fonts."""
    if not isinstance(prop, FontProperties) or directory is not None or os.environ.get("MPL_IGNORE_SYSTEM_FONTS"):
        return _find_fonts(self, prop, fontext, directory, fallback_to_default, rebuild_if_missing)
    params = mpl.rcParams
    key = (
        id(self),
        len(self.ttflist),
        len(self.afmlist),
        hash(prop),
        fontext,
        fallback_to_default,
        rebuild_if_missing,
        tuple(tuple(v) if isinstance(v, list) else v for v in (params[name] for name in _FONT_PARAMS)),
    )
    found = _FONTS_FOUND.get(key)
    if found is None:
        found = _find_fonts(self, prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        if len(_FONTS_FOUND) >= _SIZE:
            _FONTS_FOUND.clear()
        _FONTS_FOUND[key] = found
    return list(found)


@contextmanager
def remembered_font_lookup() -> Iterator[None]:
    """Within the block, the fonts found for a text's properties are remembered (``_remembered_find_fonts``):
    the same fonts, found once."""
    if not REPLICATES or FontManager._find_fonts_by_props is _remembered_find_fonts:
        yield
        return
    FontManager._find_fonts_by_props = _remembered_find_fonts
    try:
        yield
    finally:
        FontManager._find_fonts_by_props = _find_fonts


class CachedTextRenderer(RendererAgg):
    """``RendererAgg`` whose plain-text measuring and glyph layout are remembered (math text, rotated
    text and everything else go the usual way)."""

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath or not REPLICATES:
            return super().get_text_width_height_descent(s, prop, ismath)
        return _extent(*_key(prop, self.dpi), s)

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or angle or not REPLICATES:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        key = _key(prop, self.dpi)
        try:
            glyphs = _layout(*key, s, features, language, threading.get_ident())
        except TypeError:  # features or language given as a list: not to be remembered
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        files, _, size, _, flags = key
        _font(files, size, self.dpi)  # the font's state as Agg's draw_text leaves it
        mode = RenderMode.NORMAL if gc.get_antialiased() else RenderMode.MONO
        height = self.height
        for font, glyph_index, dx, dy in glyphs:
            pen_x, pen_y = round(0x40 * (x + dx)), round(0x40 * (height - y + dy))
            buffer, left, top = _glyph(font, glyph_index, size, self.dpi, flags, mode, pen_x & 0x3F, pen_y & 0x3F)
            left, top = left + (pen_x >> 6), top + (pen_y >> 6)
            self._renderer.draw_text_image(buffer, left, int(height) - top + buffer.shape[0], 0, gc)
        return None


class CachedTextCanvas(FigureCanvasAgg):
    """``FigureCanvasAgg`` drawing with ``CachedTextRenderer``."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = CachedTextRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


def measuring_renderer(dpi: float) -> RendererAgg:
    """A small renderer for measuring text at ``dpi``."""
    return CachedTextRenderer(10, 10, dpi)
