"""build/manifest.json: what a build was made from and what it made, so that anyone can verify it.

It holds the SHA-256 of every input file, of the templates and of erh_report's own code, the settings, the
versions of Python, of every package erh_report needs and of the text libraries, the fonts of the PDFs, and
the SHA-256 of every output file. It has no timestamp, so the same inputs give the same manifest.

The same record tells whether a build folder is already what a build would make (``unchanged_build``):
the inputs, code and software of its manifest are those of now, and its files are those the manifest lists.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from erh_report.outdir import MARKER
from erh_report.software import code_digest, dependency_versions, fonts, library_versions, versions

if TYPE_CHECKING:
    from erh_report.data import Review

MANIFEST = "manifest.json"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def made_from(data_folder: Path, stages: tuple[str, ...]) -> dict:
    """Everything a build's outputs depend on: its inputs, templates, code, stages, software and fonts."""
    return {
        "inputs": _files(data_folder),
        "templates": _files(TEMPLATES) if TEMPLATES.is_dir() else {},
        "code": {"erh_report": code_digest()},
        "stages": list(stages),
        "versions": versions(),
        "dependencies": dependency_versions(),
        "libraries": library_versions(),
        "fonts": fonts(),
    }


def manifest(out_dir: Path, review: Review, stages: tuple[str, ...]) -> dict:
    return {
        **made_from(Path(review.folder), stages),
        "settings": review.config.settings.model_dump(mode="json"),
        "plan": review.config.plan.model_dump(mode="json"),
        "outputs": _files(out_dir),
    }


def write_manifest(out_dir: Path, review: Review, stages: tuple[str, ...]) -> None:
    text = json.dumps(manifest(out_dir, review, stages), indent=1, sort_keys=True)
    (out_dir / MANIFEST).write_text(text + "\n", encoding="utf-8")


def unchanged_build(out_dir: Path, data_folder: Path, stages: tuple[str, ...]) -> int | None:
    """The number of outputs when ``out_dir`` already holds the build these inputs would make, else None.

    It does when its manifest records the same inputs, templates, code, stages, software and fonts as now
    (so a build would make the same bytes: builds are reproducible), and every file in it is one the manifest
    lists, with the listed SHA-256 (so nothing was edited, added or deleted since), but for the marker
    that says it is a build.
    """
    try:
        recorded = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("outputs"), dict):
        return None
    if any(recorded.get(name) != value for name, value in made_from(data_folder, stages).items()):
        return None
    listed: dict = recorded["outputs"]
    files = {
        p.relative_to(out_dir).as_posix(): p
        for p in out_dir.rglob("*")
        if p.is_file() and p.relative_to(out_dir).as_posix() not in (MANIFEST, MARKER)
    }
    if files.keys() != listed.keys() or any(sha256(path) != listed[name] for name, path in files.items()):
        return None
    return len(listed)
