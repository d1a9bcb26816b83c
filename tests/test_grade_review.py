"""The GRADE report of the illustrative review: its numbers are the results' numbers, its overrides are
data/grade.csv's, and its JSON and tables are complete and deterministic."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from review_copies import DATA, copy_data, problems_of, set_cell

from erh_report.data import load_review
from erh_report.grade import GradeReport, assess_review
from erh_report.grade.levels import DOMAINS
from erh_report.synthesis import ReviewResults, run
from erh_report.synthesis.tables import analyses_table


@pytest.fixture(scope="module")
def results() -> ReviewResults:
    return run(load_review(DATA))


@pytest.fixture(scope="module")
def report(results: ReviewResults) -> GradeReport:
    return assess_review(results)


def test_every_analysis_assessed(results: ReviewResults, report: GradeReport):
    assert [a.analysis_id for a in report.assessments] == [ar.analysis.id for ar in results.analyses]
    for a in report.assessments:
        assert a.level in (1, 2, 3, 4)
        assert a.level == max(1, a.start - sum(d.downgrade for d in a.domains))
        assert [d.domain for d in a.domains] == list(DOMAINS)


def test_effects_equal_the_results(results: ReviewResults, report: GradeReport):
    table = analyses_table(results).set_index("analysis_id")
    for ar in results.analyses:
        a, row = report.get(ar.analysis.id), table.loc[ar.analysis.id]
        sign = ar.effects["sign"].iloc[0] if ar.effects["sign"].nunique() == 1 else 1
        low, high = sorted((sign * row["ci_low"], sign * row["ci_high"]))
        expected = [sign * row["estimate"], low, high]
        if a.measure in ("OR", "RR"):
            expected = [math.exp(x) for x in expected]
        assert [a.effect.estimate, a.effect.ci_low, a.effect.ci_high] == pytest.approx(expected, rel=1e-12)
        assert (a.k, a.participants) == (row["k"], row["participants"])


def test_sof_rows_carry_the_results(results: ReviewResults, report: GradeReport):
    table = analyses_table(results).set_index("analysis_id")
    rows = {r["analysis_id"]: r for t in report.sof_tables() for r in t["rows"]}
    assert set(rows) == set(table.index)
    bonding = rows["bonding_post"]
    est, lo, hi = (table.loc["bonding_post", c] for c in ("estimate", "ci_low", "ci_high"))
    assert bonding["risk_difference"] == f"SMD {est:.2f} SD higher ({lo:.2f} higher to {hi:.2f} higher)"
    k, n = table.loc["bonding_post", "k"], table.loc["bonding_post", "participants"]
    assert bonding["participants_studies"] == f"{n:,} ({k} RCTs)"
    depression = rows["depression_post"]  # every depression scale: lower is better
    est = table.loc["depression_post", "estimate"]
    assert depression["risk_difference"].startswith(f"SMD {est:.2f} SD lower")


def test_dichotomous_rows_use_the_control_risk(results: ReviewResults, report: GradeReport):
    ar = results.get("secure_attachment_post")
    cr = ar.effects["events_c"].sum() / ar.effects["total_c"].sum()
    row = next(r for t in report.sof_tables() for r in t["rows"] if r["analysis_id"] == "secure_attachment_post")
    assert row["comparator_risk"] == pytest.approx(cr)
    assert row["risk_with_comparator"] == f"{math.floor(cr * 1000 + 0.5)} per 1,000"
    assert row["relative_effect"].startswith(f"OR {math.exp(ar.result.estimate):.2f} (")


def test_overrides_of_data_grade_csv(report: GradeReport):
    with open(DATA / "grade.csv", encoding="utf-8") as fh:
        overrides = list(csv.DictReader(fh))
    assert overrides
    for o in overrides:
        a = report.get(o["analysis_id"])
        d = a.rating(o["domain"])
        assert d.final == o["judgement"] and d.override is not None
        assert o["reason"].rstrip(".") in d.footnote_text
        profile = next(r for t in report.evidence_profiles() for r in t["rows"] if r["analysis_id"] == a.analysis_id)
        assert profile[o["domain"]] == o["judgement"]
        assert profile[f"{o['domain']}_footnotes"]


def test_publication_bias_follows_min_studies_egger(results: ReviewResults, report: GradeReport):
    k_min = results.review.config.plan.min_studies_egger
    for a in report.assessments:
        assessable = a.rating("publication_bias").final != "not assessable"
        assert assessable == (a.k >= k_min)


def test_footnote_letters_resolve(report: GradeReport):
    for sof, profile in zip(report.sof_tables(), report.evidence_profiles(), strict=True):
        letters = [n["letter"] for n in sof["footnotes"]]
        assert letters == sorted(letters, key=lambda s: (len(s), s))
        assert profile["footnotes"] == sof["footnotes"]
        used = {x for r in sof["rows"] for x in r["footnotes"]}
        assert used == set(letters)


def test_json_is_deterministic_and_complete(results: ReviewResults, report: GradeReport):
    text = report.to_json()
    assert text == assess_review(results).to_json()
    data = json.loads(text)
    assert data["illustrative"] is True
    assert len(data["assessments"]) == len(results.analyses)
    assert [t["id"] for t in data["summary_of_findings"]] == [d.id for d in results.review.config.domains]
    assert "NaN" not in text


def test_tables_for_csv(report: GradeReport, tmp_path: Path):
    frames = report.tables()
    n = len(report.assessments)
    assert {name: len(f) for name, f in frames.items() if name != "grade_footnotes"} == {
        "grade_certainty": n,
        "grade_domains": 5 * n,
        "summary_of_findings": n,
        "evidence_profiles": n,
    }
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    assert (tmp_path / "summary_of_findings.csv").read_text(encoding="utf-8").count("\u2a01") > 0


def test_override_without_reason_is_refused(tmp_path: Path):
    data = copy_data(tmp_path)
    set_cell(data / "grade.csv", 2, "reason", "")
    assert [str(p) for p in problems_of(data)] == [
        "grade.csv, row 2, column 'reason': required cell is empty; expected a value"
    ]
