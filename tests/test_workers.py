"""The build's worker processes: what they inherit is frozen for their collector, not for the parent's."""

from __future__ import annotations

import gc

from erh_report.workers import Forked, forks_share_memory, worker_pool


def _frozen_in_child() -> int:
    return gc.get_freeze_count()


def test_forked_child_inherits_frozen_objects_parent_does_not():
    kept = [object() for _ in range(1000)]  # something for the child to inherit
    with forks_share_memory():
        child = Forked(_frozen_in_child).result()
        parent = gc.get_freeze_count()
    assert child >= len(kept)
    assert parent == 0


def test_fork_outside_the_block_freezes_nothing():
    assert Forked(_frozen_in_child).result() == 0


def test_a_callers_own_frozen_objects_stay_frozen():
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with forks_share_memory():
            Forked(_frozen_in_child).result()
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()


_WARMED: list[str] = []


def _warm() -> None:
    _WARMED.append("warm")


def _warm_state() -> tuple[list[str], int]:
    return list(_WARMED), gc.get_freeze_count()


def test_pool_workers_run_warm_first_and_freeze_what_it_made():
    with worker_pool(1, warm=_warm) as pool:
        warmed, frozen = pool.submit(_warm_state).result()
    assert warmed == ["warm"]
    assert frozen > 0
    assert _WARMED == []  # the parent ran nothing


def _draw_and_count(out: str) -> tuple[int, int, int]:
    from pathlib import Path

    from erh_report.figures import output

    before = gc.get_freeze_count()
    job = output.message_job(output.figure("note", "message", "A note", "", "A note"), ["Nothing to draw."])
    output.run_job(job, Path(out), png=False, keep=True)
    kept = len(output._KEPT)
    output.run_png_job(job, Path(out))
    return before, gc.get_freeze_count(), kept


def test_a_drawing_process_freezes_the_drawings_it_keeps_and_no_other_process_does(tmp_path):
    from erh_report.figures.output import drawing_process

    with worker_pool(1, warm=drawing_process) as pool:
        before, after, kept = pool.submit(_draw_and_count, str(tmp_path)).result()
    assert kept == 1 and after > before  # the kept drawing was frozen with it
    assert (tmp_path / "note.svg").is_file() and (tmp_path / "note.png").is_file()
    (tmp_path / "other").mkdir()
    with worker_pool(1) as pool:  # a worker that is not a drawing process: nothing frozen
        before, after, kept = pool.submit(_draw_and_count, str(tmp_path / "other")).result()
    assert kept == 1 and after == before
