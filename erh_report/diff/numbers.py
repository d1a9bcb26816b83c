"""Numbers that moved between two builds: every reported statistic, old -> new, keyed by what it belongs to.

A correction notice has to say exactly which results changed, so every table of ``results/`` that the
paper reports from is compared row by row (rows matched by their ids, never by position) at full
precision. On top of the raw changes this finds the changes a reader cares most about: an interval that
now crosses (or no longer crosses) the null, a P value that crossed .05, a GRADE certainty that changed,
and studies that entered or left an analysis.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

REL_TOL = 1e-9
ABS_TOL = 1e-12


@dataclass(frozen=True)
class Table:
    """One results table: where it is, which columns identify a row, and which columns to skip."""

    name: str
    path: str
    keys: tuple[str, ...]
    labels: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()


# Text columns that only describe a row (not numbers the paper reports) are skipped or used as labels.
TABLES: tuple[Table, ...] = (
    Table(
        "analyses",
        "results/analyses.csv",
        ("analysis_id",),
        ("outcome", "timepoint"),
        (
            "domain",
            "domain_id",
            "domain_role",
            "outcome",
            "outcome_id",
            "outcome_type",
            "importance",
            "timepoint",
            "window_id",
            "measure",
            "scale",
            "method",
            "test",
            "note",
        ),
    ),
    Table("subgroups", "results/subgroups.csv", ("analysis_id", "variable", "level"), (), ("note",)),
    Table("metaregression", "results/metaregression.csv", ("analysis_id", "moderator")),
    Table("sensitivity", "results/sensitivity.csv", ("analysis_id", "analysis"), (), ("excluded",)),
    Table("small_study_effects", "results/small_study_effects.csv", ("analysis_id",)),
    Table(
        "dependence",
        "results/dependence.csv",
        ("analysis_id", "approach"),
        ("analysis",),
        ("analysis", "method", "note"),
    ),
    Table(
        "studies",
        "results/study_effects.csv",
        ("analysis_id", "study_id", "comparison"),
        ("study",),
        ("study", "instrument_name", "source_rows", "why"),
    ),
    Table(
        "grade",
        "results/grade/grade_certainty.csv",
        ("analysis_id",),
        ("outcome", "timepoint"),
        ("outcome", "timepoint", "symbols", "statement"),
    ),
)


@dataclass(frozen=True)
class Change:
    """One value that differs: ``old`` or ``new`` is None when the row exists on one side only."""

    table: str
    key: tuple[str, ...]
    column: str
    old: str | None
    new: str | None

    @property
    def analysis_id(self) -> str:
        return self.key[0]

    @property
    def row(self) -> str:
        """The row's ids after the analysis id, e.g. "population_risk = high"."""
        return " / ".join(k for k in self.key[1:] if k)


@dataclass(frozen=True)
class Flip:
    """A result whose statistical significance changed: the headline of any correction."""

    table: str
    key: tuple[str, ...]
    test: str
    old: str
    new: str
    old_significant: bool
    new_significant: bool


@dataclass(frozen=True)
class Certainty:
    analysis_id: str
    outcome: str
    timepoint: str
    old: str
    new: str


@dataclass(frozen=True)
class StudyMembership:
    analysis_id: str
    study_id: str
    study: str
    added: bool


@dataclass
class NumberChanges:
    changes: list[Change] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    certainty: list[Certainty] = field(default_factory=list)
    studies: list[StudyMembership] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.changes or self.flips or self.certainty or self.studies)

    def analyses_moved(self) -> list[str]:
        """Analyses with at least one pooled statistic that moved, in the order of the report."""
        return list(dict.fromkeys(c.analysis_id for c in self.changes if c.table == "analyses"))


Row = dict[str, str]


def read_table(path: Path) -> list[Row]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _number(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def same_value(old: str | None, new: str | None) -> bool:
    """Equal text, or numbers equal to within rounding noise (so a re-run on another machine is quiet)."""
    if old == new:
        return True
    a, b = _number(old), _number(new)
    if a is None or b is None:
        return False
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _keyed(rows: list[Row], keys: tuple[str, ...]) -> dict[tuple[str, ...], Row]:
    return {tuple(row.get(k, "") for k in keys): row for row in rows}


def compare_table(table: Table, old_rows: list[Row], new_rows: list[Row]) -> list[Change]:
    """Every cell that differs, plus a row-level change for rows present on one side only."""
    old, new = _keyed(old_rows, table.keys), _keyed(new_rows, table.keys)
    found: list[Change] = []
    for key in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(key), new.get(key)
        if before is None or after is None:
            found.append(
                Change(
                    table.name,
                    key,
                    "(row)",
                    None if before is None else "present",
                    None if after is None else "present",
                )
            )
            continue
        columns = [c for c in dict.fromkeys([*after, *before]) if c not in table.keys and c not in table.skip]
        for column in columns:
            if not same_value(before.get(column), after.get(column)):
                found.append(Change(table.name, key, column, before.get(column), after.get(column)))
    return found


# -- significance ------------------------------------------------------------------------------------------
# (table, test label, (low, high) columns or a P column). Ratio measures are judged on their exp_ columns
# against 1, everything else against 0.
INTERVALS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "analyses": (("pooled effect (CI)", "ci_low", "ci_high"),),
    "subgroups": (("subgroup effect (CI)", "ci_low", "ci_high"),),
    "metaregression": (("slope (CI)", "slope_ci_low", "slope_ci_high"),),
    "sensitivity": (("pooled effect (CI)", "ci_low", "ci_high"),),
    "small_study_effects": (("trim-and-fill effect (CI)", "trimfill_ci_low", "trimfill_ci_high"),),
    # several effects per study: estimates on the model's scale (log for ratios), so judged against 0
    "dependence": (
        ("pooled effect (CI)", "ci_low", "ci_high"),
        ("cluster-robust CI", "robust_ci_low", "robust_ci_high"),
    ),
}
P_VALUES: dict[str, tuple[tuple[str, str], ...]] = {
    "analyses": (("pooled effect (P)", "pval"), ("heterogeneity Q (P)", "q_pval")),
    "subgroups": (("subgroup difference (P)", "test_pval"),),
    "metaregression": (("slope (P)", "slope_pval"),),
    "sensitivity": (("pooled effect (P)", "pval"),),
    "small_study_effects": (("Egger's test (P)", "egger_pval"),),
    "dependence": (("pooled effect (P)", "pval"), ("cluster-robust test (P)", "robust_pval")),
}


