"""The documents read back as a reader gets them: HTML parsed, PDF text extracted, DOCX opened with
python-docx, the workbook with openpyxl; the numbers shown must be those of the results.

The build uses a copy of the illustrative data restricted to three analyses, so that it stays quick.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document as WordDocument
from docx_checks import overflowing_words, pictures
from openpyxl import load_workbook
from pypdf import PdfReader
from review_copies import DATA, copy_data

from erh_report.build import build
from erh_report.data import load_review
from erh_report.grade import assess_review
from erh_report.numbers import get_style
from erh_report.render.documents import write_documents
from erh_report.render.docx_images import DOCX_LIMIT, FALLBACK_PPI
from erh_report.synthesis import run
from erh_report.vocabulary import ILLUSTRATIVE_NOTICE

ANALYSES = ("bonding_post", "secure_attachment_post", "depression_post")
DOCS = ("manuscript", "supplement", "evidence-profiles")


def restrict(data: Path, analyses: tuple[str, ...]) -> None:
    yaml = data / "review.yaml"
    listed = "".join(f"\n    - {{outcome: {a.rsplit('_', 1)[0]}, window: {a.rsplit('_', 1)[1]}}}" for a in analyses)
    text = yaml.read_text(encoding="utf-8")
    assert "  analyses: all" in text
    yaml.write_text(text.replace("  analyses: all", "  analyses:" + listed, 1), encoding="utf-8")
    (data / "grade.csv").write_text("analysis_id,domain,judgement,reason\n", encoding="utf-8")  # overrides of others


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("docs")
    data = copy_data(root)
    restrict(data, ANALYSES)
    out = root / "build"
    build(data, out, progress=None)
    return data, out


@pytest.fixture(scope="module")
def results(built):
    data, _ = built
    review = load_review(data)
    res = run(review)
    return res, assess_review(res), get_style(review.config.settings.number_style)


class TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.parts))


def html_of(out: Path, name: str) -> TextOf:
    parser = TextOf()
    parser.feed((out / f"{name}.html").read_text(encoding="utf-8"))
    return parser


def pdf_text(path: Path) -> list[str]:
    """Each page's text, whitespace collapsed; read once per file's bytes (pypdf takes seconds a document,
    and several tests read the same ones)."""
    return list(_pages_text(path, hashlib.sha256(path.read_bytes()).hexdigest()))


@functools.lru_cache(maxsize=16)
def _pages_text(path: Path, _sha256: str) -> tuple[str, ...]:
    return tuple(re.sub(r"\s+", " ", page.extract_text() or "") for page in PdfReader(path).pages)


def docx_text(path: Path) -> str:
    doc = WordDocument(path)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return re.sub(r"\s+", " ", " ".join([p.text for p in doc.paragraphs] + cells))


def effect_text(style, ar) -> str:
    """The pooled effect as the manuscript writes it, from the results (natural scale for ratios)."""
    import math

    r = ar.result
    f = math.exp if ar.analysis.measure in ("OR", "RR") else (lambda x: x)
    return (
        f"{ar.analysis.measure} {style.number(f(r.estimate))} ({r.level:g}% CI, "
        f"{style.interval(f(r.ci_low), f(r.ci_high))})"
    )


def test_every_output_is_written(built):
    _, out = built
    for name in DOCS:
        for ext in ("html", "pdf", "docx"):
            assert (out / f"{name}.{ext}").stat().st_size > 1000, f"{name}.{ext}"
    assert (out / "supplementary-tables.xlsx").exists()
    assert (out / "tables" / "pooled_results.csv").exists()
    assert (out / "results" / "grade" / "grade.json").exists()
    assert list((out / "figures").glob("forest-*.svg"))


def test_manuscript_numbers_equal_the_results_in_every_format(built, results):
    _, out = built
    res, grade, style = results
    html = html_of(out, "manuscript").text
    pdf = " ".join(pdf_text(out / "manuscript.pdf"))
    docx = docx_text(out / "manuscript.docx")
    for ar in res.analyses:
        expected = effect_text(style, ar)
        assert expected in html, expected
        assert expected in docx, expected
        assert expected.replace("\u2212", "-") in pdf.replace("\u2212", "-"), expected
        word = grade.get(ar.analysis.id).word
        assert f"Certainty: {word.lower()}" in html


def test_illustrative_banner_on_every_pdf_page(built):
    _, out = built
    for name in DOCS:
        pages = pdf_text(out / f"{name}.pdf")
        assert len(pages) >= 2
        for i, page in enumerate(pages, start=1):
            assert "Illustrative data" in page, f"{name}.pdf page {i}"
    for name in DOCS:
        assert ILLUSTRATIVE_NOTICE in html_of(out, name).text
        header = WordDocument(out / f"{name}.docx").sections[0].header
        assert "Illustrative data" in " ".join(p.text for p in header.paragraphs)


def _font_names(path: Path) -> set[str]:
    names = set()
    for page in PdfReader(path).pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]).split("+")[-1])
    return names


def test_pdf_pages_are_numbered_n_of_total_and_none_is_blank(built):
    """The stylesheet reaches the PDF: page numbers and the document fonts (an escaped stylesheet loses both)."""
    _, out = built
    for name in DOCS:
        pages = pdf_text(out / f"{name}.pdf")
        for number, text in enumerate(pages, start=1):
            assert text.rstrip().endswith(f"{number} of {len(pages)}"), f"{name}.pdf page {number}: {text[-80:]}"
            body = text.replace(ILLUSTRATIVE_NOTICE, "").rstrip()[: -len(f"{number} of {len(pages)}")]
            assert len(body.strip()) > 20, f"{name}.pdf page {number} is blank"
        fonts = {font.replace("-", "") for font in _font_names(out / f"{name}.pdf")}
        assert any(font.startswith("LiberationSerif") for font in fonts), f"{name}: {fonts}"


def test_figures_and_tables_numbered_in_order_and_cross_references_resolve(built):
    _, out = built
    for name, fig, tab in (("manuscript", "Figure", "Table"), ("supplement", "eFigure", "eTable")):
        raw = (out / f"{name}.html").read_text(encoding="utf-8")
        text = html_of(out, name).text
        captions = [int(n) for n in re.findall(rf"<figcaption><strong>{fig} (\d+)\.</strong>", raw)]
        assert captions == list(range(1, len(captions) + 1)), captions
        tables = [int(n) for n in re.findall(rf"<caption><strong>{tab} (\d+)\.</strong>", raw)]
        assert sorted(set(tables)) == list(range(1, len(set(tables)) + 1)), tables
        for n in set(re.findall(rf"{fig} (\d+)\b", text)):
            assert int(n) in captions, f"{name}: {fig} {n} cited but not shown"
        for n in set(re.findall(rf"{tab} (\d+)\b", text)):
            assert int(n) in tables, f"{name}: {tab} {n} cited but not shown"
    manuscript = html_of(out, "manuscript")
    assert not [a for t, a in manuscript.tags if t == "img"]  # figures inline as SVG in the HTML
    assert sum(1 for t, _ in manuscript.tags if t == "svg") >= 2


def test_figure_captions_say_their_title_once(built):
    _, out = built
    for name in ("manuscript", "supplement"):
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        captions = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)]
        assert len(captions) >= 3, name
        for caption in captions:
            label, _, text = caption.partition(". ")
            first = text.split(". ", 1)[0]
            assert re.fullmatch(r"e?Figure \d+( \(continued\))?", label), caption[:80]
            assert text.count(first + ".") == 1, caption[:200]


def test_docx_uses_word_styles_and_real_tables(built):
    _, out = built
    doc = WordDocument(out / "manuscript.docx")
    styles = {p.text.strip(): p.style.name for p in doc.paragraphs if p.text.strip()}
    for heading in ("Introduction", "Methods", "Results", "Discussion", "Conclusions", "References"):
        assert styles.get(heading) == "Heading 2", heading
    assert len(doc.tables) >= 2
    header_xml = doc.tables[0].rows[0]._tr.xml
    assert "tblHeader" in header_xml
    assert doc.inline_shapes, "figures are pictures in the DOCX"


def test_evidence_profiles_show_every_grade_rating(built, results):
    _, out = built
    _, grade, _ = results
    text = html_of(out, "evidence-profiles").text
    pdf = " ".join(pdf_text(out / "evidence-profiles.pdf"))
    for a in grade.assessments:
        assert f"{a.symbols} {a.word}" in text
        for d in a.domains:
            assert d.final in text
    for table in grade.evidence_profiles():
        for note in table["footnotes"]:
            assert note["text"][:40] in text
    assert "Certainty assessment" in pdf


def test_supplementary_workbook_and_csv(built, results):
    _, out = built
    res, _, _ = results
    book = load_workbook(out / "supplementary-tables.xlsx")
    assert {
        "characteristics",
        "risk_of_bias",
        "pooled_results",
        "summary_of_findings",
        "evidence_profiles",
        "excluded_studies",
    } <= set(book.sheetnames)
    sheet = book["pooled_results"]
    header = [c.value for c in sheet[1]]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    first = res.analyses[0]
    assert row["analysis_id"] == first.analysis.id
    assert row["estimate"] == pytest.approx(first.result.estimate, rel=1e-12)
    csv = (out / "tables" / "characteristics.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv) == 1 + len(res.review.studies)


def test_manifest_records_inputs_and_outputs(built):
    data, out = built
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    studies = hashlib.sha256((data / "studies.csv").read_bytes()).hexdigest()
    assert manifest["inputs"]["studies.csv"] == studies
    pdf = hashlib.sha256((out / "manuscript.pdf").read_bytes()).hexdigest()
    assert manifest["outputs"]["manuscript.pdf"] == pdf
    assert manifest["settings"]["method"] == "REML"
    assert manifest["versions"]["weasyprint"] and manifest["versions"]["pikepdf"]
    installed = subprocess.run(["fc-list", "Liberation Serif", "file"], capture_output=True, text=True).stdout
    files = len(installed.splitlines())  # make setup installs them
    assert manifest["fonts"]["Liberation Serif"].startswith(f"{files} files, sha256 ") and files > 0


def test_documents_are_byte_identical_when_written_again(built, results, tmp_path):
    _, out = built
    res, grade, style = results
    from erh_report.figures import render_figures

    again = tmp_path / "again"
    figures = render_figures(res, again / "figures", style=style, jobs=1)
    write_documents(res, grade, figures, again, style)
    for name in DOCS:
        for ext in ("html", "pdf", "docx"):
            assert (again / f"{name}.{ext}").read_bytes() == (out / f"{name}.{ext}").read_bytes(), f"{name}.{ext}"


def test_pdf_text_is_searchable_with_pdftotext(built):
    _, out = built
    done = subprocess.run(["pdftotext", "-layout", str(out / "manuscript.pdf"), "-"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "Key Points" in done.stdout and "Conclusions" in done.stdout


def test_docx_figures_are_svg_with_a_png_sharp_at_200_percent_zoom(built):
    """Every figure is its SVG, with a PNG fallback of FALLBACK_PPI at the size it is placed (2 x 96 dpi:
    sharp at 200% zoom), not the 300 dpi of the figure's own, larger, size."""
    _, out = built
    for name in DOCS:
        for picture in pictures(out / f"{name}.docx"):
            assert picture.svg_name is not None, (name, picture)
            assert picture.ppi == pytest.approx(FALLBACK_PPI, abs=1.5), (name, picture)
    with zipfile.ZipFile(out / "manuscript.docx") as package:
        svgs = {package.read(p.svg_name) for p in pictures(out / "manuscript.docx")}
    assert svgs <= {path.read_bytes() for path in (out / "figures").glob("*.svg")}, "the figures' own SVG files"


