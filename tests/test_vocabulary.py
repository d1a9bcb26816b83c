"""The vocabulary is the one list of measures and methods: the command line, the estimators and the
effect-size functions all agree with it, and a measure's name follows the journal style's spelling."""

from __future__ import annotations

import numpy as np
import pytest

from erh_report import vocabulary as vocab
from erh_report.analysis.effect_sizes import escalc
from erh_report.analysis.tau2 import ESTIMATORS
from erh_report.cli import _build_parser
from erh_report.numbers import STYLES


def _meta_choices(option: str) -> tuple[str, ...]:
    meta = _build_parser()._subparsers._group_actions[0].choices["meta"]  # type: ignore[union-attr]
    return tuple(next(a for a in meta._actions if option in a.option_strings).choices)


def test_cli_methods_are_the_registered_estimators():
    assert set(_meta_choices("--method")) == set(ESTIMATORS) == set(vocab.METHODS)


def test_cli_measures_are_the_vocabulary_and_each_is_computed():
    assert _meta_choices("--measure") == tuple(vocab.MEASURES)
    data = {
        "n1i": [20, 30],
        "m1i": [1.0, 2.0],
        "sd1i": [1.0, 1.5],
        "n2i": [20, 30],
        "m2i": [0.5, 1.0],
        "sd2i": [1.0, 1.5],
        "ai": [5, 6],
        "bi": [15, 24],
        "ci": [3, 4],
        "di": [17, 26],
        "ri": [0.3, 0.4],
        "ni": [40, 60],
        "yi": [0.1, 0.2],
        "vi": [0.01, 0.02],
    }
    for code in vocab.MEASURES:
        es = escalc(code, {k: np.asarray(v, dtype=float) for k, v in data.items()})
        assert es.yi.shape == (2,)


def test_ratio_measures_are_shown_exponentiated():
    assert vocab.RATIO_MEASURES == ("OR", "RR")
    assert vocab.measure("OR").shown(0.0) == 1.0 and vocab.measure("OR").null == 1.0
    assert vocab.measure("SMD").shown(-0.5) == -0.5 and vocab.measure("SMD").null == 0.0
    assert vocab.measure("OR").scale == "log" and vocab.measure("MD").scale == "raw"


@pytest.mark.parametrize(
    ("style", "singular", "plural"),
    [
        ("JAMA", "standardized mean difference (Hedges g)", "standardized mean differences (Hedges g)"),
        ("Cochrane", "standardised mean difference (Hedges' g)", "standardised mean differences (Hedges' g)"),
    ],
)
def test_measure_name_follows_the_journal_style(style, singular, plural):
    spelling = STYLES[style].spelling
    assert vocab.measure("SMD").prose(spelling) == singular
    assert vocab.measure("SMD").prose(spelling, plural=True) == plural


def test_spelling_keeps_capitals_and_leaves_other_words():
    assert (
        vocab.spell("Randomised trials favouring it; disorganised", vocab.AMERICAN)
        == "Randomized trials favoring it; disorganised"
    )
    assert vocab.spell("randomized, harmonized", vocab.BRITISH) == "randomised, harmonised"


def test_method_label():
    assert vocab.method_label("REML", True) == "REML+HKSJ"
    assert vocab.method_label("DL", False) == "DL"
    assert not vocab.method("FE").random and vocab.method("REML").random
