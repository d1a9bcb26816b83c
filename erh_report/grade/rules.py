"""The suggested GRADE judgement of each domain, one pure function per domain, from the analysis's numbers.

Every threshold is a field of ``GradeSettings`` with its source; docs/grade.md states each rule in words.
Values are on the harmonised scale of the results (positive favours the intervention, ratios as logs);
``scale`` only turns them into the words of the reasons. A rule suggests: authors override any judgement
in the review's grade table, with a reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scipy import stats

from erh_report import rob_tools
from erh_report.grade.levels import (
    DOWNGRADE,
    HIGH,
    LOW,
    NOT_ASSESSABLE,
    NOT_SERIOUS,
    SERIOUS,
    VERY_SERIOUS,
    clamp,
)
from erh_report.grade.scale import EffectScale, risk_with
from erh_report.numbers import NumberStyle


@dataclass(frozen=True)
class GradeSettings:
    """The rules' thresholds; the defaults and their sources are listed in docs/grade.md."""

    start_randomised: int = HIGH  # Balshem 2011 (GRADE guidelines 3)
    start_observational: int = LOW
    rob_serious_share: float = 0.5  # weight not at low risk above this: "most information" (GRADE handbook 5.2.1)
    rob_very_serious_share: float = 0.5  # weight at high risk above this
    i2_serious: float = 50.0  # "substantial" (Cochrane Handbook 10.10.2; Guyatt 2011, GRADE guidelines 7)
    i2_very_serious: float = 75.0  # "considerable"
    egger_p: float = 0.10  # Egger 1997; Sterne 2011
    alpha: float = 0.05  # optimal information size: two-sided alpha and power (Guyatt 2011, GRADE guidelines 6)
    power: float = 0.80
    rob_tool: str = "RoB2"  # the review's risk-of-bias tool (rob_tools.py): which judgements are which concern


@dataclass(frozen=True)
class Judgement:
    """A rule's suggestion: the rating, why (one sentence, no final stop), and the numbers it used."""

    rating: str
    reason: str
    values: dict[str, float | int | str | None] = field(default_factory=dict)

    @property
    def downgrade(self) -> int:
        return DOWNGRADE[self.rating]


def _pct(style: NumberStyle, share: float) -> str:
    """A share (0-1) as a whole percentage, written by the number style."""
    return style.percent(100 * share)


def _shares(style: NumberStyle, share: dict[str, float]) -> dict[str, str]:
    return {k: _pct(style, v) for k, v in share.items()}


def _side(x: float, small: float) -> int:
    """+1 an important effect favouring the intervention, -1 favouring the comparator, 0 trivial."""
    return 1 if x >= small else -1 if x <= -small else 0


SIDE_WORDS = {
    1: "an important effect favouring the intervention",
    0: "a trivial effect",
    -1: "an important effect favouring the comparator",
}

SMD_SCALE = EffectScale("SMD")
DEFAULT_SETTINGS = GradeSettings()
_RANDOMISED = re.compile(r"\brct\b|randomi[sz]", re.IGNORECASE)


# --------------------------------------------------------------------------------------- start
def start_level(designs: Iterable[str], settings: GradeSettings = GradeSettings()) -> tuple[int, str, str | None]:
    """(starting certainty, design as the evidence profile names it, footnote or None).

    Randomised trials start at high, other designs at low (Balshem 2011). A body of evidence that mixes
    both starts at low, as its weakest design, and says so: GRADE rates such bodies separately."""
    designs = list(designs)
    randomised = [bool(_RANDOMISED.search(d if isinstance(d, str) else "")) for d in designs]
    if designs and all(randomised):
        return settings.start_randomised, "randomised trials", None
    if any(randomised):
        n = randomised.count(False)
        return (
            settings.start_observational,
            "randomised and non-randomised studies",
            f"{n} of the {len(designs)} studies are not randomised, so certainty starts at "
            f"{'low' if settings.start_observational == LOW else 'level ' + str(settings.start_observational)}",
        )
    return settings.start_observational, "non-randomised studies", None


