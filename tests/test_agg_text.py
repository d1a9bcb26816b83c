"""The Agg renderer that remembers its text work draws and measures exactly as matplotlib's own."""

from __future__ import annotations

import json

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure

from erh_report.figures import agg_text
from erh_report.figures import style as st
from erh_report.figures.agg_text import CachedTextCanvas, CachedTextRenderer

TEXTS = [
    "Smith 2019 (parent\u2013infant)",
    "0.27 [0.16, 0.38]",
    "Favours control",
    "\u03c4\u00b2 = 0.04; I\u00b2 = 31%",
    "\u5b6b 2020",  # a CJK name: drawn with the fallback font, glyph by glyph
    "Smith 2019 (parent\u2013infant)",  # the same string again: from memory the second time
]


def _figure() -> Figure:
    fig = Figure(figsize=(4, 2.5))
    for i, text in enumerate(TEXTS):
        fig.text(0.05 + 0.013 * i, 0.9 - 0.14 * i, text, size=7 + i, weight="bold" if i % 2 else "normal")
    fig.text(0.9, 0.5, "rotated", rotation=90)
    return fig


def _pixels(canvas_class, dpi: float) -> np.ndarray:
    fig = _figure()
    canvas = canvas_class(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_pixels_equal_matplotlibs_own_at_print_and_screen_resolution():
    with rc_context(st.RC):
        for dpi in (300, 100):
            plain = _pixels(FigureCanvasAgg, dpi)
            assert (plain[..., :3] < 128).any()  # something was drawn
            assert np.array_equal(_pixels(CachedTextCanvas, dpi), plain)
            assert np.array_equal(_pixels(CachedTextCanvas, dpi), plain)  # again, all from memory


def test_measures_equal_matplotlibs_own():
    with rc_context(st.RC):
        for dpi in (72, 300):
            plain, cached = RendererAgg(10, 10, dpi), CachedTextRenderer(10, 10, dpi)
            for size in (7.0, 8.0):
                prop = st._font(size, False)
                for text in TEXTS:
                    expected = plain.get_text_width_height_descent(text, prop, ismath=False)
                    assert cached.get_text_width_height_descent(text, prop, ismath=False) == expected


def _pixels_in_child(dpi: float) -> tuple[int, bytes]:
    """(layouts remembered when the child starts, its pixels)."""
    remembered = agg_text._layout.cache_info().currsize
    with rc_context(st.RC):
        return remembered, _pixels(CachedTextCanvas, dpi).tobytes()


def test_a_forked_worker_draws_the_same_after_the_parent_drew():
    """The parent's remembered glyph layouts name its FreeType fonts, which a forked child must not use."""
    import multiprocessing

    with rc_context(st.RC):
        parent = _pixels(CachedTextCanvas, 300)  # the parent remembers the layouts
        plain = _pixels(FigureCanvasAgg, 300)
    assert agg_text._layout.cache_info().currsize > 0
    with multiprocessing.get_context("fork").Pool(1) as pool:
        remembered, child = pool.apply(_pixels_in_child, (300,))
    assert remembered == 0  # matplotlib opens its fonts anew in a forked child: the layouts go too
    assert np.array_equal(parent, plain)
    assert child == plain.tobytes()


def test_glyph_bitmaps_kept_by_fraction_of_a_pixel_draw_as_matplotlib_at_any_position():
    """One bitmap per glyph and pen fraction serves every whole-pixel move of it: drawn at positions with
    every kind of fraction (the same string again and again), the pixels equal Agg's own."""

    def pixels(canvas_class) -> np.ndarray:
        fig = Figure(figsize=(3, 3))  # 900 pixels a side at 300 dpi
        for i in range(30):
            x, y = 0.02 + 0.0137 * i, 0.03 + 0.0151 * i  # every kind of fraction of a pixel
            fig.text(x, y, "Study 042 (2019) 0.27", size=6 + (i % 3))
            fig.text(x + 12 / 900, y + 7 / 900, "Study 042 (2019) 0.27", size=6 + (i % 3))  # whole pixels away
        canvas = canvas_class(fig)
        fig.set_dpi(300)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy()

    agg_text._GLYPHS.clear()
    with rc_context(st.RC):
        cached, plain = pixels(CachedTextCanvas), pixels(FigureCanvasAgg)
    assert (plain[..., :3] < 128).any()
    assert np.array_equal(cached, plain)
    drawn = 60 * len("Study 042 (2019) 0.27")
    assert 0 < len(agg_text._GLYPHS) < 0.6 * drawn  # bitmaps were reused


def test_svg_measures_remembered_equal_textpaths_own_and_the_svg_is_the_same():
    from matplotlib.textpath import TextToPath

    measure = TextToPath()
    with rc_context(st.RC):
        for size in (7.0, 9.5):
            prop = st._font(size, True)
            expected = [measure.get_text_width_height_descent(text, prop, ismath=False) for text in TEXTS]
            with agg_text.remembered_svg_measures():
                first = [measure.get_text_width_height_descent(text, prop, ismath=False) for text in TEXTS]
                again = [measure.get_text_width_height_descent(text, prop, ismath=False) for text in TEXTS]
            assert first == again == expected
        assert TextToPath.get_text_width_height_descent is agg_text._outline_measure  # restored

    def svg(remembered: bool) -> bytes:
        import io
        from contextlib import nullcontext

        out = io.BytesIO()
        with rc_context(st.RC), agg_text.remembered_svg_measures() if remembered else nullcontext():
            _figure().savefig(out, format="svg", metadata=st.SVG_METADATA)
        return out.getvalue()

    plain = svg(False)
    assert b"Favours control" in plain
    assert svg(True) == plain


def test_text_measures_kept_between_builds_are_the_same_numbers(tmp_path, monkeypatch):
    """A rebuild's plan takes the last build's text measures from the cache instead of measuring again."""
    path = tmp_path / "text-measures.json"
    with rc_context(st.RC):
        renderer, prop = CachedTextRenderer(10, 10, 72), st._font(8.0, False)
        agg_text._KNOWN.clear()
        agg_text._extent.cache_clear()
        measured = [renderer.get_text_width_height_descent(text, prop, ismath=False) for text in TEXTS]
        agg_text.save_measures(path)
        good = path.read_text(encoding="utf-8")
        agg_text._KNOWN.clear()
        agg_text._extent.cache_clear()
        assert agg_text.load_measures(path) == len(set(TEXTS))

        def no_freetype(*_args):
            raise AssertionError("measured again")

        monkeypatch.setattr(agg_text, "_font", no_freetype)
        assert [renderer.get_text_width_height_descent(text, prop, ismath=False) for text in TEXTS] == measured
    # Measures made with other fonts or another matplotlib are not taken; nor is a damaged file.
    saved = json.loads(path.read_text(encoding="utf-8"))
    saved["signature"][0] = "0.0"
    path.write_text(json.dumps(saved), encoding="utf-8")
    agg_text._KNOWN.clear()
    assert agg_text.load_measures(path) == 0
    path.write_text("{not json", encoding="utf-8")
    assert agg_text.load_measures(path) == 0
    at = good.index('"measures"')
    assert good.count(", 72, ", at) == len(set(TEXTS))
    path.write_text(good[:at] + good[at:].replace(", 72, ", ", 73, ", 1), encoding="utf-8")  # one number changed
    assert agg_text.load_measures(path) == 0
    path.write_text(good, encoding="utf-8")
    assert agg_text.load_measures(path) == len(set(TEXTS))
    agg_text._extent.cache_clear()


def test_fonts_found_remembered_equal_matplotlibs_own_and_follow_the_rc_settings():
    from matplotlib.font_manager import FontManager, FontProperties, fontManager

    props = [
        FontProperties(family=["DejaVu Sans", "Droid Sans Fallback"], size=8),
        FontProperties(family=["DejaVu Sans"], weight="bold", size=9.5),
        FontProperties(family=["serif"], style="italic"),
        FontProperties(family=["sans-serif"]),
    ]
    own = agg_text._find_fonts
    for settings in (st.RC, {"font.sans-serif": ["DejaVu Serif"]}):
        with rc_context(settings):
            expected = [[str(p) for p in own(fontManager, prop)] for prop in props]
            with agg_text.remembered_font_lookup():
                first = [[str(p) for p in fontManager._find_fonts_by_props(prop)] for prop in props]
                again = [[str(p) for p in fontManager._find_fonts_by_props(prop)] for prop in props]
            assert first == again == expected
    with rc_context({"font.sans-serif": ["DejaVu Serif"]}):
        serif = own(fontManager, props[3])
    with rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        sans = own(fontManager, props[3])
    assert serif != sans  # the settings change the answer: the remembered one followed them above
    assert FontManager._find_fonts_by_props is own  # restored
