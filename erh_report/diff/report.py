"""The change report: changes.html for people (one self-contained page) and changes.xlsx for the record.

What changed in the data comes first, as the cause of everything else: each changed cell (file, row,
study, column, old and new), rows added or removed, review.yaml values changed. Then the outputs:
significance flips and certainty changes because they are what a journal asks about; then
every number per analysis, the studies that entered or left, the figures whose files changed, and the
sentences side by side. Nothing depends on colour alone: flips are also labelled in words.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from erh_report.diff.data import DataChanges
from erh_report.diff.numbers import NumberChanges
from erh_report.diff.text import SentenceChange, marked_html
from erh_report.spreadsheet import neutralise

MANIFEST = "manifest.json"
FIGURE_SUFFIXES = (".svg", ".png")


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # "changed", "added" or "removed"
    old_sha256: str
    new_sha256: str


@dataclass
class Changes:
    """Everything that differs between two builds."""

    old: str
    new: str
    numbers: NumberChanges
    sentences: list[SentenceChange] = field(default_factory=list)
    figures: list[FileChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    data: DataChanges = field(default_factory=DataChanges)

    def __bool__(self) -> bool:
        return bool(self.numbers or self.sentences or self.figures or self.files or self.data)

    def figure_ids(self) -> set[str]:
        """The figures that changed: one for its SVG and PNG files together."""
        return {PurePosixPath(f.path).stem for f in self.figures}

    def summary(self) -> str:
        """One line for the terminal, e.g. "14 numbers moved in 1 analysis; 1 significance flip; ..."."""
        n = self.numbers
        analyses = len({c.analysis_id for c in n.changes})
        parts = [
            f"{_count(len(n.changes), 'number')} moved in {_count(analyses, 'analysis', 'analyses')}",
            _count(len(n.flips), "significance flip"),
            _count(len(n.certainty), "GRADE certainty change"),
            f"{_count(len(n.studies), 'study', 'studies')} added or removed",
            f"{_count(len(self.figure_ids()), 'figure')} changed",
            f"{_count(len(self.sentences), 'sentence')} changed",
        ]
        others = [f for f in self.files if not is_figure(f.path)]
        if others:
            parts.append(f"{_count(len(others), 'other output file')} changed")
        return f"data: {self.data.summary()}; outputs: " + "; ".join(parts)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def output_hashes(build: Path) -> dict[str, str] | None:
    path = build / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("outputs", {})


def compare_outputs(old: Path, new: Path) -> list[FileChange]:
    """Output files whose SHA-256 in manifest.json differs (empty when either build has no manifest)."""
    a, b = output_hashes(old), output_hashes(new)
    if a is None or b is None:
        return []
    found = []
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            status = "added" if path not in a else "removed" if path not in b else "changed"
            found.append(FileChange(path, status, a.get(path, ""), b.get(path, "")))
    return found


def is_figure(path: str) -> bool:
    return path.startswith("figures/") and path.endswith(FIGURE_SUFFIXES)


# -- rows shared by the HTML and the workbook ---------------------------------------------------------------
def number_rows(changes: Changes) -> list[list[str]]:
    labels = changes.numbers.labels
    return [
        [
            c.analysis_id,
            labels.get(c.analysis_id, ""),
            c.table,
            c.row,
            c.column,
            "" if c.old is None else c.old,
            "" if c.new is None else c.new,
        ]
        for c in changes.numbers.changes
    ]


NUMBER_HEADER = ["analysis_id", "outcome", "table", "row", "statistic", "old", "new"]
FLIP_HEADER = ["analysis_id", "outcome", "table", "row", "test", "old", "new", "old_significant", "new_significant"]
CERTAINTY_HEADER = ["analysis_id", "outcome", "timepoint", "old", "new"]
FIGURE_HEADER = ["file", "status", "old_sha256", "new_sha256"]
SENTENCE_HEADER = ["document", "section", "old", "new"]
STUDY_HEADER = ["analysis_id", "study_id", "study", "change"]


DATA_CELL_HEADER = ["file", "row", "study", "row ids", "column", "old", "new"]
DATA_ROW_HEADER = ["file", "row", "study", "row ids", "change"]
SETTING_HEADER = ["file", "row", "key", "old", "new"]


def data_cell_rows(changes: Changes) -> list[list[str]]:
    return [[c.file, str(c.row), c.study, c.key, c.column, c.old, c.new] for c in changes.data.cells]


def data_row_rows(changes: Changes) -> list[list[str]]:
    return [[r.file, str(r.row), r.study, r.key, r.status] for r in changes.data.rows]


def setting_rows(changes: Changes) -> list[list[str]]:
    return [[s.file, "" if s.row is None else str(s.row), s.key, s.old, s.new] for s in changes.data.settings]


def flip_rows(changes: Changes) -> list[list[str]]:
    labels = changes.numbers.labels
    return [
        [
            f.key[0],
            labels.get(f.key[0], ""),
            f.table,
            " / ".join(k for k in f.key[1:] if k),
            f.test,
            f.old,
            f.new,
            _yes(f.old_significant),
            _yes(f.new_significant),
        ]
        for f in changes.numbers.flips
    ]


def _yes(flag: bool) -> str:
    return "significant" if flag else "not significant"


def certainty_rows(changes: Changes) -> list[list[str]]:
    return [[c.analysis_id, c.outcome, c.timepoint, c.old, c.new] for c in changes.numbers.certainty]


def figure_rows(changes: Changes) -> list[list[str]]:
    return [[f.path, f.status, f.old_sha256, f.new_sha256] for f in changes.figures]


def sentence_rows(changes: Changes) -> list[list[str]]:
    return [[s.document, s.heading, s.old, s.new] for s in changes.sentences]


def study_rows(changes: Changes) -> list[list[str]]:
    return [[m.analysis_id, m.study_id, m.study, "added" if m.added else "removed"] for m in changes.numbers.studies]


# -- HTML ---------------------------------------------------------------------------------------------------
CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1a1a1a;
       line-height: 1.45; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid #8a8a8a; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #ececec; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.flip td { background: #fff1c2; }
.flag { font-weight: 700; }
del { background: #ffd6d6; color: #6b0000; }
ins { background: #d3f5d3; color: #004400; text-decoration: underline; }
nav ul { columns: 2; }
"""


