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
                  style: NumberStyle, templates: Path = TEMPLATES,
                  bytecode_dir: Path | None = None) -> tuple[str, Citations]:
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
    html = render(environment(style, templates, bytecode_dir), doc.template, ctx)
    if citations.missing:
        raise TemplateProblem([Problem(f"templates/{doc.template}", f"cites an unknown reference key {key!r}",
                                       expected="a key of the review's references file (references.bib)")
                               for key in citations.missing])
    return html, citations


def _render_formats(name: str, title: str, html: str, out_dir: Path, header: str | None) -> tuple[str, float]:
    """HTML (figures inlined), PDF and DOCX of one document; runs in a worker process."""
    import time

    from erh_report.render.docx_writer import write_docx

    start = time.perf_counter()
    (out_dir / f"{name}.html").write_text(inline_figures(html, out_dir / "figures"), encoding="utf-8")
    write_pdf(html, out_dir, out_dir / f"{name}.pdf")
    write_docx(html, out_dir, out_dir / f"{name}.docx", title=title, header_text=header)
    return name, time.perf_counter() - start


def write_documents(results: ReviewResults, grade: GradeReport, figures: list[Figure], out_dir: Path,
                    style: NumberStyle, progress: Callable[[str], None] | None = None,
                    templates: Path = TEMPLATES, cache: Cache | None = None, jobs: int = 2) -> dict[str, Path]:
    """Write every document in every format into ``out_dir`` (figures already in out_dir/figures).

    The HTML of each document is rendered here; the PDF and DOCX of the documents are made in parallel
    (``jobs`` processes). With a ``cache``, a document whose HTML and linked figures are unchanged is
    taken from it.
    """
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    say = progress or (lambda _m: None)
    header = ILLUSTRATIVE_BANNER if results.review.illustrative else None
    code = render_code_hash() if cache is not None else ""
    todo: list[tuple[Document, str, str]] = []
    for doc in DOCUMENTS:
        jinja_cache = cache.folder / "jinja" if cache is not None and cache.folder else None
        html, _ = document_html(doc, results, grade, figures, style, templates, jinja_cache)
        names = [f"{doc.name}.{ext}" for ext in FORMATS]
        key = document_key(html + (header or ""), out_dir, code, cache.figure_keys) if cache is not None else ""
        if cache is not None and cache.get("documents", key, names, out_dir):
            say(f"{doc.name}: unchanged")
            continue
        todo.append((doc, html, key))
    workers = max(1, min(jobs, len(todo), os.cpu_count() or 1))

    def finished(name: str, seconds: float, key: str) -> None:
        say(f"{name}: HTML, PDF and DOCX written in {seconds:.1f} s")
        if cache is not None:
            cache.put("documents", key, {f"{name}.{ext}": out_dir / f"{name}.{ext}" for ext in FORMATS})

    if workers == 1:
        for doc, html, key in todo:
            finished(*_render_formats(doc.name, doc.title, html, out_dir, header), key)
    elif todo:
        keys = {doc.name: key for doc, _, key in todo}
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_render_formats, doc.name, doc.title, html, out_dir, header)
                       for doc, html, _ in sorted(todo, key=lambda t: -len(t[1]))]
            for fut in as_completed(futures):
                name, seconds = fut.result()
                finished(name, seconds, keys[name])
    return {f"{doc.name}.{ext}": out_dir / f"{doc.name}.{ext}" for doc in DOCUMENTS for ext in FORMATS}
