"""The number style: JAMA and Cochrane presets."""

from __future__ import annotations

import pytest

from erh_report.numbers import MINUS, get_style

JAMA = get_style("JAMA")
COCHRANE = get_style("Cochrane")


@pytest.mark.parametrize(("p", "jama", "cochrane"), [
    (0.0423, "P = .04", "P = 0.042"),
    (0.00423, "P = .004", "P = 0.0042"),
    (0.0004, "P < .001", "P = 0.00040"),
    (0.000001, "P < .001", "P < 0.00001"),
    (0.995, "P > .99", "P = 0.99"),
    (0.5, "P = .50", "P = 0.50"),
    (0.0099999, "P = .010", "P = 0.010"),
])
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
