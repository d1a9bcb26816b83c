"""Worker processes that die with the build: a killed build must not leave its workers drawing on.

On Linux each worker asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``) and
exits at once if the parent is already gone; elsewhere the pool's own shutdown is all there is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1


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
