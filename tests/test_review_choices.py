"""Decisions about one review come from its review.yaml (primary window, primary domain, dose), and every
manuscript sentence that depends on a result is written only when that result exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from review_copies import DATA, copy_data, problems_of

from erh_report.data import load_review
from erh_report.grade import assess_review
from erh_report.numbers import get_style
from erh_report.render.context import build_context, manuscript_extras
from erh_report.render.documents import DOCUMENTS, document_html
from erh_report.synthesis import run


def _edit_plan(folder: Path, **changes) -> None:
    path = folder / "review.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["plan"].update(changes)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _manuscript(folder: Path) -> tuple[str, dict]:
    results = run(load_review(folder))
    grade = assess_review(results)
    style = get_style("JAMA")
    ctx = build_context(results, grade, [], style=style)
    ctx.update(manuscript_extras(ctx, style))
    html = document_html(DOCUMENTS[0], results, grade, [], style)[0]
    return re.sub(r"<[^>]+>", "", html), ctx


def test_the_key_results_are_the_primary_window_of_review_yaml(tmp_path: Path):
    folder = copy_data(tmp_path)
    config = yaml.safe_load((DATA / "review.yaml").read_text(encoding="utf-8"))
    other = config["plan"]["windows"][1]["id"]
    _edit_plan(folder, primary_window=other)
    _, ctx = _manuscript(folder)
    primary_domain = next(d["id"] for d in config["domains"] if d["role"] == "primary")
    assert ctx["primary"] and {v.window_id for v in ctx["primary"]} == {other}
    assert {v.domain_id for v in ctx["primary"]} == {primary_domain}


def test_unknown_primary_window_is_reported(tmp_path: Path):
    folder = copy_data(tmp_path)
    _edit_plan(folder, primary_window="nowhere")
    assert any("primary_window 'nowhere' is not a window" in str(p) for p in problems_of(folder))


def test_no_dose_sentence_without_a_dose_analysis(tmp_path: Path):
    folder = copy_data(tmp_path)
    _edit_plan(folder, moderators=[])
    text, ctx = _manuscript(folder)
    assert not ctx["dose_main"] and not ctx["dose_assessed"]
    assert "No analysis had enough studies to assess the association of dose with effect size." in text
    assert "content and quality of an intervention may matter more" not in text
    assert "did not depend on dose" not in text and "no association between dose and effect size" not in text


def test_dose_words_come_from_review_yaml(tmp_path: Path):
    folder = copy_data(tmp_path)
    _edit_plan(folder, dose={"moderator": "sessions", "name": "number of sessions", "unit": "session"})
    text, ctx = _manuscript(folder)
    assert ctx["dose_main"] and {d.moderator for d in ctx["dose_main"]} == {"sessions"}
    assert "each additional session changed the effect by" in text
    assert "Dose (number of sessions) was" in text and "contact hour changed" not in text
    # one sentence listing every analysis: only its first item is capitalised
    assert len(ctx["dose_main"]) > 1 and "; For " not in text and "); for " in text


def test_no_follow_up_sentence_without_follow_up_analyses(tmp_path: Path):
    folder = copy_data(tmp_path)
    config = yaml.safe_load((folder / "review.yaml").read_text(encoding="utf-8"))
    _edit_plan(folder, windows=config["plan"]["windows"][:1])
    (folder / "grade.csv").write_text(
        (folder / "grade.csv").read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"
    )
    text, ctx = _manuscript(folder)
    assert not ctx["followup_assessed"]
    assert "Effects at follow-up" not in text


def test_dose_words_never_generalise_from_some_analyses(tmp_path: Path):
    """Conclusions and Meaning say in how many analyses dose mattered, unless it mattered in all or none."""
    text, ctx = _manuscript(copy_data(tmp_path))
    dose = ctx["dose_main"]
    significant = [d for d in dose if d.significant]
    if significant and len(significant) < len(dose):
        share = f"{len(significant)} of {len(dose)} analyses"
        assert ctx["dose_share"] == share
        assert f"effect size varied with dose in only {share}" in text
        assert f"effects varied with dose in only {share}" in text
    elif significant:
        assert ctx["dose_share"] == "" and "effect size varied with dose." in text
    else:
        assert ctx["dose_share"] == "" and "no association between dose and effect size was found" in text