def test_supplement_docx_of_the_whole_example_stays_under_20_mb(built):
    """The supplement's bytes per figure here, times the figures the whole illustrative review has, is at
    most the 20 MB submission systems and e-mail take."""
    from erh_report.figures.render import plan

    _, out = built
    review = load_review(DATA)
    whole = len(plan(run(review), get_style(review.config.settings.number_style)))
    here = len(pictures(out / "supplement.docx"))
    per_figure = (out / "supplement.docx").stat().st_size / here
    assert whole > 100 and per_figure * whole <= DOCX_LIMIT, (whole, here, per_figure)
    for name in DOCS:  # each at 192 ppi: none needed its fallbacks made coarser
        assert (out / f"{name}.docx").stat().st_size <= DOCX_LIMIT, name
        assert all(p.ppi == pytest.approx(FALLBACK_PPI, abs=1.5) for p in pictures(out / f"{name}.docx")), name


def test_no_word_of_any_docx_table_is_wider_than_its_cell(built):
    """Each table's columns hold their longest unbreakable word, measured with the table font's advance
    widths (Liberation Sans, Arial's metric twin), so Word and LibreOffice never break a word."""
    _, out = built
    for name in DOCS:
        overflowing, checked = overflowing_words(out / f"{name}.docx")
        assert checked > 50, name
        assert overflowing == [], (name, overflowing[:5])


