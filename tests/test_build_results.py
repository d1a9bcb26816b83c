"""`erh-report build` writes build/results: the tables, their numbers, and nothing half-written."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from review_copies import DATA, copy_data
from scipy.special import gammaln

from erh_report import build as build_mod
from erh_report.analysis.model import fit
from erh_report.build import build
from erh_report.data import load_review
from erh_report.synthesis import run
from erh_report.vocabulary import ILLUSTRATIVE_NOTICE

MAIN_COLUMNS = [
    "analysis_id",
    "domain",
    "outcome",
    "timepoint",
    "k",
    "participants",
    "estimate",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "pval",
    "tau2",
    "i2",
    "q",
    "q_df",
    "q_pval",
    "method",
]


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    build(DATA, out, progress=None, stages=("results",))
    return out / "results"


def hedges_g(n1: float, m1: float, s1: float, n2: float, m2: float, s2: float) -> tuple[float, float]:
    """Hedges' g with the exact correction and metafor's large-sample variance, written out again."""
    df = n1 + n2 - 2
    sp = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df)
    j = math.exp(gammaln(df / 2) - 0.5 * math.log(df / 2) - gammaln((df - 1) / 2))
    g = j * (m1 - m2) / sp
    return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))


def test_files_written(results_dir: Path):
    names = {p.name for p in results_dir.iterdir()}
    assert {
        "analyses.csv",
        "analyses.json",
        "results.json",
        "results.xlsx",
        "studies",
        "subgroups.csv",
        "metaregression.csv",
        "sensitivity.csv",
        "leave_one_out.csv",
        "small_study_effects.csv",
        "study_effects.csv",
        "prisma.csv",
        "README.txt",
    } <= names
    assert len(list((results_dir / "studies").glob("*.csv"))) == 24
    assert ILLUSTRATIVE_NOTICE in (results_dir / "README.txt").read_text()


def effects_from_data(outcome_id: str, window_id: str) -> tuple[list[float], list[float], float]:
    """yi, vi and participants of one analysis, straight from data/ (review.yaml and outcome_data.csv),
    for a continuous outcome whose studies all report arm data: the catalogue's first instrument, the
    window's earliest time point, intervention arms combined, signs turned when lower is better."""
    config = yaml.safe_load((DATA / "review.yaml").read_text(encoding="utf-8"))
    window = next(w for w in config["plan"]["windows"] if w["id"] == window_id)
    outcome = next(o for d in config["domains"] for o in d["outcomes"] if o["id"] == outcome_id)
    order = [i["id"] for i in outcome["instruments"]]
    higher = {i["id"]: i["higher_is_better"] for i in outcome["instruments"]}
    rows = [
        r
        for r in csv.DictReader(io.StringIO((DATA / "outcome_data.csv").read_text(encoding="utf-8")))
        if r["outcome"] == outcome_id
        and float(r["followup_months"]) >= window["min_months"]
        and float(r["followup_months"]) < (window.get("max_months") or math.inf)
    ]
    yi, vi, participants = [], [], 0.0
    for study in dict.fromkeys(r["study_id"] for r in rows):
        mine = [r for r in rows if r["study_id"] == study]
        instrument = min((r["instrument"] for r in mine), key=order.index)
        mine = [r for r in mine if r["instrument"] == instrument]
        months = min(float(r["followup_months"]) for r in mine)
        mine = [r for r in mine if float(r["followup_months"]) == months]
        assert all(r["n"] for r in mine), "this helper reads arm data only"
        arms = [(float(r["n"]), float(r["mean"]), float(r["sd"])) for r in mine if r["role"] == "intervention"]
        n1, m1, s1 = arms[0]
        for n, m, s in arms[1:]:  # the Cochrane Handbook's formula for two groups, applied in turn
            s1 = math.sqrt(((n1 - 1) * s1**2 + (n - 1) * s**2 + n1 * n / (n1 + n) * (m1 - m) ** 2) / (n1 + n - 1))
            m1, n1 = (n1 * m1 + n * m) / (n1 + n), n1 + n
        n2, m2, s2 = next((float(r["n"]), float(r["mean"]), float(r["sd"])) for r in mine if r["role"] == "control")
        g, v = hedges_g(n1, m1, s1, n2, m2, s2)
        yi.append(g if higher[instrument] else -g)
        vi.append(v)
        participants += n1 + n2
    return yi, vi, participants


