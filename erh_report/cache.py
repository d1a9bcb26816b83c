"""Fast rebuilds: outputs are stored under a key made from everything they depend on, so a rebuild draws
only the figures and renders only the documents whose inputs changed.

A figure's key is the hash of its drawing job (the formatted spec, caption and alt text, which the main
process derives from the results) and of the figure code; a document's key is the hash of its HTML, the
files it links to, the rendering code and the fonts. The results themselves are recomputed on every build (they take
about a second) and decide what changed. Cached files are byte-identical to freshly made ones, because
every output is reproducible.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from erh_report.figures import Figure
from erh_report.figures.agg_text import load_measures, save_measures
from erh_report.figures.output import Job, run_png_job
from erh_report.figures.render import draw_jobs, draw_on, plan
from erh_report.manifest import sha256 as _sha256
from erh_report.numbers import NumberStyle
from erh_report.software import fonts
from erh_report.synthesis import ReviewResults

PACKAGE = Path(__file__).resolve().parent
Progress = Callable[[str], None]


def _code_hash(*folders: Path, extra: tuple[str, ...] = ()) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".j2", ".css"):
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    for name in extra:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(name.encode())
    return digest.hexdigest()


def default_cache_dir(out_dir: Path) -> Path:
    """Beside the build folder (``build/`` is replaced whole on every build, so it cannot hold the cache)."""
    out_dir = Path(out_dir).resolve()
    return out_dir.parent / ".erh-cache" / out_dir.name


HASHES = ".sha256.json"  # in every entry: the SHA-256 of each of its files, checked before the entry is used


class Cache:
    """A folder of entries ``<kind>/<key>/``, each holding the files of one output and their hashes.

    An entry is used only when every file matches the hash stored with it; a damaged entry (truncated,
    edited, or from an older version without hashes) is deleted, counted in ``dropped`` and made again.
    A cache that cannot be read or written never stops a build: it only makes it slower.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0
        self.dropped: list[str] = []  # "kind/key" of damaged entries deleted in this build
        self.unwritable: str | None = None  # why the cache could not be written, if it could not
        self.figure_keys: dict[str, str] = {}  # figure id -> key of its drawing job (stands for its files)

    def entry(self, kind: str, key: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / kind / key

    def _verified(self, entry: Path, names: list[str]) -> bool:
        try:
            hashes = json.loads((entry / HASHES).read_text(encoding="utf-8"))
            return (
                isinstance(hashes, dict)
                and all(n in hashes for n in names)
                and all(_sha256(entry / name) == digest for name, digest in hashes.items())
            )
        except (OSError, ValueError):
            return False

    def drop(self, kind: str, key: str) -> None:
        """Delete a damaged entry and say so (it is made again by the caller)."""
        entry = self.entry(kind, key)
        if entry is not None:
            shutil.rmtree(entry, ignore_errors=True)
            self.dropped.append(f"{kind}/{key[:12]}")

    def get(self, kind: str, key: str, names: list[str], target: Path) -> bool:
        """Copy the entry's files into ``target``; False when the entry is missing or damaged."""
        entry = self.entry(kind, key)
        if entry is None or not entry.is_dir():
            self.misses += 1
            return False
        if not self._verified(entry, names):
            self.drop(kind, key)
            self.misses += 1
            return False
        for n in names:
            _link_or_copy(entry / n, target / n)
        self.hits += 1
        return True

    def put(self, kind: str, key: str, files: dict[str, Path]) -> None:
        entry = self.entry(kind, key)
        if entry is None or self.unwritable:
            return
        tmp = entry.with_name(entry.name + f".tmp{os.getpid()}")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for name, path in files.items():
                shutil.copyfile(path, tmp / name)
            hashes = {name: _sha256(tmp / name) for name in files}
            (tmp / HASHES).write_text(json.dumps(hashes, sort_keys=True), encoding="utf-8")
            shutil.rmtree(entry, ignore_errors=True)
            tmp.rename(entry)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            self.unwritable = f"{exc.strerror or exc} ({exc.filename or self.folder})"

    def report(self) -> list[str]:
        """What the build should tell about the cache: damaged entries made again, a cache not written."""
        lines = []
        if self.dropped:
            lines.append(
                f"cache: {len(self.dropped)} damaged entr{'y' if len(self.dropped) == 1 else 'ies'} "
                "deleted and made again: " + ", ".join(self.dropped)
            )
        if self.unwritable:
            lines.append(f"cache: could not be written, the next build will not be faster: {self.unwritable}")
        return lines


def _link_or_copy(source: Path, target: Path) -> None:
    """A copy, not a link: an author who edits an output in place must not change the cache."""
    shutil.copyfile(source, target)


# ------------------------------------------------------------------------------------------------ figures
def figure_key(job: Job, code: str) -> str:
    payload = pickle.dumps((job.figure, job.draw.__module__, job.draw.__qualname__, job.spec), protocol=5)
    return hashlib.sha256(code.encode() + payload).hexdigest()


def _load_figure(record: Path) -> Figure:
    figure = pickle.loads(record.read_bytes())
    if not isinstance(figure, Figure):
        raise TypeError("not a figure record")
    return figure


@dataclass(frozen=True)
class PngTask:
    """A figure whose SVG is drawn and whose PNG is still to make: ``run`` (in any process) writes it, or
    ``future`` is the PNG already being made where the figure was drawn; then ``done()`` (in the build's
    process) stores the figure in the cache."""

    job: Job
    out_dir: Path
    done: Callable[[], None]
    future: Future | None = None

    @property
    def run(self) -> tuple[Callable[..., float], tuple]:
        return run_png_job, (self.job, self.out_dir)


def render_figures_cached(
    results: ReviewResults,
    out_dir: Path,
    style: NumberStyle,
    cache: Cache,
    *,
    jobs: int = 2,
    progress: Progress | None = None,
    png_later: list[PngTask] | None = None,
    drawers: list[Executor] | None = None,
) -> list[Figure]:
    """Like ``figures.render_figures``, drawing only the figures whose job is not in the cache.

    With a list as ``png_later``, the figures drawn write their SVG only and a ``PngTask`` for each is
    added to the list: the caller makes the PNGs while the documents that need none are laid out.
    With ``drawers`` (executors of one process each) and ``png_later``, the figures are drawn on them and
    each PNG is made, right after the SVGs, in the process that drew its figure (``PngTask.future``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    code = _code_hash(PACKAGE / "figures", extra=("matplotlib", "numpy", "pypng"))
    # The plan measures the figures' texts (to wrap, size and page them): the measures of the last build
    # are taken, and this build's kept for the next.
    measures = cache.folder / "text-measures.json" if cache.folder is not None else None
    known = load_measures(measures) if measures is not None else 0
    todo = plan(results, style)
    if measures is not None:
        save_measures(measures, if_more_than=known)
    keys = {job.figure.id: figure_key(job, code) for job in todo}
    cache.figure_keys.update(keys)
    done: dict[str, Figure] = {}
    missing: list[Job] = []
    for job in todo:
        fig = job.figure
        entry = cache.entry("figures", keys[fig.id])
        record = None if entry is None else entry / "figure.pickle"
        if (
            record is not None
            and record.is_file()
            and cache.get("figures", keys[fig.id], [f"{fig.id}.svg", f"{fig.id}.png"], out_dir)
        ):
            try:
                done[fig.id] = _load_figure(record)
                continue
            except Exception:  # noqa: BLE001 - whatever the entry holds, the figure is drawn again
                cache.drop("figures", keys[fig.id])
        missing.append(job)
    if progress:
        progress(f"figures: {len(done)} unchanged, {len(missing)} to draw")

    def put(fig: Figure) -> None:
        record = out_dir / f".{fig.id}.pickle"
        record.write_bytes(pickle.dumps(fig, protocol=5))
        cache.put(
            "figures",
            keys[fig.id],
            {
                f"{fig.id}.svg": out_dir / f"{fig.id}.svg",
                f"{fig.id}.png": out_dir / f"{fig.id}.png",
                "figure.pickle": record,
            },
        )
        record.unlink()

    def store(fig: Figure, seconds: float, _cpu_seconds: float) -> None:
        done[fig.id] = fig
        if png_later is None:
            put(fig)
        if progress:
            progress(f"figure {len(done)}/{len(todo)}: {fig.id} {seconds:.2f} s")

    futures: dict[str, Future] = {}
    if png_later is not None and drawers and missing:
        futures = draw_on(drawers, missing, out_dir, store)
    else:  # PNGs now, or later from drawings kept in this process (one process) or drawn again
        draw_jobs(missing, out_dir, jobs, store, png=png_later is None, keep=True)
    if png_later is not None:
        png_later += [
            PngTask(job, out_dir, functools.partial(put, done[job.figure.id]), futures.get(job.figure.id))
            for job in missing
        ]
    return [done[job.figure.id] for job in todo]


# ---------------------------------------------------------------------------------------------- documents
def document_key(html: str, base_dir: Path, code: str, figure_keys: dict[str, str] | None = None) -> str:
    """The HTML plus every file it links to (figures, by the key of their drawing job when known, which
    spares reading them) plus the rendering code."""
    import re

    digest = hashlib.sha256(code.encode() + html.encode("utf-8"))
    known = figure_keys or {}
    for link in sorted(set(re.findall(r'src="([^"]+)"', html))):
        path = base_dir / link
        digest.update(link.encode())
        if link.startswith("figures/") and path.stem in known:
            digest.update(known[path.stem].encode())
        elif path.is_file():
            digest.update(path.read_bytes())
            png = path.with_suffix(".png")
            if png.is_file():
                digest.update(png.read_bytes())
    return digest.hexdigest()


def render_code_hash() -> str:
    """The documents' code, templates, converters and fonts: a cached document is reused only if all match.
    fontTools (the DOCX column widths) and Pillow (the DOCX figures' PNG fallbacks) shape the DOCX bytes too."""
    code = _code_hash(
        PACKAGE / "render",
        PACKAGE.parent / "templates",
        extra=("weasyprint", "pikepdf", "python-docx", "lxml", "fonttools", "pillow"),
    )
    return hashlib.sha256((code + json.dumps(fonts(), sort_keys=True)).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------ workbooks
def cached_file(
    cache: Cache | None, kind: str, sources: list[Path], extra: str, target: Path, make: Callable[[], None]
) -> None:
    """Make ``target`` with ``make()`` unless the cache has it for the same ``sources`` (their bytes) and
    ``extra``: for derived files such as the XLSX workbooks, which are slow to write and change only when
    the tables they hold change."""
    digest = hashlib.sha256(extra.encode())
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    key = digest.hexdigest()
    if cache is not None and cache.get(kind, key, [target.name], target.parent):
        return
    make()
    if cache is not None:
        cache.put(kind, key, {target.name: target})