def certainty(start: int, downgrades: Iterable[int]) -> int:
    """The starting level less every level rated down, never below very low."""
    return clamp(start - sum(downgrades))


# ---------------------------------------------------------------------------------- risk of bias
def risk_of_bias(
    weights: Sequence[float],
    judgements: Sequence[str],
    *,
    estimate: float | None = None,
    without_high: float | None = None,
    small: float = 0.2,
    settings: GradeSettings = GradeSettings(),
    scale: EffectScale = SMD_SCALE,
) -> Judgement:
    """From the share of the analysis weight by overall judgement, each read as the concern the review's
    tool gives it (rob_tools.py; RoB 2: low none, some concerns or no information serious, high very
    serious). Very serious when most weight is at a very serious concern; serious when most is at least at
    a serious one, or when leaving out the very-serious studies moves the estimate to another side of the
    small threshold."""
    tool = rob_tools.tool(settings.rob_tool)
    worded = {
        c: [tool.label(j).lower() for j in tool.judgements if tool.concern[j] == c and j != "no information"]
        for c in rob_tools.CONCERNS
    }
    mid, high = " or ".join(worded["serious"]), " or ".join(worded["very serious"])
    total = float(sum(weights))
    share = {"low": 0.0, "some concerns": 0.0, "high": 0.0}
    n_high = 0
    for w, j in zip(weights, judgements, strict=True):
        key = {"not serious": "low", "very serious": "high"}.get(tool.concern.get(j, "serious"), "some concerns")
        share[key] += w / total if total > 0 else 1 / len(weights)
        n_high += key == "high"
    not_low = share["some concerns"] + share["high"]
    values: dict[str, float | int | str | None] = {
        "share_low": share["low"],
        "share_some_concerns": share["some concerns"],
        "share_high": share["high"],
        "studies_high": n_high,
    }
    pct = _shares(scale.style, {**share, "not_low": not_low})
    split = f"{high} {pct['high']}, {mid} {pct['some concerns']}"
    if share["high"] > settings.rob_very_serious_share:
        return Judgement(
            VERY_SERIOUS,
            f"{pct['high']} of the weight comes from studies at {high} risk of bias ({tool.name} overall)",
            values,
        )
    if not_low > settings.rob_serious_share:
        return Judgement(
            SERIOUS,
            f"{pct['not_low']} of the weight comes from studies at {mid} or {high} risk of bias ({split})",
            values,
        )
    if (
        n_high
        and estimate is not None
        and without_high is not None
        and _side(estimate, small) != _side(without_high, small)
    ):
        values["estimate_without_high"] = without_high
        return Judgement(
            SERIOUS,
            f"leaving out the {n_high} stud{'y' if n_high == 1 else 'ies'} at {high} risk "
            f"of bias ({pct['high']} of the weight) changes the estimate from "
            f"{scale.value(estimate)}, {SIDE_WORDS[_side(estimate, small)]}, to "
            f"{scale.value(without_high)}, {SIDE_WORDS[_side(without_high, small)]}",
            values,
        )
    return Judgement(
        NOT_SERIOUS, f"{pct['low']} of the weight comes from studies at low risk of bias ({split})", values
    )


