"""Import -> check -> build (results) of every RevMan file; results/analyses.csv and results/subgroups.csv,
under RevMan's analysis ids, equal the results RevMan stored in the same file (read from the XML here).

Tolerances as in test_revman_stored: 1e-6 relative (to max(|stored|, 1e-8)); one-study I² not compared.
Analyses with totals SUB or NO show no overall result (RevMan shows none): their analyses.csv row is empty
and says so; their subgroups are compared."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from erh_report.build import build
from erh_report.cli import main
from erh_report.importers import rm5
from erh_report.importers.recompute import is_ratio

REVMAN_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data" / "revman"
FILES = sorted(REVMAN_DIR.glob("*.rm5")) if REVMAN_DIR.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason=f"RevMan reference files not found in {REVMAN_DIR}")


def _close(stored: float, ours: float) -> bool:
    return abs(ours - stored) / max(abs(stored), 1e-8) <= 1e-6


def _check(label: str, stored: dict[str, float], row: pd.Series, ratio: bool, problems: list[str]) -> int:
    back = math.exp if ratio else float
    ours = {
        "effect_size": back(row["estimate"]),
        "ci_start": back(row["ci_low"]),
        "ci_end": back(row["ci_high"]),
        "tau2": row["tau2"],
        "chi2": row["q"],
        "df": row["q_df"],
        "i2": row["i2"],
    }
    n = 0
    for key, value in ours.items():
        if key not in stored or (key == "i2" and stored.get("df") == 0):
            continue
        n += 1
        if not _close(stored[key], float(value)):
            problems.append(f"{label} {key}: RevMan {stored[key]!r}, build {value!r}")
    return n


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = {}
    for path in FILES:
        base = tmp_path_factory.mktemp(path.stem)
        assert main(["import", str(path), "--out", str(base / "data")]) == 0
        build(base / "data", base / "build", stages=("results",))
        out[path.name] = base / "build" / "results"
    return out


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_build_results_equal_revman(path, built):
    results = built[path.name]
    analyses = pd.read_csv(results / "analyses.csv", dtype={"analysis_id": str}).set_index("analysis_id")
    subgroups = pd.read_csv(results / "subgroups.csv", dtype={"analysis_id": str, "level": str})
    review = rm5.read(path)
    problems: list[str] = []
    compared = 0
    for o in review.outcomes:
        assert o.id in analyses.index
        row = analyses.loc[o.id]
        if o.stored is not None and o.stored.calculated and o.totals == "YES":
            compared += _check(o.id, o.stored.values, row, is_ratio(o), problems)
        elif o.totals != "YES":
            assert math.isnan(row["estimate"]) and "subtotals only" in str(row["note"])
        mine = subgroups[subgroups["analysis_id"] == o.id].set_index("level")
        for g in o.subgroups:
            if g.stored is not None and g.stored.calculated:
                compared += _check(f"{o.id} / {g.name}", g.stored.values, mine.loc[g.name], is_ratio(o), problems)
        if o.subgroups and len(mine) > 1 and "q" in o.stored.values and o.subgroup_test:
            test = mine.iloc[0]
            for key, col in (("q", "separate_tau2_chi2"), ("i2_q", "separate_tau2_i2")):
                compared += 1
                if not _close(o.stored.values[key], float(test[col])):
                    problems.append(f"{o.id} {key}: RevMan {o.stored.values[key]!r}, build {test[col]!r}")
    assert compared > 0
    assert not problems, "\n".join(problems[:20])


@pytest.mark.skipif(not (REVMAN_DIR / "CD003188.rm5").is_file(), reason="CD003188.rm5 not found")
def test_forest_plot_of_an_imported_analysis_reads_like_revmans(tmp_path, capsys):
    """Analysis 3.4 of CD003188: header, group and graph labels, subgroup headings and totals as RevMan."""
    from erh_report import synthesis as results_mod
    from erh_report.data import load_review
    from erh_report.figures.forest import forest_spec
    from erh_report.numbers import get_style

    assert main(["import", str(REVMAN_DIR / "CD003188.rm5"), "--out", str(tmp_path / "data")]) == 0
    review = load_review(tmp_path / "data")
    res = results_mod.run(review)
    ar = res.get("3.4")
    source = next(o for o in rm5.read(REVMAN_DIR / "CD003188.rm5").outcomes if o.id == "3.4")
    spec = forest_spec(res, ar, get_style(review.config.settings.number_style), subgroup="subgroup")
    assert spec.measure_header == ("Risk Ratio", "M-H, Random, 95% CI")
    assert spec.favours == source.graph_labels
    assert {c.group for c in spec.columns if c.group} == set(source.group_labels)
    headings = [r.label for r in spec.rows if r.kind == "heading"]
    assert headings == [f"3.4.{g.number} {g.name}" for g in source.subgroups]
    total = next(r for r in spec.rows if r.kind == "total")
    stored = source.stored.values
    assert total.cells["estimate"] == f"{stored['effect_size']:.2f} [{stored['ci_start']:.2f}, {stored['ci_end']:.2f}]"
    assert not spec.show_rob and "Risk of bias: not provided by the source." in spec.footnotes
    from erh_report.figures.forest import describe

    _title, caption, _alt = describe(res, ar, get_style(review.config.settings.number_style), "subgroup")
    assert "Mantel-Haenszel method, random-effects model (DerSimonian-Laird τ²)" in caption
    assert f"left of the line of no effect: {source.graph_labels[0].lower()}" in caption


@pytest.mark.skipif(not (REVMAN_DIR / "CD003188.rm5").is_file(), reason="CD003188.rm5 not found")
def test_generic_inverse_variance_forest_shows_the_entered_log_effects(tmp_path, capsys):
    from erh_report import synthesis
    from erh_report.data import load_review
    from erh_report.figures.forest import forest_spec
    from erh_report.numbers import get_style

    assert main(["import", str(REVMAN_DIR / "CD003188.rm5"), "--out", str(tmp_path / "data")]) == 0
    res = synthesis.run(load_review(tmp_path / "data"))
    source = next(o for o in rm5.read(REVMAN_DIR / "CD003188.rm5").outcomes if o.id == "1.2")
    spec = forest_spec(res, res.get("1.2"), get_style("RevMan5"), subgroup="subgroup")
    assert [c.header for c in spec.columns[:2]] == ["log[Hazard Ratio]", "SE"]
    first = next(r for r in spec.rows if r.kind == "study")
    row = next(r for r in source.rows if r.subgroup == source.subgroups[0].number)
    assert first.cells["generic_yi"] == f"{row.estimate:.4f}" and first.cells["generic_se"] == f"{row.se:.4f}"
