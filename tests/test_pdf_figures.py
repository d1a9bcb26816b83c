"""Figures in the PDF: the simplified SVG draws the same picture as matplotlib's, and SVG text drawn as
whole strings reads and sits as WeasyPrint's letter-by-letter drawing does."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2
import pytest
from lxml import etree
from matplotlib import rc_context

from erh_report.figures import style as st
from erh_report.render import svg_text
from erh_report.render.pdf import render_part
from erh_report.render.pdf_figures import figures_for_pdf, simplify_svg

TEXTS = ["Study or subgroup", "Study 010 (2007)", "0.27 [0.02, 0.52]", "Favors control", "AV To 5.8%"]


@pytest.fixture(scope="module")
def figure_dir(tmp_path_factory) -> Path:
    """A figure drawn as the review's are: texts left, centred and right, markers, lines, a rotated label."""
    folder = tmp_path_factory.mktemp("pdf-figures")
    (folder / "figures").mkdir()
    with rc_context(st.RC):
        fig, ax = st.canvas(420, 200)
        for row, text in enumerate(TEXTS):
            y = 20 + 22 * row
            st.put(ax, 10, y, text, bold=row == 0)
            st.put(ax, 200, y, text.upper(), ha="center", size=7)
            st.put(ax, 410, y, f"{row + 0.25:.2f}", ha="right")
        ax.plot([150, 250, 300], [30, 60, 90], marker="s", markersize=6, color="#1f4e79", linestyle="none")
        ax.plot([120, 380], [150, 150], color="black", linewidth=0.8)
        ax.text(400, 180, "rotated", rotation=90, fontsize=7, clip_on=False)
        st.save(fig, folder / "figures", "example", "Example", "An example figure", png=False)
    return folder


def _document(img: str) -> str:
    page = "<style>@page { size: A4 landscape; margin: 1cm }</style>"
    return f"<!DOCTYPE html><html><head>{page}</head><body><main>{img}</main></body></html>"


def _tags(svg: bytes) -> list[str]:
    return [etree.QName(el).localname for el in etree.fromstring(svg).iter(etree.Element)]


def _render(pdf: Path) -> np.ndarray:
    page = pypdfium2.PdfDocument(str(pdf))[0]
    return page.render(scale=2).to_numpy()[..., :3].astype(int)


def _pdf_of(svg: bytes, folder: Path, name: str, whole_strings: bool) -> Path:
    from weasyprint import HTML

    pdf = folder / f"{name}.pdf"
    html = _document(f'<img src="{name}.svg" alt="">')
    (folder / f"{name}.svg").write_bytes(svg)
    if whole_strings:
        with svg_text.whole_string_text():
            HTML(string=html, base_url=str(folder)).write_pdf(pdf)
    else:
        HTML(string=html, base_url=str(folder)).write_pdf(pdf)
    return pdf


def test_simplified_svg_has_fewer_plainer_elements(figure_dir):
    original = (figure_dir / "figures" / "example.svg").read_bytes()
    simple = simplify_svg(original)
    before, after = _tags(original), _tags(simple)
    assert "use" in before and "use" not in after  # markers became paths
    assert before.count("g") > after.count("g")  # groups that only named an artist are gone
    assert "metadata" not in after and "style" not in after
    assert b'style="' not in simple and b"rotate(-0 " not in simple
    assert after.count("text") == before.count("text") == 3 * len(TEXTS) + 1
    assert after.count("path") == before.count("path") + before.count("use")
    root = etree.fromstring(simple)
    assert root.get("stroke-linejoin") == "round"  # the stylesheet's universal rule, now inherited


def test_simplified_svg_draws_the_same_picture(figure_dir, tmp_path):
    original = (figure_dir / "figures" / "example.svg").read_bytes()
    before = _render(_pdf_of(original, tmp_path, "original", whole_strings=False))
    after = _render(_pdf_of(simplify_svg(original), tmp_path, "simple", whole_strings=False))
    assert before.shape == after.shape
    assert (before < 128).any()  # something was drawn
    differing = np.abs(before - after).max(axis=2) > 32
    assert differing.mean() < 1e-4, f"{differing.sum()} pixels differ"


def _words(pdf: Path) -> list[tuple[str, float, float, float]]:
    with pdfplumber.open(pdf) as doc:
        words = doc.pages[0].extract_words(keep_blank_chars=True, use_text_flow=True)
    return sorted((w["text"], round(w["top"], 1), w["x0"], w["x1"]) for w in words)