def test_main_table(results_dir: Path):
    table = pd.read_csv(results_dir / "analyses.csv")
    assert set(MAIN_COLUMNS) <= set(table.columns)
    config = yaml.safe_load((DATA / "review.yaml").read_text(encoding="utf-8"))
    outcomes = [o for d in config["domains"] for o in d["outcomes"]]
    assert len(table) == len(outcomes) * len(config["plan"]["windows"])  # analyses: all
    row = table.set_index("analysis_id").loc["bonding_post"]
    assert (row["domain"], row["outcome"], row["timepoint"], row["method"]) == (
        config["domains"][0]["name"],
        outcomes[0]["name"],
        config["plan"]["windows"][0]["label"],
        config["settings"]["method"],
    )
    yi, vi, participants = effects_from_data("bonding", "post")
    assert (row["k"], row["participants"], row["q_df"]) == (len(yi), participants, len(yi) - 1)
    assert row["estimate"] == pytest.approx(fit(np.array(yi), np.array(vi), method="REML").estimate, rel=1e-10)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["pi_low"] < row["ci_low"]


def test_full_precision_in_csv(results_dir: Path):
    """The CSV keeps every digit: its text reads back as the same double as analyses.json holds."""
    line = (results_dir / "analyses.csv").read_text().splitlines()[1]
    estimate = json.loads((results_dir / "analyses.json").read_text())["analyses"][0]["estimate"]
    assert repr(estimate) in line.split(",") and len(repr(estimate).lstrip("-0.")) >= 15


def test_headline_counts_are_the_published_reviews(results_dir: Path):
    """The illustrative data reproduce the published review's 93 studies and 14,993 dyads."""
    about = json.loads((results_dir / "results.json").read_text())["about"]
    assert (about["studies"], about["dyads_randomised"]) == (93, 14_993)


def test_certainty_spreads_from_very_low_to_moderate_for_varied_reasons(results_dir: Path):
    """As in the published review: very low to moderate certainty; some analyses are not rated down for
    risk of bias, some only for imprecision, some only for inconsistency."""
    certainty = pd.read_csv(results_dir / "grade" / "grade_certainty.csv").set_index("analysis_id")
    assert set(certainty["word"]) == {"Very low", "Low", "Moderate"}
    domains = pd.read_csv(results_dir / "grade" / "grade_domains.csv")
    down = domains[domains["downgrade"] > 0].groupby("analysis_id")["domain"].apply(set)
    not_rob = set(certainty.index) - {a for a, d in down.items() if "risk_of_bias" in d}
    assert 3 <= len(not_rob) <= len(certainty) - 3
    assert {"imprecision"} in list(down) and {"inconsistency"} in list(down)
    assert {"risk_of_bias"} in list(down)


def test_pooled_estimate_matches_pymare(results_dir: Path):
    pymare = pytest.importorskip("pymare")
    studies = pd.read_csv(results_dir / "studies" / "sensitivity_post.csv")
    fit = pymare.meta_regression(studies["yi"].to_numpy(), studies["vi"].to_numpy(), method="REML")
    main = pd.read_csv(results_dir / "analyses.csv").set_index("analysis_id").loc["sensitivity_post"]
    assert main["estimate"] == pytest.approx(float(fit.fe_params[0, 0]), abs=1e-6)
    # pymare's optimiser stops within about 1e-5 of the REML maximum (metafor agrees with ours to 1e-12)
    assert main["tau2"] == pytest.approx(float(fit.tau2[0, 0]), abs=1e-5)


