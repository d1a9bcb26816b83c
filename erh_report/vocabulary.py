"""The review's terms, defined once: effect measures, pooling methods, sizes of effect and fixed notices.

Analysis, GRADE, figures, templates and the command line all read these records, so a measure is named,
scaled and spelled the same way in the manuscript, its captions and its tables. A new measure or method is
one more line in ``MEASURES`` or ``METHODS``.

A measure's name in prose depends on the journal style's spelling ("standardized" in JAMA's American
English, "standardised" in Cochrane's British English): see :func:`spell`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AMERICAN, BRITISH = "American", "British"


@dataclass(frozen=True)
class Measure:
    """An effect measure. Ratios are pooled on the log scale and shown exponentiated."""

    code: str
    header: str  # RevMan's column header: "Std. Mean Difference"
    name: str  # in prose, British spelling: "standardised mean difference"
    qualifier: tuple[str, str] = ("", "")  # after the name, (American, British): ("Hedges g", "Hedges' g")
    ratio: bool = False

    @property
    def null(self) -> float:
        """The value of no effect on the scale readers see."""
        return 1.0 if self.ratio else 0.0

    @property
    def scale(self) -> str:
        """The scale the model works on: "log" for ratios, else "raw"."""
        return "log" if self.ratio else "raw"

    def shown(self, x):  # float or numpy array
        """From the model's scale to the scale readers see (ratios are pooled as logs)."""
        if not self.ratio:
            return x
        import numpy as np  # here, so that the command line's --help needs no numpy

        return np.exp(x)

    def shown_float(self, x: float) -> float:
        return float(self.shown(x))

    def prose(self, spelling: str = AMERICAN, plural: bool = False) -> str:
        """ "standardized mean differences (Hedges g)": the name in running text, in the style's spelling."""
        words = self.name + ("s" if plural else "")
        qualifier = self.qualifier[0 if spelling == AMERICAN else 1]
        return spell(words, spelling) + (f" ({qualifier})" if qualifier else "")


MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure("SMD", "Std. Mean Difference", "standardised mean difference", ("Hedges g", "Hedges' g")),
        Measure("MD", "Mean Difference", "mean difference"),
        Measure("OR", "Odds Ratio", "odds ratio", ratio=True),
        Measure("RR", "Risk Ratio", "risk ratio", ratio=True),
        Measure("RD", "Risk Difference", "risk difference"),
        Measure("COR", "Correlation", "correlation"),
        Measure("ZCOR", "Fisher's z", "Fisher's z"),
        Measure("GEN", "Effect size", "effect size"),
    )
}
RATIO_MEASURES = tuple(code for code, m in MEASURES.items() if m.ratio)
#: Measures an imported review pools (Peto's method, or effects the studies reported) but that are not
#: computed from arm data by ``erh-report meta``.
POOLED_MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure("PETO_OR", "Peto Odds Ratio", "Peto odds ratio", ratio=True),
        Measure("HR", "Hazard Ratio", "hazard ratio", ratio=True),
        Measure("RATIO", "Ratio", "ratio", ratio=True),
    )
}
#: Pooling methods as RevMan names them in a forest plot's header, and in prose.
POOLINGS = {"IV": ("IV", "inverse variance"), "MH": ("M-H", "Mantel-Haenszel"), "PETO": ("Peto", "Peto")}


def measure(code: str) -> Measure:
    """The record of a measure; an unknown code gets a neutral record named by its code."""
    return MEASURES.get(code) or POOLED_MEASURES.get(code) or Measure(code, code, code)


@dataclass(frozen=True)
class Method:
    """A pooling method: the common-effect model or an estimator of τ² for a random-effects model. Another
    way of pooling (Mantel-Haenszel, Peto) is one more record with its own RevMan ``header``."""

    code: str
    name: str  # in prose: "restricted maximum likelihood"
    random: bool = True  # a random-effects model (with τ²)
    header: str = "IV"  # RevMan's name of the pooling in a forest plot's header: "IV, Random (REML), 95% CI"

    @property
    def label(self) -> str:
        return self.code


METHODS: dict[str, Method] = {
    m.code: m
    for m in (
        Method("FE", "common-effect (inverse-variance)", random=False),
        Method("DL", "DerSimonian-Laird"),
        Method("REML", "restricted maximum likelihood"),
        Method("ML", "maximum likelihood"),
        Method("PM", "Paule-Mandel"),
        Method("HE", "Hedges"),
        Method("SJ", "Sidik-Jonkman"),
        Method("EB", "empirical Bayes"),
    )
}
HKSJ = "HKSJ"
HKSJ_NAME = "Hartung-Knapp-Sidik-Jonkman"


def method(code: str) -> Method:
    return METHODS.get(code) or Method(code, code)


def method_label(code: str, hksj: bool) -> str:
    """ "REML+HKSJ": the method as results tables and JSON name it."""
    return f"{code}+{HKSJ}" if hksj else code


#: The study columns that define subgroups or moderators, as figures and tables name them.
STUDY_VARIABLES = {
    "population_risk": "Population risk",
    "intervention_type": "Intervention type",
    "design": "Design",
    "country": "Country",
    "dose_hours": "Contact hours",
    "sessions": "Number of sessions",
    "infant_age_weeks": "Infant age at start (weeks)",
    "year": "Year of publication",
    "n_randomised": "Dyads randomised",
}


STUDY_VARIABLE_UNITS = {"dose_hours": "contact hour", "sessions": "session"}


def variable_name(column: str) -> str:
    """ "Population risk" for population_risk; lower it for prose."""
    return STUDY_VARIABLES.get(column, column.replace("_", " ").capitalize())


def variable_unit(column: str) -> str:
    """ "contact hour": what one unit of a moderator is ("slope per contact hour")."""
    return STUDY_VARIABLE_UNITS.get(column, f"unit of {variable_name(column).lower()}")


#: Sizes of effect, indexed by ``grade.wording.size`` (0 trivial ... 3 large).
EFFECT_SIZES = ("trivial", "small", "moderate", "large")

#: Said on every page, figure and results file made from the illustrative data.
ILLUSTRATIVE_NOTICE = "Illustrative data: invented by a seeded generator; not the findings of any real review."

#: British spellings the code writes, and their American forms (JAMA uses American English).
_AMERICAN = {
    "randomised": "randomized",
    "randomisation": "randomization",
    "standardised": "standardized",
    "harmonised": "harmonized",
    "favouring": "favoring",
    "favours": "favors",
    "favour": "favor",
    "programmes": "programs",
    "programme": "program",
    "synthesised": "synthesized",
    "summarised": "summarized",
    "colour": "color",
    "coloured": "colored",
}
_BRITISH = {american: british for british, american in _AMERICAN.items()}
_PATTERNS = {
    spelling: re.compile(r"\b(" + "|".join(sorted(table, key=len, reverse=True)) + r")\b", re.IGNORECASE)
    for spelling, table in ((AMERICAN, _AMERICAN), (BRITISH, _BRITISH))
}


def spell(text: str, spelling: str = AMERICAN) -> str:
    """``text`` with the words the code writes in the given spelling ("randomised" -> "randomized")."""
    table = _AMERICAN if spelling == AMERICAN else _BRITISH

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        out = table[word.lower()]
        return out[:1].upper() + out[1:] if word[:1].isupper() else out

    return _PATTERNS[spelling].sub(swap, text)