@pytest.mark.skipif(not svg_text.available(), reason="WeasyPrint release not checked against")
def test_whole_string_text_reads_and_sits_as_letter_by_letter(figure_dir, tmp_path):
    simple = simplify_svg((figure_dir / "figures" / "example.svg").read_bytes())
    letters = _words(_pdf_of(simple, tmp_path, "letters", whole_strings=False))
    whole = _words(_pdf_of(simple, tmp_path, "whole", whole_strings=True))
    # The same texts on the same lines (drawn letter by letter, a space is no glyph: the words run together).
    assert [(w[0].replace(" ", ""), w[1]) for w in whole] == [(w[0].replace(" ", ""), w[1]) for w in letters]
    assert "0.27 [0.02, 0.52]" in [w[0] for w in whole]
    for (text, _, x0_whole, x1_whole), (_, _, x0_letters, x1_letters) in zip(whole, letters, strict=True):
        # Kerned pairs (F-a, A-V, T-o) are drawn closer, as a browser and matplotlib draw them: never wider.
        assert 0 <= (x1_letters - x0_letters) - (x1_whole - x0_whole) < 2.5, text
        # The anchor stays, to a twentieth of a point (advances rounded letter by letter).
        if text in TEXTS:  # left-aligned
            assert x0_whole == pytest.approx(x0_letters, abs=0.05), text
        elif text.replace(".", "").isdigit():  # right-aligned
            assert x1_whole == pytest.approx(x1_letters, abs=0.05), text
        else:  # centred
            assert x0_whole + x1_whole == pytest.approx(x0_letters + x1_letters, abs=0.1), text
    drawn = (("whole", whole), ("letters", letters))
    width = {(w[0].replace(" ", ""), kind): w[3] - w[2] for kind, words in drawn for w in words}
    assert width["AVTo5.8%", "letters"] - width["AVTo5.8%", "whole"] > 0.5


@pytest.mark.skipif(not svg_text.available(), reason="WeasyPrint release not checked against")
def test_whole_string_text_draws_fewer_text_operations_and_restores_weasyprint(figure_dir, tmp_path):
    simple = simplify_svg((figure_dir / "figures" / "example.svg").read_bytes())
    svg = importlib.import_module("weasyprint.svg")
    drawing_before = dict(svg.TAGS), svg.text
    letters = _pdf_of(simple, tmp_path, "letters", whole_strings=False)
    whole = _pdf_of(simple, tmp_path, "whole", whole_strings=True)
    assert (dict(svg.TAGS), svg.text) == drawing_before

    def text_positionings(pdf: Path) -> int:
        import pikepdf

        with pikepdf.open(pdf) as doc:
            streams = [obj.read_bytes() for obj in doc.objects if isinstance(obj, pikepdf.Stream)]
        return sum(len(re.findall(rb"\bTm\b", data)) for data in streams)

    # One text matrix per run of a string (Pango splits a string where the script changes: letters, digits
    # and brackets) instead of one per letter.
    texts = 3 * len(TEXTS) + 1
    letters_drawn = 2 * sum(len(t.replace(" ", "")) for t in TEXTS) + 4 * len(TEXTS) + len("rotated")
    assert text_positionings(whole) < 2 * texts < letters_drawn <= text_positionings(letters)


def test_figures_for_pdf_inlines_only_figure_svgs(figure_dir):
    html = '<p><img src="figures/example.svg" alt="A"> <img src="logo.png" alt="B"></p>'
    out = figures_for_pdf(html, figure_dir)
    assert 'src="data:image/svg+xml;base64,' in out
    assert '<img src="logo.png" alt="B">' in out
    assert "figures/example.svg" not in out


def test_part_with_a_figure_is_byte_identical_when_made_again(figure_dir, tmp_path):
    html = _document('<p>Figure 1</p><img src="figures/example.svg" alt="Example">')
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    layout = render_part(html, figure_dir, first)
    assert render_part(html, figure_dir, second) == layout
    assert first.read_bytes() == second.read_bytes()
    with pdfplumber.open(first) as doc:
        text = doc.pages[0].extract_text()
    assert "Study 010 (2007)" in text and "FAVORS CONTROL" in text
