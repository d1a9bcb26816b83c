"""Worker processes that die with the build: a killed build must not leave its workers drawing on.

On Linux each worker asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``) and
exits at once if the parent is already gone; elsewhere the pool's own shutdown is all there is.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
from typing import Any, TypeVar

PR_SET_PDEATHSIG = 1
T = TypeVar("T")

#: ``blocks``: how many ``forks_share_memory`` blocks are open; ``froze``: whether the fork under way froze
#: the collector (and the parent must unfreeze it).
_sharing = SimpleNamespace(blocks=0, froze=False)


def _before_fork() -> None:
    if _sharing.blocks and not gc.get_freeze_count():  # leave a caller's own frozen objects alone
        gc.freeze()
        _sharing.froze = True


def _after_fork_in_parent() -> None:
    if _sharing.froze:
        gc.unfreeze()
        _sharing.froze = False


def _after_fork_in_child() -> None:
    _sharing.froze = False  # the child keeps what it inherited frozen: its collector never walks it


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)


@contextmanager
def forks_share_memory() -> Iterator[None]:
    """Processes forked inside this block get what they inherit frozen (``gc.freeze``): their garbage
    collector never walks the parent's objects. Walking them costs each child time (the whole inherited
    heap, at every full collection) and memory (each object walked is touched, and its page copied). The
    parent unfreezes at once: its own collections go on as before."""
    _sharing.blocks += 1
    try:
        yield
    finally:
        _sharing.blocks -= 1


def die_with_parent(parent: int) -> None:
    """Pool initializer: be killed when ``parent`` dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library is loaded already: no search for it
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError, TypeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _start_worker(parent: int, warm: Callable[[], None] | None) -> None:
    die_with_parent(parent)
    if warm is not None:
        warm()
        gc.freeze()  # what ``warm`` made lives as long as the worker: its collector need not walk it


def worker_pool(workers: int, warm: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A process pool whose workers die with this process. ``warm`` (if given) runs first in each
    worker: the imports every task needs, made once and then left alone by the collector."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(os.getpid(), warm))


@contextmanager
def single_process_pools(count: int, warm: Callable[[], None] | None = None) -> Iterator[list[ProcessPoolExecutor]]:
    """``count`` pools of one worker each (``warm`` as for ``worker_pool``): work can be sent to the process
    that holds what it needs. Leaving on an error drops the work not yet started (a failed build must not
    wait for it)."""
    with ExitStack() as stack:
        pools = [stack.enter_context(worker_pool(1, warm)) for _ in range(count)]
        try:
            yield pools
        except BaseException:
            for pool in pools:
                pool.shutdown(wait=False, cancel_futures=True)
            raise


class Forked:
    """``function()`` run in a forked child process (which dies with this one) while this process goes on;
    ``result()`` waits for its value, sent back pickled. A child that fails or dies gives ``None`` from
    ``result()``: the caller runs the work itself, so that a user's mistake is reported as it would be."""

    def __init__(self, function: Callable[[], T]) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        parent = os.getpid()

        def child() -> None:
            die_with_parent(parent)
            try:
                send.send(function())
            except BaseException:  # noqa: BLE001 - reported by the parent, which does the work again
                send.send(None)

        self._process = context.Process(target=child, daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        try:
            value = self._receive.recv()
        except (EOFError, OSError):  # the child died before it could answer
            value = None
        self._process.join()
        self._receive.close()
        return value
