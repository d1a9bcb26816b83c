"""The correction notice also says the summary-of-findings cells that changed: GRADE's absolute effect
("SMD 0.37 SD higher (0.27 higher to 0.48 higher)") and the risks per 1,000, where they were printed."""

from __future__ import annotations

import csv
from pathlib import Path

from erh_report.diff.notice import TEXT_NAME, corrections, write_notice

SOF_COLUMNS = (
    "table",
    "analysis_id",
    "outcome",
    "timepoint",
    "risk_with_comparator",
    "risk_with_intervention",
    "risk_difference",
    "relative_effect",
)
CONTINUOUS = ("SMD 0.37 SD higher (0.27 higher to 0.48 higher)", "SMD 0.41 SD higher (0.30 higher to 0.52 higher)")
RISK = ("150 per 1,000", "162 per 1,000")
DIFFERENCE = ("50 more per 1,000 (10 more to 95 more)", "62 more per 1,000 (20 more to 108 more)")


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)


def _build(folder: Path, which: int) -> Path:
    """A build folder holding what the notice reads: the summary of findings, the evidence profiles and,
    in the old build, the manuscript where the cells were printed."""
    grade = folder / "results" / "grade"
    sof = [
        {
            "table": "erh",
            "analysis_id": "bonding_post",
            "outcome": "Parent-infant bonding",
            "timepoint": "Post-intervention",
            "risk_with_comparator": "\u2013",
            "risk_with_intervention": CONTINUOUS[which],
            "risk_difference": CONTINUOUS[which],
            "relative_effect": "\u2013",
        },
        {
            "table": "erh",
            "analysis_id": "breastfeeding_post",
            "outcome": "Breastfeeding",
            "timepoint": "Post-intervention",
            "risk_with_comparator": "100 per 1,000",
            "risk_with_intervention": RISK[which],
            "risk_difference": DIFFERENCE[which],
            "relative_effect": "OR 1.40 (1.05 to 1.90)",
        },
    ]
    _write(grade / "summary_of_findings.csv", SOF_COLUMNS, sof)
    _write(
        grade / "evidence_profiles.csv",
        ("analysis_id", "absolute_effect"),
        [{"analysis_id": r["analysis_id"], "absolute_effect": r["risk_difference"]} for r in sof],
    )
    (folder / "manuscript.html").write_text(
        "<html><body><h2>Results</h2><p>Bonding improved.</p>"
        "<table><caption><strong>Table 2.</strong> Summary of findings</caption>"
        f"<tr><td>{CONTINUOUS[which]}</td><td>{RISK[which]}</td><td>{DIFFERENCE[which]}</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    return folder


def test_changed_summary_of_findings_cells_get_their_sentences(tmp_path: Path):
    old, new = _build(tmp_path / "old", 0), _build(tmp_path / "new", 1)
    sentences = [c.sentence() for c in corrections(old, new)]
    assert sentences == [
        "In Table 2 and the GRADE evidence profiles, the absolute effect for parent-infant bonding "
        f"(post-intervention) should have been {CONTINUOUS[1]} rather than {CONTINUOUS[0]}.",
        "In Table 2 and the GRADE evidence profiles, the absolute effect for breastfeeding (post-intervention) "
        f"should have been {DIFFERENCE[1]} rather than {DIFFERENCE[0]}.",
        "In Table 2, the risk with the intervention for breastfeeding (post-intervention) should have been "
        f"{RISK[1]} rather than {RISK[0]}.",
    ]
    write_notice(old, new, tmp_path / "diff", "the extracted data were corrected")
    text = (tmp_path / "diff" / TEXT_NAME).read_text(encoding="utf-8")
    assert sum(line in text for line in sentences) == 3


def test_unchanged_cells_give_no_sentence(tmp_path: Path):
    assert corrections(_build(tmp_path / "old", 0), _build(tmp_path / "new", 0)) == []
