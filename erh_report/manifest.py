"""build/manifest.json: what a build was made from and what it made, so that anyone can verify it.

It holds the SHA-256 of every input file, the settings, the versions of Python and the packages, the fonts
of the PDFs, and the SHA-256 of every output file. It has no timestamp, so the same inputs give the same
manifest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from erh_report.data import Review
from erh_report.software import fonts, versions

MANIFEST = "manifest.json"


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


def manifest(out_dir: Path, review: Review, stages: tuple[str, ...]) -> dict:
    templates = Path(__file__).resolve().parents[1] / "templates"
    return {
        "inputs": _files(Path(review.folder)),
        "templates": _files(templates) if templates.is_dir() else {},
        "settings": review.config.settings.model_dump(mode="json"),
        "plan": review.config.plan.model_dump(mode="json"),
        "stages": list(stages),
        "versions": versions(),
        "fonts": fonts(),
        "outputs": _files(out_dir),
    }


def write_manifest(out_dir: Path, review: Review, stages: tuple[str, ...]) -> None:
    text = json.dumps(manifest(out_dir, review, stages), indent=1, sort_keys=True)
    (out_dir / MANIFEST).write_text(text + "\n", encoding="utf-8")
