"""Mantel-Haenszel and Peto pooling against R metafor's rma.mh() and rma.peto(), from the fixtures that
tests/r/make_fixtures_mh_peto.R wrote (closed forms: 1e-9 relative)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from erh_report.analysis.pooling import pool

ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((ROOT / "tests" / "fixtures" / "metafor" / "mh_peto.json").read_text())["cases"]
STATS = ("estimate", "se", "ci_low", "ci_high", "pval", "q", "q_pval", "i2", "h2")


def _data(case: dict) -> dict[str, np.ndarray]:
    path = ROOT / "tests" / "data" / "reference" / f"{case['data']}.csv"
    if not path.is_file():
        path = ROOT / "tests" / "data" / "edge" / f"{case['data']}.csv"
    frame = pd.read_csv(path)
    return {arg: frame[col].to_numpy(float) for arg, col in case["columns"].items()}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['fn']}-{c['data']}-{c['measure']}" for c in CASES])
def test_equals_metafor(case):
    pooling = "MH" if case["fn"] == "rma.mh" else "PETO"
    res = pool(case["measure"], _data(case), pooling=pooling, method="FE", rules="metafor")
    assert res.k == case["k_yi"]
    ours = {
        "estimate": res.estimate,
        "se": res.se,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "pval": res.pval,
        "q": res.q,
        "q_pval": res.q_pval,
        "i2": res.i2,
        "h2": res.h2,
    }
    for key in STATS:
        np.testing.assert_allclose(ours[key], case[key], rtol=1e-9, atol=1e-14, err_msg=key)


def test_revman_rules_differ_from_metafor_only_with_zero_cells():
    """RevMan adds 0.5 to the tables with a zero cell before the Mantel-Haenszel sums; metafor does not."""
    for case in CASES:
        if case["fn"] != "rma.mh" or case["measure"] == "RD":
            continue
        data = _data(case)
        revman = pool(case["measure"], data, pooling="MH", method="FE", rules="revman")
        cells = [data.get(k) for k in ("ai", "bi", "ci", "di") if data.get(k) is not None]
        if "n1i" in data:
            cells += [data["n1i"] - data["ai"], data["n2i"] - data["ci"]]
        any_zero = bool(np.any(np.vstack(cells) == 0))
        same = np.isclose(revman.estimate, case["estimate"], rtol=1e-12)
        assert same != any_zero, case["data"]
