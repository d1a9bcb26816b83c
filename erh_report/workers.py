"""Worker processes that die with the build: a killed build must not leave its workers drawing on.

On Linux each worker asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``) and
exits at once if the parent is already gone; elsewhere the pool's own shutdown is all there is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

PR_SET_PDEATHSIG = 1
T = TypeVar("T")


def die_with_parent(parent: int) -> None:
    """Pool initializer: be killed when ``parent`` dies (Linux)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError, TypeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers die with this process."""
    return ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),))


@contextmanager
def single_process_pools(count: int) -> Iterator[list[ProcessPoolExecutor]]:
    """``count`` pools of one worker each: work can be sent to the process that holds what it needs.
    Leaving on an error drops the work not yet started (a failed build must not wait for it)."""
    with ExitStack() as stack:
        pools = [stack.enter_context(worker_pool(1)) for _ in range(count)]
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
