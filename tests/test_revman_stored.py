"""Every result RevMan 5 stored in the real review files equals ours, recomputed from the study rows.

The files are read from ../shared/reference-data/revman/ (beside the repository), never copied into it.
RevMan writes its results at full double precision (17 significant digits), so the comparison is of
computed numbers, not of rounded ones:
- estimate, CI, τ², χ² (Q), df, I², Z, and the subgroup test's Q and I²: relative difference at most
  1e-6 (relative to max(|stored|, 1e-8): a one-study χ² RevMan stores as 1e-30 is 0);
- I² and P(χ²) of a one-study result (df = 0) are "not applicable" in RevMan and not compared (RevMan
  stores float noise there: I² = 100%);
- P values (Z test, χ² test, subgroup test): absolute difference at most 1e-6. RevMan's chi-square
  tail is an approximation (its P values differ from R's ``pchisq`` by up to ~3e-7); ours equal R's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from erh_report.importers import rm5
from erh_report.importers.recompute import compare

REVMAN_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data" / "revman"
FILES = sorted(REVMAN_DIR.glob("*.rm5")) if REVMAN_DIR.is_dir() else []
P_VALUES = ("p_z", "p_chi2", "p_q")
pytestmark = pytest.mark.skipif(not FILES, reason=f"RevMan reference files not found in {REVMAN_DIR}")


def _checks(path: Path):
    """(result label, statistic, stored, ours, ok) for every stored statistic of the file."""
    review = rm5.read(path)
    for outcome in review.outcomes:
        diffs = compare(outcome)
        df = {d.analysis: d.stored for d in diffs if d.statistic == "df"}
        for d in diffs:
            if d.statistic in ("i2", "p_chi2") and df.get(d.analysis) == 0:
                continue
            gap = abs(d.ours - d.stored)
            ok = gap <= 1e-6 if d.statistic in P_VALUES else gap / max(abs(d.stored), 1e-8) <= 1e-6
            yield d.analysis, d.statistic, d.stored, d.ours, ok


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_stored_result_is_reproduced(path):
    checks = list(_checks(path))
    assert checks, "no stored results compared"
    wrong = [c for c in checks if not c[4]]
    assert not wrong, "\n".join(f"{a} {s}: RevMan {x!r}, ours {y!r}" for a, s, x, y, _ in wrong[:20])


def test_all_calculated_results_are_compared():
    """Each calculated *_OUTCOME and *_SUBGROUP element of the four files is compared; the one that RevMan
    left empty ("not calculated": Fleiss 1993, analysis 1.2, SMD) is not."""
    compared = set()
    calculated = 0
    for path in FILES:
        review = rm5.read(path)
        for o in review.outcomes:
            calculated += o.stored.calculated + sum(s.stored.calculated for s in o.subgroups)
        compared |= {(path.name, c[0]) for c in _checks(path)}
    assert len(compared) == calculated
    if {p.name for p in FILES} >= {"Fleiss1993.rm5", "CD004976.rm5", "CD003188.rm5", "CD013656.rm5"}:
        assert calculated == 207


@pytest.mark.skipif(not (REVMAN_DIR / "Fleiss1993.rm5").is_file(), reason="Fleiss1993.rm5 not found")
def test_reader_escapes_encoding_and_not_calculated():
    review = rm5.read(REVMAN_DIR / "Fleiss1993.rm5")  # ISO-8859-1
    assert review.source_format == "RevMan 5 XML (RevMan 5.0.23)"
    aspirin, mental = review.outcomes
    assert [r.study_id for r in aspirin.rows][:2] == ["MRC-1", "CDP"]  # STD-MRC_x002d_1
    assert (aspirin.id, aspirin.measure, aspirin.method, aspirin.random) == ("1.1", "OR", "MH", False)
    assert aspirin.graph_labels == ("Favours experimental", "Favours control")
    assert not mental.stored.calculated and mental.measure == "SMD"


def test_numbers_as_revman_writes_them():
    assert rm5.number("6.5E-4") == pytest.approx(0.00065, rel=1e-15)
    assert rm5.number("") is None
    value = rm5.number("NaN")
    assert value is not None and value != value
    assert rm5.unescape("STD-Smith_x002d_Jones_x0020_1999") == "STD-Smith-Jones 1999"


@pytest.mark.parametrize(
    "name, decimals", [("Fleiss1993_revman5_analysis_export.csv", 8), ("Fleiss1993_cochrane_data_package_v1.zip", 6)]
)
def test_exports_store_rounded_results(name, decimals):
    """The CSV export and the data package round RevMan's results (8 and 6 decimals): ours round to them."""
    from erh_report.importers.detect import read_source

    path = REVMAN_DIR / name
    if not path.is_file():
        pytest.skip(f"{name} not found")
    review = read_source(path)
    diffs = [d for o in review.outcomes for d in compare(o)]
    assert len(diffs) >= 9
    for d in diffs:
        tolerance = 1e-6 if d.statistic in P_VALUES else 0.5 * 10**-decimals + 1e-12 * abs(d.stored)
        assert abs(d.ours - d.stored) <= tolerance, (d.analysis, d.statistic, d.stored, d.ours)