def test_cross_references_and_citations_are_links_that_resolve_in_html(built):
    """Every "Figure 2", "Table 1", "eTable 3" in the text and every citation number is a link, and every
    internal link of the HTML lands on an element with that id."""
    _, out = built
    for name in DOCS:
        page = (out / f"{name}.html").read_text(encoding="utf-8")
        ids = set(re.findall(r'\bid="([^"]+)"', page))
        targets = re.findall(r'href="#([^"]+)"', page)
        assert set(targets) <= ids, (name, set(targets) - ids)
        if name == "manuscript":
            assert re.search(r'See <a href="#[^"]+" class="xref">Figure \d+</a>', page)
            assert re.search(r'<sup><a href="#ref-1" class="cite">1</a>', page)


def test_pdf_links_resolve_also_across_the_parts(built):
    """In the joined PDF every link goes to a named destination of the whole document; no link is left
    pointing at another part, and links from one part reach pages laid out in another."""
    import pikepdf

    _, out = built
    with pikepdf.open(out / "manuscript.pdf") as pdf:
        names = dict(pikepdf.NameTree(pdf.Root.Names.Dests).items())
        page_of = {page.objgen: number for number, page in enumerate(pdf.pages)}
        links = []
        for number, page in enumerate(pdf.pages):
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Link":
                    continue
                action = annot.get("/A")
                assert action is None or not str(action.get("/URI", "")).startswith("erh-dest:")
                if "/Dest" in annot:
                    name = str(annot.Dest)
                    assert name in names, name
                    links.append((number, page_of[names[name][0].objgen]))
        html = (out / "manuscript.html").read_text(encoding="utf-8")
        assert len(links) >= len(re.findall(r'class="(?:xref|cite)"', html))
        assert any(target > source + 1 for source, target in links), "a link into a later part"


