"""Forest plots: the numbers in the SVG are the results' numbers; layouts hold 1 to 150 studies and long
labels without clipping or overlapping text; empty and one-study analyses give a figure that says so."""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib import rc_context
from scipy import stats

from erh_report.data import load_review
from erh_report.figures import forest
from erh_report.figures import style as st
from erh_report.figures.output import run_job
from erh_report.numbers import get_style
from erh_report.synthesis import ReviewResults, run_analysis

DATA = Path(__file__).resolve().parents[1] / "data"
JAMA = get_style("JAMA")
SVG = "{http://www.w3.org/2000/svg}"
LONG = "A multi-site randomised trial of video-feedback parenting support with a deliberately long label"


@pytest.fixture(scope="module")
def review():
    return load_review(DATA)


def synthetic(review, analysis_id: str, k: int, *, seed: int = 1, long_every: int = 0, drop_rob: int = 0):
    """The analysis re-run on ``k`` studies made from its own (seeded, jittered) study inputs."""
    rng = np.random.default_rng(seed)
    base = review.selections[analysis_id]
    inputs = []
    for i in range(k):
        s = base[i % len(base)]
        label = f"Synthetic {i + 1:03d} ({2000 + i % 23})"
        if long_every and i % long_every == 0:
            label = f"{LONG} {i + 1:03d}"
        if s.kind == "arms" and s.treated[0].mean is not None:
            t = s.treated[0]
            treated = (dataclasses.replace(t, mean=round(t.mean + rng.normal(0, 0.4) * (t.sd or 1), 2)),)
            s = dataclasses.replace(s, treated=treated)
        inputs.append(dataclasses.replace(s, label=label))
    rob_index = dict(review._rob_index)
    for s in base[:drop_rob]:
        outcome = next(a for a in review.analyses if a.id == analysis_id).outcome_id
        rob_index.pop((s.study_id, outcome), None)
        rob_index.pop((s.study_id, ""), None)
    changed = dataclasses.replace(review, selections={**review.selections, analysis_id: inputs}, _rob_index=rob_index)
    analysis = next(a for a in changed.analyses if a.id == analysis_id)
    return ReviewResults(changed, [run_analysis(changed, analysis)])


def texts(svg: Path) -> dict[str, list[str]]:
    """Text of the SVG by the id of its group (the gid given when drawing)."""
    out: dict[str, list[str]] = {}
    for g in ET.parse(svg).getroot().iter(f"{SVG}g"):
        for t in g.findall(f"{SVG}text"):
            out.setdefault(g.get("id", ""), []).append("".join(t.itertext()))
    return out


def all_text(svg: Path) -> list[str]:
    return ["".join(t.itertext()) for t in ET.parse(svg).getroot().iter(f"{SVG}text")]


def assert_inside_and_apart(fig) -> None:
    """Every drawn text inside the figure, and no two texts on top of each other."""
    boxes = st.drawn_text_extents(fig)
    for text, (x0, y0, x1, y1) in boxes:
        assert fig.bbox.x0 - 0.5 <= x0 and x1 <= fig.bbox.x1 + 0.5, f"clipped horizontally: {text!r}"
        assert fig.bbox.y0 - 0.5 <= y0 and y1 <= fig.bbox.y1 + 0.5, f"clipped vertically: {text!r}"
    arr = np.array([b for _, b in boxes]) + np.array([0.8, 0.8, -0.8, -0.8])  # touching lines are fine
    x0, y0, x1, y1 = arr.T
    over = (x0[:, None] < x1[None]) & (x0[None] < x1[:, None]) & (y0[:, None] < y1[None]) & (y0[None] < y1[:, None])
    np.fill_diagonal(over, False)
    pairs = [(boxes[i][0], boxes[j][0]) for i, j in zip(*np.nonzero(over), strict=True) if i < j]
    assert not pairs, f"overlapping text: {pairs[:5]}"


def render(results: ReviewResults, tmp_path: Path, subgroup: str | None = None, **kw) -> tuple[Path, object]:
    jobs = [
        j
        for j in forest.jobs(results, JAMA, **kw)
        if j.figure.id == f"forest-{results.analyses[0].analysis.id}" + (f"-{subgroup}" if subgroup else "")
    ]
    fig, *_ = run_job(jobs[0], tmp_path)
    return tmp_path / fig.svg_path, fig


