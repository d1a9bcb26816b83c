"""Assessments of constructed analyses: domains combined, overrides applied, footnotes lettered, tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from erh_report.analysis.model import fit
from erh_report.data.plan import Analysis
from erh_report.data.schema import GradeRow, Instrument, Outcome
from erh_report.errors import InputError
from erh_report.grade.assess import Override, assess_analysis, read_overrides
from erh_report.grade.tables import evidence_profiles, sof_tables
from erh_report.numbers import STYLES
from erh_report.synthesis import AnalysisResult
from erh_report.synthesis.effects import study_intervals
from erh_report.synthesis.tables import STUDY_COLUMNS

JAMA = STYLES["JAMA"]
QUESTION = {"population": "infants", "intervention": "Dyadic support", "comparator": "usual care"}


def outcome(outcome_id: str = "x", **kw) -> Outcome:
    return Outcome(
        id=outcome_id,
        name=kw.pop("name", "Outcome X"),
        importance="critical",
        instruments=[Instrument(id="S", name="Scale S", higher_is_better=kw.pop("higher", True))],
        **kw,
    )


def analysis_result(
    yi, vi, *, rob=None, sign=1, design="RCT", n=100, outcome_id="x", measure="SMD", events=None
) -> AnalysisResult:
    """An analysis as synthesis.run makes it, from effects built here and a real fit."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    dichotomous = measure in ("OR", "RR")
    a = Analysis(
        f"{outcome_id}_post",
        "d",
        "Domain D",
        "primary",
        outcome_id,
        "Outcome X",
        "dichotomous" if dichotomous else "continuous",
        "critical",
        "post",
        "Post-intervention",
        measure,
    )
    res = fit(yi, vi)
    frame = pd.DataFrame({c: [math.nan] * k for c in STUDY_COLUMNS})
    frame = frame.assign(
        analysis_id=a.id,
        study_id=[f"S{i}" for i in range(k)],
        study=[f"Study {i}" for i in range(k)],
        yi=yi,
        vi=vi,
        sei=np.sqrt(vi),
        weight=res.weights,
        participants=float(n),
        instrument_name="Scale S",
        design=design,
        rob_overall=rob or ["low"] * k,
        sign=sign,
    )
    frame["ci_low"], frame["ci_high"] = study_intervals(yi, np.sqrt(vi), 95)
    if dichotomous:
        ev_i, ev_c = events
        frame = frame.assign(events_i=ev_i, total_i=n / 2, events_c=ev_c, total_c=n / 2)
    else:
        frame = frame.assign(n_i=n / 2, n_c=n / 2)
    return AnalysisResult(a, frame, res, "REML")


PRECISE = dict(yi=[0.6, 0.62, 0.58, 0.61], vi=[0.004] * 4, n=500)


def test_high_certainty_when_nothing_is_wrong():
    a = assess_analysis(analysis_result(**PRECISE), outcome())
    assert [d.final for d in a.domains] == ["not serious"] * 4 + ["not assessable"]
    assert (a.level, a.symbols, a.word, a.size) == (4, "\u2a01" * 4, "High", "moderate")
    assert a.statement == "The intervention increases outcome X."
    assert a.footnotes == (
        (
            "a",
            "Publication bias not assessable: fewer than 10 studies (k = 4): funnel-plot asymmetry cannot be tested.",
        ),
    )


def test_downgrades_add_up_and_footnotes_follow_domain_order():
    ar = analysis_result(yi=[0.1, 0.35, 0.2], vi=[0.01] * 3, rob=["some concerns", "some concerns", "low"], n=100)
    a = assess_analysis(ar, outcome(), min_studies_egger=10)
    assert a.rating("risk_of_bias").final == "serious"
    assert a.rating("imprecision").final in ("serious", "very serious")
    downgrades = sum(d.downgrade for d in a.domains)
    assert a.level == max(1, 4 - downgrades) == a.suggested_level
    letters = [d.footnote for d in a.domains if d.footnote]
    assert letters == ["a", "b", "c"]
    assert a.footnotes[0][1].startswith("Rated down one level for risk of bias: ")
    assert a.footnotes[1][1].startswith("Rated down ")
    assert "for imprecision: the 95% CI" in a.footnotes[1][1]