# ---------------------------------------------------------------------------------- inconsistency
def inconsistency(
    k: int,
    i2: float,
    pi_low: float,
    pi_high: float,
    estimate: float,
    study_low: Sequence[float] = (),
    study_high: Sequence[float] = (),
    *,
    small: float = 0.2,
    settings: GradeSettings = GradeSettings(),
    scale: EffectScale = SMD_SCALE,
) -> Judgement:
    """From I² together with what the heterogeneity means (Guyatt 2011, GRADE guidelines 7): serious when
    I² is substantial and the true effects may go either way (the prediction interval includes no effect,
    or a study shows a clear effect in the opposite direction); very serious when I² is considerable and the
    prediction interval reaches important effects in both directions."""
    if k < 2:
        return Judgement(NOT_SERIOUS, "a single study: inconsistency cannot be assessed", {"k": k})
    opposite = sum(1 for lo, hi in zip(study_low, study_high, strict=True) if (hi < 0 if estimate >= 0 else lo > 0))
    pi_null = pi_low < 0 < pi_high
    pi_both = pi_low <= -small and pi_high >= small
    values: dict[str, float | int | str | None] = {
        "i2": i2,
        "pi_low": pi_low,
        "pi_high": pi_high,
        "studies_opposite": opposite,
    }
    pi_text = f"the prediction interval ({scale.interval(pi_low, pi_high)})"
    i2_text = scale.style.i2(i2)
    if i2 >= settings.i2_very_serious and pi_both:
        return Judgement(
            VERY_SERIOUS,
            f"{i2_text} and {pi_text} includes important effects in both directions (beyond {scale.band(small)})",
            values,
        )
    if i2 >= settings.i2_serious and (pi_null or opposite):
        why = []
        if pi_null:
            why.append(f"{pi_text} includes no effect ({scale.null})")
        if opposite:
            why.append(
                f"{opposite} stud{'y shows' if opposite == 1 else 'ies show'} a clear effect in the opposite direction"
            )
        return Judgement(SERIOUS, f"{i2_text} and " + " and ".join(why), values)
    if i2 >= settings.i2_serious:
        return Judgement(
            NOT_SERIOUS,
            f"{i2_text}, but {pi_text} lies on one side of no effect and no study "
            f"shows a clear effect in the opposite direction",
            values,
        )
    return Judgement(NOT_SERIOUS, f"{i2_text}, below {settings.i2_serious:g}%; {pi_text}", values)


# ----------------------------------------------------------------------------------- indirectness
def indirectness() -> Judgement:
    """Not serious unless the authors say otherwise: whether the studies' population, intervention,
    comparator and outcomes match the question is a judgement, not a number (Guyatt 2011, GRADE guidelines 8)."""
    return Judgement(
        NOT_SERIOUS,
        "population, intervention, comparator and outcome as in the review question; "
        "no concern recorded in the grade table",
    )


# ------------------------------------------------------------------------------------ imprecision
def optimal_information_size(
    measure: str,
    delta: float,
    comparator_risk: float | None = None,
    settings: GradeSettings = GradeSettings(),
    direction: int = 1,
) -> float:
    """Participants in one trial adequately powered to detect ``delta`` (on the measure's scale).

    SMD: 4 (z_a + z_b)² / delta². Dichotomous: the usual formula for two proportions, the comparator risk
    against the risk at ``delta`` in the direction of the estimate. MD and unknown risks: NaN (not assessed)."""
    za, zb = stats.norm.isf(settings.alpha / 2), stats.norm.ppf(settings.power)
    if not delta or math.isnan(delta):
        return math.nan
    if measure == "SMD":
        return float(4 * (za + zb) ** 2 / delta**2)
    if measure in ("OR", "RR", "RD") and comparator_risk is not None and 0 < comparator_risk < 1:
        p0 = comparator_risk
        p1 = risk_with(p0, delta if direction >= 0 else -delta, measure)
        if not 0 < p1 < 1 or p1 == p0:
            return math.nan
        pbar = (p0 + p1) / 2
        n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p0 * (1 - p0) + p1 * (1 - p1))) ** 2
        return float(2 * math.ceil(n / (p1 - p0) ** 2))
    return math.nan