def _cell(value: str, numeric: bool = False) -> str:
    cls = ' class="num"' if numeric else ""
    return f"<td{cls}>{html.escape(value)}</td>"


def _table(
    caption: str, header: list[str], rows: Iterable[list[str]], numeric: Iterable[int] = (), row_class: str = ""
) -> str:
    numeric = set(numeric)
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in header)
    body = []
    for row in rows:
        cls = f' class="{row_class}"' if row_class else ""
        body.append(f"<tr{cls}>" + "".join(_cell(v, i in numeric) for i, v in enumerate(row)) + "</tr>")
    return (
        f"<table>\n<caption>{html.escape(caption)}</caption>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"
    )


def _section(anchor: str, title: str, content: str, empty: str) -> str:
    return f'<section id="{anchor}">\n<h2>{html.escape(title)}</h2>\n{content or f"<p>{empty}</p>"}\n</section>'


def _analysis_tables(changes: Changes) -> str:
    by_analysis: dict[str, list[list[str]]] = {}
    for row in number_rows(changes):
        by_analysis.setdefault(row[0], []).append(row)
    flipped = {(f.key[0], f.table) for f in changes.numbers.flips}
    parts = []
    for analysis_id, rows in by_analysis.items():
        label = changes.numbers.labels.get(analysis_id, "")
        title = f"{label} ({analysis_id})" if label else analysis_id
        note = ""
        if any(a == analysis_id for a, _ in flipped):
            note = '<p class="flag">Significance changed in this analysis (see above).</p>'
        parts.append(
            f'<h3 id="a-{html.escape(analysis_id)}">{html.escape(title)}</h3>{note}'
            + _table(
                f"Numbers that moved in {title}: old \u2192 new (6 significant digits; full precision in changes.xlsx)",
                ["table", "row", "statistic", "old", "new", "difference"],
                [[*r[2:5], _short(r[5]), _short(r[6]), _difference(r[5], r[6])] for r in rows],
                numeric=(3, 4, 5),
            )
        )
    return "\n".join(parts)


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _short(text: str) -> str:
    value = _float(text)
    return text if value is None else f"{value:.6g}"


def _difference(old: str, new: str) -> str:
    a, b = _float(old), _float(new)
    return "" if a is None or b is None else f"{b - a:+.3g}"


