"""A correction from end to end: one value changed in a copy of the data, the paper rebuilt, then
`erh-report diff`: the report names the one analysis that moved, and the manuscript's tracked-changes DOCX
marks the new numbers, with the author and date asked for, and resolves to the new and the old text."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx_checks import pictures
from openpyxl import load_workbook
from review_copies import copy_data, read_rows, set_cell
from test_diff_tracked import W, _resolve, body, texts, words
from test_documents import ANALYSES, restrict

from erh_report.build import build
from erh_report.cli import main
from erh_report.data import load_review
from erh_report.numbers import get_style
from erh_report.render.docx_images import FALLBACK_PPI

MOVED = "bonding_post"


@pytest.fixture(scope="module")
def corrected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("correction")
    data = copy_data(root)
    restrict(data, ANALYSES)
    cache = root / "cache"
    build(data, root / "old", progress=None, cache_dir=cache)
    outcomes = data / "outcome_data.csv"
    first = load_review(data).selections[MOVED][0]  # the first study of the analysis: its intervention arm
    row = next(r for r in first.rows if read_rows(outcomes)[r - 1][5] == "intervention")
    old_mean = read_rows(outcomes)[row - 1][7]
    set_cell(outcomes, row, "mean", f"{float(old_mean) + 4:.2f}")  # an extraction error corrected
    edit = {"row": row, "study": first.study_id, "old": old_mean, "new": f"{float(old_mean) + 4:.2f}"}
    (root / "edit.json").write_text(json.dumps(edit), encoding="utf-8")
    build(data, root / "new", progress=None, cache_dir=cache)
    return root / "old", root / "new", root / "diff"


def _estimate(build_dir: Path, analysis_id: str) -> float:
    with (build_dir / "results" / "analyses.csv").open(encoding="utf-8", newline="") as handle:
        return next(float(r["estimate"]) for r in csv.DictReader(handle) if r["analysis_id"] == analysis_id)


def test_the_report_names_only_the_analysis_that_moved(corrected, capsys: pytest.CaptureFixture[str]):
    old, new, out = corrected
    code = main(
        [
            "diff",
            str(old),
            str(new),
            "--out",
            str(out),
            "--date",
            "2026-11-29",
            "--author",
            "A. Author",
            "--fail-on-change",
        ]
    )
    assert code == 1
    summary = capsys.readouterr().out.splitlines()[0]
    assert "numbers moved in 1 analysis;" in summary and "0 studies added or removed" in summary
    report = (out / "changes.html").read_text(encoding="utf-8")
    assert MOVED in report
    assert all(other not in report.split('id="numbers"', 1)[1] for other in ANALYSES if other != MOVED)


def test_the_tracked_manuscript_marks_the_new_numbers_and_resolves_both_ways(corrected):
    old, new, out = corrected
    marked = body(out / "manuscript-tracked.docx")
    marks = marked.xpath("//w:ins | //w:del", namespaces=W)
    assert marks
    assert {(m.get(qn("w:author")), m.get(qn("w:date"))) for m in marks} == {("A. Author", "2026-11-29T00:00:00Z")}
    before, after = _estimate(old, MOVED), _estimate(new, MOVED)
    assert f"{before:.2f}" != f"{after:.2f}"
    assert f"{after:.2f}" in " ".join(words(marked, "ins"))
    assert f"{before:.2f}" in " ".join(words(marked, "del"))
    assert texts(_resolve(marked, "ins", "del")) == texts(body(new / "manuscript.docx"))
    assert texts(_resolve(marked, "del", "ins")) == texts(body(old / "manuscript.docx"))


def test_a_bad_revision_date_is_a_clear_error(corrected, capsys: pytest.CaptureFixture[str]):
    old, new, out = corrected
    assert main(["diff", str(old), str(new), "--out", str(out / "bad"), "--date", "29/11/2026"]) == 2
    error = capsys.readouterr().err
    assert "--date" in error and "YYYY-MM-DD" in error
    assert not (out / "bad").exists()


def test_the_tracked_copies_keep_the_figures_as_svg_with_the_small_png(corrected):
    """The tracked copies are no larger than the documents they mark (same SVG and 192 ppi PNG figures)."""
    _, new, out = corrected
    for name in ("manuscript", "supplement"):
        tracked = out / f"{name}-tracked.docx"
        assert [(p.svg_name, round(p.ppi)) for p in pictures(tracked)] == [
            (p.svg_name, round(p.ppi)) for p in pictures(new / f"{name}.docx")
        ]
        assert all(p.svg_name and round(p.ppi) == FALLBACK_PPI for p in pictures(tracked))
        assert tracked.stat().st_size <= 1.05 * (new / f"{name}.docx").stat().st_size


def _diff(corrected) -> tuple[Path, dict]:
    old, new, out = corrected
    target = out.parent / "diff-notice"
    if not target.exists():
        assert main(["diff", str(old), str(new), "--out", str(target), "--date", "2026-11-29"]) == 0
    return target, json.loads((out.parent / "edit.json").read_text(encoding="utf-8"))


def test_the_report_opens_with_the_changed_data_cell(corrected):
    """changes.html and changes.xlsx name the cause first: file, row, study, column, old and new."""
    target, edit = _diff(corrected)
    page = (target / "changes.html").read_text(encoding="utf-8")
    assert page.index('id="data"') < page.index('id="significance"') < page.index('id="numbers"')
    data = page.split('id="data"', 1)[1].split("</section>", 1)[0]
    cells = re.findall(r"<tr>(.*?)</tr>", data.split("<tbody>", 1)[1])
    assert len(cells) == 1, "one cell was changed"
    values = re.findall(r"<td[^>]*>(.*?)</td>", cells[0])
    assert values[0:2] == ["outcome_data.csv", str(edit["row"])] and values[2].startswith(edit["study"])
    assert values[4:] == ["mean", edit["old"], edit["new"]]
    book = load_workbook(target / "changes.xlsx", read_only=True)
    assert book.sheetnames[:3] == ["data_cells", "data_rows", "review_yaml"]
    rows = list(book["data_cells"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0:2] == ("outcome_data.csv", edit["row"]) and rows[1][4] == "mean"
    assert (rows[1][5], rows[1][6]) == (float(edit["old"]), float(edit["new"]))


def test_the_correction_notice_says_each_changed_number_in_the_journal_style(corrected):
    """One sentence per reported number that moved; the pooled effect's sentence as the journal prints it."""
    old, new, _ = corrected
    target, edit = _diff(corrected)
    text = (target / "correction-notice.txt").read_text(encoding="utf-8")
    style = get_style("JAMA")

    def effect(build_dir: Path) -> str:
        with (build_dir / "results" / "analyses.csv").open(encoding="utf-8", newline="") as handle:
            row = next(r for r in csv.DictReader(handle) if r["analysis_id"] == MOVED)
        return style.estimate_ci(float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"]))

    sentences = [line for line in text.splitlines() if " should have been " in line]
    assert sentences and all(re.fullmatch(r"In .+, .+ should have been .+ rather than .+\.", s) for s in sentences)
    pooled = next(s for s in sentences if "the pooled SMD for parent-infant bonding (post-intervention)" in s)
    assert pooled.endswith(f"should have been {effect(new)} rather than {effect(old)}.")
    assert "the Results section" in pooled.split(",", 1)[0] or "Results" in pooled.split(" should", 1)[0]
    assert f"(outcome_data.csv, row {edit['row']}) from {edit['old']} to {edit['new']}" in text
    assert len(sentences) == len(set(sentences))

    def absolute(build_dir: Path) -> str:
        sof = build_dir / "results" / "grade" / "summary_of_findings.csv"
        with sof.open(encoding="utf-8", newline="") as handle:
            return next(r["risk_difference"] for r in csv.DictReader(handle) if r["analysis_id"] == MOVED)

    cell = [s for s in sentences if "the absolute effect for parent-infant bonding (post-intervention)" in s]
    assert len(cell) == 1 and cell[0].endswith(f"should have been {absolute(new)} rather than {absolute(old)}.")
    assert re.match(r"In (e?Table \d+)", cell[0]), cell[0]  # where the summary of findings printed it
    word = docx.Document(str(target / "correction-notice.docx"))
    assert [p.text for p in word.paragraphs if p.text] == [line for line in text.splitlines() if line]


def test_a_changed_cell_that_enters_no_analysis_is_still_reported(tmp_path: Path):
    """A study's DOI enters no analysis: the diff names the cell; no number moved, so no notice."""
    data = copy_data(tmp_path)
    restrict(data, ANALYSES)
    build(data, tmp_path / "old", progress=None, stages=("results",), cache_dir=False)
    old_doi = set_cell(data / "studies.csv", 3, "doi", "10.1000/example.3")
    build(data, tmp_path / "new", progress=None, stages=("results",), cache_dir=False)
    out = tmp_path / "diff"
    assert main(["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--out", str(out)]) == 0
    page = (out / "changes.html").read_text(encoding="utf-8")
    study = read_rows(data / "studies.csv")[2][0]
    assert f'<td>studies.csv</td><td class="num">3</td><td>{study}' in page
    assert f'<td>doi</td><td class="num">{old_doi}</td><td class="num">10.1000/example.3</td>' in page
    assert "No reported number moved." in page
    assert not (out / "correction-notice.txt").exists()
