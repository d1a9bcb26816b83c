"""Each GRADE rule at and around its thresholds, on numbers built for the purpose."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from erh_report.grade import rules
from erh_report.grade.levels import NOT_ASSESSABLE, NOT_SERIOUS, SERIOUS, VERY_SERIOUS
from erh_report.grade.rules import GradeSettings


# ------------------------------------------------------------------------------------ start level
@pytest.mark.parametrize(
    ("designs", "level", "design"),
    [
        (["RCT", "cluster RCT", "Randomised crossover"], 4, "randomised trials"),
        (["cohort", "before-after"], 2, "non-randomised studies"),
        (["RCT", "cohort"], 2, "randomised and non-randomised studies"),
    ],
)
def test_start_level_from_designs(designs: list[str], level: int, design: str):
    start, name, note = rules.start_level(designs)
    assert (start, name) == (level, design)
    assert (note is not None) == (design == "randomised and non-randomised studies")


def test_start_level_is_configurable():
    assert rules.start_level(["cohort"], GradeSettings(start_observational=3))[0] == 3


def test_certainty_subtracts_and_stops_at_very_low():
    assert rules.certainty(4, [1, 0, 0, 1, 0]) == 2
    assert rules.certainty(4, [2, 1, 1, 1, 0]) == 1
    assert rules.certainty(2, []) == 2


# ----------------------------------------------------------------------------------- risk of bias
@pytest.mark.parametrize(
    ("weights", "judgements", "rating"),
    [
        ([50, 50], ["high", "low"], NOT_SERIOUS),  # exactly half is not "most"
        ([50.1, 49.9], ["high", "low"], VERY_SERIOUS),
        ([50, 50], ["some concerns", "low"], NOT_SERIOUS),
        ([51, 49], ["some concerns", "low"], SERIOUS),
        ([30, 21, 49], ["high", "some concerns", "low"], SERIOUS),
        ([51, 49], ["no information", "low"], SERIOUS),  # no information counts with some concerns
    ],
)
def test_risk_of_bias_weight_shares(weights: list[float], judgements: list[str], rating: str):
    assert rules.risk_of_bias(weights, judgements).rating == rating


def test_risk_of_bias_reason_names_the_share():
    j = rules.risk_of_bias([30, 21, 49], ["high", "some concerns", "low"])
    assert j.reason.startswith("51% of the weight comes from studies at some concerns or high risk of bias")
    assert j.values["share_high"] == pytest.approx(0.30)


@pytest.mark.parametrize(("without", "rating"), [(0.19, SERIOUS), (0.20, NOT_SERIOUS), (0.35, NOT_SERIOUS)])
def test_risk_of_bias_when_leaving_out_high_risk_changes_the_size(without: float, rating: str):
    j = rules.risk_of_bias([20, 80], ["high", "low"], estimate=0.25, without_high=without, small=0.2)
    assert j.rating == rating
    if rating == SERIOUS:
        assert "leaving out the 1 study at high risk of bias (20% of the weight)" in j.reason


# ---------------------------------------------------------------------------------- inconsistency
def test_inconsistency_single_study():
    assert rules.inconsistency(1, math.nan, math.nan, math.nan, 0.3).rating == NOT_SERIOUS


@pytest.mark.parametrize(
    ("i2", "pi", "rating"),
    [
        (49.9, (-0.1, 0.6), NOT_SERIOUS),
        (50.0, (-0.1, 0.6), SERIOUS),
        (60.0, (0.05, 0.6), NOT_SERIOUS),  # substantial, but every plausible effect favours the intervention
        (75.0, (-0.2, 0.7), VERY_SERIOUS),  # reaches -0.2: important harm plausible too
        (75.0, (-0.19, 0.7), SERIOUS),
        (74.9, (-0.3, 0.7), SERIOUS),
    ],
)
def test_inconsistency_thresholds(i2: float, pi: tuple[float, float], rating: str):
    assert rules.inconsistency(10, i2, *pi, 0.3, small=0.2).rating == rating


def test_inconsistency_study_in_the_opposite_direction():
    j = rules.inconsistency(3, 55.0, 0.05, 0.6, 0.3, [0.1, 0.2, -0.5], [0.5, 0.6, -0.1])
    assert j.rating == SERIOUS
    assert j.reason == "I² = 55% and 1 study shows a clear effect in the opposite direction"


# ------------------------------------------------------------------------------------ imprecision
def test_optimal_information_size_smd():
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    assert rules.optimal_information_size("SMD", 0.2) == pytest.approx(4 * z**2 / 0.04)
    assert rules.optimal_information_size("SMD", 0.5) == pytest.approx(4 * z**2 / 0.25)
    assert math.isnan(rules.optimal_information_size("MD", 2.0))


def test_optimal_information_size_two_proportions():
    # 50% against 60%, alpha .05, power 80%: 388 per group by the normal-approximation formula
    assert rules.optimal_information_size("RD", 0.1, comparator_risk=0.5) == 776
    assert math.isnan(rules.optimal_information_size("OR", 0.36, comparator_risk=None))


@pytest.mark.parametrize(
    ("ci", "rating", "crossed"),
    [
        ((0.20, 0.50), NOT_SERIOUS, 0),  # touching the threshold is not crossing it
        ((0.19, 0.50), SERIOUS, 1),
        ((-0.05, 0.21), SERIOUS, 1),
        ((-0.20, 0.20), NOT_SERIOUS, 0),  # within the trivial band: precise about "no important effect"
        ((-0.21, 0.21), VERY_SERIOUS, 2),
        ((-0.60, -0.25), NOT_SERIOUS, 0),
    ],
)
def test_imprecision_ci_against_thresholds(ci: tuple[float, float], rating: str, crossed: int):
    j = rules.imprecision(*ci, small=0.2, participants=1000, ois=785)
    assert (j.rating, j.values["thresholds_crossed"]) == (rating, crossed)


@pytest.mark.parametrize(("participants", "rating"), [(784, SERIOUS), (785, NOT_SERIOUS)])
def test_imprecision_optimal_information_size(participants: int, rating: str):
    j = rules.imprecision(0.3, 0.6, small=0.2, participants=participants, ois=785)
    assert j.rating == rating
    if rating == SERIOUS:
        assert "784 participants, fewer than the optimal information size of 785" in j.reason


def test_imprecision_reason_mentions_no_effect():
    j = rules.imprecision(-0.05, 0.3, small=0.2, participants=1000, ois=785)
    assert j.reason == (
        "the 95% CI (−0.05 to 0.30) crosses the threshold for a small effect (SMD 0.20): it "
        "includes both an important and a trivial effect and no effect"
    )


# ------------------------------------------------------------------------------- publication bias
@pytest.mark.parametrize(
    ("k", "p", "statistic", "estimate", "rating"),
    [
        (9, 0.01, 3.0, 0.3, NOT_ASSESSABLE),
        (10, 0.0999, 2.0, 0.3, SERIOUS),
        (10, 0.10, 2.0, 0.3, NOT_SERIOUS),
        (12, 0.01, -2.5, 0.3, NOT_SERIOUS),  # small studies lean against the estimate: nothing inflated
        (12, 0.01, -2.5, -0.3, SERIOUS),
    ],
)
def test_publication_bias(k: int, p: float, statistic: float, estimate: float, rating: str):
    j = rules.publication_bias(k, min_studies=10, egger_p=p, egger_statistic=statistic, estimate=estimate)
    assert j.rating == rating
    assert j.downgrade == (1 if rating == SERIOUS else 0)


def test_publication_bias_reason():
    j = rules.publication_bias(8, min_studies=10, egger_p=None)
    assert j.reason == "fewer than 10 studies (k = 8): funnel-plot asymmetry cannot be tested"
    j = rules.publication_bias(
        14, egger_p=0.03, egger_statistic=2.2, estimate=0.4, trimfill_k0=3, trimfill_estimate=0.31
    )
    assert j.reason == (
        "Egger's test P = .03: smaller studies show larger effects favouring the intervention, "
        "the direction of the pooled estimate; trim-and-fill adds 3 studies (SMD 0.31 with them)"
    )


def test_indirectness_defaults_to_not_serious():
    assert rules.indirectness().rating == NOT_SERIOUS


# ---------------------------------------------------------------------------------- risk of bias, other tools
@pytest.mark.parametrize(
    ("tool", "weights", "judgements", "rating", "reason"),
    [
        ("ROB1", [51, 49], ["unclear", "low"], SERIOUS, "at unclear or high risk of bias (high 0%, unclear 51%)"),
        ("ROB1", [60, 40], ["high", "unclear"], VERY_SERIOUS, "60% of the weight comes from studies at high risk"),
        ("ROB1", [50, 50], ["unclear", "low"], NOT_SERIOUS, "50% of the weight comes from studies at low risk"),
        (
            "ROBINS-I",
            [30, 30, 40],
            ["critical", "serious", "low"],
            VERY_SERIOUS,
            "60% of the weight comes from studies at serious or critical risk of bias (ROBINS-I overall)",
        ),
        ("ROBINS-I", [51, 49], ["moderate", "low"], SERIOUS, "at moderate or serious or critical risk of bias"),
    ],
)
def test_risk_of_bias_reads_the_tool(tool, weights, judgements, rating, reason):
    j = rules.risk_of_bias(weights, judgements, settings=rules.GradeSettings(rob_tool=tool))
    assert j.rating == rating
    assert reason in j.reason


@pytest.mark.parametrize("tool", ["RoB2", "ROBINS-I", "ROB1"])
def test_every_judgement_of_a_tool_is_its_declared_concern(tool):
    from erh_report import rob_tools

    t = rob_tools.TOOLS[tool]
    for judgement in t.judgements:
        rating = rules.risk_of_bias([1.0], [judgement], settings=rules.GradeSettings(rob_tool=tool)).rating
        assert (
            rating
            == {"not serious": NOT_SERIOUS, "serious": SERIOUS, "very serious": VERY_SERIOUS}[t.concern[judgement]]
        )
