"""The number style, in one place: how estimates, intervals, P values, percentages and counts are written.

Figures, tables, GRADE and templates (as jinja filters) all format through a ``NumberStyle``: it is the only
way a number becomes text, so that switching the review's ``number_style`` setting between the presets
changes every output at once. It also has the statistics themselves (an effect with its CI, τ², I², P, a
prediction interval) and the journal's spelling of words in prose:

- ``JAMA`` (default): "SMD 0.39 (95% CI, 0.15-0.63)", "to" when a limit is negative; P values without a
  leading zero, 2 decimals (3 below .01), "P < .001" at the floor and "P > .99" at the top; counts with
  commas; American English ("randomized").
- ``Cochrane``: RevMan's "0.39 [0.15, 0.63]"; "P = 0.04", "P < 0.00001" at the floor; British English.

τ² has two decimals, three when it is small but not zero (0.004 is not 0.00), in both styles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from erh_report.vocabulary import AMERICAN, BRITISH, spell

MINUS = "\u2212"


@dataclass(frozen=True)
class NumberStyle:
    name: str
    decimals: int = 2
    minus: str = MINUS
    p_leading_zero: bool = False
    p_floor: float = 0.001
    p_ceiling: float | None = 0.99
    ci_template: str = "{est} ({level}% CI, {low}{sep}{high}{note})"
    note_template: str = "; {note}"  # more in the CI's parentheses: "(95% CI, 0.1-0.2; P = .04)"
    cell_template: str = "{est} ({low}{sep}{high}{note})"  # under a header that names the CI: "Effect (95% CI)"
    bracket_template: str = "{est} [{low}, {high}]"
    spelling: str = AMERICAN  # of words in prose (vocabulary.spell): JAMA American, Cochrane British

    # -- numbers ---------------------------------------------------------------------------------
    def number(self, x: float | None, decimals: int | None = None) -> str:
        """A decimal number; NaN or None as an en dash (not estimable)."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "\u2013"
        d = self.decimals if decimals is None else decimals
        text = f"{x:.{d}f}"
        if text.startswith("-"):
            text = text[1:] if float(text) == 0 else self.minus + text[1:]
        return text

    def integer(self, n: float | int | None) -> str:
        if n is None or (isinstance(n, float) and math.isnan(n)):
            return "\u2013"
        text = f"{int(round(n)):,}"
        return text.replace("-", self.minus)

    def percent(self, x: float | None, decimals: int = 0) -> str:
        return f"{self.number(x, decimals)}%"

    # -- intervals ---------------------------------------------------------------------------------
    def _range_sep(self, low: str, high: str) -> str:
        negative = low.startswith(self.minus) or high.startswith(self.minus)
        return " to " if negative else "-"

    def interval(self, low: float, high: float, decimals: int | None = None) -> str:
        lo, hi = self.number(low, decimals), self.number(high, decimals)
        return f"{lo}{self._range_sep(lo, hi)}{hi}"

    def estimate_ci(
        self, est: float, low: float, high: float, level: float | None = 95, decimals: int | None = None, note: str = ""
    ) -> str:
        """ "0.39 (95% CI, 0.15-0.63)" (JAMA) or "0.39 [0.15, 0.63]" (Cochrane); without ``level`` the
        table cell under a header that names the CI: "0.39 (0.15-0.63)". A ``note`` ("P = .04") joins the
        interval: "(95% CI, 0.15-0.63; P = .04)", "[0.15, 0.63] (P = 0.04)"."""
        e, lo, hi = (self.number(x, decimals) for x in (est, low, high))
        template = self.cell_template if level is None else self.ci_template
        return template.format(
            est=e,
            low=lo,
            high=hi,
            level=f"{level or 0:g}",
            sep=self._range_sep(lo, hi),
            note=self.note_template.format(note=note) if note else "",
        )

    def brackets(self, low: float, high: float) -> str:
        """RevMan's interval alone, "[0.70, 0.92]" (forest plots, in either style)."""
        return f"[{self.number(low)}, {self.number(high)}]"

    # -- the statistics of a meta-analysis ------------------------------------------------------------
    def effect(self, measure: str, est: float, low: float, high: float, level: float | None = 95) -> str:
        """A pooled effect on the readers' scale: "SMD 0.39 (95% CI, 0.15-0.63)"."""
        return f"{measure} {self.estimate_ci(est, low, high, level)}"

    def tau2(self, tau2: float) -> str:
        """τ² with two decimals, three when it is small but not zero (0.004 is not 0.00)."""
        return self.number(tau2, 3 if 0 < tau2 < 0.005 else 2)

    def i2(self, i2: float) -> str:
        """ "I² = 46%"."""
        return f"I² = {self.percent(i2)}"

    def prediction_interval(self, low: float, high: float, level: float = 95) -> str:
        """ "95% PI, 0.02-0.76"."""
        return f"{level:g}% PI, {self.interval(low, high)}"

    def spell(self, text: str) -> str:
        """Words the code writes in the journal's spelling ("randomised" in British, "randomized" in American)."""
        return spell(text, self.spelling)

    def bracket(self, est: float, low: float, high: float, decimals: int | None = None) -> str:
        """RevMan's forest-plot text, "0.80 [0.70, 0.92]", in either style."""
        e, lo, hi = (self.number(x, decimals) for x in (est, low, high))
        return self.bracket_template.format(est=e, low=lo, high=hi)

    # -- P values ----------------------------------------------------------------------------------
    def p_number(self, p: float) -> str:
        """The P value's number with its relation: "= .04", "< .001", "> .99"."""
        if p is None or math.isnan(p):
            return "= \u2013"
        zero = "0" if self.p_leading_zero else ""
        if p < self.p_floor:
            floor = f"{self.p_floor:f}".rstrip("0")
            return f"< {zero}{floor.lstrip('0')}"
        if self.p_ceiling is not None and p > self.p_ceiling:
            return f"> {zero}{str(self.p_ceiling).lstrip('0')}"
        if self.name == "Cochrane":
            text = _significant(p)
        else:
            digits = 3 if p < 0.01 else 2
            text = f"{p:.{digits}f}"
            if float(text) >= 1:
                text = "1.00" if digits == 2 else "1.000"
        if not self.p_leading_zero and text.startswith("0"):
            text = text[1:]
        return f"= {text}"

    def p(self, p: float) -> str:
        """ "P = .04" / "P < .001"."""
        return f"P {self.p_number(p)}"


