"""The PDF is laid out in parts and joined: it must read as one document (page numbers, bookmarks, named
destinations, sizes), with the same bytes every time."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from erh_report.render.pdf import PART_MARK, split_parts, write_pdf

CSS = """
@page { size: letter; margin: 2cm;
  @top-center { content: element(running); }
  @bottom-center { content: counter(page) " of " counter(pages); font: 8pt "DejaVu Sans", sans-serif; } }
@page landscape { size: letter landscape; }
section.landscape { page: landscape; break-before: page; }
header.running { position: running(running); }
.next { break-before: page; }
"""


def _document(body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Parts test</title>'
        f'<style>{CSS}</style></head><body><header class="running">Running banner</header>'
        f"<main>{body}</main></body></html>"
    )


BODY = (
    '<h1 id="top">Title</h1><p>First part.</p><h2 id="intro">Introduction</h2><div class="next">Second page</div>'
    f'{PART_MARK}<section class="landscape"><h2 id="wide">Wide table</h2><p>Landscape part.</p></section>'
    f'{PART_MARK}<h2 id="figs">Figures</h2><h3 id="fig-a">Figure A</h3><p>Last part.</p>'
    f"{PART_MARK}   \n"  # an empty piece makes no part
)


@pytest.fixture(scope="module")
def joined(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parts") / "doc.pdf"
    write_pdf(_document(BODY), out.parent, out)
    return out


def test_split_parts_keeps_head_and_banner_and_drops_empty_pieces():
    parts = split_parts(_document(BODY))
    assert len(parts) == 3
    for part in parts:
        assert part.count("Running banner") == 1 and "<title>Parts test</title>" in part
        assert "@bottom-center { content: none; }" in part  # numbers are laid over the joined document
    assert "First part." in parts[0] and "Landscape part." in parts[1] and "Last part." in parts[2]


def test_joined_pdf_numbers_every_page_of_the_whole(joined):
    reader = PdfReader(joined)
    texts = [page.extract_text() for page in reader.pages]
    assert len(texts) == 4  # the first part has two pages; then the landscape and last parts
    for number, text in enumerate(texts, 1):
        assert text.rstrip().endswith(f"{number} of 4"), text
        assert "Running banner" in text
    assert "Landscape part." in texts[2] and "Last part." in texts[3]
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages]
    assert sizes == [(612, 792), (612, 792), (792, 612), (612, 792)]


def test_joined_pdf_has_nested_bookmarks_and_named_destinations(joined):
    reader = PdfReader(joined)

    def tree(items):
        out = []
        for item in items:
            if isinstance(item, list):
                out.append(tree(item))
            else:
                out.append((item.title, reader.get_destination_page_number(item)))
        return out

    assert tree(reader.outline) == [
        ("Title", 0),
        [("Introduction", 0), ("Wide table", 2), ("Figures", 3), [("Figure A", 3)]],
    ]
    pages = {name: reader.get_destination_page_number(dest) for name, dest in reader.named_destinations.items()}
    assert pages == {"top": 0, "intro": 0, "wide": 2, "figs": 3, "fig-a": 3}
    assert reader.metadata["/Title"] == "Parts test"
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_joined_pdf_is_byte_identical_when_made_again(joined, tmp_path):
    again = tmp_path / "again.pdf"
    write_pdf(_document(BODY), tmp_path, again)
    assert again.read_bytes() == joined.read_bytes()


def test_supplement_excluded_studies_table_is_a_part_of_its_own_that_a_corrected_mean_leaves_alone(tmp_path: Path):
    """The excluded studies' list (many pages in a large review) depends on no result: were it in the part
    of the results tables before it, every corrected number would lay it out again."""
    from review_copies import copy_data, find_row, set_cell

    from erh_report.data import load_review
    from erh_report.grade import assess_review
    from erh_report.numbers import get_style
    from erh_report.render.documents import DOCUMENTS, document_html
    from erh_report.synthesis import run

    supplement = next(doc for doc in DOCUMENTS if doc.name == "supplement")

    def parts(data: Path) -> list[str]:
        results = run(load_review(data))
        html = document_html(supplement, results, assess_review(results), [], get_style("JAMA"))[0]
        return split_parts(html)

    data = copy_data(tmp_path)
    before = parts(data)
    row = find_row(data / "outcome_data.csv", outcome="depression", followup_months="0", role="intervention")
    old = float(set_cell(data / "outcome_data.csv", row, "mean", "0"))
    set_cell(data / "outcome_data.csv", row, "mean", f"{old + 2:.2f}")
    after = parts(data)
    excluded = [part for part in after if 'id="table-excluded"' in part]
    assert len(excluded) == 1 and excluded[0].count("<table") == 1
    assert excluded[0] in before
    assert [p for p in after if 'id="table-dependence"' in p][0] not in before


def test_parts_share_one_font_configuration_and_give_the_bytes_a_fresh_one_gives(tmp_path: Path):
    """The parts laid out in one process share WeasyPrint's font configuration (fonts loaded once): a part
    laid out after others, in other fonts and styles, has the bytes it has when laid out first."""
    from erh_report.render import pdf

    other = _document(
        "<p><b>Bold</b> <i>italic</i> <code>mono</code> \u5b6b 2020 \u03c4\u00b2 = 0.04</p>"
        '<p style="font-family: serif">A serif paragraph.</p>'
    )
    part = _document("<h1>Results</h1><p>Smith 2019 (parent\u2013infant): 0.27 [0.16, 0.38]</p>")
    pdf.render_part(other, tmp_path, tmp_path / "other.pdf")
    shared = pdf._font_config()
    pdf.render_part(part, tmp_path, tmp_path / "after.pdf")
    assert pdf._font_config() is shared
    pdf._FONT_CONFIG.clear()
    pdf.render_part(part, tmp_path, tmp_path / "fresh.pdf")
    assert pdf._font_config() is not shared
    assert (tmp_path / "after.pdf").read_bytes() == (tmp_path / "fresh.pdf").read_bytes()
