"""The three documents (manuscript, supplement, evidence profiles), each rendered once from its template and
written as HTML (self-contained), PDF (WeasyPrint) and DOCX (python-docx)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from erh_report.cache import Cache, document_key, render_code_hash
from erh_report.errors import Problem
from erh_report.figures import Figure
from erh_report.grade import GradeReport
from erh_report.numbers import NumberStyle
from erh_report.render.context import Numbering, build_context, manuscript_extras, supplement_extras
from erh_report.render.crossrefs import link_cross_references
from erh_report.render.environment import TEMPLATES, environment
from erh_report.render.html import TemplateProblem, inline_figures, render
from erh_report.render.pdf import assemble_pdf, read_layout, render_page_numbers, render_part, split_parts, write_layout
from erh_report.render.references import Citations
from erh_report.synthesis import ReviewResults
from erh_report.vocabulary import ILLUSTRATIVE_NOTICE


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


def document_html(
    doc: Document,
    results: ReviewResults,
    grade: GradeReport,
    figures: list[Figure],
    style: NumberStyle,
    templates: Path = TEMPLATES,
    bytecode_dir: Path | None = None,
) -> tuple[str, Citations]:
    """The document's HTML with figures as links to figures/*.svg (the source for PDF and DOCX)."""
    review = results.review
    citations = Citations.of_review(review)
    ctx = build_context(results, grade, figures, citations=citations, style=style)
    template = doc.template
    if review.config.source is not None and (templates / "imported" / doc.template).is_file():
        from erh_report.render.imported import imported_context

        template = f"imported/{doc.template}"  # laid out per comparison and analysis, as RevMan does
        ctx.update(imported_context(results, grade, figures, style))
    else:
        ctx.update(manuscript_extras(ctx, style))
        ctx.update(supplement_extras(results))
    ctx.update(
        num=Numbering(doc.figure_prefix, doc.table_prefix),
        css=(templates / "document.css").read_text(encoding="utf-8"),
        banner=ILLUSTRATIVE_NOTICE if review.illustrative else source_line(review),
        document_title=f"{doc.title}: {review.config.short_title or review.config.title}",
        body_class=doc.name,
    )
    html = render(environment(style, templates, bytecode_dir), template, ctx)
    if citations.missing:
        raise TemplateProblem(
            [
                Problem(
                    f"templates/{template}",
                    f"cites an unknown reference key {key!r}",
                    expected="a key of the review's references file (references.bib, .json, .ris or .nbib)",
                )
                for key in citations.missing
            ]
        )
    return html, citations


def source_line(review) -> str:
    """Where an imported review's data came from, said on every page instead of the illustrative notice."""
    source = review.config.source
    if source is None:
        return ""
    return f"Data imported from {source.file} ({source.format})" + (f", doi:{source.doi}" if source.doi else "") + "."


def _html_file(name: str, html: str, out_dir: Path) -> float:
    """The self-contained HTML of one document (figures inlined); runs in a worker process. It needs only
    the SVGs, so it need not wait for the PNGs as the DOCX does."""
    import time

    start = time.perf_counter()
    (out_dir / f"{name}.html").write_text(inline_figures(html, out_dir / "figures"), encoding="utf-8")
    return time.perf_counter() - start


def _docx_file(
    name: str, title: str, html: str, out_dir: Path, header: str | None, fallbacks: Path | None = None
) -> float:
    """The DOCX of one document; runs in a worker process."""
    import time

    from erh_report.render.docx_writer import write_docx

    start = time.perf_counter()
    write_docx(html, out_dir, out_dir / f"{name}.docx", title=title, header_text=header, fallback_cache=fallbacks)
    return time.perf_counter() - start


def _pdf_part(html: str, out_dir: Path, folder: Path) -> float:
    """Lay out one PDF part into ``folder`` (part.pdf and layout.json); runs in a worker process."""
    import time

    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    write_layout(render_part(html, out_dir, folder / PART_PDF), folder / PART_LAYOUT)
    return time.perf_counter() - start


PART_PDF, PART_LAYOUT = "part.pdf", "layout.json"


@dataclass
class _Pending:
    """A document to make: its HTML, its cache key and its PDF parts (folder and HTML of each)."""

    doc: Document
    html: str
    key: str
    parts: list[tuple[Path, str]]


def _cost(html: str) -> float:
    """Rough layout cost of a part, to start the slowest first: figures dominate, then text."""
    return html.count("<img") + len(html) / 40_000


@dataclass
class _Task:
    """Work for a worker process: ``function(*args)`` returns its seconds; ``then`` runs in this process
    once it is done."""

    cost: float
    label: str
    function: Callable[..., float]
    args: tuple
    then: Callable[[], None] | None = None


