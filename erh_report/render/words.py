"""Words that depend on a number, decided here from the results so that no template decides them.

Each function takes numbers and returns the phrase a manuscript uses; the thresholds are stated in
docs/documents.md: statistical significance at the review's CI level (the CI excludes the null), the size of
an SMD against the outcome's thresholds, and heterogeneity in the Cochrane Handbook's bands for I².
"""

from __future__ import annotations

import math

#: Cochrane Handbook 10.10.2 gives overlapping bands; these are their non-overlapping midpoints.
I2_BANDS = ((75.0, "considerable"), (50.0, "substantial"), (30.0, "moderate"), (0.0, "low"))


def excludes_null(low: float, high: float, null: float = 0.0) -> bool:
    """True when the confidence interval lies wholly on one side of the null value."""
    return not (math.isnan(low) or math.isnan(high)) and (low > null or high < null)


def significance(low: float, high: float, null: float = 0.0) -> str:
    return "statistically significant" if excludes_null(low, high, null) else "not statistically significant"


def favours(estimate: float, null: float = 0.0) -> str:
    """Direction on the harmonised scale, where positive favours the intervention."""
    if math.isnan(estimate) or estimate == null:
        return "favouring neither group"
    return "favouring the intervention" if estimate > null else "favouring the comparator"


def heterogeneity(i2: float) -> str:
    if math.isnan(i2):
        return "not estimable"
    return next(word for bound, word in I2_BANDS if i2 >= bound)


def count_word(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 study", "31 studies": the noun agrees with the number."""
    return singular if n == 1 else (plural or singular + "s")


def join_and(items: list[str]) -> str:
    """ "a", "a and b", "a, b, and c" (JAMA uses the serial comma)."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def a_or_an(word: str) -> str:
    """ "an" before a vowel letter ("an ERH outcome"), else "a" (by spelling, which suits most terms)."""
    return "an" if word[:1].lower() in "aeiou" else "a"
