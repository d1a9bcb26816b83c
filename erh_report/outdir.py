"""The output folder: checked before anything is written, locked while a build writes it, and replaced in
one step, so that no user file is ever deleted and a previous build is reachable at every instant.

- ``check_out_dir`` refuses an OUT that is the data folder, inside it or above it, a file, a symbolic
  link, the current folder or one of its parents, a folder holding anything but a previous build (every
  build holds the marker file ``.erh-build``), or a place that cannot be written.
- ``out_lock`` holds an exclusive lock (``.OUT.lock`` beside OUT) for the whole build: a second build
  into the same OUT is refused with a message. The operating system drops the lock when the process dies.
- ``staged_folder`` writes the build beside OUT and swaps it in with one atomic exchange of the two names
  (Linux ``renameat2(RENAME_EXCHANGE)``), so OUT names a complete build at every instant. Where the
  exchange is not available, the old build is first renamed to ``.OUT.previous``, then the new one to OUT;
  a build that finds OUT missing puts ``.OUT.previous`` back before anything else.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from erh_report.errors import InputError, Problem

MARKER = ".erh-build"
MARKER_TEXT = "This folder is a build of erh-report; the next build into it replaces it whole.\n"
EXPECTED = "a new or empty folder, or a previous build (a folder holding .erh-build), outside the data folder"

#: Test hook: called with a step name ("staged", "exchanged", "old-moved", "new-moved") during the swap.
swap_hook: Callable[[str], None] | None = None


def _problem(out: Path, message: str, expected: str = EXPECTED) -> InputError:
    return InputError([Problem(f"--out {out}", message, expected=expected)])


def is_build(folder: Path) -> bool:
    """A folder made by erh-report: it holds the marker (or, from before the marker, its manifest)."""
    if (folder / MARKER).is_file():
        return True
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"inputs", "outputs", "versions"} <= manifest.keys()


def _writable_ancestor(path: Path) -> Path:
    """The nearest folder that exists at or above ``path`` (where the missing folders would be made)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_out_dir(out_dir: str | Path, data_dir: str | Path | None = None) -> Path:
    """The absolute OUT if a build may write there; otherwise InputError saying what to do."""
    given = Path(out_dir)
    out = Path(os.path.abspath(given))
    if out.is_symlink():
        raise _problem(given, "is a symbolic link", "the folder itself, not a link to it")
    real = out.resolve()
    if data_dir is not None:
        data = Path(data_dir).resolve()
        if real == data:
            raise _problem(
                given,
                "is the data folder: a build would replace the data",
                "another folder, e.g. build/ beside the data folder",
            )
        if data in real.parents:
            raise _problem(
                given,
                f"is inside the data folder {data_dir}",
                "a folder outside the data folder, e.g. build/ beside it",
            )
        if real in data.parents:
            raise _problem(
                given,
                f"holds the data folder {data_dir}: a build would replace the data",
                "a folder outside the data folder, e.g. build/ beside it",
            )
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents or real == real.parent:
        raise _problem(given, "is the current folder or one above it", "a folder below the current one, e.g. build/")
    if out.exists() and not out.is_dir():
        raise _problem(given, "is a file, not a folder", "a folder name (move or rename the file first)")
    if out.is_dir() and not is_build(out):
        try:
            empty = not any(out.iterdir())
        except OSError as exc:
            raise _problem(given, f"cannot be read ({exc.strerror})") from None
        if not empty:
            raise _problem(
                given, "holds files that are not an erh-report build (no .erh-build marker); nothing was changed"
            )
    parent = _writable_ancestor(out.parent)
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise _problem(given, f"cannot be written: no permission to write in {parent}", "a folder where you may write")
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise _problem(given, "cannot be replaced: no permission to write in it", "a folder where you may write")
    return out


@contextmanager
def out_lock(out: Path) -> Iterator[None]:
    """Hold ``.OUT.lock`` beside OUT for the whole build; refuse when another build holds it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.parent / f".{out.name}.lock"
    handle = lock.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise _problem(
                out,
                f"another build is writing this folder now (process {holder})",
                "that build to finish first, or another --out",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _recover(out)
        yield
    finally:
        handle.close()


def _previous(out: Path) -> Path:
    return out.parent / f".{out.name}.previous"


def _staging_prefix(out: Path) -> str:
    return f".{out.name}.tmp-"


def _recover(out: Path) -> None:
    """Under the lock: put back a previous build left aside by a killed swap and delete stale staging."""
    previous = _previous(out)
    if previous.is_dir():
        if not out.exists():
            previous.rename(out)
        else:
            shutil.rmtree(previous, ignore_errors=True)
    for stale in out.parent.glob(_staging_prefix(out) + "*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def _renameat2() -> Callable[[Path, Path], bool] | None:
    """``exchange(a, b)``: swap two names atomically (Linux); None when the C library lacks it."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return None
    at_fdcwd, rename_exchange = -100, 2

    def exchange(a: Path, b: Path) -> bool:
        if function(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
            return True
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            return False  # the file system cannot exchange: fall back to two renames
        raise OSError(code, os.strerror(code), str(b))

    return exchange


def _step(name: str) -> None:
    if swap_hook is not None:
        swap_hook(name)


def swap_in(new: Path, out: Path) -> None:
    """Make ``new`` the build at ``out``; the previous build, if any, is deleted after."""
    _step("staged")
    if not out.exists():
        new.rename(out)
        _step("new-moved")
        return
    exchange = _renameat2()
    if exchange is not None and exchange(new, out):
        _step("exchanged")
        shutil.rmtree(new, ignore_errors=True)  # now holds the previous build
        return
    previous = _previous(out)
    shutil.rmtree(previous, ignore_errors=True)
    out.rename(previous)
    _step("old-moved")
    new.rename(out)
    _step("new-moved")
    shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target`` holding the marker; on success it replaces ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_staging_prefix(target), dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; results are meant to be shared
    try:
        yield tmp
        (tmp / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_in(tmp, target)
