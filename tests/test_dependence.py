"""Several effects per study in the review: every effect in the window, the three approaches side by side,
and the settings that choose among them (with per-analysis overrides)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from erh_report.analysis.aggregate import aggregate
from erh_report.analysis.model import fit
from erh_report.analysis.multilevel import fit_multilevel
from erh_report.analysis.robust import robust_multilevel
from erh_report.data import load_review
from erh_report.dependence import correlation_for, dependence_table, every_effect
from erh_report.errors import InputError
from erh_report.synthesis import run_analysis, study_effects
from tests.review_copies import copy_data

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def review():
    return load_review(DATA)


@pytest.fixture(scope="module")
def table(review):
    return dependence_table(review)


def test_every_effect_holds_the_selected_ones_and_more(review):
    every = every_effect(review)
    more = 0
    for analysis in review.analyses:
        chosen = {(s.study_id, s.instrument, s.followup_months) for s in review.selections[analysis.id]}
        all_of = {(s.study_id, s.instrument, s.followup_months) for s in every[analysis.id]}
        assert chosen <= all_of
        assert {s.study_id for s in every[analysis.id]} == {s.study_id for s in review.selections[analysis.id]}
        more += len(all_of) - len(chosen)
    assert more > 0  # the illustrative data report several instruments or time points for some studies


def test_select_row_is_the_main_analysis(review, table):
    analysis = next(a for a in review.analyses if a.id == "bonding_post")
    main = run_analysis(review, analysis).result
    row = table[(table.analysis_id == "bonding_post") & (table.approach == "select")].iloc[0]
    assert row["k_studies"] == main.k == row["k_effects"]
    assert row["estimate"] == main.estimate and row["ci_low"] == main.ci_low and row["tau2"] == main.tau2


def test_aggregate_and_multilevel_rows_fit_every_effect(review, table):
    analysis = next(a for a in review.analyses if a.id == "sensitivity_post")
    effects = study_effects(review, analysis, every_effect(review)[analysis.id])
    y, v, study = effects["yi"].to_numpy(), effects["vi"].to_numpy(), effects["study_id"].to_numpy()
    rows = table[table.analysis_id == "sensitivity_post"].set_index("approach")
    agg = aggregate(y, v, study, 0.6)
    pooled = fit(agg.yi, agg.vi)
    assert rows.loc["aggregate", "k_studies"] == len(agg.labels) == pooled.k
    assert rows.loc["aggregate", "within_study_correlation"] == 0.6
    assert rows.loc["aggregate", "estimate"] == pooled.estimate
    ml = fit_multilevel(y, v, study)
    assert rows.loc["multilevel", "k_effects"] == len(y) > rows.loc["multilevel", "k_studies"]
    assert rows.loc["multilevel", "sigma2_between"] == ml.sigma2[0]
    assert rows.loc["multilevel", "robust_df"] == robust_multilevel(ml).df
    assert rows.loc["multilevel", "i2"] == pytest.approx(sum(ml.i2_levels), rel=1e-12)


def test_analysis_where_every_study_has_one_effect_says_why(table):
    notes = table[(table.approach == "multilevel") & table.estimate.isna()]["note"]
    assert all("every study has one effect" in n for n in notes)


def test_correlation_setting_and_per_analysis_override(tmp_path, review):
    data = copy_data(tmp_path)
    path = data / "review.yaml"
    text = path.read_text().replace(
        "  smd_variant: metafor", "  smd_variant: metafor\n  within_study_correlation: 0.3", 1
    )
    planned = "".join(
        f"\n    - {{outcome: {a.outcome_id}, window: {a.window_id}"
        f"{', within_study_correlation: 0.8' if a.id == 'sensitivity_post' else ''}}}"
        for a in review.analyses
    )
    assert "analyses: all" in text
    path.write_text(text.replace("analyses: all", "analyses:" + planned))
    changed = load_review(data)
    assert len(changed.analyses) == len(review.analyses)
    rho = {a.id: correlation_for(changed, a) for a in changed.analyses}
    assert rho.pop("sensitivity_post") == 0.8 and set(rho.values()) == {0.3}
    table = dependence_table(changed)
    aggregated = table[table.approach == "aggregate"].set_index("analysis_id")["within_study_correlation"]
    assert aggregated["sensitivity_post"] == 0.8 and aggregated["bonding_post"] == 0.3
    assert (
        table.set_index(["analysis_id", "approach"]).loc[("bonding_post", "aggregate"), "estimate"]
        != dependence_table(review)
        .set_index(["analysis_id", "approach"])
        .loc[("bonding_post", "aggregate"), "estimate"]
    )


def test_correlation_outside_minus_one_to_one_is_named(tmp_path):
    data = copy_data(tmp_path)
    path = data / "review.yaml"
    path.write_text(
        path.read_text().replace("  smd_variant: metafor", "  smd_variant: metafor\n  within_study_correlation: 1.5", 1)
    )
    with pytest.raises(InputError) as error:
        load_review(data)
    assert "settings.within_study_correlation" in str(error.value) and "1.5" in str(error.value)


def test_estimates_are_finite_where_fitted(table):
    fitted = table[table.note == ""]
    assert np.isfinite(fitted[["estimate", "se", "ci_low", "ci_high", "robust_se", "robust_df"]].to_numpy(float)).all()


@pytest.fixture(scope="module")
def documents(review):
    from erh_report.grade import assess_review
    from erh_report.numbers import get_style
    from erh_report.render.documents import DOCUMENTS, document_html
    from erh_report.synthesis import run

    results = run(review)
    grade = assess_review(results)
    return {doc.name: document_html(doc, results, grade, [], get_style("JAMA"))[0] for doc in DOCUMENTS[:2]}


def test_supplement_table_shows_the_three_approaches(documents, table):
    from lxml import html as lxml_html

    page = lxml_html.fromstring(documents["supplement"])
    caption = page.xpath('//table[@id="table-dependence"]/caption')[0].text_content()
    assert "Several effects per study" in caption and "three-level model" in caption
    body = page.xpath('//table[@id="table-dependence"]/tbody/tr')
    assert len(body) == table.analysis_id.nunique()
    first = [c.text_content() for c in body[0].xpath("td")]
    rows = table[table.analysis_id == table.analysis_id.iloc[0]].set_index("approach")
    assert first[1].startswith(f"{rows.loc['select', 'estimate']:.2f} (")
    assert f"{int(rows.loc['aggregate', 'k_effects'])} effects" in first[2]
    assert f"{rows.loc['multilevel', 'sigma2_between']:.3f} / {rows.loc['multilevel', 'sigma2_within']:.3f}" == first[4]
    assert first[5].endswith(f"df = {rows.loc['multilevel', 'robust_df']:.1f}")
    unfitted = table[(table.approach == "multilevel") & table.estimate.isna()]
    assert len(page.xpath('//table[@id="table-dependence"]//td[starts-with(., "not fitted: every study")]')) == len(
        unfitted
    )


def test_methods_name_the_correlation_and_the_models(documents, review):
    rho = review.config.settings.within_study_correlation
    text = " ".join(documents["manuscript"].split())
    assert f"assumed within-study correlation, {rho:.2f}" in text
    assert "three-level model of effects within studies (REML) with cluster-robust (CR2)" in text
