"""A small review whose main analyses use several effects per study (review.yaml's ``dependence`` and
``robust``): the pooled numbers in results/, the manuscript's HTML and DOCX, the Methods, GRADE and the
forest plot are those of the three-level or aggregated model (whose agreement with metafor other tests
show), and bad settings are named by file and key.

The review is a copy of the illustrative one restricted to three analyses: bonding (the settings:
multilevel, robust), sensitivity (its own ``dependence: aggregate``) and depression (its own ``select``,
robust from the settings). results/ is built with ``erh-report build``; the manuscript is rendered and
written as DOCX by the build's own functions, without the figures and PDF that other tests cover.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document as WordDocument
from lxml import html as lxml_html
from review_copies import copy_data

from erh_report.analysis.aggregate import aggregate
from erh_report.analysis.model import fit
from erh_report.analysis.multilevel import fit_multilevel
from erh_report.analysis.robust import robust_multilevel, robust_uni
from erh_report.build import build
from erh_report.data import load_review
from erh_report.dependence import every_effect
from erh_report.errors import InputError
from erh_report.grade import assess_review
from erh_report.numbers import get_style
from erh_report.render.documents import DOCUMENTS, document_html
from erh_report.render.docx_writer import write_docx
from erh_report.synthesis import run, study_effects

ANALYSES = (
    "    - {outcome: bonding, window: post}\n"
    "    - {outcome: sensitivity, window: post, dependence: aggregate, within_study_correlation: 0.5}\n"
    "    - {outcome: depression, window: post, dependence: select}\n"
    "    - {outcome: disorganised_attachment, window: fu12}\n"
)
STYLE = get_style("JAMA")


def configure(data: Path, settings: str = "  dependence: multilevel\n  robust: true\n", analyses: str = ANALYSES):
    yaml = data / "review.yaml"
    text = yaml.read_text(encoding="utf-8")
    assert "  smd_variant: metafor\n" in text and "  analyses: all\n" in text
    text = text.replace("  smd_variant: metafor\n", "  smd_variant: metafor\n" + settings, 1)
    yaml.write_text(text.replace("  analyses: all\n", "  analyses:\n" + analyses, 1), encoding="utf-8")
    (data / "grade.csv").write_text("analysis_id,domain,judgement,reason\n", encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("dependence")
    data = copy_data(root)
    configure(data)
    out = root / "build"
    build(data, out, progress=None, stages=("results",))
    review = load_review(data)
    results = run(review)
    grade = assess_review(results)
    manuscript = next(d for d in DOCUMENTS if d.name == "manuscript")
    html = document_html(manuscript, results, grade, [], STYLE)[0]
    docx = root / "manuscript.docx"
    write_docx(html, root, docx, title="manuscript")
    supplement = next(d for d in DOCUMENTS if d.name == "supplement")
    supplement_html = document_html(supplement, results, grade, [], STYLE)[0]
    return review, results, grade, out, html, docx, supplement_html


def every_effect_arrays(review, analysis_id: str):
    analysis = next(a for a in review.analyses if a.id == analysis_id)
    frame = study_effects(review, analysis, every_effect(review)[analysis.id])
    return frame["yi"].to_numpy(float), frame["vi"].to_numpy(float), frame["study_id"].tolist()


@pytest.fixture(scope="module")
def expected(built):
    """The reported numbers, from the analysis core directly (fit_multilevel/robust and aggregate, tied to
    metafor by tests/test_multilevel_parity.py and tests/test_dependent_model.py)."""
    review = built[0]
    y, v, study = every_effect_arrays(review, "bonding_post")
    ml = fit_multilevel(y, v, study, method="REML")
    ml_robust = robust_multilevel(ml).coefficients[0]
    y2, v2, study2 = every_effect_arrays(review, "sensitivity_post")
    agg = aggregate(y2, v2, study2, 0.5)
    uni = fit(agg.yi, agg.vi, method="REML")
    uni_robust = robust_uni(uni, list(agg.labels)).coefficients[0]
    return {
        "bonding_post": dict(model=ml, robust=ml_robust, k_effects=len(y), k_studies=len(set(study))),
        "sensitivity_post": dict(model=uni, robust=uni_robust, k_effects=len(y2), k_studies=len(agg.labels)),
    }


def t_interval(estimate: float, se: float, df: float, heterogeneity: float) -> tuple[float, float]:
    from scipy import stats

    half = stats.t.isf(0.025, df) * math.sqrt(se**2 + heterogeneity)
    return estimate - half, estimate + half


def test_results_csv_has_the_multilevel_robust_numbers(built, expected):
    table = pd.read_csv(built[3] / "results" / "analyses.csv").set_index("analysis_id")
    row, want = table.loc["bonding_post"], expected["bonding_post"]
    ml, rob = want["model"], want["robust"]
    assert row["dependence"] == "multilevel" and row["method"] == "REML multilevel+CR2" and row["test"] == "t"
    assert (row["k_effects"], row["k_studies"]) == (want["k_effects"], want["k_studies"])
    assert row["k_effects"] > row["k_studies"]
    got = row[["estimate", "se", "ci_low", "ci_high", "pval", "robust_df", "sigma2_between", "sigma2_within"]]
    wanted = [ml.estimate, rob.se, rob.ci_low, rob.ci_high, rob.pval, rob.df, *ml.sigma2]
    np.testing.assert_allclose(got.to_numpy(float), wanted, rtol=1e-12, atol=1e-15)
    assert row["i2"] == pytest.approx(sum(ml.i2_levels), rel=1e-12)
    assert row["tau2"] == pytest.approx(sum(ml.sigma2), rel=1e-12)
    np.testing.assert_allclose(
        row[["pi_low", "pi_high"]].to_numpy(float), t_interval(ml.estimate, rob.se, rob.df, sum(ml.sigma2)), rtol=1e-12
    )
    assert "one effect per study" in row["follow_up_analyses"]


def test_results_csv_has_the_aggregated_robust_numbers(built, expected):
    table = pd.read_csv(built[3] / "results" / "analyses.csv").set_index("analysis_id")
    row, want = table.loc["sensitivity_post"], expected["sensitivity_post"]
    uni, rob = want["model"], want["robust"]
    assert row["dependence"] == "aggregate" and row["within_study_correlation"] == 0.5
    assert row["method"] == "REML aggregated+CR2"
    assert (row["k_effects"], row["k_studies"]) == (want["k_effects"], want["k_studies"])
    got = row[["estimate", "ci_low", "ci_high", "robust_df", "tau2", "i2"]].to_numpy(float)
    np.testing.assert_allclose(got, [uni.estimate, rob.ci_low, rob.ci_high, rob.df, uni.tau2, uni.i2], rtol=1e-12)
    assert math.isnan(row["sigma2_between"])
    select = table.loc["depression_post"]
    assert select["dependence"] == "select" and select["k_effects"] == select["k_studies"] == select["k"]
    assert select["method"] == "REML+CR2" and not math.isnan(select["robust_df"])


def test_study_table_lists_every_effect_of_the_multilevel_model(built, expected):
    studies = pd.read_csv(built[3] / "results" / "studies" / "bonding_post.csv")
    assert len(studies) == expected["bonding_post"]["k_effects"]
    assert studies["weight"].sum() == pytest.approx(100)
    counts = studies.groupby("study_id").size()
    assert (studies["effects_in_study"].to_numpy() == studies["study_id"].map(counts).to_numpy()).all()
    aggregated = pd.read_csv(built[3] / "results" / "studies" / "sensitivity_post.csv")
    assert len(aggregated) == expected["sensitivity_post"]["k_studies"]
    assert aggregated["effects_in_study"].sum() == expected["sensitivity_post"]["k_effects"]


def result_sentence(model, robust, k_studies: int, k_effects: int, participants: int) -> str:
    effect = STYLE.effect("SMD", model.estimate, robust.ci_low, robust.ci_high, 95)
    return (
        f"{STYLE.integer(k_studies)} studies ({STYLE.integer(k_effects)} effects; {STYLE.integer(participants)} "
        f"participants) gave a pooled {effect}, {STYLE.p(robust.pval)} "
        f"(cluster-robust, {STYLE.number(robust.df, 1)} df)"
    )


def manuscript_texts(built) -> dict[str, str]:
    html, docx = built[4], built[5]
    page = " ".join(lxml_html.fromstring(html).text_content().split())
    word = " ".join(" ".join(p.text for p in WordDocument(str(docx)).paragraphs).split())
    return {"html": page, "docx": word}


@pytest.mark.parametrize("kind", ["html", "docx"])
def test_manuscript_reports_the_multilevel_robust_result(built, expected, kind):
    text = manuscript_texts(built)[kind]
    results = built[1]
    want = expected["bonding_post"]
    ml = want["model"]
    sentence = result_sentence(
        ml, want["robust"], want["k_studies"], want["k_effects"], results.get("bonding_post").participants
    )
    assert sentence in text
    assert f"σ² between studies = {STYLE.tau2(ml.sigma2[0])}, within studies = {STYLE.tau2(ml.sigma2[1])}" in text
    assert STYLE.i2(sum(ml.i2_levels)) in text


@pytest.mark.parametrize("kind", ["html", "docx"])
def test_methods_name_the_models_the_correlation_and_the_correction(built, kind):
    text = manuscript_texts(built)[kind]
    assert "every effect in the window was used, in a three-level model of effects within studies" in text
    assert "estimated by restricted maximum likelihood" in text
    assert (
        "For parent/caregiver sensitivity (post-intervention), every effect in the window was used, the effects "
        "of a study first aggregated into one (compound symmetry, assumed within-study correlation, 0.50)"
    ) in text
    assert "For parent/caregiver depression (post-intervention), one effect per study and analysis was chosen" in text
    assert "cluster-robust by study (CR2 small-sample correction, t tests with Satterthwaite degrees of freedom" in text
    assert "as a sensitivity analysis, every effect in the window was used instead" not in text  # the default's


def inconsistency(grade, analysis_id: str):
    return next(d for d in grade.get(analysis_id).domains if d.domain == "inconsistency")


def test_grade_inconsistency_uses_the_total_i2_of_the_model(built, expected):
    grade = built[2]
    ml = expected["bonding_post"]["model"]
    judgement = inconsistency(grade, "bonding_post")
    assert judgement.values["i2"] == pytest.approx(sum(ml.i2_levels), rel=1e-12)
    assert judgement.values["i2_between"] == ml.i2_levels[0]
    assert f"total {STYLE.i2(sum(ml.i2_levels))} (three-level model" in judgement.reason
    pi = t_interval(
        ml.estimate, expected["bonding_post"]["robust"].se, expected["bonding_post"]["robust"].df, sum(ml.sigma2)
    )
    assert (judgement.values["pi_low"], judgement.values["pi_high"]) == pytest.approx(pi, rel=1e-12)
    aggregated = inconsistency(grade, "sensitivity_post")
    assert aggregated.values["i2"] == pytest.approx(expected["sensitivity_post"]["model"].i2, rel=1e-12)


def test_forest_plot_groups_each_effect_under_its_study(built, expected):
    from erh_report.figures.forest import forest_spec

    results = built[1]
    ar = results.get("bonding_post")
    spec = forest_spec(results, ar, STYLE)
    headings = [r.label for r in spec.rows if r.kind == "heading"]
    effects = [r for r in spec.rows if r.kind == "study"]
    assert len(headings) == expected["bonding_post"]["k_studies"]
    assert len(effects) == expected["bonding_post"]["k_effects"]
    counts = ar.model_effects.groupby("study_id", sort=False).size()
    labels = ar.model_effects.drop_duplicates("study_id")["study"]
    assert headings == [f"{label} ({n} effect{'s' if n > 1 else ''})" for label, n in zip(labels, counts, strict=True)]
    total = next(r for r in spec.rows if r.kind == "total")
    assert total.mark.est == pytest.approx(expected["bonding_post"]["model"].estimate)
    assert "Multilevel (REML), CR2" in spec.measure_header[1]


BAD = [
    ("  dependence: nested\n", "settings.dependence", "nested"),
    ("  dependence: multilevel\n  hksj: true\n", "settings.hksj", "Hartung-Knapp"),
    ("  dependence: multilevel\n  method: DL\n", "settings.method", "REML or ML"),
    ("  robust: maybe\n", "settings.robust", "maybe"),
]


@pytest.mark.parametrize(("settings", "key", "words"), BAD)
def test_bad_settings_are_named_by_file_and_key(tmp_path, settings, key, words):
    data = copy_data(tmp_path)
    yaml = data / "review.yaml"
    text = yaml.read_text(encoding="utf-8")
    for line in settings.splitlines(keepends=True):  # replace a key the example already sets
        name = line.split(":")[0]
        if f"\n{name}:" in text:
            text = "\n".join(t for t in text.split("\n") if not t.startswith(name + ":"))
    yaml.write_text(
        text.replace("  smd_variant: metafor\n", "  smd_variant: metafor\n" + settings, 1), encoding="utf-8"
    )
    with pytest.raises(InputError) as error:
        load_review(data)
    message = str(error.value)
    assert "review.yaml" in message and key in message and words in message


def test_dependence_in_an_analysis_pooled_as_revman_does_is_named(tmp_path):
    data = copy_data(tmp_path)
    configure(
        data, settings="", analyses="    - {outcome: bonding, window: post, pooling: IV, dependence: multilevel}\n"
    )
    with pytest.raises(InputError) as error:
        load_review(data)
    message = str(error.value)
    assert "review.yaml" in message and "plan.analyses.0.dependence" in message and "pooling: IV" in message


def test_supplement_names_the_main_models_and_what_the_follow_ups_used(built):
    page = lxml_html.fromstring(built[6])
    settings = {
        row.xpath("td")[0].text_content(): row.xpath("td")[1].text_content()
        for row in page.xpath('//table[@id="table-settings"]/tbody/tr')
    }
    main = settings["Several effects per study (main analyses)"]
    assert (
        "parent-infant bonding (post-intervention) and disorganised attachment (follow-up of 1 year or more): "
        "three-level model of every effect (REML); cluster-robust"
    ) in main
    assert (
        "parent/caregiver sensitivity (post-intervention): every effect aggregated within studies (correlation 0.50)"
        in main
    )
    assert "parent/caregiver depression (post-intervention): one selected effect per study; cluster-robust CR2" in main
    caption = page.xpath('//table[@id="table-subgroups"]/caption')[0].text_content()
    assert caption.endswith(
        "One effect per study (the aggregated or, under a three-level main model, the selected effect)"
    )


def test_results_json_and_readme_say_the_setting(built):
    import json

    about = json.loads((built[3] / "results" / "analyses.json").read_text())["about"]
    assert (about["dependence"], about["robust"]) == ("multilevel", True)
    assert "k_effects, k_studies" in (built[3] / "results" / "README.txt").read_text()


def test_multilevel_with_one_effect_in_every_study_is_the_usual_model_and_says_so(built):
    table = pd.read_csv(built[3] / "results" / "analyses.csv").set_index("analysis_id")
    row = table.loc["disorganised_attachment_fu12"]
    assert row["note"].startswith("every study gives one effect in this window: the usual random-effects model")
    assert row["k_effects"] == row["k_studies"] == row["k"] and row["method"] == "REML+CR2"


def test_aggregated_rows_keep_the_arm_data_of_a_study_with_one_effect(built):
    rows = pd.read_csv(built[3] / "results" / "studies" / "sensitivity_post.csv")
    single, combined = rows[rows["effects_in_study"] == 1], rows[rows["effects_in_study"] > 1]
    assert len(single) and len(combined)
    assert single["mean_i"].notna().all() and (single["data"] == "arms").all()
    assert combined["mean_i"].isna().all() and (combined["data"] == "aggregated").all()
    assert combined["why"].str.contains("effects aggregated (within-study correlation 0.5)", regex=False).all()