def write_documents(
    results: ReviewResults,
    grade: GradeReport,
    figures: list[Figure],
    out_dir: Path,
    style: NumberStyle,
    progress: Callable[[str], None] | None = None,
    templates: Path = TEMPLATES,
    cache: Cache | None = None,
    jobs: int = 2,
    while_waiting: Callable[[], None] | None = None,
    before_docx: Sequence[Prerequisite] = (),
) -> dict[str, Path]:
    """Write every document in every format into ``out_dir`` (figures already in out_dir/figures).

    The HTML of each document is rendered here. A document whose HTML and linked figures are unchanged is
    taken from the cache whole; otherwise its HTML and DOCX are written and its PDF is joined from parts,
    of which only those not in the cache are laid out. Parts and DOCX are made in ``jobs`` processes;
    ``while_waiting`` (other work of the build) runs in this process meanwhile, and each PDF is joined here
    as soon as its last part is laid out. ``before_docx``: work the DOCX files need (the figures' PNGs;
    HTML and PDF use the SVGs), handed to the processes first, before the HTML is rendered.
    """
    import shutil

    say = progress or (lambda _m: None)
    header = ILLUSTRATIVE_NOTICE if results.review.illustrative else (source_line(results.review) or None)
    code = render_code_hash() if cache is not None else ""
    jinja_cache = cache.folder / "jinja" if cache is not None and cache.folder else None
    work = out_dir / ".pdf-parts"
    fallbacks = cache.folder / "docx-fallbacks" if cache is not None and cache.folder else None
    pending: list[_Pending] = []
    laid_out: list[Path] = []

    def prepare() -> tuple[list[_Task], list[_Task]]:
        """The documents' HTML, then the tasks: PDF parts (the supplement's first, largest first within a
        document, so that its long join overlaps the others' parts), the HTML files and, needing the PNGs,
        the DOCX files."""
        for doc in DOCUMENTS:
            html, _ = document_html(doc, results, grade, figures, style, templates, jinja_cache)
            html = link_cross_references(html)
            names = [f"{doc.name}.{ext}" for ext in FORMATS]
            key = document_key(html + (header or ""), out_dir, code, cache.figure_keys) if cache is not None else ""
            if cache is not None and cache.get("documents", key, names, out_dir):
                say(f"{doc.name}: unchanged")
                continue
            parts = []
            for number, part in enumerate(split_parts(html)):
                part_key = (
                    document_key(part, out_dir, code, cache.figure_keys)
                    if cache is not None
                    else f"{doc.name}-{number}"
                )
                parts.append((work / part_key, part))
            pending.append(_Pending(doc, html, key, parts))

        tasks: list[_Task] = []
        html_tasks: list[_Task] = []
        docx_tasks: list[_Task] = []
        # A part the same as another's (same key, one folder) is laid out once: every document that has it
        # waits for that one task before its join.
        ticks: dict[Path, list[Callable[[], None]]] = {}
        for item in sorted(pending, key=lambda p: -len(p.html)):
            docx_tasks.append(
                _Task(
                    1 + len(item.html) / 100_000,
                    f"{item.doc.name}: DOCX",
                    _docx_file,
                    (item.doc.name, item.doc.title, item.html, out_dir, header, fallbacks),
                )
            )
            html_tasks.append(
                _Task(
                    item.html.count("<img") / 100,
                    f"{item.doc.name}: HTML",
                    _html_file,
                    (item.doc.name, item.html, out_dir),
                )
            )
            to_lay_out = []
            for folder, part in item.parts:
                if folder.is_dir():  # the same part twice: made once
                    continue
                folder.mkdir(parents=True)
                if cache is None or not cache.get("pdf-parts", folder.name, [PART_PDF, PART_LAYOUT], folder):
                    to_lay_out.append((folder, part))
            say(f"{item.doc.name}: {len(to_lay_out)} of {len(item.parts)} PDF parts to lay out")
            for folder, _ in to_lay_out:
                ticks[folder] = []
            awaited = {folder for folder, _ in item.parts if folder in ticks}
            join = _countdown(len(awaited), functools.partial(_join_pdf, item, work, out_dir, cache, code))
            for folder in awaited:
                ticks[folder].append(join)
            label = f"{item.doc.name}: PDF part"
            parts_tasks = [
                _Task(_cost(part), label, _pdf_part, (part, out_dir, folder), _calls(ticks[folder]))
                for folder, part in to_lay_out
            ]
            tasks += sorted(parts_tasks, key=lambda t: -t.cost)
            laid_out.extend(folder for folder, _ in to_lay_out)
            if not awaited:
                join()
        return tasks + html_tasks, docx_tasks  # the HTML files are short: they fill gaps at the end

    _run_with_prerequisites(prepare, before_docx, jobs, say, while_waiting or (lambda: None))

    if cache is not None:  # only the new parts: those taken from the cache are there already
        for folder in laid_out:
            cache.put("pdf-parts", folder.name, {PART_PDF: folder / PART_PDF, PART_LAYOUT: folder / PART_LAYOUT})
    for item in pending:
        if cache is not None:
            cache.put(
                "documents", item.key, {f"{item.doc.name}.{ext}": out_dir / f"{item.doc.name}.{ext}" for ext in FORMATS}
            )
        say(f"{item.doc.name}: HTML, PDF and DOCX written")
    shutil.rmtree(work, ignore_errors=True)
    return {f"{doc.name}.{ext}": out_dir / f"{doc.name}.{ext}" for doc in DOCUMENTS for ext in FORMATS}


