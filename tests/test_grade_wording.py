"""GRADE's words for effects: SMD and ratio measures in both directions, risks per 1,000, statements."""

from __future__ import annotations

import math

import pytest

from erh_report.grade.footnotes import Lettering, letter
from erh_report.grade.levels import symbols, word
from erh_report.grade.scale import EffectScale, Thresholds, thresholds_for
from erh_report.grade.wording import (
    absolute,
    difference_text,
    direction_verb,
    per_1000,
    relative_text,
    size,
    statement,
)
from erh_report.numbers import STYLES

SMD = EffectScale("SMD")
SMD_LOWER_BETTER = EffectScale("SMD", sign=-1)
ln = math.log


def test_smd_higher():
    assert difference_text(SMD, 0.39, 0.15, 0.63) == "SMD 0.39 SD higher (0.15 higher to 0.63 higher)"


def test_smd_lower_in_the_outcome_direction():
    # harmonised +0.39 on a scale where lower is better is 0.39 SD lower, limits swapped
    assert difference_text(SMD_LOWER_BETTER, 0.39, 0.15, 0.63) == "SMD 0.39 SD lower (0.63 lower to 0.15 lower)"
    assert difference_text(SMD, -0.39, -0.63, -0.15) == "SMD 0.39 SD lower (0.63 lower to 0.15 lower)"


def test_smd_crossing_and_zero():
    assert difference_text(SMD, 0.05, -0.06, 0.15) == "SMD 0.05 SD higher (0.06 lower to 0.15 higher)"
    assert difference_text(SMD, 0.0004, -0.08, 0.08) == "SMD 0.00 SD (0.08 lower to 0.08 higher)"


def test_md_has_no_sd_unit():
    assert difference_text(EffectScale("MD"), 2.1, 0.5, 3.7) == "MD 2.10 higher (0.50 higher to 3.70 higher)"


def test_ratio_relative_effect_both_directions():
    assert relative_text(EffectScale("OR"), ln(1.79), ln(1.54), ln(2.09)) == "OR 1.79 (1.54-2.09)"  # JAMA's interval
    assert (
        relative_text(EffectScale("OR", style=STYLES["Cochrane"]), ln(1.79), ln(1.54), ln(2.09))
        == "OR 1.79 [1.54, 2.09]"
    )
    # an event where lower is better: harmonised log OR +ln 1.25 is OR 0.80 for the event itself
    assert relative_text(EffectScale("OR", sign=-1), ln(1.25), ln(1.1), ln(1.4)) == "OR 0.80 (0.71-0.91)"
    assert relative_text(SMD, 0.3, 0.1, 0.5) == "\u2013"


def test_risks_per_1000_risk_ratio():
    risks = absolute(EffectScale("RR"), 0.2, ln(1.5), ln(0.9), ln(2.5))
    assert (risks.comparator, risks.intervention, risks.intervention_low, risks.intervention_high) == (
        200,
        300,
        180,
        500,
    )
    assert risks.comparator_text == "200 per 1,000"
    assert risks.intervention_text == "300 per 1,000 (180 to 500)"
    assert risks.difference_text == "100 more per 1,000 (from 20 fewer to 300 more)"


def test_risks_per_1000_odds_ratio_fewer():
    # OR 0.5 at a comparator risk of 50%: odds 1 -> 0.5, risk 1/3
    risks = absolute(EffectScale("OR"), 0.5, ln(0.5), ln(0.25), ln(1.0))
    assert risks.intervention_text == "333 per 1,000 (200 to 500)"
    assert risks.difference_text == "167 fewer per 1,000 (from 300 fewer to 0 fewer)"


def test_risks_per_1000_in_the_event_direction():
    # harmonised log OR +ln 2 for an event where lower is better: the event's OR is 0.5
    risks = absolute(EffectScale("OR", sign=-1), 0.5, ln(2), ln(1), ln(4))
    assert risks.intervention == 333 and risks.intervention_low == 200 and risks.intervention_high == 500


def test_per_1000_rounds_halves_up():
    assert per_1000(0.0625) == 63
    assert per_1000(0.0624) == 62


def test_thresholds_for_odds_ratios_by_chinn():
    t = thresholds_for("OR", (0.2, 0.5, 0.8))
    assert math.exp(t.moderate) == pytest.approx(2.47, abs=0.01)  # SMD 0.5 is OR 2.47 (Chinn 2000)
    assert math.exp(thresholds_for("OR", (0.2, 0.5, 0.8), mid=1.25).small) == pytest.approx(1.25)
    rr = thresholds_for("RR", (0.2, 0.5, 0.8), comparator_risk=0.2)
    odds = math.exp(t.small)
    assert math.exp(rr.small) == pytest.approx(odds / (1 - 0.2 + 0.2 * odds))


def test_thresholds_for_smd_take_the_mid():
    assert thresholds_for("SMD", (0.2, 0.5, 0.8), mid=0.3) == Thresholds(0.3, 0.5, 0.8)


@pytest.mark.parametrize(("estimate", "expected"), [(0.1999, 0), (0.2, 1), (-0.49, 1), (0.5, 2), (0.8, 3), (-0.8, 3)])
def test_size_at_thresholds(estimate: float, expected: int):
    assert size(estimate, Thresholds(0.2, 0.5, 0.8)) == expected


def test_direction_verbs():
    assert direction_verb(SMD, 0.3) == "increase"
    assert direction_verb(SMD_LOWER_BETTER, 0.3) == "reduce"
    assert direction_verb(EffectScale("SMD", sign=0), -0.3) == "worsen"


@pytest.mark.parametrize(
    ("level", "size_index", "verb", "text"),
    [
        (4, 2, "reduce", "The intervention reduces parent/caregiver depression."),
        (3, 1, "increase", "The intervention probably increases parent/caregiver depression slightly."),
        (2, 2, "improve", "The intervention may improve parent/caregiver depression."),
        (3, 3, "reduce", "The intervention likely results in a large reduction in parent/caregiver depression."),
        (2, 3, "increase", "The intervention may result in a large increase in parent/caregiver depression."),
        (4, 0, "increase", "The intervention results in little to no difference in parent/caregiver depression."),
        (
            3,
            0,
            "reduce",
            "The intervention probably results in little to no difference in parent/caregiver depression.",
        ),
        (
            1,
            2,
            "reduce",
            "The evidence is very uncertain about the effect of the intervention on parent/caregiver depression.",
        ),
    ],
)
def test_informative_statements(level: int, size_index: int, verb: str, text: str):
    assert statement(level, size_index, verb, "Parent/caregiver depression") == text


def test_statement_keeps_acronyms():
    assert statement(2, 1, "reduce", "BMI") == "The intervention may reduce BMI slightly."


def test_certainty_symbols_and_words():
    assert (symbols(2), word(2)) == ("\u2a01\u2a01\u25ef\u25ef", "Low")
    assert (symbols(4), word(1)) == ("\u2a01" * 4, "Very low")


def test_letters_run_past_z():
    assert [letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["a", "z", "aa", "ab", "zz", "aaa"]


def test_lettering_reuses_a_letter_for_the_same_text():
    lettering = Lettering()
    assert lettering.many(["one", "two", "one", "three"]) == ["a", "b", "a", "c"]
    assert lettering.notes()[1] == {"letter": "b", "text": "two"}


def test_cochrane_style_minus():
    scale = EffectScale("SMD", style=STYLES["Cochrane"])
    assert scale.interval(-0.3, 0.1) == "-0.30 to 0.10"
