"""render_figures end to end on part of the illustrative review: files, records, byte-identical output,
and the numbers of the funnel, risk-of-bias, dose and PRISMA figures read back from the SVG."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image
from test_figures_forest import DATA, JAMA, SVG, texts

from erh_report.data import load_review
from erh_report.data.schema import ROB_DOMAINS
from erh_report.figures import prisma, render_figures
from erh_report.figures import style as st
from erh_report.figures.output import run_job
from erh_report.figures.render import plan
from erh_report.numbers import get_style
from erh_report.synthesis import ReviewResults, run_analysis

CHOSEN = ("sensitivity_fu12", "secure_attachment_fu12")  # an SMD and an OR analysis, small enough to be quick


@pytest.fixture(scope="module")
def results():
    review = load_review(DATA)
    return ReviewResults(review, [run_analysis(review, a) for a in review.analyses if a.id in CHOSEN])


@pytest.fixture(scope="module")
def rendered(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    seen: list[str] = []
    return out, render_figures(results, out, jobs=2, progress=seen.append), seen


def markers(svg: Path, gid: str) -> int:
    """Markers drawn in a group: <use> of one shared marker, or one <path> each when sizes differ."""
    group = next(g for g in ET.parse(svg).getroot().iter(f"{SVG}g") if g.get("id") == gid)
    uses = group.findall(f".//{SVG}use")
    return len(uses) if uses else len([p for p in group.iter(f"{SVG}path")])


def test_every_figure_is_written_with_its_record(results, rendered):
    out, figures, seen = rendered
    kinds = {f.kind for f in figures}
    assert kinds == {"prisma", "forest", "forest_subgroup", "funnel", "rob_traffic_light", "rob_summary", "dose"}
    assert len(seen) == len(figures)
    for f in figures:
        assert not f.note, f"{f.id}: {f.note}"
        assert not f.svg_path.is_absolute() and f.svg_path == Path(f"{f.id}.svg")
        assert (out / f.svg_path).stat().st_size > 1000 and (out / f.png_path).stat().st_size > 1000
        assert f.title and f.caption and f.alt_text
        assert "nan" not in (f.caption + f.alt_text).lower()
        with Image.open(out / f.png_path) as im:
            assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)
            assert abs(im.size[0] - f.width_in * 300) <= 2 and abs(im.size[1] - f.height_in * 300) <= 2
        root = ET.parse(out / f.svg_path).getroot()
        assert root.findall(f".//{SVG}text"), "text must stay text"
    ids = [f.id for f in figures]
    assert ids[0] == "prisma" and len(set(ids)) == len(ids)


def test_no_text_is_clipped_in_any_kind_of_figure(results):
    done = set()
    for job in plan(results, JAMA):
        if job.figure.kind in done:
            continue
        done.add(job.figure.kind)
        with rc_context(st.RC):
            fig = job.draw(job.spec)
            for text, (x0, y0, x1, y1) in st.drawn_text_extents(fig):
                assert fig.bbox.x0 - 0.5 <= x0 and x1 <= fig.bbox.x1 + 0.5, (job.figure.id, text)
                assert fig.bbox.y0 - 0.5 <= y0 and y1 <= fig.bbox.y1 + 0.5, (job.figure.id, text)
    assert len(done) == 7


def test_same_results_give_the_same_bytes(results, rendered, tmp_path):
    out, figures, _ = rendered
    again = [
        j
        for j in plan(results, JAMA)
        if j.figure.id
        in (
            "prisma",
            "forest-secure_attachment_fu12",
            "funnel-sensitivity_fu12",
            "rob-summary-sensitivity_fu12",
            "dose-sensitivity_fu12-dose_hours",
        )
    ]
    assert len(again) == 5
    for job in again:  # serially here, in worker processes the first time
        fig, *_ = run_job(job, tmp_path)
        for path in (fig.svg_path, fig.png_path):
            assert (tmp_path / path).read_bytes() == (out / path).read_bytes(), path


def test_funnel_reports_egger_and_trim_and_fill(results, rendered):
    out, figures, _ = rendered
    ar = results.get("sensitivity_fu12")
    eg, tf = ar.egger, ar.trimfill
    t = texts(out / "funnel-sensitivity_fu12.svg")
    assert t["funnel-info"][0] == f"Egger's regression test: z = {JAMA.number(eg.statistic)}, {JAMA.p(eg.pval)}"
    svg = out / "funnel-sensitivity_fu12.svg"
    if tf.k0:
        assert f"{tf.k0} stud" in t["funnel-info"][1]
        assert markers(svg, "funnel-filled") == tf.k0
    assert markers(svg, "funnel-observed") == ar.k


def test_rob_summary_shares_are_weighted_by_the_analysis(results, rendered):
    out, _, _ = rendered
    ar = results.get("sensitivity_fu12")
    w = ar.effects["weight"].to_numpy(dtype=float)
    overall = [results.review.rob(s, ar.analysis.outcome_id).overall for s in ar.effects["study_id"]]
    t = texts(out / "rob-summary-sensitivity_fu12.svg")
    for cat in ("low", "some concerns", "high"):
        share = 100 * w[[o == cat for o in overall]].sum() / w.sum()
        if share > 10:
            assert f"{JAMA.number(share, 0)}%" in t["rob-share-Overall"]
    traffic = texts(out / "rob-traffic-sensitivity_fu12.svg")
    assert [s for k, v in traffic.items() if k.startswith("rob-study-") for s in v] == list(ar.effects["study"])
    assert traffic["rob-header"] == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    assert len(ROB_DOMAINS) == 5


def test_rob_figure_names_studies_without_an_assessment(results, tmp_path):
    ar = results.get("sensitivity_fu12")
    first = ar.effects["study_id"].iloc[0]
    index = {k: v for k, v in results.review._rob_index.items() if k[0] != first}
    review = dataclasses.replace(results.review, _rob_index=index)
    res = ReviewResults(review, [run_analysis(review, ar.analysis)])
    (job,) = [j for j in plan(res, JAMA) if j.figure.id == "rob-traffic-sensitivity_fu12"]
    fig, *_ = run_job(job, tmp_path)
    t = texts(tmp_path / fig.svg_path)
    assert ar.effects["study"].iloc[0] in " ".join(t["rob-footnote"])
    assert "rob-cells-not-assessed" in {g.get("id") for g in ET.parse(tmp_path / fig.svg_path).getroot().iter()}


def test_dose_plot_states_the_slope(results, rendered):
    out, _, _ = rendered
    ar = results.get("sensitivity_fu12")
    reg, keep = ar.metaregression["dose_hours"]
    s = reg.coefficients[1]
    t = texts(out / "dose-sensitivity_fu12-dose_hours.svg")
    slope = JAMA.estimate_ci(s.estimate, s.ci_low, s.ci_high, decimals=3)
    assert t["dose-info"][0] == f"Slope per contact hour: {slope}, {JAMA.p(s.pval)}"
    assert markers(out / "dose-sensitivity_fu12-dose_hours.svg", "dose-bubbles") == int(np.sum(keep))


def test_prisma_boxes_hold_the_counts_and_their_text(results, rendered):
    out, _, _ = rendered
    p = results.review.prisma
    t = texts(out / "prisma.svg")
    n = lambda x: f"(n\u00a0=\u00a0{JAMA.integer(x)})"  # noqa: E731
    assert t["prisma-screened-text"] == [f"Records screened {n(p.screened)}"]
    assert t["prisma-screen_excluded-text"] == [f"Records excluded {n(p.screen_excluded)}"]
    assert t["prisma-assessed-text"] == [f"Reports assessed for eligibility {n(p.assessed)}"]
    assert f"Studies included in review {n(p.studies_included)}" in t["prisma-included-text"]
    identified = " ".join(t["prisma-identified-text"])
    for name, count in p.databases + p.registers:
        assert f"{name} {n(count)}" in identified
    excluded = " ".join(t["prisma-fulltext_excluded-text"])
    for reason, count in p.fulltext_excluded:
        assert " ".join(f"{reason} {n(count)}".split()) in " ".join(excluded.split())
    # every line of text lies inside its own box
    spec = prisma.prisma_spec(p, JAMA, True)
    with rc_context(st.RC):
        fig = prisma.draw_prisma(spec)
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        boxes = {
            a.get_gid(): a.get_window_extent(renderer)
            for a in fig.findobj()
            if (a.get_gid() or "").startswith("prisma-")
            and not (a.get_gid() or "").endswith("-text")
            and hasattr(a, "get_width")
        }
        checked = 0
        for a in fig.findobj(lambda a: (a.get_gid() or "").endswith("-text")):
            box = boxes.get(a.get_gid()[: -len("-text")])
            if box is None:
                continue
            e = a.get_window_extent(renderer)
            assert box.x0 <= e.x0 and e.x1 <= box.x1 and box.y0 <= e.y0 and e.y1 <= box.y1, a.get_text()
            checked += 1
        assert checked > 20


def test_prisma_counts_that_do_not_add_up_give_a_message(results, tmp_path):
    bad = dataclasses.replace(results.review.prisma, screened=results.review.prisma.screened + 5)
    res = ReviewResults(dataclasses.replace(results.review, prisma=bad), [])
    (job,) = prisma.jobs(res, JAMA)
    fig, *_ = run_job(job, tmp_path)
    assert "do not add up" in fig.note
    words = " ".join(s for v in texts(tmp_path / fig.svg_path).values() for s in v)
    assert "screened" in words and str(bad.screened) in words.replace(",", "")


def test_cochrane_style_reaches_the_figures(results, tmp_path):
    cochrane = get_style("Cochrane")
    (job,) = [j for j in plan(results, cochrane) if j.figure.id == "forest-sensitivity_fu12"]
    fig, *_ = run_job(job, tmp_path)
    r = results.get("sensitivity_fu12").result
    line = texts(tmp_path / fig.svg_path)["forest-total-overall-label"][0]
    assert line.endswith(f"({cochrane.p(r.pval)})")
    assert cochrane.p(r.pval).startswith(("P = 0.", "P < 0.0"))


def test_one_job_draws_in_this_process(results, tmp_path):
    only_prisma = ReviewResults(results.review, [])
    seen: list[str] = []
    (fig,) = render_figures(only_prisma, tmp_path, jobs=1, progress=seen.append)
    assert fig.id == "prisma" and (tmp_path / fig.svg_path).exists() and len(seen) == 1


def test_pngs_from_drawings_kept_by_their_drawers_equal_pngs_drawn_with_the_svg(results, rendered, tmp_path):
    """The build draws each SVG in one of its drawing processes and makes the PNG there afterwards, from the
    same drawing: the files are those of drawing SVG and PNG at once."""
    from erh_report.figures import output
    from erh_report.figures.render import draw_on
    from erh_report.workers import single_process_pools

    out, _, _ = rendered
    jobs = plan(results, get_style(results.review.config.settings.number_style))[:12]
    heard: list[str] = []
    with single_process_pools(2) as drawers:
        pngs = draw_on(drawers, jobs, tmp_path, lambda fig, *_: heard.append(fig.id), lambda: heard.append("meanwhile"))
        assert sorted(pngs) == sorted(job.figure.id for job in jobs)
        for future in pngs.values():
            assert future.result() >= 0
    assert "meanwhile" in heard and len(heard) == len(jobs) + 1
    for job in jobs:
        for suffix in (".svg", ".png"):
            name = job.figure.id + suffix
            assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    assert output._KEPT == {}  # this process kept nothing: the drawers did


def test_a_png_from_a_kept_drawing_lets_its_buffer_go(results, tmp_path):
    from erh_report.figures import output

    job = plan(results, get_style(results.review.config.settings.number_style))[0]
    output.run_job(job, tmp_path, png=False, keep=True)
    fig, drawn = output._KEPT[job.figure.id]
    output.run_png_job(job, tmp_path)
    assert job.figure.id not in output._KEPT
    assert drawn.canvas.renderer.get_canvas_width_height() == (1, 1)  # the 300 dpi buffer is gone
    with Image.open(tmp_path / f"{job.figure.id}.png") as image:
        assert image.info["dpi"][0] == pytest.approx(300, abs=0.01)
        assert image.width > 1000