def test_domain_override_replaces_the_suggestion_and_keeps_both_reasons():
    over = {"indirectness": Override("x_post", "indirectness", "very serious", "Only preterm infants.", "grade.csv", 7)}
    a = assess_analysis(analysis_result(**PRECISE), outcome(), overrides=over)
    d = a.rating("indirectness")
    assert (d.suggested, d.final, d.downgrade) == ("not serious", "very serious", 2)
    assert a.level == 2 and a.suggested_level == 4
    assert d.footnote_text == (
        "Rated down two levels for indirectness by the review authors: Only preterm infants. "
        "The rules suggest not serious: " + d.reason + "."
    )
    assert d.as_dict()["override_source"] == "grade.csv, row 7"


def test_override_that_agrees_and_one_that_removes_a_downgrade():
    ar = analysis_result(yi=[0.1, 0.35, 0.2], vi=[0.01] * 3, rob=["high", "high", "low"])
    suggested = assess_analysis(ar, outcome()).rating("risk_of_bias")
    over = {"risk_of_bias": Override("x_post", "risk_of_bias", "not serious", "Blinded outcome assessors.")}
    d = assess_analysis(ar, outcome(), overrides=over).rating("risk_of_bias")
    assert suggested.final != "not serious" and d.final == "not serious"
    assert d.footnote_text.startswith(
        "Not rated down for risk of bias by the review authors: Blinded outcome assessors. The rules suggest"
    )
    same = {"risk_of_bias": Override("x_post", "risk_of_bias", suggested.final, "Agreed.")}
    assert (
        assess_analysis(ar, outcome(), overrides=same)
        .rating("risk_of_bias")
        .footnote_text.endswith("Agreed. As the rules suggest.")
    )


def test_certainty_override():
    over = {"certainty": Override("x_post", "certainty", "low", "Surrogate outcome.")}
    a = assess_analysis(analysis_result(**PRECISE), outcome(), overrides=over)
    assert (a.level, a.suggested_level, a.word) == (2, 4, "Low")
    assert a.certainty_footnotes == ("b",)
    assert (
        dict(a.footnotes)["b"] == "Certainty set to low by the review authors: Surrogate outcome. The domains "
        "give high."
    )


def test_mixed_designs_start_low_with_a_footnote():
    ar = analysis_result(**PRECISE)
    ar.effects.loc[0, "design"] = "cohort"
    a = assess_analysis(ar, outcome())
    assert (a.start, a.level, a.start_footnote) == (2, 2, "a")
    assert dict(a.footnotes)["a"].startswith("1 of the 4 studies are not randomized")  # JAMA's spelling


def test_lower_is_better_outcome_is_shown_in_its_own_direction():
    ar = analysis_result(**PRECISE, sign=-1)
    a = assess_analysis(ar, outcome(higher=False))
    assert a.effect.estimate == pytest.approx(-ar.result.estimate)
    assert a.effect.absolute.startswith(f"SMD {ar.result.estimate:.2f} SD lower")
    assert a.statement == "The intervention reduces outcome X."


def test_dichotomous_outcome_risks_from_the_comparator():
    ar = analysis_result(yi=[0.5, 0.6, 0.55], vi=[0.02] * 3, measure="OR", n=200, events=([60, 62, 61], [40, 42, 38]))
    a = assess_analysis(ar, outcome())
    cr = 120 / 300
    odds = math.exp(ar.result.estimate)
    assert a.effect.risks.comparator_risk == pytest.approx(cr)
    assert a.effect.comparator == "400 per 1,000"
    expected = math.floor(1000 * odds * cr / (1 - cr + odds * cr) + 0.5)
    assert a.effect.intervention.startswith(f"{expected} per 1,000 (")
    assert a.effect.relative.startswith(f"OR {odds:.2f} (")
    profile = evidence_profiles([a], QUESTION, JAMA)[0]["rows"][0]
    assert profile["comparator_arm"] == "120/300 (40.0%)"


