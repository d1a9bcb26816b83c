"""A broken template or a missing reference key gives a clear message naming the template and line or the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from erh_report.data import load_review
from erh_report.grade import assess_review
from erh_report.numbers import get_style
from erh_report.render.documents import DOCUMENTS, document_html
from erh_report.render.environment import TEMPLATES
from erh_report.render.html import TemplateProblem
from erh_report.synthesis import run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def review_results():
    results = run(load_review(ROOT / "data"))
    return results, assess_review(results)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    return Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))


def render_manuscript(review_results, templates: Path) -> str:
    results, grade = review_results
    return document_html(DOCUMENTS[0], results, grade, [], get_style("JAMA"), templates)[0]


def test_syntax_error_names_template_and_line(review_results, templates: Path):
    prose = templates / "prose" / "discussion.html.j2"
    lines = prose.read_text(encoding="utf-8").splitlines()
    lines.insert(1, "<p>{% if %}</p>")
    prose.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(TemplateProblem) as info:
        render_manuscript(review_results, templates)
    problem = info.value.problems[0]
    assert problem.file == "templates/discussion.html.j2" and problem.row == 2
    assert "syntax error" in problem.message


def test_undefined_name_names_template_and_line(review_results, templates: Path):
    prose = templates / "prose" / "limitations.html.j2"
    prose.write_text("<p>first</p>\n<p>{{ no_such_number | num }}</p>\n", encoding="utf-8")
    with pytest.raises(TemplateProblem) as info:
        render_manuscript(review_results, templates)
    problem = info.value.problems[0]
    assert problem.file == "templates/limitations.html.j2" and problem.row == 2
    assert "no_such_number" in problem.message


def test_unknown_reference_key(review_results, templates: Path):
    prose = templates / "prose" / "introduction.html.j2"
    prose.write_text(
        prose.read_text(encoding="utf-8") + '<p>As shown before.<sup>{{ cite("nobody2020") }}</sup></p>\n',
        encoding="utf-8",
    )
    with pytest.raises(TemplateProblem) as info:
        render_manuscript(review_results, templates)
    assert "'nobody2020'" in info.value.problems[0].message
    assert "references.bib" in info.value.problems[0].expected


def test_references_are_numbered_in_order_of_citation(review_results, templates: Path):
    html = render_manuscript(review_results, templates)
    refs = html.split('<ol class="references">')[1].split("</ol>")[0]
    assert refs.index("Page MJ") < refs.index("Sterne JAC") < refs.index("Guyatt GH")
    assert "The PRISMA 2020 statement" in refs and "doi:10.1136/bmj.n71" in refs
