"""Building again what is already built: nothing is read beyond the inputs' bytes and nothing is written,
unless an input, the code, the software, the stages or an output differ from what the manifest records."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from review_copies import copy_data, set_cell

from erh_report import manifest as manifest_module
from erh_report import software
from erh_report.build import build
from erh_report.manifest import unchanged_build
from erh_report.outdir import MARKER

STAGES = ("results",)


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build of the example's results, copied by each test (the manifest names files relative to their
    folders: a copy of the data and of the build is a build of that data)."""
    folder = tmp_path_factory.mktemp("first")
    assert build(copy_data(folder), folder / "out", progress=None, stages=STAGES) is not None
    return folder


@pytest.fixture
def built(first_build: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The data and a build of them (with its cache beside it), private to the test."""
    shutil.copytree(first_build, tmp_path, symlinks=True, dirs_exist_ok=True)
    data, out = tmp_path / "data", tmp_path / "out"
    assert unchanged_build(out, data, STAGES) is not None  # the copy is a build of its data
    return data, out


def _times(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*")}


def test_the_same_build_again_leaves_the_folder_as_it_is(built: tuple[Path, Path]):
    data, out = built
    before = _times(out)
    inode = out.stat().st_ino
    said: list[str] = []
    assert build(data, out, progress=said.append, stages=STAGES) is None
    assert _times(out) == before and out.stat().st_ino == inode  # not swapped, not touched
    count = len(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"])
    assert said[0].startswith(f"nothing changed since {out.resolve()} was built")
    assert f"its {count} files are those its manifest lists" in said[0]


def test_a_changed_input_cell_builds_again(built: tuple[Path, Path]):
    data, out = built
    old = set_cell(data / "outcome_data.csv", 2, "mean", "99.5")
    assert old != "99.5"
    assert build(data, out, progress=None, stages=STAGES) is not None
    recorded = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert recorded["inputs"]["outcome_data.csv"] == manifest_module.sha256(data / "outcome_data.csv")
    assert unchanged_build(out, data, STAGES) == len(recorded["outputs"])


@pytest.mark.parametrize("damage", ["edited", "added", "deleted"])
def test_an_output_touched_since_is_made_again(built: tuple[Path, Path], damage: str):
    data, out = built
    listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    csv = out / "results" / "analyses.csv"
    if damage == "edited":
        csv.write_text(csv.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    elif damage == "added":
        (out / "results" / "notes.txt").write_text("mine\n", encoding="utf-8")
    else:
        csv.unlink()
    assert unchanged_build(out, data, STAGES) is None
    assert build(data, out, progress=None, stages=STAGES) is not None
    assert manifest_module.sha256(csv) == listed["results/analyses.csv"]
    assert not (out / "results" / "notes.txt").exists()


def test_the_marker_is_not_an_output_and_other_stages_or_no_cache_build_again(built: tuple[Path, Path]):
    data, out = built
    assert (out / MARKER).is_file()
    count = unchanged_build(out, data, STAGES)
    assert count is not None and count == len(list((out / "results").rglob("*.*"))) + 1  # + inputs.zip
    assert unchanged_build(out, data, ("results", "figures")) is None
    inode = out.stat().st_ino
    assert build(data, out, progress=None, stages=STAGES, cache_dir=False) is not None
    assert out.stat().st_ino != inode  # a new folder swapped in


def test_other_code_or_software_is_not_the_same_build(built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    data, out = built
    monkeypatch.setattr(manifest_module, "code_digest", lambda: "0" * 64)
    assert unchanged_build(out, data, STAGES) is None
    monkeypatch.undo()
    other = {**software.dependency_versions(), "lxml": "0.0"}
    monkeypatch.setattr(manifest_module, "dependency_versions", lambda: other)
    assert unchanged_build(out, data, STAGES) is None


def test_a_damaged_manifest_means_build_again(built: tuple[Path, Path]):
    data, out = built
    (out / "manifest.json").write_text("{not json", encoding="utf-8")
    assert unchanged_build(out, data, STAGES) is None
    (out / "manifest.json").write_text("[]", encoding="utf-8")
    assert unchanged_build(out, data, STAGES) is None


def test_the_code_digest_follows_every_file_but_compiled_ones(tmp_path: Path):
    package = tmp_path / "package"
    (package / "__pycache__").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n", encoding="utf-8")
    (package / "styles.csl").write_text("<style/>\n", encoding="utf-8")
    first = software.folder_digest(package)
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    assert software.folder_digest(package) == first
    (package / "styles.csl").write_text("<style></style>\n", encoding="utf-8")
    second = software.folder_digest(package)
    assert second != first
    os.rename(package / "a.py", package / "b.py")  # the same bytes under another name
    assert software.folder_digest(package) not in (first, second)


def test_the_manifest_records_every_dependency_and_the_text_libraries(built: tuple[Path, Path]):
    _, out = built
    recorded = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    dependencies = recorded["dependencies"]
    # the declared ones and those they bring (pydyf through WeasyPrint), each with its installed version
    for name in ("numpy", "weasyprint", "python-docx", "lxml", "pillow", "pydyf", "fonttools"):
        assert dependencies[name] == software.metadata.version(name)
    assert "pytest" not in dependencies  # a development tool shapes no output
    assert recorded["code"]["erh_report"] == software.code_digest() and len(software.code_digest()) == 64
    assert set(recorded["libraries"]) == {"pango", "harfbuzz", "fontconfig"}
    assert all(v == "not found" or v[0].isdigit() for v in recorded["libraries"].values())


def test_the_text_libraries_are_found_without_running_another_program(monkeypatch: pytest.MonkeyPatch):
    """A program run late in a build is a process forked from it, which reports the build's memory as its
    own peak: the libraries are loaded by their usual names, not searched for with ldconfig."""

    def no_search(_name: str) -> None:
        raise AssertionError("find_library runs ldconfig")

    software.library_versions.cache_clear()
    monkeypatch.setattr(software.ctypes.util, "find_library", no_search)
    try:
        found = software.library_versions()
    finally:
        software.library_versions.cache_clear()
    assert found["pango"][0].isdigit() and found["harfbuzz"][0].isdigit() and found["fontconfig"][0].isdigit()
    assert found == software.library_versions()