def _calls(functions: list[Callable[[], None]]) -> Callable[[], None]:
    """A function that calls each of ``functions`` (the list as it is when called)."""

    def call() -> None:
        for function in functions:
            function()

    return call


def _countdown(count: int, then: Callable[[], None]) -> Callable[[], None]:
    """A function that calls ``then`` on its ``count``-th call (and, with ``count`` 0, on its first)."""
    left = [count]

    def tick() -> None:
        left[0] -= 1
        if left[0] <= 0:
            then()

    return tick


class Prerequisite(Protocol):
    """Work some tasks need: ``run`` is the function and arguments (run in a worker) unless ``future`` is
    the work already under way elsewhere; ``done()`` is called in this process once it has run."""

    @property
    def run(self) -> tuple[Callable[..., float], tuple]: ...

    @property
    def future(self) -> Future | None: ...

    def done(self) -> None: ...


def _run_with_prerequisites(
    prepare: Callable[[], tuple[list[_Task], list[_Task]]],
    first: Sequence[Prerequisite],
    jobs: int,
    say: Callable[[str], None],
    while_waiting: Callable[[], None],
) -> None:
    """Hand out ``first``, then call ``prepare()`` for the tasks and the waiting tasks (which need all of
    ``first`` done), and run them; each task's ``then`` runs here once it is done. The cheaper half of the
    tasks is handed out after the waiting ones, so that the processes stay busy to the end instead of
    finishing on a long waiting task alone. ``while_waiting`` runs once all that can be is handed out
    (the workers are started by then: no fork follows it)."""
    import os
    from concurrent.futures import FIRST_COMPLETED, wait

    from erh_report.workers import worker_pool

    workers = max(1, min(jobs, os.cpu_count() or 1))
    if workers == 1:
        for item in first:
            if item.future is not None:
                item.future.result()
            else:
                function, args = item.run
                function(*args)
            item.done()
        tasks, waiting = prepare()
        for number, task in enumerate([*waiting, *tasks], 1):
            say(f"{task.label} {number}/{len(tasks) + len(waiting)}: {task.function(*task.args):.1f} s")
            if task.then is not None:
                task.then()
        while_waiting()
        return
    with worker_pool(workers, warm=_import_layout_engine) as pool:
        pending = {item.future or pool.submit(item.run[0], *item.run[1]): item for item in first}
        tasks, waiting = prepare()
        if not first:
            tasks = sorted([*waiting, *tasks], key=lambda t: -t.cost)
            waiting = []
        held = len(tasks) // 2 if pending else 0
        now, later = tasks[: len(tasks) - held], tasks[len(tasks) - held :]
        total = len(tasks) + len(waiting)
        running = {pool.submit(task.function, *task.args): task for task in now}
        while_waiting()
        number = 0
        while pending or running:
            finished, _ = wait([*pending, *running], return_when=FIRST_COMPLETED)
            for future in finished:
                if future in pending:
                    future.result()
                    pending.pop(future).done()
                    if not pending:  # all made: the tasks that needed them, then the rest
                        for task in [*waiting, *later]:
                            running[pool.submit(task.function, *task.args)] = task
                else:
                    number += 1
                    task = running.pop(future)
                    say(f"{task.label} {number}/{total}: {future.result():.1f} s")
                    if task.then is not None:
                        task.then()


def _import_layout_engine() -> None:
    """The document workers' first step: WeasyPrint's modules, which every PDF part needs."""
    import weasyprint  # noqa: F401


def _join_pdf(item: _Pending, work: Path, out_dir: Path, cache: Cache | None, code: str) -> None:
    """The document's PDF from its parts, with page numbers (themselves cached by page sizes)."""
    import hashlib
    import json

    parts = [(folder / PART_PDF, read_layout(folder / PART_LAYOUT)) for folder, _ in item.parts]
    sizes = [size for _, layout in parts for size in layout["pages"]]
    numbers_key = hashlib.sha256((code + item.html.split("<body", 1)[0] + json.dumps(sizes)).encode()).hexdigest()
    numbers = work / f"page-numbers-{item.doc.name}"
    numbers.mkdir(parents=True, exist_ok=True)
    if cache is None or not cache.get("pdf-page-numbers", numbers_key, [PART_PDF], numbers):
        render_page_numbers(item.html, sizes, numbers / PART_PDF)
        if cache is not None:
            cache.put("pdf-page-numbers", numbers_key, {PART_PDF: numbers / PART_PDF})
    assemble_pdf(parts, numbers / PART_PDF, out_dir / f"{item.doc.name}.pdf")
