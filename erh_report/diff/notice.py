"""The correction notice a journal prints: one sentence per reported number that changed.

"In the Results section and Table 2, the pooled SMD for parent-infant bonding (post-intervention) should
have been 0.29 (95% CI, 0.18-0.40) rather than 0.27 (95% CI, 0.16-0.38)." Every number is formatted as
the manuscript prints it (its journal style), so a number that moved only beyond the printed digits gives
no sentence; where the old number was printed (abstract, sections, tables, figure captions) is found in the
old manuscript itself.
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lxml.html

from erh_report.numbers import NumberStyle, get_style

RATIO = ("OR", "RR")
TEXT_NAME = "correction-notice.txt"
DOCX_NAME = "correction-notice.docx"


@dataclass(frozen=True)
class Correction:
    """One reported number: what it is, where it was printed, and its old and new text."""

    what: str
    where: tuple[str, ...]
    old: str
    new: str

    def sentence(self) -> str:
        places = _join(list(self.where)) if self.where else "the Results section"
        return f"In {places}, {self.what} should have been {self.new} rather than {self.old}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _rows(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["analysis_id"]: row for row in csv.DictReader(handle)}


def _float(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _subject(row: dict[str, str]) -> str:
    """ "parent-infant bonding (post-intervention)": the outcome as it reads inside a sentence."""

    def lower(text: str) -> str:
        return text[:1].lower() + text[1:] if text[1:2].islower() else text

    return f"{lower(row.get('outcome', ''))} ({lower(row.get('timepoint', ''))})"


def _statistics(style: NumberStyle, level: float) -> list[tuple[str, Callable[[dict[str, str]], str], Callable]]:
    """(what, the printed text, the texts to look for in the manuscript) of each reported statistic."""

    def scale(row: dict[str, str], column: str) -> float:
        exp = row.get(f"exp_{column}")
        return _float(exp) if row.get("measure") in RATIO and exp else _float(row.get(column))

    def effect(row):
        return style.estimate_ci(scale(row, "estimate"), scale(row, "ci_low"), scale(row, "ci_high"), level)

    def interval(row):
        return style.interval(scale(row, "ci_low"), scale(row, "ci_high"))

    def prediction(row):
        return style.interval(scale(row, "pi_low"), scale(row, "pi_high"))

    return [
        ("the pooled {measure}", effect, lambda row: [effect(row), interval(row)]),
        (
            "the P value of the pooled {measure}",
            lambda row: style.p(_float(row.get("pval"))),
            lambda row: [style.p(_float(row.get("pval")))],
        ),
        (
            "the number of participants",
            lambda row: style.integer(_float(row.get("participants"))),
            lambda row: [f"({style.integer(_float(row.get('participants')))} participants)"],
        ),
        (
            "the I\u00b2",
            lambda row: style.percent(_float(row.get("i2"))),
            lambda row: [style.i2(_float(row.get("i2")))],
        ),
        (
            "the \u03c4\u00b2",
            lambda row: style.tau2(_float(row.get("tau2"))),
            lambda row: [f"\u03c4\u00b2 = {style.tau2(_float(row.get('tau2')))}"],
        ),
        (
            f"the {level:g}% prediction interval",
            prediction,
            lambda row: [style.prediction_interval(scale(row, "pi_low"), scale(row, "pi_high"), level)],
        ),
    ]


#: Cells of the summary of findings that print a number of their own (GRADE's wording of the effect, as
#: "SMD 0.37 SD higher (0.27 higher to 0.48 higher)" or "150 per 1,000"), and what each is.
SOF_CELLS = (
    ("risk_difference", "the absolute effect"),
    ("risk_with_intervention", "the risk with the intervention"),
    ("risk_with_comparator", "the risk with the comparator"),
    ("relative_effect", "the relative effect"),
)
EMPTY_CELLS = ("", "\u2013", "-")


def _sof_corrections(old: Path, new: Path, places: list[tuple[str, str]]) -> list[Correction]:
    """The summary-of-findings cells that changed, one sentence per changed text of an analysis (a cell
    repeating another's text, as the risk with the intervention does the absolute effect of a continuous
    outcome, is said once), placed in the manuscript's tables and the GRADE evidence profiles."""
    grade = Path("results") / "grade"
    before, after = _rows(old / grade / "summary_of_findings.csv"), _rows(new / grade / "summary_of_findings.csv")
    profiles = _rows(old / grade / "evidence_profiles.csv")
    found = []
    for analysis_id, row in after.items():
        was = before.get(analysis_id)
        if was is None:
            continue
        said: set[tuple[str, str]] = set()
        for column, what in SOF_CELLS:
            old_text, new_text = was.get(column, "").strip(), row.get(column, "").strip()
            if old_text == new_text or old_text in EMPTY_CELLS or new_text in EMPTY_CELLS:
                continue
            if (old_text, new_text) in said:
                continue
            said.add((old_text, new_text))
            where = [place for place, text in places if old_text in text]
            if profiles.get(analysis_id, {}).get("absolute_effect", "").strip() == old_text:
                where.append("the GRADE evidence profiles")
            where = list(dict.fromkeys(where)) or ["the summary of findings"]
            found.append(Correction(f"{what} for {_subject(row)}", tuple(where), old_text, new_text))
    return found


