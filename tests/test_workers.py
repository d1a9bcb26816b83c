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
