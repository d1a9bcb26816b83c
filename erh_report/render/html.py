"""HTML from the templates: the document for WeasyPrint and python-docx (figures as links to files), and the
self-contained file for readers (figures inline as SVG, CSS inline), which works offline."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from erh_report.errors import InputError, Problem

CSS_FILE = "document.css"


class TemplateProblem(InputError):
    """A template that does not render: named with its file and line, so an author can fix it."""


def render(env: jinja2.Environment, name: str, context: dict) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(
            [
                Problem(
                    f"templates/{exc.filename and Path(exc.filename).name or name}",
                    f"template syntax error: {exc.message}",
                    row=exc.lineno,
                )
            ]
        ) from None
    except jinja2.UndefinedError as exc:
        line = _template_line(exc)
        raise TemplateProblem(
            [Problem(f"templates/{line[0] or name}", f"undefined name in template: {exc.message}", row=line[1])]
        ) from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # e.g. a filter given an undefined name
        line = _template_line(exc)
        raise TemplateProblem(
            [Problem(f"templates/{line[0] or name}", f"template error: {exc}", row=line[1])]
        ) from None


def _template_line(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line where a rendering error arose, from the traceback jinja rewrites."""
    tb = exc.__traceback__
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (Path(filename).name, tb.tb_lineno)
        tb = tb.tb_next
    return found


_IMG = re.compile(r'<img src="figures/([^"]+)\.svg" alt="([^"]*)"[^>]*>')


def inline_figures(html: str, figures_dir: Path) -> str:
    """Replace each figure's <img> by its SVG (text stays text; ids made unique per figure)."""

    def svg(match: re.Match[str]) -> str:
        stem, alt = match.group(1), match.group(2)
        text = (figures_dir / f"{stem}.svg").read_text(encoding="utf-8")
        text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
        text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
        text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{stem}-{m.group(1)}"', text)
        text = re.sub(r'(url\(#|href="#)([^")]+)', lambda m: f"{m.group(1)}{stem}-{m.group(2)}", text)
        return text.replace("<svg ", f'<svg role="img" aria-label="{alt}" ', 1)

    return _IMG.sub(svg, html)
