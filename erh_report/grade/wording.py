"""How GRADE writes effects: "SMD 0.39 SD higher (0.15 higher to 0.63 higher)", "OR 1.36 (1.06 to 1.74)",
risks per 1,000 from the comparator risk, and informative statements ("probably increases ... slightly").

Absolute effects follow GRADEpro: the comparator risk is the pooled control-group risk of the studies
(events / participants); the risk with the intervention comes from it and the relative effect; each is
rounded to a whole number per 1,000. Informative statements follow Santesso et al. 2020 (GRADE guidelines 26).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from erh_report.grade.levels import HIGH, LOW, MODERATE, VERY_LOW
from erh_report.grade.scale import EffectScale, Thresholds, risk_with

DASH = "\u2013"


def per_1000(risk: float) -> int:
    """A risk as a whole number per 1,000, halves rounded up (GRADEpro, not banker's rounding)."""
    return int(math.floor(risk * 1000 + 0.5))


def _more_fewer(n: int, unit: str = "") -> str:
    """ "62 more", "13 fewer per 1,000"; zero is "0 fewer", as GRADEpro writes it."""
    return f"{abs(n)} {'more' if n > 0 else 'fewer'}" + (f" {unit}" if unit else "")


def _higher_lower(scale: EffectScale, x: float, unit: str = "") -> str:
    """ "0.39 SD higher"; a value that rounds to zero has no direction ("0.00 SD")."""
    text = scale.style.number(abs(x))
    unit = f" {unit}" if unit else ""
    if float(text) == 0:
        return f"{text}{unit}"
    return f"{text}{unit} {'higher' if x > 0 else 'lower'}"


def difference_text(scale: EffectScale, est: float, low: float, high: float) -> str:
    """GRADE wording of a mean difference: "SMD 0.39 SD higher (0.15 higher to 0.63 higher)"; numbers are in
    the outcome's shown direction (natural, or harmonised when instruments mix directions)."""
    unit = "SD" if scale.measure == "SMD" else ""
    e = scale.shown(est)
    lo, hi = sorted((scale.shown(low), scale.shown(high)))
    return f"{scale.measure} {_higher_lower(scale, e, unit)} ({_higher_lower(scale, lo)} to {_higher_lower(scale, hi)})"


def relative_text(scale: EffectScale, est: float, low: float, high: float) -> str:
    """ "OR 1.36 (1.06 to 1.74)" for ratio measures; an en dash otherwise (GRADEpro leaves the cell empty)."""
    if not scale.ratio:
        return DASH
    return scale.effect(est, low, high)


@dataclass(frozen=True)
class Absolute:
    """Anticipated absolute effects of a dichotomous outcome, per 1,000, in the outcome's own direction."""

    comparator_risk: float
    comparator: int
    intervention: int
    intervention_low: int
    intervention_high: int
    difference: int
    difference_low: int
    difference_high: int

    @property
    def comparator_text(self) -> str:
        return f"{self.comparator:,} per 1,000"

    @property
    def intervention_text(self) -> str:
        return f"{self.intervention:,} per 1,000 ({self.intervention_low:,} to {self.intervention_high:,})"

    @property
    def difference_text(self) -> str:
        """ "62 more per 1,000 (from 13 more to 115 more)"."""
        return (
            f"{_more_fewer(self.difference, 'per 1,000')} (from {_more_fewer(self.difference_low)} "
            f"to {_more_fewer(self.difference_high)})"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            **asdict(self),
            "comparator_text": self.comparator_text,
            "intervention_text": self.intervention_text,
            "difference_text": self.difference_text,
        }


def absolute(scale: EffectScale, comparator_risk: float, est: float, low: float, high: float) -> Absolute:
    """Risks per 1,000 with the intervention from the comparator risk and the (natural) relative effect."""
    lo, hi = scale.oriented_interval(low, high)
    risks = [risk_with(comparator_risk, v, scale.measure) for v in (scale.oriented(est), lo, hi)]
    risks = [min(1.0, max(0.0, r)) for r in risks]
    cr = per_1000(comparator_risk)
    diffs = [per_1000(r - comparator_risk) for r in risks]
    return Absolute(comparator_risk, cr, *(per_1000(r) for r in risks), *diffs)


# ------------------------------------------------------------------------------ informative statements
_VERBS = {  # base, third person, noun
    "increase": ("increase", "increases", "increase"),
    "reduce": ("reduce", "reduces", "reduction"),
    "improve": ("improve", "improves", "improvement"),
    "worsen": ("worsen", "worsens", "worsening"),
}


def size(estimate: float, thresholds: Thresholds) -> int:
    """0 trivial, 1 small, 2 moderate, 3 large: the harmonised point estimate against the thresholds."""
    x = abs(estimate)
    return 3 if x >= thresholds.large else 2 if x >= thresholds.moderate else 1 if x >= thresholds.small else 0


def direction_verb(scale: EffectScale, estimate: float) -> str:
    """ "increase"/"reduce" in the outcome's own direction; "improve"/"worsen" when directions are mixed."""
    if scale.harmonised:
        return "improve" if estimate >= 0 else "worsen"
    return "increase" if scale.oriented(estimate) >= 0 else "reduce"


def _lower_first(text: str) -> str:
    """ "Parent-infant bonding" -> "parent-infant bonding", but "BMI" stays."""
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def statement(level: int | None, size_index: int, verb: str, outcome: str, subject: str = "The intervention") -> str:
    """The informative statement for a certainty level and a size of effect (Santesso 2020, table 2)."""
    what = _lower_first(outcome)
    if level is None:
        return f"The effect of {_lower_first(subject)} on {what} was not assessed."
    if level <= VERY_LOW:
        return f"The evidence is very uncertain about the effect of {_lower_first(subject)} on {what}."
    base, third, noun = _VERBS[verb]
    hedge = {HIGH: "", MODERATE: "probably ", LOW: "may "}[level]
    if size_index == 0:
        verb_phrase = {HIGH: "results", MODERATE: "probably results", LOW: "may result"}[level]
        return f"{subject} {verb_phrase} in little to no difference in {what}."
    if size_index == 3:
        verb_phrase = {HIGH: "results", MODERATE: "likely results", LOW: "may result"}[level]
        return f"{subject} {verb_phrase} in a large {noun} in {what}."
    form = base if level == LOW else third  # "may increase", but "probably increases"
    slightly = " slightly" if size_index == 1 else ""
    return f"{subject} {hedge}{form} {what}{slightly}."