def _interval(row: Row, low: str, high: str) -> tuple[float, float, float] | None:
    """(low, high, null), on the ratio scale when the row has exp_ columns."""
    lo, hi = _number(row.get(f"exp_{low}")), _number(row.get(f"exp_{high}"))
    if lo is not None and hi is not None:
        return lo, hi, 1.0
    lo, hi = _number(row.get(low)), _number(row.get(high))
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return None
    return lo, hi, 0.0


def excludes_null(low: float, high: float, null: float) -> bool:
    return low > null or high < null


def _alpha(row: Row) -> float:
    level = _number(row.get("level"))
    return 1 - level / 100 if level and 0 < level < 100 else 0.05


def significance_flips(table: str, old_rows: list[Row], new_rows: list[Row], keys: tuple[str, ...]) -> list[Flip]:
    old, new = _keyed(old_rows, keys), _keyed(new_rows, keys)
    flips: list[Flip] = []
    for key, after in new.items():
        before = old.get(key)
        if before is None:
            continue
        for test, low, high in INTERVALS.get(table, ()):
            a, b = _interval(before, low, high), _interval(after, low, high)
            if a and b and excludes_null(*a) != excludes_null(*b):
                flips.append(
                    Flip(
                        table,
                        key,
                        test,
                        f"{a[0]:.4g} to {a[1]:.4g}",
                        f"{b[0]:.4g} to {b[1]:.4g}",
                        excludes_null(*a),
                        excludes_null(*b),
                    )
                )
        for test, column in P_VALUES.get(table, ()):
            p, q = _number(before.get(column)), _number(after.get(column))
            if p is None or q is None or math.isnan(p) or math.isnan(q):
                continue
            alpha = _alpha(after)
            if (p < alpha) != (q < alpha):
                flips.append(Flip(table, key, test, f"{p:.4g}", f"{q:.4g}", p < alpha, q < alpha))
    return flips


# -- GRADE and study membership ------------------------------------------------------------------------
def certainty_changes(old_rows: list[Row], new_rows: list[Row]) -> list[Certainty]:
    old = _keyed(old_rows, ("analysis_id",))
    found = []
    for key, after in _keyed(new_rows, ("analysis_id",)).items():
        before = old.get(key)
        if before is not None and before.get("word") != after.get("word"):
            found.append(
                Certainty(
                    key[0],
                    after.get("outcome", ""),
                    after.get("timepoint", ""),
                    before.get("word", ""),
                    after.get("word", ""),
                )
            )
    return found


def membership_changes(old_rows: list[Row], new_rows: list[Row]) -> list[StudyMembership]:
    """Studies that entered or left an analysis (a corrected eligibility or time point does this)."""
    keys = ("analysis_id", "study_id")
    old, new = _keyed(old_rows, keys), _keyed(new_rows, keys)
    added = [StudyMembership(k[0], k[1], row.get("study", ""), True) for k, row in new.items() if k not in old]
    removed = [StudyMembership(k[0], k[1], row.get("study", ""), False) for k, row in old.items() if k not in new]
    return sorted(added + removed, key=lambda m: (m.analysis_id, m.study_id))


def _labels(rows: list[Row]) -> dict[str, str]:
    return {
        r["analysis_id"]: f"{r.get('outcome', '')}, {r.get('timepoint', '').lower()}".strip(", ")
        for r in rows
        if r.get("analysis_id")
    }


def compare_numbers(old: Path, new: Path) -> NumberChanges:
    """Compare the results tables of two build folders."""
    result = NumberChanges()
    for table in TABLES:
        before, after = read_table(old / table.path), read_table(new / table.path)
        result.changes += compare_table(table, before, after)
        result.flips += significance_flips(table.name, before, after, table.keys)
        if table.name == "analyses":
            result.labels = {**_labels(before), **_labels(after)}
        elif table.name == "grade":
            result.certainty = certainty_changes(before, after)
        elif table.name == "studies":
            result.studies = membership_changes(before, after)
    order = {a: i for i, a in enumerate(result.labels)}
    result.changes.sort(key=lambda c: (order.get(c.analysis_id, len(order)), c.analysis_id))
    result.flips.sort(key=lambda f: (order.get(f.key[0], len(order)), f.key[0]))
    return result
