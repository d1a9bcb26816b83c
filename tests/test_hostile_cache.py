"""A damaged build cache: truncated files, edited files, truncated pickles and compiled templates, a cache
folder that is a file. Every entry carries the SHA-256 of its files; a damaged entry is deleted, made
again and reported, and the build's outputs are byte-identical to a cold build's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest
from review_copies import DATA

from erh_report import cache as cache_mod
from erh_report.cache import HASHES, Cache
from erh_report.data import load_review
from erh_report.numbers import get_style
from erh_report.render.environment import environment
from erh_report.synthesis import run


def test_entry_with_a_truncated_file_is_dropped(tmp_path: Path):
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 1000)
    cache = Cache(tmp_path / "cache")
    cache.put("kind", "k1", {"a.bin": source})
    stored = tmp_path / "cache" / "kind" / "k1"
    assert json.loads((stored / HASHES).read_text())["a.bin"]
    out = tmp_path / "out"
    out.mkdir()
    assert cache.get("kind", "k1", ["a.bin"], out) and (out / "a.bin").read_bytes() == b"x" * 1000
    (stored / "a.bin").write_bytes(b"x" * 10)  # truncated
    (out / "a.bin").unlink()
    assert not cache.get("kind", "k1", ["a.bin"], out)
    assert not stored.exists() and not (out / "a.bin").exists()
    assert cache.report() == ["cache: 1 damaged entry deleted and made again: kind/k1"]


def test_entry_without_hashes_and_unwritable_cache(tmp_path: Path):
    (tmp_path / "cache" / "kind" / "old").mkdir(parents=True)
    (tmp_path / "cache" / "kind" / "old" / "a.bin").write_bytes(b"from an older version")
    cache = Cache(tmp_path / "cache")
    assert not cache.get("kind", "old", ["a.bin"], tmp_path) and cache.dropped == ["kind/old"]
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    cache = Cache(blocked)
    cache.put("kind", "k", {"a.bin": blocked})  # no exception
    assert not cache.get("kind", "k", ["a.bin"], tmp_path)
    assert cache.report()[0].startswith("cache: could not be written, the next build will not be faster")


def test_truncated_workbook_in_the_cache_is_made_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from erh_report.cli import main

    out = tmp_path / "build"
    assert main(["build", str(DATA), "--out", str(out), "--only", "results"]) == 0
    first = (out / "results" / "results.xlsx").read_bytes()
    books = list((tmp_path / ".erh-cache" / "build" / "workbooks").glob("*/results.xlsx"))
    assert len(books) == 1
    books[0].write_bytes(first[: len(first) // 2])
    capsys.readouterr()
    shutil.rmtree(out)  # else nothing changed, and the folder is left as it is, the cache unread
    assert main(["build", str(DATA), "--out", str(out), "--only", "results"]) == 0
    err = capsys.readouterr().err
    assert "cache: 1 damaged entry deleted and made again: workbooks/" in err
    assert (out / "results" / "results.xlsx").read_bytes() == first
    books = list((tmp_path / ".erh-cache" / "build" / "workbooks").glob("*/results.xlsx"))
    assert [b.read_bytes() for b in books] == [first]  # the entry is whole again


def test_truncated_figure_pickle_is_drawn_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    results = run(load_review(DATA))
    style = get_style(results.review.config.settings.number_style)
    real_plan = cache_mod.plan
    monkeypatch.setattr(cache_mod, "plan", lambda r, s: real_plan(r, s)[:1])  # the PRISMA diagram only
    cache = Cache(tmp_path / "cache")
    first = cache_mod.render_figures_cached(results, tmp_path / "a", style, cache, jobs=1)
    entry = next((tmp_path / "cache" / "figures").iterdir())
    record = entry / "figure.pickle"
    record.write_bytes(record.read_bytes()[:20])
    hashes = json.loads((entry / HASHES).read_text())
    hashes["figure.pickle"] = cache_mod._sha256(record)  # damaged in a way the hash cannot see
    (entry / HASHES).write_text(json.dumps(hashes))
    cache = Cache(tmp_path / "cache")
    again = cache_mod.render_figures_cached(results, tmp_path / "b", style, cache, jobs=1)
    assert again == first and cache.dropped == [f"figures/{entry.name[:12]}"]
    name = f"{first[0].id}.svg"
    assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()


def test_truncated_compiled_template_is_compiled_again(tmp_path: Path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.html.j2").write_text("{{ 1 + 1 }}")
    style = get_style("JAMA")
    assert environment(style, templates, tmp_path / "jinja").get_template("t.html.j2").render() == "2"
    for path in (tmp_path / "jinja").iterdir():
        path.write_bytes(jinja2.bccache.bc_magic)  # magic and nothing else: jinja itself would fail
    assert environment(style, templates, tmp_path / "jinja").get_template("t.html.j2").render() == "2"