def _significant(p: float) -> str:
    """RevMan: two significant digits, at most 5 decimals."""
    rounded = float(f"{p:.2g}")
    if rounded >= 0.1:
        return f"{p:.2f}"
    digits = min(5, 1 - math.floor(math.log10(rounded)))
    return f"{rounded:.{digits}f}"


STYLES = {
    "JAMA": NumberStyle("JAMA"),
    "Cochrane": NumberStyle(
        "Cochrane",
        minus="-",
        p_leading_zero=True,
        p_floor=0.00001,
        p_ceiling=None,
        ci_template="{est} [{low}, {high}]{note}",
        note_template=" ({note})",
        cell_template="{est} [{low}, {high}]",
        spelling=BRITISH,
    ),
}


ALIASES = {"RevMan5": "Cochrane"}  # review.yaml's name for the Cochrane (RevMan 5) preset


def get_style(name: str) -> NumberStyle:
    try:
        return STYLES[ALIASES.get(name, name)]
    except KeyError:
        raise ValueError(f"unknown number style {name!r}; expected one of {', '.join(STYLES)}") from None


def jinja_filters(style: NumberStyle) -> dict[str, object]:
    """The style's methods as jinja filters: {{ x | num }}, {{ p | pval }}, {{ v | effect(95) }} ...

    ``effect`` takes a record with ``measure, estimate, ci_low, ci_high`` (the pooled views of the context);
    ``est_ci`` three numbers; both without a level give the table cell."""
    return {
        "num": style.number,
        "int": style.integer,
        "pct": style.percent,
        "pval": style.p,
        "interval": style.interval,
        "est_ci": style.estimate_ci,
        "effect": lambda v, level=None: style.effect(v.measure, v.estimate, v.ci_low, v.ci_high, level),
        "tau2": style.tau2,
        "i2": style.i2,
        "pi": lambda v, level=95: style.prediction_interval(v.pi_low, v.pi_high, level),
        "spell": style.spell,
    }