def _sentence_table(changes: Changes) -> str:
    if not changes.sentences:
        return ""
    rows = []
    for s in changes.sentences:
        old, new = marked_html(s.old, s.new)
        rows.append(
            f"<tr><td>{html.escape(s.document)}</td><td>{html.escape(s.heading)}</td><td>{old}</td><td>{new}</td></tr>"
        )
    head = "".join(f'<th scope="col">{h}</th>' for h in ("document", "section", "old", "new"))
    return (
        f"<table>\n<caption>Sentences that changed, old and new side by side (removed words struck "
        f"through, added words underlined)</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )


def _data_section(changes: Changes) -> str:
    """The cause: what the authors changed in the data, before what it moved."""
    data = changes.data
    parts = []
    if data.missing:
        parts.append(f"<p>{html.escape(data.missing)}.</p>")
    if data.cells:
        parts.append(
            _table(
                "Data cells that changed: old \u2192 new (rows as the spreadsheet shows them, header = row 1)",
                DATA_CELL_HEADER,
                data_cell_rows(changes),
                numeric=(1, 5, 6),
            )
        )
    if data.rows:
        parts.append(_table("Data rows added or removed", DATA_ROW_HEADER, data_row_rows(changes), numeric=(1,)))
    if data.settings:
        parts.append(
            _table(
                "review.yaml values that changed (settings, plan, catalogue)",
                SETTING_HEADER,
                setting_rows(changes),
                numeric=(1,),
            )
        )
    if data.files:
        parts.append(_table("Other input files that changed", ["file", "status"], [list(f) for f in data.files]))
    return "\n".join(parts)


def render_html(changes: Changes) -> str:
    n = changes.numbers
    flips = (
        _table(
            "Results whose statistical significance changed",
            FLIP_HEADER[1:],
            [r[1:] for r in flip_rows(changes)],
            numeric=(4, 5),
            row_class="flip",
        )
        if n.flips
        else ""
    )
    certainty = (
        _table("GRADE certainty of evidence that changed", CERTAINTY_HEADER, certainty_rows(changes))
        if n.certainty
        else ""
    )
    studies = _table("Studies that entered or left an analysis", STUDY_HEADER, study_rows(changes)) if n.studies else ""
    figures = (
        _table(
            "Figures whose files changed (SHA-256 from manifest.json)",
            FIGURE_HEADER,
            [[p, s, o[:12], w[:12]] for p, s, o, w in figure_rows(changes)],
        )
        if changes.figures
        else ""
    )
    others = [f for f in changes.files if not is_figure(f.path)]
    files = (
        _table("Other output files that changed", ["file", "status"], [[f.path, f.status] for f in others])
        if others
        else ""
    )
    sections = [
        _section("data", "What changed in the data", _data_section(changes), "No input changed."),
        _section("significance", "Significance that changed", flips, "No result changed significance."),
        _section("certainty", "GRADE certainty that changed", certainty, "No certainty rating changed."),
        _section("numbers", "Numbers that moved, per analysis", _analysis_tables(changes), "No reported number moved."),
        _section("studies", "Studies added or removed", studies, "No study entered or left an analysis."),
        _section("figures", "Figures that changed", figures + files, "No figure changed."),
        _section("sentences", "Sentences that changed", _sentence_table(changes), "No sentence changed."),
    ]
    nav = "".join(
        f'<li><a href="#{a}">{t}</a></li>'
        for a, t in (
            ("data", "Data"),
            ("significance", "Significance"),
            ("certainty", "GRADE certainty"),
            ("numbers", "Numbers"),
            ("studies", "Studies"),
            ("figures", "Figures"),
            ("sentences", "Sentences"),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Changes between two builds</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>Changes between two builds</h1>
<p>Old: <code>{html.escape(changes.old)}</code><br>New: <code>{html.escape(changes.new)}</code></p>
<p>{html.escape(changes.summary())}.</p>
<nav aria-label="Sections"><ul>{nav}</ul></nav>
{chr(10).join(sections)}
</main>
</body>
</html>
"""


# -- XLSX ---------------------------------------------------------------------------------------------------
def write_xlsx(changes: Changes, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    sheets = {
        "data_cells": (DATA_CELL_HEADER, data_cell_rows(changes)),
        "data_rows": (DATA_ROW_HEADER, data_row_rows(changes)),
        "review_yaml": (SETTING_HEADER, setting_rows(changes)),
        "numbers": (NUMBER_HEADER, number_rows(changes)),
        "significance": (FLIP_HEADER, flip_rows(changes)),
        "certainty": (CERTAINTY_HEADER, certainty_rows(changes)),
        "studies": (STUDY_HEADER, study_rows(changes)),
        "figures": (FIGURE_HEADER, figure_rows(changes)),
        "sentences": (SENTENCE_HEADER, sentence_rows(changes)),
    }
    book = Workbook()
    book.remove(book.active)
    for name, (header, rows) in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
        sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _xlsx_value(value: str) -> str | float:
    """Numbers as numbers, so that the sheet can be sorted and checked; text as it is, neutralised."""
    number = _float(value) if value.strip() else None
    return neutralise(value) if number is None else number


def write_report(changes: Changes, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    page = out / "changes.html"
    page.write_text(render_html(changes), encoding="utf-8")
    book = out / "changes.xlsx"
    write_xlsx(changes, book)
    from erh_report.reproducible import normalise_zip

    normalise_zip(book)
    return [page, book]