# ------------------------------------------------------------------------------- the numbers
def test_forest_numbers_come_from_the_results(review, tmp_path):
    res = synthetic(review, "bonding_post", 12)
    ar, r = res.analyses[0], res.analyses[0].result
    svg, fig = render(res, tmp_path)
    t = texts(svg)
    crit = stats.norm.ppf(0.975)
    for i, row in ar.effects.reset_index(drop=True).iterrows():
        gid = f"forest-study-{i + 1}"
        assert t[f"{gid}-label"] == [row["study"]]
        assert t[f"{gid}-weight"] == [f"{JAMA.number(row['weight'], 1)}%"]
        lo, hi = row["yi"] - crit * row["sei"], row["yi"] + crit * row["sei"]
        assert t[f"{gid}-estimate"] == [f"{JAMA.number(row['yi'])} [{JAMA.number(lo)}, {JAMA.number(hi)}]"]
        assert t[f"{gid}-n_i"] == [JAMA.integer(row["n_i"])]
    assert t["forest-total-estimate"] == [
        f"{JAMA.number(r.estimate)} [{JAMA.number(r.ci_low)}, {JAMA.number(r.ci_high)}]"
    ]
    assert t["forest-total-n_i"] == [JAMA.integer(ar.effects["n_i"].sum())]
    assert t["forest-total-weight"] == ["100.0%"]
    tau2 = JAMA.number(r.tau2, 3 if 0 < r.tau2 < 0.005 else 2)
    assert t["forest-total-heterogeneity-label"] == [
        f"Heterogeneity: Tau² = {tau2}; Chi² = {JAMA.number(r.q)}, df = {ar.k - 1} ({JAMA.p(r.q_pval)}); "
        f"I² = {JAMA.number(r.i2, 0)}%"
    ]
    assert t["forest-total-overall-label"] == [
        f"Test for overall effect: Z = {JAMA.number(abs(r.estimate / r.se))} ({JAMA.p(r.pval)})"
    ]
    assert t["forest-pi-estimate"] == [f"[{JAMA.number(r.pi_low)}, {JAMA.number(r.pi_high)}]"]
    assert t["forest-measure"] == ["Std. Mean Difference"] * 2
    assert t["forest-model"] == ["IV, Random (REML), 95% CI"] * 2
    assert t["forest-favours-left"] == ["Favors control"]  # JAMA spells American English
    assert t["forest-favours-right"] == ["Favors intervention"]
    assert JAMA.estimate_ci(r.estimate, r.ci_low, r.ci_high) in fig.caption
    assert "nan" not in fig.caption.lower() + fig.alt_text.lower()


def test_ratio_forest_is_on_a_log_scale_with_events(review, tmp_path):
    res = synthetic(review, "secure_attachment_post", 6)
    ar, r = res.analyses[0], res.analyses[0].result
    svg, _ = render(res, tmp_path)
    t = texts(svg)
    est = f"{JAMA.number(math.exp(r.estimate))} [{JAMA.number(math.exp(r.ci_low))}, {JAMA.number(math.exp(r.ci_high))}]"
    assert t["forest-total-estimate"] == [est]
    assert t["forest-total-events-events_i"] == [JAMA.integer(ar.effects["events_i"].sum())]
    assert t["forest-measure"] == ["Odds Ratio"] * 2
    ticks = [s for s in all_text(svg) if s in ("0.1", "0.2", "0.5", "1", "2", "5", "10")]
    assert "1" in ticks and len(ticks) >= 3


def test_subgroups_have_subtotals_and_the_test_for_differences(review, tmp_path):
    res = synthetic(review, "bonding_post", 30)
    ar = res.analyses[0]
    sg = ar.subgroups["population_risk"]
    svg, _ = render(res, tmp_path, subgroup="population_risk")
    t = texts(svg)
    for n, level in enumerate(sg.levels, start=1):
        sub = sg.results[level]
        assert t[f"forest-subgroup-{n}-label"] == [f"Population risk: {level}"]
        assert t[f"forest-subtotal-{n}-estimate"] == [
            f"{JAMA.number(sub.estimate)} [{JAMA.number(sub.ci_low)}, {JAMA.number(sub.ci_high)}]"
        ]
        share = ar.effects.loc[ar.effects["population_risk"].astype(str) == level, "weight"].sum()
        assert t[f"forest-subtotal-{n}-weight"] == [f"{JAMA.number(share, 1)}%"]
    test = sg.separate_tau2_test
    assert t["forest-subgroup-test-label"] == [
        f"Test for subgroup differences: Chi² = {JAMA.number(test.statistic)}, df = {test.df[0]} "
        f"({JAMA.p(test.pval)}), I² = {JAMA.number(test.i2, 1)}%"
    ]


