"""`erh-report meta` with several effects per study (--cluster, --model multilevel, --robust, --aggregate):
JSON keys and values against the metafor fixtures, and clear errors (exit 2) for combinations that cannot work."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from erh_report.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    c["name"]: c for c in json.loads((ROOT / "tests" / "fixtures" / "metafor" / "multilevel.json").read_text())["cases"]
}
ASSINK = str(ROOT / "tests" / "data" / "multilevel" / "assink2016.csv")
RTOL = 1e-9


def one(values: dict, key: str) -> float:
    """A one-coefficient value from the fixtures (R writes a vector of length 1 as a number)."""
    return float(np.atleast_1d(values[key])[0])


def run_json(args: list[str], capsys) -> dict:
    code = main(["meta", *args, "--measure", "GEN", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def run_error(args: list[str], capsys) -> str:
    code = main(["meta", *args])
    out = capsys.readouterr()
    assert code == 2
    assert out.out == ""
    return out.err


def test_multilevel_json_keys_and_values(capsys):
    data = run_json([ASSINK, "--cluster", "study", "--model", "multilevel", "--robust"], capsys)
    assert set(data) == {
        "k",
        "n_clusters",
        "sigma2",
        "i2_levels",
        "q",
        "q_pval",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pval",
        "pi_low",
        "pi_high",
        "robust",
    }
    assert set(data["robust"]) == {"se", "df", "ci_low", "ci_high", "pval"}
    case = CASES["assink2016-REML-"]
    assert data["k"] == 100 and data["n_clusters"] == 17
    np.testing.assert_allclose(data["sigma2"], case["sigma2"], rtol=RTOL)
    np.testing.assert_allclose(data["i2_levels"], case["i2_levels"], rtol=RTOL)
    np.testing.assert_allclose(
        [data[k] for k in ("estimate", "se", "ci_low", "ci_high", "pval", "q")],
        [*(one(case, key) for key in ("beta", "se", "ci_lb", "ci_ub", "pval")), case["QE"]],
        rtol=RTOL,
    )
    np.testing.assert_allclose(
        [data["pi_low"], data["pi_high"]], [case["pred"]["pi_lb"], case["pred"]["pi_ub"]], rtol=RTOL
    )
    rob = case["robust"]
    np.testing.assert_allclose(
        [data["robust"][k] for k in ("se", "df", "ci_low", "ci_high", "pval")],
        [one(rob, "se"), one(rob, "df"), one(rob, "ci_lb"), one(rob, "ci_ub"), one(rob, "pval")],
        rtol=RTOL,
    )


def test_multilevel_ml_with_moderators_has_robust_values_per_coefficient(capsys):
    data = run_json(
        [
            ASSINK,
            "--cluster",
            "study",
            "--model",
            "multilevel",
            "--method",
            "ML",
            "--moderator",
            "deltype_overt",
            "--robust",
        ],
        capsys,
    )
    case = CASES["assink2016-ML-deltype_overt"]
    assert [c["term"] for c in data["coefficients"]] == ["intercept", "deltype_overt"]
    assert {"qm", "qm_pval"} <= set(data) and "estimate" not in data
    np.testing.assert_allclose([c["estimate"] for c in data["coefficients"]], case["beta"], rtol=RTOL)
    np.testing.assert_allclose([c["robust"]["df"] for c in data["coefficients"]], case["robust"]["df"], rtol=RTOL)
    np.testing.assert_allclose(data["qm"], case["QM"], rtol=RTOL)


def test_robust_on_the_usual_model(capsys):
    data = run_json([ASSINK, "--cluster", "study", "--robust", "--moderator", "year"], capsys)
    case = CASES["assink2016-uni-REML-year"]["default"]  # the command runs metafor's default algorithm
    assert data["n_clusters"] == 17 and data["k"] == 100
    np.testing.assert_allclose([c["robust"]["se"] for c in data["coefficients"]], case["robust"]["se"], rtol=RTOL)
    np.testing.assert_allclose(
        [c["robust"]["ci_low"] for c in data["coefficients"]], case["robust"]["ci_lb"], rtol=RTOL
    )


def test_aggregate_gives_one_effect_per_study(capsys):
    data = run_json([ASSINK, "--cluster", "study", "--aggregate", "0.6"], capsys)
    case = CASES["assink2016-aggregate-0.6-REML-"]["default"]
    assert data["k"] == 17 and "n_clusters" not in data
    np.testing.assert_allclose(
        [data["estimate"], data["se"], data["tau2"]], [one(case, "beta"), one(case, "se"), case["tau2"]], rtol=RTOL
    )


def test_readable_multilevel_summary(capsys):
    code = main(["meta", ASSINK, "--measure", "GEN", "--cluster", "study", "--model", "multilevel", "--robust"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Multilevel Meta-Analysis Model (k = 100; studies = 17" in out
    assert "sigma^2.1  0.1879" in out and "sigma^2.2  0.1120" in out
    assert "Cluster-robust tests (CR2, Satterthwaite df; clusters: study, 17 levels)" in out


BAD_OPTIONS = [
    (["--robust"], "--robust: needs --cluster"),
    (["--model", "multilevel"], "--model: needs --cluster"),
    (["--cluster", "study", "--aggregate", "1.5"], "--aggregate: correlation 1.5 outside [-1, 1]"),
    (["--cluster", "study", "--aggregate", "-2"], "correlation -2 outside [-1, 1]"),
    (["--cluster", "study", "--model", "multilevel", "--method", "DL"], "DL cannot fit a multilevel model"),
    (["--cluster", "study", "--model", "multilevel", "--aggregate", "0.5"], "cannot be combined with --model"),
    (["--cluster", "study", "--egger"], "--egger: needs one effect per study"),
    (["--cluster", "nope", "--robust"], "cluster column 'nope' not found"),
    (["--cluster", "es_id", "--model", "multilevel"], None),  # es_id groups several effects: fine
    (["--cluster", "study", "--aggregate", "1"], "is not positive definite"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_OPTIONS)
def test_bad_combinations_are_clear_errors(capsys, extra, message):
    if message is None:
        assert main(["meta", ASSINK, "--measure", "GEN", *extra, "--json"]) == 0
        return
    assert message in run_error([ASSINK, "--measure", "GEN", *extra], capsys)


def test_multilevel_with_one_effect_in_every_study_is_an_error(tmp_path, capsys):
    path = tmp_path / "one.csv"
    path.write_text("yi,vi,study\n0.1,0.01,a\n0.3,0.02,b\n0.2,0.01,c\n0.5,0.03,d\n")
    err = run_error([str(path), "--measure", "GEN", "--cluster", "study", "--model", "multilevel"], capsys)
    assert str(path) in err and "every study has one effect" in err


def test_empty_cluster_cell_is_named_by_row(tmp_path, capsys):
    path = tmp_path / "gap.csv"
    path.write_text("yi,vi,study\n0.1,0.01,a\n0.3,0.02,\n0.2,0.01,b\n")
    err = run_error([str(path), "--measure", "GEN", "--cluster", "study", "--robust"], capsys)
    assert "row 3, column 'study': empty cluster" in err
