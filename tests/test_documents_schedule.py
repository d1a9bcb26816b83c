"""Work the DOCX files need (the figures' PNGs) runs first; the DOCX tasks start only once all of it is done."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import pytest

from erh_report.render.documents import _countdown, _run_with_prerequisites, _Task


def make(path: Path) -> float:
    path.write_text("made", encoding="utf-8")
    return 0.0


def count_made(folder: Path, out: Path) -> float:
    made = len(list(folder.glob("png-*")))
    out.write_text(str(made), encoding="utf-8")
    return 0.0


@dataclass
class Png:
    path: Path
    heard: list[str]
    future: Future | None = None

    @property
    def run(self):
        return make, (self.path,)

    def done(self) -> None:
        self.heard.append(self.path.name)


@pytest.mark.parametrize("jobs", [1, 2])
def test_waiting_tasks_start_after_every_prerequisite_is_done(tmp_path: Path, jobs: int):
    heard: list[str] = []
    first = [Png(tmp_path / f"png-{i}", heard) for i in range(6)]
    then_saw: list[bool] = []

    def prepare():
        tasks = [
            _Task(
                1.0,
                "part",
                make,
                (tmp_path / f"part-{i}",),
                lambda i=i: then_saw.append((tmp_path / f"part-{i}").is_file()),
            )
            for i in range(5)
        ]
        waiting = [_Task(1.0, "docx", count_made, (tmp_path, tmp_path / f"docx-{i}")) for i in range(2)]
        return tasks, waiting

    waited: list[bool] = []
    _run_with_prerequisites(prepare, first, jobs, lambda _m: None, lambda: waited.append(True))
    assert sorted(heard) == [f"png-{i}" for i in range(6)]
    assert [(tmp_path / f"docx-{i}").read_text(encoding="utf-8") for i in range(2)] == ["6", "6"]
    assert all((tmp_path / f"part-{i}").is_file() for i in range(5))
    assert then_saw == [True] * 5  # each task's follow-up ran once, here, after the task
    assert waited == [True]


def test_countdown_calls_once_on_the_last_tick_and_at_once_for_nothing():
    calls: list[str] = []
    tick = _countdown(3, lambda: calls.append("joined"))
    tick()
    tick()
    assert calls == []
    tick()
    assert calls == ["joined"]
    _countdown(0, lambda: calls.append("nothing to wait for"))()
    assert calls == ["joined", "nothing to wait for"]
