"""The effect scale of one analysis: its measure, the outcome's own direction, and GRADE thresholds on it.

Results hold effects harmonised so that a positive value favours the intervention, ratios on the log scale.
GRADE tables speak in the outcome's own direction ("SMD 0.14 SD lower" for depression, the risk of
disorganised attachment per 1,000), so an analysis whose instruments all point the same way is shown in
that direction; one that mixes directions (a bonding scale where higher is better and one where lower is
better) can only be shown harmonised, and says so.

The outcome's thresholds are SMDs (0.2 / 0.5 / 0.8 by default, Cohen). For odds ratios they are converted
with Chinn's factor, ln(OR) = SMD x pi / sqrt(3) (Chinn 2000; Cochrane Handbook 10.6), and for risk ratios and
risk differences through that odds ratio at the comparator risk. A minimal important difference (``mid``)
replaces the small threshold: in SD units for SMD, in the instrument's units for MD, as a ratio (e.g. 1.25)
for OR and RR, as a risk difference (e.g. 0.05) for RD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from erh_report.numbers import STYLES, NumberStyle
from erh_report.vocabulary import measure as measure_record

CHINN = math.pi / math.sqrt(3)


@dataclass(frozen=True)
class Thresholds:
    """Sizes of effect on the analysis scale (log scale for ratios), as positive magnitudes."""

    small: float
    moderate: float
    large: float


def risk_with(comparator_risk: float, log_ratio: float, measure: str) -> float:
    """Risk with the intervention from the comparator risk: OR by the odds, RR by multiplying, RD by adding."""
    if measure == "OR":
        odds = math.exp(log_ratio)
        return odds * comparator_risk / (1 - comparator_risk + odds * comparator_risk)
    if measure == "RR":
        return comparator_risk * math.exp(log_ratio)
    return comparator_risk + log_ratio


def thresholds_for(
    measure: str, smd: tuple[float, float, float], mid: float | None = None, comparator_risk: float | None = None
) -> Thresholds:
    """The outcome's thresholds (given as SMDs) on this measure's scale; ``mid`` replaces the small one."""
    cr = comparator_risk if comparator_risk is not None and 0 < comparator_risk < 1 else None

    def convert(d: float) -> float:
        if measure in ("SMD", "MD"):
            return d
        log_or = d * CHINN
        if measure == "OR" or cr is None:
            return log_or if measure != "RD" else math.nan
        if measure == "RR":
            return abs(math.log(risk_with(cr, log_or, "OR") / cr))
        return abs(risk_with(cr, log_or, "OR") - cr)

    small, moderate, large = (convert(d) for d in smd)
    if mid is not None and mid > 0:
        small = abs(math.log(mid)) if measure_record(measure).ratio else mid
    return Thresholds(small, moderate, large)


@dataclass(frozen=True)
class EffectScale:
    """How one analysis's harmonised numbers are shown. ``sign`` is +1 or -1 when every study's instrument
    points the same way (natural = sign x harmonised), 0 when the directions are mixed (shown harmonised)."""

    measure: str
    sign: int = 1
    style: NumberStyle = STYLES["JAMA"]

    @property
    def ratio(self) -> bool:
        return measure_record(self.measure).ratio

    @property
    def harmonised(self) -> bool:
        """True when the numbers shown are harmonised (positive favours the intervention)."""
        return self.sign == 0

    def oriented(self, x: float) -> float:
        """A harmonised value in the outcome's own direction (still log scale for ratios)."""
        return -x if self.sign < 0 else x

    def oriented_interval(self, low: float, high: float) -> tuple[float, float]:
        a, b = self.oriented(low), self.oriented(high)
        return (a, b) if a <= b else (b, a)

    def shown(self, x: float) -> float:
        """The number a reader sees: the ratio itself for OR and RR."""
        v = self.oriented(x)
        return math.exp(v) if self.ratio else v

    def value(self, x: float) -> str:
        """ "SMD 0.20", "OR 1.44" for a harmonised value."""
        return f"{self.measure} {self.style.number(self.shown(x))}"

    def interval(self, low: float, high: float) -> str:
        """ "0.15-0.63" (JAMA) for a harmonised interval, in the shown direction and order."""
        a, b = sorted((self.shown(low), self.shown(high)))
        return self.style.interval(a, b)

    def effect(self, est: float, low: float, high: float) -> str:
        """ "OR 1.36 (1.06-1.74)" (JAMA) for a harmonised estimate and interval, as shown."""
        a, b = sorted((self.shown(low), self.shown(high)))
        return self.style.effect(self.measure, self.shown(est), a, b, level=None)

    def band(self, small: float) -> str:
        """ "SMD −0.20 and SMD 0.20": the two thresholds of important effects, lower first as shown."""
        a, b = sorted((-small, small), key=self.shown)
        return f"{self.value(a)} and {self.value(b)}"

    @property
    def null(self) -> str:
        """The value of no effect as shown: "SMD 0" or "OR 1"."""
        return f"{self.measure} {'1' if self.ratio else '0'}"
