"""Forest plots: the numbers in the SVG are the results' numbers; layouts hold 1 to 150 studies and long
labels without clipping or overlapping text; empty and one-study analyses give a figure that says so."""

from __future__ import annotations

import dataclasses
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib import rc_context
from scipy import stats

from erh_report.data import load_review
from erh_report.figures import forest, forest_draw
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
        jobs = [j for j in forest.jobs(res, JAMA) if j.figure.id.startswith("forest-bonding_post")]
        labels: dict[str, list[str]] = {}
        for job in jobs:  # 150 studies continue over several pages
            out, *_ = run_job(job, tmp_path)
            labels.update(texts(tmp_path / out.svg_path))
        assert len(jobs) > 1
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


# ------------------------------------------------------------------------------- several pages
def pages_of(results: ReviewResults, figure_id: str, tmp_path: Path) -> list[tuple[object, dict[str, list[str]]]]:
    """Each page of a figure drawn: its record and the SVG's text by group."""
    out = []
    for job in forest.jobs(results, JAMA):
        if job.figure.id == figure_id or job.figure.continues == figure_id:
            fig, *_ = run_job(job, tmp_path)
            out.append((fig, texts(tmp_path / fig.svg_path)))
    return out


def placed_pitch(fig) -> float:
    """Points between two study rows on the printed page: the figure placed at the page's text width, and
    shrunk further to the page's height when taller than it."""
    room_w, room_h = forest_draw.PAGE_ROOM
    scale = min(1.0, room_w / fig.width_in, room_h / fig.height_in)
    return st.LINE * scale


@pytest.mark.parametrize("subgroup", [None, "population_risk"])
def test_a_long_forest_plot_continues_over_pages_with_its_header_repeated(review, tmp_path, subgroup):
    """290 studies (the largest analysis of the 930-study review): RevMan's pages, each with the title, the
    column header and the axis; every study once, in order; the totals and footnotes on the last page only;
    rows as far apart as on the illustrative review's pages."""
    k = 290
    res = synthetic(review, "bonding_post", k)
    ar = res.analyses[0]
    figure_id = "forest-bonding_post" + (f"-{subgroup}" if subgroup else "")
    pages = pages_of(res, figure_id, tmp_path)
    n = len(pages)
    assert n >= 4
    studies: list[str] = []
    headings: list[str] = []
    for number, (fig, t) in enumerate(pages, start=1):
        assert (fig.page, fig.pages) == (number, n)
        assert fig.id == (figure_id if number == 1 else f"{figure_id}-page{number}")
        assert fig.continues == ("" if number == 1 else figure_id)
        assert f"Page {number} of {n}" in fig.caption and fig.alt_text.endswith(f"Page {number} of {n}.")
        title = " ".join(t["forest-title"])
        assert title.endswith("(continued)") == (number > 1), title
        header = t["forest-header"]
        assert "Study or subgroup" in header and "Intervention" in header and "Control" in header
        assert {"Mean", "SD", "Total", "Weight"} <= set(header) and "Risk of bias" in header
        assert t["forest-measure"] == ["Std. Mean Difference"] * 2
        assert t["forest-model"] == ["IV, Random (REML), 95% CI"] * 2
        assert t["forest-favours-left"] == ["Favors control"] and t["forest-favours-right"] == ["Favors intervention"]
        last = number == n
        assert ("forest-total-estimate" in t) == last
        assert (t["forest-footnote"] == [forest_draw.CONTINUED]) == (not last)
        ids = sorted(int(key.split("-")[2]) for key in t if key.startswith("forest-study-") and key.endswith("-label"))
        studies += [t[f"forest-study-{i}-label"][0] for i in ids]
        headings += [key for key in t if re.fullmatch(r"forest-subgroup-\d+-label", key)]  # not the repeated ones
        assert ids, f"page {number} without a study"
        if subgroup:  # every page opens with a subgroup's heading, repeated "(continued)" when the page goes on with it
            first = next(key for key in t if key.startswith(("forest-study-", "forest-subgroup-")))
            assert re.fullmatch(r"forest-subgroup-\d+(-continued)?-label", first), first
            assert first.endswith("-continued-label") == " ".join(t[first]).endswith("(continued)")
        assert placed_pitch(fig) >= forest_draw.LEGIBLE_PITCH, (number, fig.width_in, fig.height_in)
    expected = list(ar.effects["study"]) if subgroup is None else None
    if expected is not None:
        assert studies == expected
    else:
        assert sorted(studies) == sorted(ar.effects["study"]) and len(headings) == len(ar.subgroups[subgroup].levels)
    r = ar.result
    assert pages[-1][1]["forest-total-estimate"] == [
        f"{JAMA.number(r.estimate)} [{JAMA.number(r.ci_low)}, {JAMA.number(r.ci_high)}]"
    ]


def test_the_illustrative_review_keeps_every_forest_plot_on_one_page(review):
    """The 93-study review's plots are the legible ones the row pitch was chosen from: none is split."""
    from erh_report.synthesis import run

    jobs = forest.jobs(run(review), JAMA)
    assert jobs and all(j.figure.pages == 1 for j in jobs)


def test_pages_of_a_forest_plot_are_byte_identical_when_drawn_again(review, tmp_path):
    res = synthetic(review, "bonding_post", 200)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    one = pages_of(res, "forest-bonding_post", first)
    two = pages_of(res, "forest-bonding_post", second)
    assert len(one) > 1
    for (fig, _), (again, _) in zip(one, two, strict=True):
        for path in (fig.svg_path, fig.png_path):
            assert (first / path).read_bytes() == (second / again.svg_path.with_suffix(path.suffix)).read_bytes()
