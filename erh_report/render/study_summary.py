"""Table 1 of a large review: the included studies summarised instead of listed.

A table of every study's characteristics runs over pages of the manuscript once a review has more than a
few dozen studies (``settings.list_studies_up_to``); the manuscript then prints how many studies have each
design, country, population risk, intervention type and comparator, and the median, quartiles and range of
their size, dose, sessions, infants' age and year, and leaves the full table to the supplement.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from erh_report.data import Review

#: Countries named one by one before the rest are counted together.
COUNTRIES_SHOWN = 10
#: The label of the supplement's table of every study (its first numbered table; a test checks it).
SUPPLEMENT_CHARACTERISTICS = "eTable 1"


@dataclass(frozen=True)
class SummaryRow:
    """One line of the summary: a heading, a category with its count, or a number's distribution."""

    label: str
    kind: str  # "heading" | "count" | "distribution"
    count: int = 0  # studies in the category, or reporting the number
    share: float = math.nan  # percent of all studies
    median: float = math.nan
    q1: float = math.nan
    q3: float = math.nan
    low: float = math.nan
    high: float = math.nan
    decimals: int = 0


def _counts(
    heading: str, values: list[str | None], k: int, most: int | None = None, others: str = ""
) -> list[SummaryRow]:
    """A heading and the count of each value, most frequent first (ties by name); beyond ``most`` values
    the rest are one line; studies that did not say are the last line."""
    said = Counter(v for v in values if v)
    ranked = sorted(said.items(), key=lambda item: (-item[1], item[0].lower()))
    shown = ranked if most is None or len(ranked) <= most else ranked[: most - 1]
    rows = [SummaryRow(heading, "heading")]
    rows += [SummaryRow(name[:1].upper() + name[1:], "count", n, 100 * n / k) for name, n in shown]
    rest = ranked[len(shown) :]
    if rest:
        n = sum(c for _, c in rest)
        rows.append(SummaryRow(f"Other ({len(rest)} {others})", "count", n, 100 * n / k))
    missing = sum(1 for v in values if not v)
    if missing:
        rows.append(SummaryRow("Not reported", "count", missing, 100 * missing / k))
    return rows


def _distribution(label: str, values: list[float | None], decimals: int) -> list[SummaryRow]:
    known = np.array([v for v in values if v is not None], dtype=float)
    if not len(known):
        return []
    q1, median, q3 = (float(x) for x in np.percentile(known, [25, 50, 75]))
    return [
        SummaryRow(
            label,
            "distribution",
            len(known),
            math.nan,
            median,
            q1,
            q3,
            float(known.min()),
            float(known.max()),
            decimals,
        )
    ]


def summary_rows(review: Review) -> list[SummaryRow]:
    """The summary of the included studies' characteristics, in the order the full table has its columns."""
    studies = [s for _, s in review.studies]
    k = len(studies)
    if not k:
        return []
    rows = _counts("Design", [s.design for s in studies], k)
    rows += _counts("Country", [s.country for s in studies], k, most=COUNTRIES_SHOWN, others="countries")
    rows += _counts("Population risk", [s.population_risk for s in studies], k)
    rows += _counts("Intervention type", [s.intervention_type for s in studies], k)
    rows += _counts("Comparator", [s.comparator for s in studies], k)
    numbers = [
        ("Dyads randomized per study", [s.n_randomised for s in studies], 0),
        ("Dose, h", [s.dose_hours for s in studies], 1),
        ("Sessions", [s.sessions for s in studies], 0),
        ("Infant age at start, wk", [s.infant_age_weeks for s in studies], 0),
        ("Year of publication", [s.year for s in studies], 0),
    ]
    distributions = [row for label, values, d in numbers for row in _distribution(label, values, d)]
    if distributions:
        rows += [SummaryRow("Median (IQR); range", "heading"), *distributions]
    return rows


def list_every_study(review: Review) -> bool:
    """Whether the manuscript's Table 1 lists every study (else it summarises them)."""
    return len(review.studies) <= review.config.settings.list_studies_up_to