def _places(manuscript: Path) -> list[tuple[str, str]]:
    """(place, text) of every block of the manuscript: its section (Abstract, Results, ...), or the table
    or figure it belongs to, named by its caption's label."""
    if not manuscript.is_file():
        return []
    root = lxml.html.fromstring(manuscript.read_bytes())
    found: list[tuple[str, str]] = []
    section = "the text"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in ("h1", "h2"):
            heading = " ".join(element.text_content().split())
            section = f"the {heading}" if heading.lower().startswith("abstract") else f"the {heading} section"
        if element.tag in ("p", "li", "td", "th", "figcaption", "caption"):
            container = next((a for a in element.iterancestors() if a.tag in ("table", "figure")), None)
            place = section
            if container is not None:
                caption = container.find(".//caption") if container.tag == "table" else container.find(".//figcaption")
                label = (
                    re.match(r"\s*((?:e?Table|e?Figure) \d+)", caption.text_content()) if caption is not None else None
                )
                place = label.group(1) if label else place
            found.append((place, " ".join(element.text_content().split())))
    return found


def corrections(old: Path, new: Path) -> list[Correction]:
    """Every reported number of the manuscript that changed between two builds, as printed."""
    settings = (
        json.loads((new / "manifest.json").read_text(encoding="utf-8")).get("settings", {})
        if (new / "manifest.json").is_file()
        else {}
    )
    style = get_style(settings.get("number_style", "JAMA"))
    level = float(settings.get("level", 95))
    before, after = _rows(old / "results" / "analyses.csv"), _rows(new / "results" / "analyses.csv")
    grade_before = _rows(old / "results" / "grade" / "grade_certainty.csv")
    grade_after = _rows(new / "results" / "grade" / "grade_certainty.csv")
    places = _places(old / "manuscript.html")
    found = []
    for analysis_id, row in after.items():
        if analysis_id not in before:
            continue
        measure = row.get("measure", "")
        for what, printed, needles in _statistics(style, level):
            old_text, new_text = printed(before[analysis_id]), printed(row)
            if old_text == new_text or "\u2013" in (old_text, new_text):
                continue
            where = tuple(
                dict.fromkeys(place for place, text in places if any(n in text for n in needles(before[analysis_id])))
            )
            found.append(Correction(f"{what.format(measure=measure)} for {_subject(row)}", where, old_text, new_text))
        old_word = grade_before.get(analysis_id, {}).get("word", "")
        new_word = grade_after.get(analysis_id, {}).get("word", "")
        if old_word and new_word and old_word != new_word:
            found.append(
                Correction(
                    f"the certainty of the evidence for {_subject(row)}",
                    ("the Results section", "the summary of findings"),
                    old_word.lower(),
                    new_word.lower(),
                )
            )
    return found + _sof_corrections(old, new, places)


def notice_text(title: str, found: list[Correction], cause: str) -> str:
    """The notice as plain text: what was corrected, then one sentence per changed number."""
    lines = [
        "Notice of correction",
        "",
        f"In the article titled \u201c{title}\u201d, {cause}; the analyses were run again.",
    ]
    lines += [""] + [c.sentence() for c in found] if found else ["", "No reported number changed."]
    lines += ["", "The article has been corrected."]
    return "\n".join(lines) + "\n"


def write_notice(old: Path, new: Path, out: Path, cause: str) -> list[Path]:
    """correction-notice.txt and .docx in ``out``; nothing when no reported number changed."""
    found = corrections(old, new)
    if not found:
        return []
    results = new / "results" / "results.json"
    title = json.loads(results.read_text(encoding="utf-8"))["about"]["title"] if results.is_file() else ""
    text = notice_text(title, found, cause)
    out.mkdir(parents=True, exist_ok=True)
    (out / TEXT_NAME).write_text(text, encoding="utf-8")
    from erh_report.render.docx_writer import write_docx

    head, *body = [line for line in text.splitlines() if line]
    page = f"<h1>{html.escape(head)}</h1>" + "".join(f"<p>{html.escape(line)}</p>" for line in body)
    write_docx(page, out, out / DOCX_NAME, title=head, footer_page_numbers=False)
    return [out / TEXT_NAME, out / DOCX_NAME]


def cause(data) -> str:  # data: erh_report.diff.data.DataChanges
    """What was corrected in the data, in the notice's words: the cells (up to three named), the rows,
    the settings."""
    parts = []
    named = [
        f"the {c.column} of study {c.study.split(' (')[0] or c.key} ({c.file}, row {c.row}) from "
        f"{c.old or 'empty'} to {c.new or 'empty'}"
        for c in data.cells[:3]
    ]
    if named:
        more = len(data.cells) - len(named)
        extra = f" and {more} other value{'s' if more != 1 else ''}" if more else ""
        parts.append("the extracted data were corrected: " + _join(named) + extra)
    if data.rows:
        added = sum(r.status == "added" for r in data.rows)
        parts.append(f"{added} data row{'s' if added != 1 else ''} were added and {len(data.rows) - added} removed")
    for setting in data.settings[:3]:
        parts.append(f"the setting {setting.key} was changed from {setting.old or 'empty'} to {setting.new or 'empty'}")
    return "; ".join(parts) if parts else "the analyses were corrected"
