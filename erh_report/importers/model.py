"""A review as RevMan holds it: comparisons, outcomes (analyses), subgroups and study rows, with the
settings of each analysis and the results RevMan stored. Every importer returns this; the writer turns
it into a data folder. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

# the statistics RevMan stores for an outcome or subgroup (attribute names lower-cased)
STORED_KEYS = (
    "effect_size",
    "ci_start",
    "ci_end",
    "se",
    "tau2",
    "chi2",
    "df",
    "p_chi2",
    "i2",
    "z",
    "p_z",
    "q",
    "p_q",
    "i2_q",
    "studies",
    "total_1",
    "total_2",
    "events_1",
    "events_2",
)

DATA_TYPES = {"DICH": "dichotomous", "CONT": "continuous", "IV": "generic inverse variance"}


@dataclass(frozen=True)
class Stored:
    """RevMan's computed result. ``values`` hold what the source has (NaN kept as NaN); ``calculated``
    is False when RevMan left the result empty ("not calculated")."""

    values: dict[str, float]
    calculated: bool

    def get(self, key: str) -> float | None:
        return self.values.get(key)


@dataclass(frozen=True)
class Row:
    """One study's data in one outcome (and subgroup, numbered from 1, or None)."""

    study_id: str
    subgroup: int | None = None
    events_1: float | None = None
    total_1: float | None = None
    events_2: float | None = None
    total_2: float | None = None
    mean_1: float | None = None
    sd_1: float | None = None
    mean_2: float | None = None
    sd_2: float | None = None
    estimate: float | None = None
    se: float | None = None
    footnote: str = ""


@dataclass(frozen=True)
class Subgroup:
    number: int
    name: str
    stored: Stored | None = None


@dataclass(frozen=True)
class Outcome:
    """One RevMan analysis ("Analysis 3.2" is comparison 3, outcome 2).

    ``measure``: OR, RR, RD, PETO_OR, MD, SMD, or for generic inverse variance RevMan's name of the
    measure (``generic_measure``) with ``measure`` one of HR, OR, RR, RATIO (other ratios), MD, SMD, GEN.
    ``method``: MH, IV or PETO. ``totals``: YES (subtotals and overall), SUB (subtotals only) or NO."""

    comparison: int
    number: int
    comparison_name: str
    name: str
    data_type: str
    measure: str
    method: str
    random: bool
    totals: str = "YES"
    has_subgroups: bool = False
    subgroup_test: bool = True
    log_data: bool = False
    generic_measure: str = ""
    level_study: float = 95.0
    level_total: float = 95.0
    group_labels: tuple[str, str] = ("Experimental", "Control")
    graph_labels: tuple[str, str] = ("Favours experimental", "Favours control")
    units: str = ""
    swap_events: bool = False
    rows: tuple[Row, ...] = ()
    subgroups: tuple[Subgroup, ...] = ()
    stored: Stored | None = None

    @property
    def id(self) -> str:
        return f"{self.comparison}.{self.number}"


@dataclass(frozen=True)
class Study:
    id: str
    name: str
    year: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class RiskOfBias:
    study_id: str
    domain: str
    judgement: str  # Low, High, Unclear (RevMan 5: YES, NO, UNKNOWN)
    support: str = ""


@dataclass(frozen=True)
class Review:
    title: str
    source: str  # file name
    source_format: str  # e.g. "RevMan 5 XML (RevMan 5.4.1)"
    authors: tuple[str, ...] = ()
    doi: str = ""
    studies: tuple[Study, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    risk_of_bias: tuple[RiskOfBias, ...] = ()
    notes: tuple[str, ...] = field(default=())
