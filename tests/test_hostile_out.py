"""Hostile --out folders and killed builds: no user file is ever deleted, and OUT always names a whole build.

Each test asserts the exit code, the message and that nothing was lost (the files are still there, byte for
byte). The fault tests kill a build (``--only results``, a few seconds) at chosen steps of the swap and at
moments of the build, then check that OUT is a complete build whose files match its manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from review_copies import copy_data

from erh_report import outdir
from erh_report.cli import main
from erh_report.outdir import MARKER

ROOT = Path(__file__).resolve().parents[1]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build_cli(data: Path, out: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["build", str(data), "--out", str(out), "--only", "results", "--quiet"])
    return code, capsys.readouterr().err


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def test_out_is_the_data_folder(data: Path, capsys: pytest.CaptureFixture[str]):
    before = snapshot(data)
    code, err = build_cli(data, data, capsys)
    assert code == 2 and "is the data folder: a build would replace the data" in err
    assert snapshot(data) == before


def test_out_inside_or_above_the_data_folder(data: Path, capsys: pytest.CaptureFixture[str]):
    before = snapshot(data.parent)
    code, err = build_cli(data, data / "build", capsys)
    assert code == 2 and "is inside the data folder" in err
    code, err = build_cli(data, data.parent, capsys)
    assert code == 2 and "holds the data folder" in err
    assert snapshot(data.parent) == before


def test_out_is_a_file_or_a_foreign_folder(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    file = tmp_path / "notes.txt"
    file.write_text("keep me")
    code, err = build_cli(data, file, capsys)
    assert code == 2 and "is a file, not a folder" in err
    assert file.read_text() == "keep me"
    foreign = tmp_path / "thesis"
    (foreign / "chapter").mkdir(parents=True)
    (foreign / "chapter" / "one.tex").write_text("text")
    code, err = build_cli(data, foreign, capsys)
    assert code == 2 and "not an erh-report build (no .erh-build marker)" in err
    assert snapshot(foreign) == {"chapter/one.tex": b"text"}
    assert not list(tmp_path.glob(".thesis*")) and not list(tmp_path.glob(".notes*"))


def test_out_is_the_current_folder_or_root(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    code, err = build_cli(data, ".", capsys)
    assert code == 2 and "is the current folder or one above it" in err
    code, err = build_cli(data, "/", capsys)
    assert code == 2 and "--out /: holds the data folder" in err
    assert list(empty.iterdir()) == []


def test_out_not_writable(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(outdir.os, "access", lambda path, mode: Path(path) != locked)  # root may write anywhere
    code, err = build_cli(data, locked / "build", capsys)
    assert code == 2 and f"cannot be written: no permission to write in {locked}" in err
    assert list(locked.iterdir()) == []


def test_out_symlink_refused(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    code, err = build_cli(data, tmp_path / "link", capsys)
    assert code == 2 and "is a symbolic link" in err
    assert (tmp_path / "link").is_symlink()


def test_a_second_build_into_the_same_out_is_refused(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "build"
    with outdir.out_lock(out):
        code, err = build_cli(data, out, capsys)
    assert code == 2 and f"another build is writing this folder now (process {os.getpid()})" in err
    assert not out.exists()
    code, _ = build_cli(data, out, capsys)  # the lock is released with its holder
    assert code == 0 and (out / MARKER).is_file()


# ------------------------------------------------------------------------------------------ killed builds
KILLER = """
import os, signal, sys
from erh_report import outdir
step = sys.argv[1]
if step == "no-exchange":
    outdir._renameat2 = lambda: None
    step = sys.argv[2]
outdir.swap_hook = lambda name: os.kill(os.getpid(), signal.SIGKILL) if name == step else None
from erh_report.cli import main
again = [] if step == "none" else ["--no-cache"]  # built again although nothing changed
main(["build", sys.argv[-2], "--out", sys.argv[-1], "--only", "results", "--quiet", *again])
"""


def run_build(data: Path, out: Path, *steps: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", KILLER, *(steps or ("none",)), str(data), str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def assert_whole_build(out: Path) -> None:
    """OUT holds a complete build: marker, and every output the manifest lists, with its hash."""
    assert (out / MARKER).is_file()
    outputs = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert "results/analyses.csv" in outputs
    for name, digest in outputs.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name


def test_killed_builds_leave_a_whole_build(data: Path, tmp_path: Path):
    out = tmp_path / "build"
    assert run_build(data, out).wait() == 0
    first = snapshot(out)
    kills = [("staged",), ("exchanged",), ("no-exchange", "old-moved"), ("no-exchange", "new-moved")]
    for steps in kills:
        assert run_build(data, out, *steps).wait() == -signal.SIGKILL
        if steps == ("no-exchange", "old-moved"):  # between the two renames: the old build is set aside ...
            assert not out.exists() and (tmp_path / ".build.previous" / MARKER).is_file()
            assert run_build(data, out).wait() == 0  # ... and the next build puts it back before anything else
        assert snapshot(out) == first, steps
        assert_whole_build(out)
    for delay in (1.0, 3.0):  # kills at moments of the build, wherever they fall
        process = run_build(data, out, "again")
        time.sleep(delay)
        process.kill()
        process.wait()
        assert_whole_build(out)
        assert snapshot(out) == first
    assert run_build(data, out).wait() == 0
    assert snapshot(out) == first
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".build")) == [".build.lock"]


POOL = """
import os, sys, time
from erh_report.workers import worker_pool
with worker_pool(1) as pool:
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(60)
"""


def test_workers_die_with_their_parent():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", POOL], env=env, stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    os.kill(worker, 0)  # alive
    parent.kill()
    parent.wait()
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the worker outlived its parent")


def test_diff_out_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    file = tmp_path / "report"
    file.write_text("keep me")
    code = main(["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(file)])
    assert code == 2 and "--out " + str(file) + ": is a file, not a folder" in capsys.readouterr().err
    assert file.read_text() == "keep me"


def test_forked_work_gives_its_value_or_none_when_it_fails(tmp_path):
    """The results files are written by a forked process: its value comes back; a failure gives None, so
    the build does the work itself and reports the error as it would."""
    from erh_report.workers import Forked

    marker = tmp_path / "written"

    def work():
        marker.write_text("child", encoding="utf-8")
        return {"rows": [1, 2, 3]}, 0.5

    def fails():
        raise ValueError("a user's mistake")

    assert Forked(work).result() == ({"rows": [1, 2, 3]}, 0.5)
    assert marker.read_text(encoding="utf-8") == "child"  # written by the child, in the same folder
    assert Forked(fails).result() is None
