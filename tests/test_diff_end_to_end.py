"""A correction from end to end: one value changed in a copy of the data, the paper rebuilt, then
`erh-report diff`: the report names the one analysis that moved, and the manuscript's tracked-changes DOCX
marks the new numbers, with the author and date asked for, and resolves to the new and the old text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from docx.oxml.ns import qn
from docx_checks import pictures
from review_copies import copy_data, read_rows, set_cell
from test_diff_tracked import W, _resolve, body, texts, words
from test_documents import ANALYSES, restrict

from erh_report.build import build
from erh_report.cli import main
from erh_report.data import load_review
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
    build(data, root / "new", progress=None, cache_dir=cache)
    return root / "old", root / "new", root / "diff"


def _estimate(build_dir: Path, analysis_id: str) -> float:
    with (build_dir / "results" / "analyses.csv").open(encoding="utf-8", newline="") as handle:
        return next(float(r["estimate"]) for r in csv.DictReader(handle) if r["analysis_id"] == analysis_id)


def test_the_report_names_only_the_analysis_that_moved(corrected, capsys: pytest.CaptureFixture[str]):
    old, new, out = corrected
    code = main(["diff", str(old), str(new), "--out", str(out), "--date", "2026-11-29", "--author", "A. Author",
                 "--fail-on-change"])
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
        assert [(p.svg_name, round(p.ppi)) for p in pictures(tracked)] == \
            [(p.svg_name, round(p.ppi)) for p in pictures(new / f"{name}.docx")]
        assert all(p.svg_name and round(p.ppi) == FALLBACK_PPI for p in pictures(tracked))
        assert tracked.stat().st_size <= 1.05 * (new / f"{name}.docx").stat().st_size
