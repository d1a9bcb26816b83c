"""The reported model of an analysis with several effects per study equals metafor: predict() of a
robust() three-level or aggregated model, weights() of rma.mv, and regtest()/trimfill() after aggregate()
through `erh-report meta` (fixtures from tests/r/make_fixtures_dependence.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from erh_report.analysis.dependent import Choice, fit_dependent
from erh_report.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = json.loads((ROOT / "tests/fixtures/metafor/dependence.json").read_text())
CASES = FIXTURE["cases"]
RTOL = 1e-6


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / CASES[name]["dataset"])


def fitted(name: str, choice: Choice):
    d = data(name)
    return fit_dependent(d["yi"], d["vi"], d["study"].tolist(), choice, method="REML", hksj=False, level=95.0)


def assert_prediction(result, expected: dict) -> None:
    got = [result.estimate, result.se, result.ci_low, result.ci_high, result.pi_low, result.pi_high]
    want = [expected[k] for k in ("pred", "se", "ci_lb", "ci_ub", "pi_lb", "pi_ub")]
    np.testing.assert_allclose(got, want, rtol=RTOL)


@pytest.mark.parametrize("name", list(CASES))
def test_multilevel_model_and_its_robust_prediction(name):
    case = CASES[name]["multilevel"]
    plain = fitted(name, Choice("multilevel"))
    np.testing.assert_allclose(plain.sigma2, case["sigma2"], rtol=RTOL)
    assert_prediction(plain, case["predict"])
    assert plain.tau2 == pytest.approx(sum(case["sigma2"]), rel=RTOL)
    np.testing.assert_allclose(plain.weights, case["weights"], rtol=RTOL)
    robust = fitted(name, Choice("multilevel", robust=True))
    assert_prediction(robust, case["robust_predict"])
    assert robust.df == pytest.approx(case["robust_df"], rel=RTOL) and robust.test == "t"
    assert robust.method_label == "REML multilevel+CR2"


@pytest.mark.parametrize("name", list(CASES))
def test_aggregated_model_and_its_robust_prediction(name):
    case = CASES[name]["aggregate"]
    result = fitted(name, Choice("aggregate", robust=True, rho=case["rho"]))
    np.testing.assert_allclose(result.yi, case["yi"], rtol=RTOL)
    assert result.tau2 == pytest.approx(case["tau2"], rel=RTOL)
    assert_prediction(result, case["robust_predict"])
    assert result.df == pytest.approx(case["robust_df"], rel=RTOL)
    assert result.k == len(case["yi"]) == result.k_studies < result.k_effects


@pytest.mark.parametrize("name", list(CASES))
def test_meta_egger_and_trimfill_after_aggregate(name, capsys):
    case = CASES[name]["aggregate"]
    path = str(ROOT / CASES[name]["dataset"])
    args = ["meta", path, "--measure", "GEN", "--cluster", "study", "--aggregate", str(case["rho"])]
    assert main([*args, "--egger", "--trimfill", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rt, tf = case["regtest"], case["trimfill"]
    assert out["egger"]["statistic"] == pytest.approx(rt["zval"], rel=RTOL)
    assert out["egger"]["pval"] == pytest.approx(rt["pval"], rel=RTOL)
    assert out["trimfill"]["k0"] == tf["k0"]
    np.testing.assert_allclose(
        [out["trimfill"][k] for k in ("estimate", "ci_low", "ci_high")],
        [tf["beta"], tf["ci_lb"], tf["ci_ub"]],
        rtol=RTOL,
    )


ASSINK = str(ROOT / CASES["assink2016"]["dataset"])
REFUSED = [
    (["--cluster", "study", "--model", "multilevel", "--egger"], "--egger: needs one effect per study"),
    (["--cluster", "study", "--model", "multilevel", "--trimfill"], "--trimfill: needs one effect per study"),
    (["--cluster", "study", "--robust", "--trimfill"], "expected --aggregate RHO"),
    (["--cluster", "study", "--model", "multilevel", "--subgroup", "pubstatus"], "--subgroup: is not available"),
    (["--cluster", "study", "--aggregate", "0.6", "--subgroup", "pubstatus"], "--subgroup: is not available"),
]


@pytest.mark.parametrize(("extra", "message"), REFUSED)
def test_follow_ups_that_need_one_effect_per_study_are_one_line_errors(capsys, extra, message):
    assert main(["meta", ASSINK, "--measure", "GEN", *extra]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