def test_study_table_matches_meta_command(results_dir: Path):
    """The study rows can be fed to `erh-report meta` as they are and give the same pooled numbers."""
    path = results_dir / "studies" / "depression_post.csv"
    run_ = subprocess.run(
        [sys.executable, "-m", "erh_report.cli", "meta", str(path), "--measure", "GEN", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    meta = json.loads(run_.stdout)
    main = pd.read_csv(results_dir / "analyses.csv").set_index("analysis_id").loc["depression_post"]
    for key in ("estimate", "ci_low", "ci_high", "tau2", "i2", "q", "pi_low", "pi_high"):
        assert main[key] == pytest.approx(meta[key], rel=1e-12, abs=1e-14), key


def _source_rows(study: pd.Series) -> pd.DataFrame:
    """The rows of data/outcome_data.csv a study's effect was computed from (spreadsheet row numbers)."""
    data = pd.read_csv(DATA / "outcome_data.csv", dtype={"followup_months": str})
    numbers = [int(n) for n in str(study["source_rows"]).split(";")]
    return data.loc[[n - 2 for n in numbers]]


def _study(results_dir: Path, analysis_id: str, why: str) -> pd.Series:
    """The first study of an analysis whose explanation contains ``why``."""
    studies = pd.read_csv(results_dir / "studies" / f"{analysis_id}.csv")
    return studies[studies["why"].str.contains(why, regex=False)].iloc[0]


def test_sign_is_reversed_when_lower_is_better(results_dir: Path):
    study = _study(results_dir, "bonding_post", "PBQ: ")  # the PBQ: lower is better
    rows = _source_rows(study).set_index("role")
    i, c = rows.loc["intervention"], rows.loc["control"]
    g, v = hedges_g(i["n"], i["mean"], i["sd"], c["n"], c["mean"], c["sd"])
    assert study["yi"] == pytest.approx(-g, abs=1e-12) and study["vi"] == pytest.approx(v, abs=1e-12)
    assert study["yi"] > 0 and i["mean"] < c["mean"]  # a lower score with the intervention is a positive effect
    assert study["instrument"] == "PBQ" and list(rows["instrument"]) == ["PBQ", "PBQ"]
    assert study["why"].endswith("sign reversed (lower is better)")
    main = pd.read_csv(results_dir / "analyses.csv").set_index("analysis_id").loc["bonding_post"]
    studies = pd.read_csv(results_dir / "studies" / "bonding_post.csv")
    weights = 1 / (studies["vi"] + main["tau2"])
    assert study["weight"] == pytest.approx(100 / (study["vi"] + main["tau2"]) / weights.sum(), rel=1e-9)


def test_multi_arm_study_combined_by_the_cochrane_formula(results_dir: Path):
    study = _study(results_dir, "sensitivity_post", "2 intervention arms (intervention A, intervention B) combined")
    rows = _source_rows(study).set_index("arm")
    a, b, c = rows.loc["intervention A"], rows.loc["intervention B"], rows.loc["control"]
    n1, n2, m1, m2, s1, s2 = a["n"], b["n"], a["mean"], b["mean"], a["sd"], b["sd"]
    mean = (n1 * m1 + n2 * m2) / (n1 + n2)
    sd = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2 + n1 * n2 / (n1 + n2) * (m1 - m2) ** 2) / (n1 + n2 - 1))
    g, v = hedges_g(n1 + n2, mean, sd, c["n"], c["mean"], c["sd"])
    assert study["yi"] == pytest.approx(g, abs=1e-12)
    assert study["vi"] == pytest.approx(v, abs=1e-12)
    assert (study["n_i"], study["n_c"], study["participants"]) == (n1 + n2, c["n"], n1 + n2 + c["n"])


def test_shared_control_split(tmp_path: Path, results_dir: Path):
    combined = _study(results_dir, "sensitivity_post", "2 intervention arms (intervention A, intervention B)")
    rows = _source_rows(combined).set_index("arm")
    folder = copy_data(tmp_path)
    yaml = folder / "review.yaml"
    yaml.write_text(yaml.read_text().replace("multi_arm: combine", "multi_arm: split_control"))
    results = run(load_review(folder))
    effects = results.get("sensitivity_post").effects.set_index("comparison")
    split = effects[effects["study_id"] == combined["study_id"]]
    assert list(split.index) == ["intervention A", "intervention B"]
    assert list(split["n_c"]) == [rows.loc["control", "n"] / 2] * 2
    b, c = rows.loc["intervention B"], rows.loc["control"]
    g, _ = hedges_g(b["n"], b["mean"], b["sd"], c["n"] / 2, c["mean"], c["sd"])
    assert split.loc["intervention B", "yi"] == pytest.approx(g, abs=1e-12)
    assert split.loc["intervention B", "study"] == f"{combined['study']} (intervention B)"


def test_precomputed_effect_used_with_its_direction(results_dir: Path):
    study = _study(results_dir, "depression_post", "precomputed effect")
    (row,) = _source_rows(study).itertuples()
    assert (row.role, row.instrument) == ("contrast", study["instrument"])
    assert study["yi"] == pytest.approx(-row.yi, abs=1e-12), "depression scales: lower is better"
    assert study["vi"] == pytest.approx(row.sei**2, abs=1e-12)
    assert study["why"].endswith("sign reversed (lower is better); precomputed effect")


def test_dichotomous_outcome_as_log_odds_ratio(results_dir: Path):
    studies = pd.read_csv(results_dir / "studies" / "disorganised_attachment_post.csv")
    rows = studies[(studies[["events_i", "events_c"]] > 0).all(axis=1)]
    a, n1, c, n2 = (rows[k].to_numpy(float) for k in ("events_i", "total_i", "events_c", "total_c"))
    log_or = np.log(a / (n1 - a)) - np.log(c / (n2 - c))
    assert np.allclose(rows["yi"], -log_or, atol=1e-12)  # fewer disorganised infants = positive
    main = pd.read_csv(results_dir / "analyses.csv").set_index("analysis_id").loc["disorganised_attachment_post"]
    assert (main["measure"], main["scale"]) == ("OR", "log")
    assert main["exp_estimate"] == pytest.approx(math.exp(main["estimate"]))


def test_time_point_rule_and_why(results_dir: Path):
    study = _study(results_dir, "bonding_post", "earliest in window (also: ")
    data = pd.read_csv(DATA / "outcome_data.csv")
    reported = data[
        (data["study_id"] == study["study_id"])
        & (data["outcome"] == "bonding")
        & (data["instrument"] == study["instrument"])
        & (data["followup_months"] < 12)
    ]
    assert study["followup_months"] == reported["followup_months"].min() < reported["followup_months"].max()
    assert [int(n) for n in study["source_rows"].split(";")] == [
        i + 2 for i in reported.index[reported["followup_months"] == study["followup_months"]]
    ]


