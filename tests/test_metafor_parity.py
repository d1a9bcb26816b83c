"""Every statistic against R metafor's, from the fixtures that tests/r/make_fixtures.R wrote.

Closed forms and effect sizes must agree to 1e-9 (relative), iterative estimators to 1e-6. The
fixtures hold metafor's default output; ``result_tight`` holds metafor run to the exact optimum, which
``exact=True`` must reproduce.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from erh_report.analysis.bias import egger_test, trim_and_fill
from erh_report.analysis.effect_sizes import escalc
from erh_report.analysis.heterogeneity import q_profile
from erh_report.analysis.model import ModelError, fit, predict
from erh_report.analysis.sensitivity import leave_one_out
from erh_report.analysis.subgroup import subgroup_analysis

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "metafor"
ITERATIVE = {"REML", "ML", "EB", "PM"}


def load(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text())["cases"]


def case_id(case: dict) -> str:
    return case["name"]


def tolerance(method: str | None) -> float:
    return 1e-6 if method in ITERATIVE else 1e-9


def close(actual, expected, rtol: float, what: str, atol: float = 1e-12) -> None:
    expected_arr = np.array([np.nan if x is None else x for x in np.atleast_1d(expected)], dtype=float)
    actual_arr = np.atleast_1d(np.asarray(actual, dtype=float))
    np.testing.assert_allclose(actual_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def dataset(case: dict) -> pd.DataFrame:
    frame = pd.read_csv(ROOT / case["dataset"])
    if case.get("rows") is not None:  # 1-based rows metafor used, when some were dropped
        frame = frame.iloc[[r - 1 for r in case["rows"]]].reset_index(drop=True)
    return frame


def effect_data(case: dict) -> dict:
    frame = dataset(case)
    return {arg: frame[col].to_numpy(dtype=float) for arg, col in case["columns"].items()}


def moderators(case: dict, n: int):
    mods = case.get("mods") or []
    if not mods:
        return None
    frame = dataset(case)
    if len(frame) != n:
        frame = frame.dropna(subset=list(mods)).reset_index(drop=True)
    assert len(frame) == n, "moderator rows do not line up with yi"
    return frame[mods].to_numpy(dtype=float)


def level_of(case: dict) -> float:
    level = case.get("level", 95)
    return level * 100 if level < 1 else level


# ---------------------------------------------------------------------------------------- escalc
@pytest.mark.parametrize("case", load("escalc.json"), ids=case_id)
def test_escalc(case):
    options = dict(case.get("options") or {})
    kwargs = {k: options[k] for k in ("add", "to", "drop00") if k in options}
    if "error" in case:
        pytest.skip(f"metafor errors: {case['error']}")
    if options.get("vtype", "LS") != "LS":
        pytest.skip("only metafor's default variance type is implemented")
    es = escalc(case["measure"], effect_data(case), **kwargs)
    close(es.yi, case["yi"], 1e-9, "yi")
    close(es.vi, case["vi"], 1e-9, "vi")


# ------------------------------------------------------------------------------------------- rma
def check_result(res, expected: dict, rtol: float) -> None:
    close([c.estimate for c in res.coefficients], expected["beta"], rtol, "beta")
    close([c.se for c in res.coefficients], expected["se"], rtol, "se")
    close([c.statistic for c in res.coefficients], expected["zval"], rtol, "zval")
    close([c.pval for c in res.coefficients], expected["pval"], rtol, "pval")
    close([c.ci_low for c in res.coefficients], expected["ci_lb"], rtol, "ci_lb")
    close([c.ci_high for c in res.coefficients], expected["ci_ub"], rtol, "ci_ub")
    close(res.tau2, expected["tau2"], rtol, "tau2", atol=1e-10)
    close(res.i2, expected["I2"], rtol, "I2", atol=1e-8)
    close(res.h2, expected["H2"], rtol, "H2")
    close(res.q, expected["QE"], 1e-9, "QE")
    close(res.q_pval, expected["QEp"], 1e-9, "QEp", atol=1e-15)
    if expected.get("QM") is not None:
        close(res.qm, expected["QM"], rtol, "QM")
        close(res.qm_pval, expected["QMp"], rtol, "QMp", atol=1e-15)
    if expected.get("se_tau2") is not None:
        close(res.se_tau2, expected["se_tau2"], rtol, "se_tau2")
    if expected.get("R2") is not None:
        close(res.r2, expected["R2"], rtol, "R2", atol=1e-8)
    if expected.get("weights") is not None:
        close(res.weights, expected["weights"], rtol, "weights")
    pred = expected.get("pred")
    if pred and res.intercept_only:
        p = predict(res)
        close(
            [p.pred, p.se, p.ci_low, p.ci_high, p.pi_low, p.pi_high],
            [
                pred["pred"],
                pred["se"],
                pred["ci_lb"],
                pred["ci_ub"],
                pred["ci_lb"] if pred.get("pi_lb") is None else pred["pi_lb"],  # FE: no PI, it equals the CI
                pred["ci_ub"] if pred.get("pi_ub") is None else pred["pi_ub"],
            ],
            rtol,
            "predict",
        )
    ci = expected.get("confint")
    if ci and res.intercept_only:
        ours = q_profile(res)
        assert ours is not None
        for key, attr in (("tau2", "tau2"), ("tau", "tau"), ("I2", "i2"), ("H2", "h2")):
            close(getattr(ours, attr), ci[key], rtol, f"confint {key}", atol=1e-8)


def fit_case(case: dict, *, exact: bool = False):
    yi = np.array(case["yi"], dtype=float)
    vi = np.array(case["vi"], dtype=float)
    return fit(
        yi,
        vi,
        method=case["method"],
        hksj=case.get("test") == "knha",
        level=level_of(case),
        moderators=moderators(case, yi.size),
        terms=case.get("mods") or None,
        exact=exact,
    )


RMA_CASES = load("rma.json")


@pytest.mark.parametrize("case", RMA_CASES, ids=case_id)
def test_rma(case):
    if "error" in case or "error" in case.get("result", {}):
        with pytest.raises((ModelError, ValueError, np.linalg.LinAlgError)):
            fit_case(case)
        return
    check_result(fit_case(case), case["result"], tolerance(case["method"]))


@pytest.mark.parametrize("case", [c for c in RMA_CASES if c.get("result_tight")], ids=case_id)
def test_exact_optimum_matches_metafor_run_to_convergence(case):
    if "error" in case["result_tight"]:
        pytest.skip(case["result_tight"]["error"])
    res = fit_case(case, exact=True)
    expected = case["result_tight"]
    close(res.tau2, expected["tau2"], 1e-6, "tau2", atol=1e-9)
    close([c.estimate for c in res.coefficients], expected["beta"], 1e-6, "beta", atol=1e-9)


# ---------------------------------------------------------------------------------------- subgroup
@pytest.mark.parametrize("case", load("subgroup.json"), ids=case_id)
def test_subgroups(case):
    yi = np.array(case["yi"], dtype=float)
    vi = np.array(case["vi"], dtype=float)
    hksj = case.get("test") == "knha"
    sub = subgroup_analysis(yi, vi, case["groups"], method=case["method"], hksj=hksj, level=level_of(case))
    rtol = tolerance(case["method"])
    for level, expected in case["per_group"].items():
        if "error" in expected:
            assert level in sub.errors
            continue
        check_result(sub.results[level], expected, rtol)
    mod = case["moderator_test"]
    if mod and "error" not in mod:
        close(sub.moderator_test.statistic, mod["QM"], rtol, "QM")
        close(sub.moderator_test.pval, mod["QMp"], rtol, "QMp", atol=1e-15)
        close(sub.moderator_test.tau2, mod["tau2"], rtol, "common tau2", atol=1e-10)
    rev = case["revman_test"]
    if rev and rev.get("Q") is not None:
        close(sub.separate_tau2_test.statistic, rev["Q"], rtol, "RevMan Q")
        close(sub.separate_tau2_test.pval, rev["pval"], rtol, "RevMan P", atol=1e-15)
        assert sub.separate_tau2_test.df == (rev["df"],)


# ------------------------------------------------------------------------------- small-study tests
@pytest.mark.parametrize("case", load("regtest.json"), ids=case_id)
def test_egger(case):
    if "error" in case:
        with pytest.raises((ModelError, ValueError)):
            egger_test(fit_case(case))
        return
    eg = egger_test(fit_case(case))
    r = case.get("result", case)
    rtol = tolerance(case["method"])
    close(eg.statistic, r["zval"], rtol, "statistic")
    close(eg.pval, r["pval"], rtol, "pval", atol=1e-15)
    if r.get("est") is not None:
        close(
            [eg.limit_estimate, eg.limit_ci_low, eg.limit_ci_high],
            [r["est"], r["ci_lb"], r["ci_ub"]],
            rtol,
            "limit estimate",
        )


@pytest.mark.parametrize("case", load("trimfill.json"), ids=case_id)
def test_trimfill(case):
    if "error" in case:
        with pytest.raises((ModelError, ValueError)):
            trim_and_fill(fit_case(case))
        return
    tf = trim_and_fill(fit_case(case))
    r = case.get("result", case)
    rtol = tolerance(case["method"])
    assert tf.k0 == r["k0"]
    assert tf.side == r["side"]
    close(tf.se_k0, r["se_k0"], 1e-9, "se_k0")
    res = tf.result
    close(
        [res.estimate, res.se, res.ci_low, res.ci_high],
        [
            r["beta"][0] if isinstance(r["beta"], list) else r["beta"],
            r["se"][0] if isinstance(r["se"], list) else r["se"],
            r["ci_lb"][0] if isinstance(r["ci_lb"], list) else r["ci_lb"],
            r["ci_ub"][0] if isinstance(r["ci_ub"], list) else r["ci_ub"],
        ],
        rtol,
        "filled model",
    )
    close(res.tau2, r["tau2"], rtol, "tau2", atol=1e-10)
    if tf.k0:
        close(np.concatenate([case["yi"], tf.filled_yi]), r["yi_aug"], 1e-9, "augmented yi")


@pytest.mark.parametrize("case", load("leave1out.json"), ids=case_id)
def test_leave_one_out(case):
    loo = leave_one_out(
        np.array(case["yi"]),
        np.array(case["vi"]),
        method=case["method"],
        hksj=case.get("test") == "knha",
        level=level_of(case),
    )
    r = case.get("result", case)
    rtol = tolerance(case["method"])
    for ours, key in (
        (loo.estimate, "estimate"),
        (loo.se, "se"),
        (loo.statistic, "zval"),
        (loo.pval, "pval"),
        (loo.ci_low, "ci_lb"),
        (loo.ci_high, "ci_ub"),
        (loo.q, "Q"),
        (loo.q_pval, "Qp"),
        (loo.tau2, "tau2"),
        (loo.i2, "I2"),
        (loo.h2, "H2"),
    ):
        if r.get(key) is None:  # metafor reports no tau², I², H² for a common-effect model
            assert case["method"] == "FE" and key in ("tau2", "I2", "H2")
            continue
        close(ours, r[key], rtol, key, atol=1e-10)


# ----------------------------------------------------------------------------------- convergence
CONVERGENCE = json.loads((FIXTURES / "convergence.json").read_text())


@pytest.mark.parametrize("case", CONVERGENCE["cases"], ids=case_id)
def test_optimum_found_where_metafors_default_fails(case):
    res = fit(np.array(case["yi"]), np.array(case["vi"]), method=case["method"])
    close(res.tau2, case["tau2_optimum"], 1e-6, "tau2 at the optimum", atol=1e-9)
    close(res.estimate, case["beta"], 1e-6, "estimate at the optimum", atol=1e-9)
    if case["kind"] == "error":  # metafor's default stops with an error on these data
        assert "did not converge" in case["default_error"]
        assert any("does not converge" in note for note in res.notes)
    else:  # metafor's default returns, without an error, a point with a lower likelihood
        assert case["optimum_ll"] > case["default_ll"] + 1e-3
        assert abs(case["default_tau2"] - case["tau2_optimum"]) > 1e-2
        assert any("stops away from the maximum" in note for note in res.notes)


def test_there_are_data_sets_of_both_kinds():
    assert {case["kind"] for case in CONVERGENCE["cases"]} == {"error", "local"}
