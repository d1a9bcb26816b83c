"""The manuscript's Table 1 of a large review: the summary's counts and distributions are the studies'
(read from studies.csv here, not from the code under test), and the threshold in review.yaml decides."""

from __future__ import annotations

import csv
import dataclasses
import statistics
from collections import Counter

import pytest
from review_copies import DATA

from erh_report.data import load_review
from erh_report.render import study_summary


@pytest.fixture(scope="module")
def review():
    return load_review(DATA)


@pytest.fixture(scope="module")
def rows_csv() -> list[dict[str, str]]:
    with open(DATA / "studies.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _section(rows, heading: str) -> dict[str, study_summary.SummaryRow]:
    start = next(i for i, r in enumerate(rows) if r.kind == "heading" and r.label == heading)
    out = {}
    for r in rows[start + 1 :]:
        if r.kind == "heading":
            break
        out[r.label] = r
    return out


def test_counts_are_the_studies_counts(review, rows_csv):
    rows = study_summary.summary_rows(review)
    k = len(rows_csv)
    for heading, column in (("Design", "design"), ("Population risk", "population_risk")):
        expected = Counter(r[column] for r in rows_csv)
        got = {label.lower(): (r.count, r.share) for label, r in _section(rows, heading).items()}
        assert got == {name.lower(): (n, pytest.approx(100 * n / k)) for name, n in expected.items()}
    countries = Counter(r["country"] for r in rows_csv)
    shown = _section(rows, "Country")
    assert len(shown) == study_summary.COUNTRIES_SHOWN  # nine named, the rest together
    assert sum(r.count for r in shown.values()) == k
    top = max(countries, key=countries.__getitem__)
    assert shown[top].count == countries[top]


def test_distributions_are_the_studies_medians_and_ranges(review, rows_csv):
    rows = _section(study_summary.summary_rows(review), "Median (IQR); range")
    for label, column in (("Dyads randomized per study", "n_randomised"), ("Dose, h", "dose_hours")):
        values = [float(r[column]) for r in rows_csv if r[column]]
        row = rows[label]
        assert row.count == len(values)
        assert row.median == pytest.approx(statistics.median(values))
        assert (row.low, row.high) == (min(values), max(values))
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        assert (row.q1, row.q3) == (pytest.approx(q1), pytest.approx(q3))


def test_the_threshold_in_review_yaml_decides_whether_table_1_lists_or_summarises(review):
    k = len(review.studies)
    assert review.config.settings.list_studies_up_to == 40 < k  # the example's 93 studies are summarised
    assert not study_summary.list_every_study(review)
    for limit, listed in ((k, True), (k - 1, False)):
        settings = review.config.settings.model_copy(update={"list_studies_up_to": limit})
        changed = dataclasses.replace(review, config=review.config.model_copy(update={"settings": settings}))
        assert study_summary.list_every_study(changed) is listed
