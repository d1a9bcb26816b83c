"""GRADE's vocabulary in one place: certainty levels, their symbols and words, and domain ratings.

Certainty is an integer from 1 (very low) to 4 (high) so that rating down is subtraction; the symbols are
those of GRADEpro's summary-of-findings tables (⨁ filled, ◯ empty).
"""

from __future__ import annotations

HIGH, MODERATE, LOW, VERY_LOW = 4, 3, 2, 1
WORDS = {HIGH: "High", MODERATE: "Moderate", LOW: "Low", VERY_LOW: "Very low"}
LEVEL_OF = {word.lower(): level for level, word in WORDS.items()}
FILLED, EMPTY = "\u2a01", "\u25ef"

#: Domain ratings and the levels each removes. "not assessable" removes none (publication bias, k < 10).
NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSABLE = "not serious", "serious", "very serious", "not assessable"
DOWNGRADE = {NOT_SERIOUS: 0, SERIOUS: 1, VERY_SERIOUS: 2, NOT_ASSESSABLE: 0}

#: The five domains in the order of GRADEpro's evidence profile, with the words used in footnotes.
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_WORDS = {
    "risk_of_bias": "risk of bias",
    "inconsistency": "inconsistency",
    "indirectness": "indirectness",
    "imprecision": "imprecision",
    "publication_bias": "publication bias",
}


def symbols(level: int) -> str:
    """ "⨁⨁◯◯" for low certainty."""
    return FILLED * level + EMPTY * (HIGH - level)


def word(level: int) -> str:
    return WORDS[level]


def clamp(level: int) -> int:
    """Certainty never falls below very low nor rises above high."""
    return max(VERY_LOW, min(HIGH, level))


def levels_phrase(n: int) -> str:
    """ "one level", "two levels": how footnotes say how far a domain rated down."""
    return {1: "one level", 2: "two levels", 3: "three levels"}.get(n, f"{n} levels")
