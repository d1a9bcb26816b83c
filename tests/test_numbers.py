"""The number style: JAMA and Cochrane presets."""

from __future__ import annotations

import pytest

from erh_report.numbers import MINUS, STYLES, get_style

JAMA = get_style("JAMA")
COCHRANE = get_style("Cochrane")


@pytest.mark.parametrize(
    ("p", "jama", "cochrane"),
    [
        (0.0423, "P = .04", "P = 0.042"),
        (0.00423, "P = .004", "P = 0.0042"),
        (0.0004, "P < .001", "P = 0.00040"),
        (0.000001, "P < .001", "P < 0.00001"),
        (0.995, "P > .99", "P = 0.99"),
        (0.5, "P = .50", "P = 0.50"),
        (0.0099999, "P = .010", "P = 0.010"),
    ],
)
def test_p_values(p, jama, cochrane):
    assert JAMA.p(p) == jama
    assert COCHRANE.p(p) == cochrane


def test_estimates_and_intervals():
    assert JAMA.estimate_ci(0.391, 0.152, 0.634) == "0.39 (95% CI, 0.15-0.63)"
    assert JAMA.estimate_ci(0.1, -0.12, 0.32) == f"0.10 (95% CI, {MINUS}0.12 to 0.32)"
    assert COCHRANE.estimate_ci(0.8, 0.7, 0.92) == "0.80 [0.70, 0.92]"
    assert COCHRANE.bracket(-0.5, -0.9, -0.1) == "-0.50 [-0.90, -0.10]"
    assert JAMA.number(-0.0001) == "0.00"
    assert JAMA.integer(14993) == "14,993"
    assert JAMA.percent(45.4) == "45%"
    assert JAMA.number(float("nan")) == "\u2013"


def test_unknown_style():
    with pytest.raises(ValueError, match="unknown number style"):
        get_style("APA")


def test_the_statistics_are_written_by_the_style():
    jama, cochrane = STYLES["JAMA"], STYLES["Cochrane"]
    assert jama.effect("SMD", 0.39, 0.15, 0.63) == "SMD 0.39 (95% CI, 0.15-0.63)"
    assert jama.effect("SMD", 0.39, 0.15, 0.63, level=None) == "SMD 0.39 (0.15-0.63)"
    assert cochrane.effect("SMD", 0.39, 0.15, 0.63) == "SMD 0.39 [0.15, 0.63]"
    assert (
        jama.estimate_ci(0.003, -0.001, 0.007, 90, 3, note="P = .12") == "0.003 (90% CI, \u22120.001 to 0.007; P = .12)"
    )
    assert cochrane.estimate_ci(0.003, -0.001, 0.007, 90, 3, note="P = 0.12") == "0.003 [-0.001, 0.007] (P = 0.12)"
    assert [jama.tau2(x) for x in (0.0, 0.004, 0.0412)] == ["0.00", "0.004", "0.04"]
    assert jama.i2(45.6) == "I² = 46%"
    assert jama.prediction_interval(-0.1, 0.7) == "95% PI, \u22120.10 to 0.70"
    assert jama.brackets(0.7, 0.92) == "[0.70, 0.92]"


def test_the_style_decides_spelling():
    assert STYLES["JAMA"].spell("randomised trials favouring") == "randomized trials favoring"
    assert STYLES["Cochrane"].spell("randomized trials") == "randomised trials"