def test_rob_columns_and_missing_rows_are_shown(review, tmp_path):
    res = synthetic(review, "bonding_fu12", 5, drop_rob=1)  # the first study loses its RoB 2 rows
    svg, _ = render(res, tmp_path)
    ids = {g.get("id") for g in ET.parse(svg).getroot().iter(f"{SVG}g")}
    assert "forest-rob-not-assessed" in ids
    footnotes = " ".join(texts(svg)["forest-footnote"])
    assert "No risk-of-bias assessment" in footnotes
    assert res.analyses[0].effects["study"].iloc[0] in footnotes
    plain = tmp_path / "plain"
    plain.mkdir()
    svg2, _ = render(res, plain, rob_columns=False)
    assert "Risk of bias" not in all_text(svg2)


# ------------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("k", [3, 30, 150])
def test_layout_holds_from_3_to_150_studies(review, tmp_path, k):
    res = synthetic(review, "bonding_post", k, long_every=7)
    ar = res.analyses[0]
    spec = forest.forest_spec(res, ar, JAMA)
    with rc_context(st.RC):
        fig = forest.draw_forest(spec)
        assert_inside_and_apart(fig)
    w, h = fig.get_size_inches()
    assert 9 < w < 16
    assert h < 6 + 0.2 * k * 1.3  # one row per study (long labels take two)
    if k == 150:
        jobs = [j for j in forest.jobs(res, JAMA) if j.figure.id == "forest-bonding_post"]
        out, *_ = run_job(jobs[0], tmp_path)
        labels = texts(tmp_path / out.svg_path)
        assert sum(1 for key in labels if key.startswith("forest-study-") and key.endswith("-label")) == k
        # long labels wrap onto a second line instead of running into the numbers
        assert labels["forest-study-1-label"][0] != f"{LONG} 001"
        assert " ".join(labels["forest-study-1-label"]).split() == f"{LONG} 001".split()


def test_axis_limits_hold_the_pooled_interval():
    for needed, log in ((0.3, False), (0.74, False), (1.6, False), (27.0, False), (math.log(3), True)):
        limit = forest.axis_limit(needed, log)
        assert (math.log(limit) if log else limit) >= needed * 0.999
        assert forest.axis_ticks(limit, log)


# ------------------------------------------------------------------------------- bad input
def test_one_study_is_drawn_and_says_it_was_not_pooled(review, tmp_path):
    res = synthetic(review, "bonding_post", 1)
    ar = res.analyses[0]
    assert ar.result is None
    svg, fig = render(res, tmp_path)
    t = texts(svg)
    assert t["forest-study-1-label"] == [ar.effects["study"].iloc[0]]
    assert any(ar.note in s for s in t["forest-total-note-label"])
    assert ar.note in fig.caption


def test_no_study_gives_a_figure_that_says_so(review, tmp_path):
    res = synthetic(review, "bonding_post", 0)
    (job,) = [j for j in forest.jobs(res, JAMA) if j.figure.kind == "forest"]
    fig, *_ = run_job(job, tmp_path)
    assert fig.note
    words = " ".join(all_text(tmp_path / fig.svg_path))
    assert res.analyses[0].note in words


def test_hksj_changes_the_header_and_the_test(review, tmp_path):
    settings = review.config.settings.model_copy(update={"hksj": True})
    hksj = dataclasses.replace(review, config=review.config.model_copy(update={"settings": settings}))
    res = synthetic(hksj, "bonding_fu12", 6)
    r = res.analyses[0].result
    assert r.hksj and r.df is not None
    svg, _ = render(res, tmp_path)
    t = texts(svg)
    assert t["forest-model"] == ["IV, Random (REML, HKSJ), 95% CI"] * 2
    assert t["forest-total-overall-label"] == [
        f"Test for overall effect: t({r.df:g}) = {JAMA.number(abs(r.statistic))} ({JAMA.p(r.pval)})"
    ]
