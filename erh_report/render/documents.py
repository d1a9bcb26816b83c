"""The three documents (manuscript, supplement, evidence profiles), each rendered once from its template and
written as HTML (self-contained), PDF (WeasyPrint) and DOCX (python-docx)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from erh_report.cache import Cache, document_key, render_code_hash
from erh_report.errors import Problem
from erh_report.figures import Figure
from erh_report.grade import GradeReport
from erh_report.numbers import NumberStyle
from erh_report.render.context import Numbering, build_context, manuscript_extras, supplement_extras
from erh_report.render.environment import TEMPLATES, environment
from erh_report.render.html import TemplateProblem, inline_figures, render
from erh_report.render.pdf import write_pdf
from erh_report.render.references import Citations
from erh_report.results import ReviewResults

ILLUSTRATIVE_BANNER = "Illustrative data: invented numbers from a seeded generator, not the findings of a real review"


@dataclass(frozen=True)
class Document:
    name: str  # file stem in the build folder
    template: str
    title: str
    figure_prefix: str
    table_prefix: str


DOCUMENTS = (
    Document("manuscript", "manuscript.html.j2", "Manuscript", "Figure", "Table"),
    Document("supplement", "supplement.html.j2", "Supplement", "eFigure", "eTable"),
    Document("evidence-profiles", "evidence_profiles.html.j2", "GRADE evidence profiles", "Figure", "Table"),
)
FORMATS = ("html", "pdf", "docx")


def document_html(doc: Document, results: ReviewResults, grade: GradeReport, figures: list[Figure],
                  style: NumberStyle, templates: Path = TEMPLATES) -> tuple[str, Citations]:
    """The document's HTML with figures as links to figures/*.svg (the source for PDF and DOCX)."""
    review = results.review
    citations = Citations(review.references)
    ctx = build_context(results, grade, figures, citations=citations)
    ctx.update(manuscript_extras(ctx, style))
    ctx.update(supplement_extras(results))
    ctx.update(num=Numbering(doc.figure_prefix, doc.table_prefix),
               css=(templates / "document.css").read_text(encoding="utf-8"),
               banner=ILLUSTRATIVE_BANNER if review.illustrative else "",
               document_title=f"{doc.title}: {review.config.short_title or review.config.title}",
               body_class=doc.name)
    html = render(environment(style, templates), doc.template, ctx)
    if citations.missing:
        raise TemplateProblem([Problem(f"templates/{doc.template}", f"cites an unknown reference key {key!r}",
                                       expected="a key of the review's references file (references.bib)")
                               for key in citations.missing])
    return html, citations


def write_documents(results: ReviewResults, grade: GradeReport, figures: list[Figure], out_dir: Path,
                    style: NumberStyle, progress: Callable[[str], None] | None = None,
                    templates: Path = TEMPLATES, cache: Cache | None = None) -> dict[str, Path]:
    """Write every document in every format into ``out_dir`` (figures already in out_dir/figures).

    With a ``cache``, a document whose HTML and linked figures are unchanged is copied from it.
    """
    from erh_report.render.docx_writer import write_docx

    say = progress or (lambda _m: None)
    written: dict[str, Path] = {}
    header = ILLUSTRATIVE_BANNER if results.review.illustrative else None
    code = render_code_hash() if cache is not None else ""
    for doc in DOCUMENTS:
        html, _ = document_html(doc, results, grade, figures, style, templates)
        names = [f"{doc.name}.{ext}" for ext in FORMATS]
        key = document_key(html + (header or ""), out_dir, code) if cache is not None else ""
        if cache is not None and cache.get("documents", key, names, out_dir):
            say(f"{doc.name}: unchanged")
            written.update({n: out_dir / n for n in names})
            continue
        say(f"{doc.name}: HTML")
        standalone = inline_figures(html, out_dir / "figures")
        path = out_dir / f"{doc.name}.html"
        path.write_text(standalone, encoding="utf-8")
        written[f"{doc.name}.html"] = path
        say(f"{doc.name}: PDF")
        write_pdf(html, out_dir, out_dir / f"{doc.name}.pdf")
        written[f"{doc.name}.pdf"] = out_dir / f"{doc.name}.pdf"
        say(f"{doc.name}: DOCX")
        write_docx(html, out_dir, out_dir / f"{doc.name}.docx", title=doc.title, header_text=header)
        written[f"{doc.name}.docx"] = out_dir / f"{doc.name}.docx"
        if cache is not None:
            cache.put("documents", key, {n: out_dir / n for n in names})
    return written