def imprecision(
    ci_low: float,
    ci_high: float,
    *,
    small: float = 0.2,
    participants: float = math.nan,
    ois: float = math.nan,
    level: float = 95,
    threshold_name: str = "the threshold for a small effect",
    settings: GradeSettings = GradeSettings(),
    scale: EffectScale = SMD_SCALE,
) -> Judgement:
    """From the CI against the important-effect thresholds -small and +small (Core GRADE; Zeng 2022, GRADE
    guidance 34): crossing one is serious, crossing both is very serious. A CI that crosses neither is still
    serious when the participants fall short of the optimal information size (Guyatt 2011, GRADE guidelines 6)."""
    crossed = [t for t in (-small, small) if ci_low < t < ci_high]
    ois_short = not math.isnan(ois) and participants < ois
    values: dict[str, float | int | str | None] = {
        "ci_low": ci_low,
        "ci_high": ci_high,
        "threshold": small,
        "thresholds_crossed": len(crossed),
        "participants": participants,
        "ois": None if math.isnan(ois) else ois,
    }
    ci = f"the {level:g}% CI ({scale.interval(ci_low, ci_high)})"
    null = " and no effect" if ci_low < 0 < ci_high else ""
    ois_text = (
        f"{participants:,.0f} participants, fewer than the optimal information size of {ois:,.0f}" if ois_short else ""
    )
    if len(crossed) == 2:
        return Judgement(
            VERY_SERIOUS,
            f"{ci} includes important effects in both directions (beyond {scale.band(small)}, {threshold_name})",
            values,
        )
    if crossed:
        text = (
            f"{ci} crosses {threshold_name} ({scale.value(crossed[0])}): it includes both an important and "
            f"a trivial effect{null}"
        )
        return Judgement(SERIOUS, text + (f"; {ois_text}" if ois_short else ""), values)
    if ois_short:
        return Judgement(
            SERIOUS,
            f"{ois_text} (one trial powered at {_pct(scale.style, settings.power)} to detect {scale.value(small)})",
            values,
        )
    enough = (
        f"; {participants:,.0f} participants reach the optimal information size of {ois:,.0f}"
        if not math.isnan(ois)
        else ""
    )
    if ci_low >= small or ci_high <= -small:
        edge = small if ci_low >= small else -small
        return Judgement(
            NOT_SERIOUS,
            f"{ci} lies beyond {threshold_name} ({scale.value(edge)}): the effect is important{enough}",
            values,
        )
    return Judgement(
        NOT_SERIOUS, f"{ci} lies between {scale.band(small)} ({threshold_name}): the effect is trivial{enough}", values
    )


# ------------------------------------------------------------------------------- publication bias
def publication_bias(
    k: int,
    *,
    min_studies: int = 10,
    egger_p: float | None = None,
    egger_statistic: float | None = None,
    estimate: float = 0.0,
    trimfill_k0: int | None = None,
    trimfill_estimate: float | None = None,
    settings: GradeSettings = GradeSettings(),
    scale: EffectScale = SMD_SCALE,
) -> Judgement:
    """From Egger's test when at least ``min_studies`` studies (Sterne 2011: tests lack power below 10);
    not assessable below. Serious when P < .10 and the smaller studies show larger effects in the direction
    of the pooled estimate, so that missing studies would have inflated it (Guyatt 2011, GRADE guidelines 5);
    asymmetry the other way is reported but does not rate down. The reason says what trim-and-fill adds."""
    values: dict[str, float | int | str | None] = {
        "k": k,
        "egger_p": egger_p,
        "trimfill_k0": trimfill_k0,
        "trimfill_estimate": trimfill_estimate,
    }
    if k < min_studies or egger_p is None or math.isnan(egger_p):
        return Judgement(
            NOT_ASSESSABLE,
            f"fewer than {min_studies} studies (k = {k}): funnel-plot asymmetry cannot be tested",
            values,
        )
    p = f"Egger's test {scale.style.p(egger_p)}"
    filled = ""
    if trimfill_k0 is not None:
        filled = f"; trim-and-fill adds {trimfill_k0} stud{'y' if trimfill_k0 == 1 else 'ies'}"
        if trimfill_k0 and trimfill_estimate is not None:
            filled += f" ({scale.value(trimfill_estimate)} with them)"
    if egger_p < settings.egger_p:
        inflates = (egger_statistic or 0) * (estimate if estimate else 1) > 0
        lean = "favouring the intervention" if (egger_statistic or 0) > 0 else "favouring the comparator"
        if inflates:
            return Judgement(
                SERIOUS,
                f"{p}: smaller studies show larger effects {lean}, the direction of the pooled estimate{filled}",
                values,
            )
        return Judgement(
            NOT_SERIOUS,
            f"{p}, but smaller studies lean {lean.replace('favouring', 'towards')}, "
            f"against the pooled estimate: asymmetry that would not inflate it"
            f"{filled}",
            values,
        )
    return Judgement(NOT_SERIOUS, f"{p}: no funnel-plot asymmetry detected{filled}", values)