def test_subgroup_metaregression_sensitivity_tables(results_dir: Path):
    main = pd.read_csv(results_dir / "analyses.csv").set_index("analysis_id")
    k = main.loc["bonding_post", "k"]
    sub = pd.read_csv(results_dir / "subgroups.csv")
    bonding = sub[(sub["analysis_id"] == "bonding_post") & (sub["variable"] == "population_risk")]
    assert list(bonding["level"]) == ["high", "low"] and bonding["k"].sum() == k
    reg = pd.read_csv(results_dir / "metaregression.csv").set_index(["analysis_id", "moderator"])
    dose = reg.loc[("sensitivity_post", "dose_hours")]
    assert dose["k"] == main.loc["sensitivity_post", "k"] and dose["moderator_min"] >= 1
    assert dose["moderator_max"] <= 60
    assert dose["slope_ci_low"] < 0 < dose["slope_ci_high"]  # no dose effect was generated
    sens = pd.read_csv(results_dir / "sensitivity.csv")
    rows = sens[sens["analysis_id"] == "bonding_post"].set_index("analysis")
    rob = pd.read_csv(DATA / "risk_of_bias.csv")
    studies = set(pd.read_csv(results_dir / "studies" / "bonding_post.csv")["study_id"])
    high = rob[(rob["outcome"] == "bonding") & (rob["overall"] == "high") & rob["study_id"].isin(studies)]
    assert rows.loc["all studies", "k"] == k
    assert rows.loc["excluding high risk of bias", "k"] == k - len(high) < k
    assert rows.loc["excluding high risk of bias", "excluded"].count(";") == len(high) - 1
    loo = pd.read_csv(results_dir / "leave_one_out.csv")
    assert (loo["analysis_id"] == "bonding_post").sum() == k
    small = pd.read_csv(results_dir / "small_study_effects.csv")
    assert set(small["analysis_id"]) >= {"bonding_post", "sensitivity_post"}
    assert (small["k"] >= 10).all()


def test_xlsx_and_json(results_dir: Path):
    book = load_workbook(results_dir / "results.xlsx", read_only=True)
    assert book.sheetnames == [
        "about",
        "analyses",
        "study_effects",
        "subgroups",
        "metaregression",
        "sensitivity",
        "leave_one_out",
        "small_study_effects",
        "prisma",
        "dependence",
    ]
    about = {r[0]: r[1] for r in book["about"].iter_rows(min_row=2, values_only=True)}
    assert about["illustrative"] == "True"
    data = json.loads((results_dir / "results.json").read_text())
    assert data["about"]["illustrative"] is True
    first = data["analyses"][0]
    assert first["analysis_id"] == "bonding_post" and first["exp_estimate"] is None
    assert len(data["study_effects"]) == len(pd.read_csv(results_dir / "study_effects.csv"))


def test_rebuild_replaces_and_failure_leaves_old_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = tmp_path / "build"
    build(DATA, out, progress=None, stages=("results",))
    (out / "results" / "stale.txt").write_text("old")
    build(DATA, out, progress=None, stages=("results",))
    assert not (out / "results" / "stale.txt").exists()
    before = (out / "results" / "analyses.csv").read_bytes()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_mod, "write_results", broken)
    with pytest.raises(RuntimeError):  # built again, not found unchanged (the same data)
        build(DATA, out, progress=None, stages=("results",), cache_dir=False)
    assert (out / "results" / "analyses.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [".erh-build", "inputs.zip", "manifest.json", "results"]
    assert not list(tmp_path.glob(".build.tmp-*"))  # the staging folder is gone


def test_cli_build_progress_on_stderr(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "erh_report.cli", "build", str(DATA), "--out", str(tmp_path), "--only", "results"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert done.stdout == ""
    assert "erh-report: analysis 24/24: depression_fu12" in done.stderr
    assert ILLUSTRATIVE_NOTICE in done.stderr
    assert (tmp_path / "results" / "analyses.csv").exists()


def test_same_data_in_another_folder_gives_the_same_bytes(results_dir: Path, tmp_path: Path):
    """Where the data sit is not an input: a copy built elsewhere gives the same results, byte for byte."""
    copy = copy_data(tmp_path / "elsewhere")
    out = tmp_path / "out"
    build(copy, out, progress=None, stages=("results",))
    outputs = [
        json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["outputs"]
        for folder in (results_dir.parent, out)
    ]
    assert outputs[0] == outputs[1]
    assert str(tmp_path) not in (out / "results" / "results.json").read_text(encoding="utf-8")