def test_unpooled_analysis_is_not_assessed():
    ar = analysis_result(**PRECISE)
    ar = AnalysisResult(ar.analysis, ar.effects.iloc[:1], None, "REML", "1 study: fewer than 2, not pooled")
    a = assess_analysis(ar, outcome())
    assert (a.level, a.word, a.effect) == (None, "Not assessed", None)
    assert {d.final for d in a.domains} == {"not assessable"}
    row = sof_tables([a], QUESTION, JAMA)[0]["rows"][0]
    assert row["comments"] == "1 study: fewer than 2, not pooled"


def test_tables_reletter_footnotes_across_rows():
    first = assess_analysis(analysis_result(yi=[0.1, 0.35, 0.2], vi=[0.01] * 3, rob=["some concerns"] * 3), outcome())
    second = assess_analysis(analysis_result(**PRECISE, outcome_id="y"), outcome("y"))
    sof = sof_tables([first, second], QUESTION, JAMA)
    assert len(sof) == 1 and sof[0]["title"] == "Dyadic support compared with usual care for infants"
    n_first = len(first.footnotes)
    assert sof[0]["rows"][0]["footnotes"] == [chr(ord("a") + i) for i in range(n_first)]
    assert sof[0]["rows"][1]["footnotes"] == [chr(ord("a") + n_first)]
    assert [n["text"] for n in sof[0]["footnotes"]] == [t for _, t in first.footnotes + second.footnotes]
    profile = evidence_profiles([first, second], QUESTION, JAMA)[0]
    assert profile["footnotes"] == sof[0]["footnotes"]
    assert profile["rows"][0]["risk_of_bias"] == first.rating("risk_of_bias").final
    assert profile["rows"][0]["risk_of_bias_footnotes"] == ["a"]
    assert profile["rows"][1]["other_considerations"] == "publication bias not assessable"


def test_bad_overrides_are_reported_with_file_and_row():
    rows = [
        (2, GradeRow.model_construct(analysis_id="nope_post", domain="imprecision", judgement="serious", reason="r")),
        (3, GradeRow.model_construct(analysis_id="x_post", domain="vibes", judgement="serious", reason="r")),
        (4, GradeRow.model_construct(analysis_id="x_post", domain="certainty", judgement="serious", reason="r")),
        (5, GradeRow.model_construct(analysis_id="x_post", domain="imprecision", judgement="serious", reason=" ")),
        (6, GradeRow.model_construct(analysis_id="x_post", domain="imprecision", judgement="serious", reason="ok")),
    ]
    with pytest.raises(InputError) as info:
        read_overrides(rows, ["x_post"], "grade.csv")
    assert [str(p) for p in info.value.problems] == [
        "grade.csv, row 2, column 'analysis_id': unknown analysis (found 'nope_post'); expected an analysis id "
        "such as x_post",
        "grade.csv, row 3, column 'domain': not a GRADE domain (found 'vibes'); expected one of risk_of_bias, "
        "inconsistency, indirectness, imprecision, publication_bias, certainty",
        "grade.csv, row 4, column 'judgement': not a GRADE level (found 'serious'); expected one of high, "
        "moderate, low, very low for domain certainty",
        "grade.csv, row 5, column 'reason': an override needs a reason; expected the reason, printed as the footnote",
    ]
    assert read_overrides(rows[4:], ["x_post"])["x_post"]["imprecision"].row == 6
    with pytest.raises(InputError) as info:
        read_overrides([rows[4], (7, rows[4][1])], ["x_post"])
    assert str(info.value.problems[0]).startswith("grade.csv, row 7, column 'domain': a second override")
