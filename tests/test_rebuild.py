"""Fast rebuilds: unchanged figures come from the cache, and a cached build equals a cold one byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from review_copies import copy_data, find_row, set_cell

from erh_report.build import build

STAGES = ("results", "figures")


def one_analysis(data: Path) -> None:
    yaml = data / "review.yaml"
    text = yaml.read_text(encoding="utf-8")
    yaml.write_text(
        text.replace("  analyses: all", "  analyses:\n    - {outcome: depression, window: post}", 1), encoding="utf-8"
    )
    (data / "grade.csv").write_text("analysis_id,domain,judgement,reason\n", encoding="utf-8")


def outputs(out: Path) -> dict[str, str]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]


def test_rebuild_draws_only_what_changed_and_equals_a_cold_build(tmp_path: Path):
    data = copy_data(tmp_path)
    one_analysis(data)
    messages: list[str] = []
    cache = tmp_path / "cache"
    build(data, tmp_path / "a", progress=messages.append, stages=STAGES, cache_dir=cache)
    first = next(m for m in messages if m.startswith("figures:"))
    drawn = int(first.split(", ")[1].split()[0])
    assert first.startswith("figures: 0 unchanged") and drawn > 3

    messages.clear()
    build(data, tmp_path / "b", progress=messages.append, stages=STAGES, cache_dir=cache)
    assert f"figures: {drawn} unchanged, 0 to draw" in messages
    assert outputs(tmp_path / "a") == outputs(tmp_path / "b")

    row = find_row(data / "outcome_data.csv", outcome="depression", followup_months="0", role="intervention")
    old = float(set_cell(data / "outcome_data.csv", row, "mean", "0"))
    set_cell(data / "outcome_data.csv", row, "mean", f"{old + 2:.2f}")
    messages.clear()
    build(data, tmp_path / "c", progress=messages.append, stages=STAGES, cache_dir=cache)
    again = next(m for m in messages if m.startswith("figures:"))
    unchanged = int(again.split()[1])
    assert 0 < unchanged < drawn  # the PRISMA and risk-of-bias figures do not depend on the means
    build(data, tmp_path / "cold", progress=None, stages=STAGES, cache_dir=False)
    assert outputs(tmp_path / "c") == outputs(tmp_path / "cold")
    assert outputs(tmp_path / "c") != outputs(tmp_path / "a")


def test_a_figure_that_fails_stops_the_build_and_keeps_the_previous_one(tmp_path: Path, monkeypatch):
    import pytest

    from erh_report.errors import InputError
    from erh_report.figures import prisma

    data = copy_data(tmp_path)
    one_analysis(data)
    out = tmp_path / "build"
    build(data, out, progress=None, stages=("results",), cache_dir=False)
    before = outputs(out)

    def broken(_spec):
        raise RuntimeError("no room for the boxes")

    monkeypatch.setattr(prisma, "draw_prisma", broken)
    with pytest.raises(InputError) as info:
        build(data, out, progress=None, stages=STAGES, cache_dir=False, jobs=1)
    problem = info.value.problems[0]
    assert problem.file == "figures/prisma.svg"
    assert "no room for the boxes" in problem.message
    assert outputs(out) == before and not (out / "figures").exists()
