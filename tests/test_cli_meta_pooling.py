"""`erh-report meta --pooling`: MH and PETO equal metafor's rma.mh()/rma.peto() (R fixtures), MH with
DL equals RevMan's stored Mantel-Haenszel random-effects results, and impossible combinations exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from erh_report.cli import main
from erh_report.importers import rm5

ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((ROOT / "tests" / "fixtures" / "metafor" / "mh_peto.json").read_text())["cases"]
REVMAN_DIR = ROOT.parent / "shared" / "reference-data" / "revman"


def _csv(tmp_path: Path, case: dict) -> str:
    src = ROOT / "tests" / "data" / "reference" / f"{case['data']}.csv"
    if not src.is_file():
        src = ROOT / "tests" / "data" / "edge" / f"{case['data']}.csv"
    frame = pd.read_csv(src)
    out = pd.DataFrame({arg: frame[col] for arg, col in case["columns"].items()})
    path = tmp_path / f"{case['data']}.csv"
    out.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["data"] in ("bcg", "nielweise2007", "double_zero")],
    ids=lambda c: f"{c['fn']}-{c['data']}-{c['measure']}",
)
def test_pooling_equals_metafor(case, tmp_path, capsys):
    pooling = "MH" if case["fn"] == "rma.mh" else "PETO"
    code = main(["meta", _csv(tmp_path, case), "--measure", case["measure"], "--pooling", pooling, "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pooling"] == pooling and out["k"] == case["k_yi"]
    for key in ("estimate", "se", "ci_low", "ci_high", "pval", "q", "q_pval", "i2"):
        assert out[key] == pytest.approx(case[key], rel=1e-9, abs=1e-14), key


@pytest.mark.skipif(not (REVMAN_DIR / "CD004976.rm5").is_file(), reason="CD004976.rm5 not found")
def test_mh_dl_equals_revman(tmp_path, capsys):
    """Every random-effects M-H outcome of CD004976 through the command, against RevMan's stored result."""
    review = rm5.read(REVMAN_DIR / "CD004976.rm5")
    outcomes = [o for o in review.outcomes if o.method == "MH" and o.random]
    assert outcomes
    for o in outcomes:
        rows = pd.DataFrame(
            {
                "ai": [r.events_1 for r in o.rows],
                "n1i": [r.total_1 for r in o.rows],
                "ci": [r.events_2 for r in o.rows],
                "n2i": [r.total_2 for r in o.rows],
            }
        )
        path = tmp_path / f"{o.id}.csv"
        rows.to_csv(path, index=False)
        assert main(["meta", str(path), "--measure", o.measure, "--pooling", "MH", "--method", "DL", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        stored = o.stored.values
        assert math.exp(out["estimate"]) == pytest.approx(stored["effect_size"], rel=1e-6), o.id
        assert math.exp(out["ci_low"]) == pytest.approx(stored["ci_start"], rel=1e-6), o.id
        assert out["tau2"] == pytest.approx(stored["tau2"], rel=1e-6, abs=1e-12), o.id
        assert out["q"] == pytest.approx(stored["chi2"], rel=1e-6), o.id
        assert out["i2"] == pytest.approx(stored["i2"], rel=1e-6, abs=1e-10), o.id


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--pooling", "PETO", "--measure", "RR"], "Peto's method pools odds ratios only"),
        (["--pooling", "MH", "--measure", "OR", "--method", "REML"], "REML is not available with --pooling MH"),
        (["--pooling", "MH", "--measure", "OR", "--hksj"], "--hksj: not available with --pooling MH"),
        (["--pooling", "MH", "--measure", "SMD"], "Mantel-Haenszel pools OR, RR or RD"),
    ],
)
def test_impossible_combinations_exit_2(extra, message, tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("ai,n1i,ci,n2i,m1i,sd1i,m2i,sd2i\n3,20,5,21,1,1,2,1\n4,30,9,31,1,1,2,1\n")
    assert main(["meta", str(path), *extra]) == 2
    assert message in capsys.readouterr().err