def test_manuscript_summarises_a_large_review_and_the_supplement_lists_every_study(built):
    """93 studies are more than settings.list_studies_up_to: Table 1 counts them (design here, from the
    data), names the supplement's table, and lists no study; the supplement's eTable lists each one."""
    from collections import Counter

    from erh_report.render.study_summary import SUPPLEMENT_CHARACTERISTICS

    data, out = built
    review = load_review(data)
    labels = [s.label for _, s in review.studies]
    k = len(labels)
    assert k > review.config.settings.list_studies_up_to
    caption = f"Characteristics of the {k} included studies, summarized"
    manuscript = docx_text(out / "manuscript.docx")
    assert caption in manuscript and f"{SUPPLEMENT_CHARACTERISTICS} in the Supplement" in manuscript
    assert not [label for label in labels if label in manuscript]
    table = next(t for t in WordDocument(out / "manuscript.docx").tables if t.rows[0].cells[0].text == "Characteristic")
    cells = {row.cells[0].text: row.cells[1].text for row in table.rows}
    for design, n in Counter(s.design for _, s in review.studies).items():
        assert cells[design[:1].upper() + design[1:]] == f"{n} ({round(100 * n / k)})"
    pages = pdf_text(out / "manuscript.pdf")
    assert any(f"Table 1. {caption}" in page for page in pages)
    supplement = docx_text(out / "supplement.docx")
    assert all(label in supplement for label in labels)
    raw = (out / "supplement.html").read_text(encoding="utf-8")
    assert f"<strong>{SUPPLEMENT_CHARACTERISTICS}.</strong> Characteristics of the included studies" in raw
