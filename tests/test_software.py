"""The fonts a build records and keys its cached documents on: those the stylesheet names, as found here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from erh_report import software
from erh_report.render.environment import TEMPLATES


def test_document_fonts_are_the_families_the_stylesheet_names():
    css = (TEMPLATES / "document.css").read_text(encoding="utf-8")
    named = set(re.findall(r'"([^"]+)"', " ".join(re.findall(r"font(?:-family)?:[^;}]*", css))))
    assert named, "no font families found in document.css"
    assert named <= set(software.DOCUMENT_FONTS), named - set(software.DOCUMENT_FONTS)


@pytest.fixture
def fake_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {
        "serif": tmp_path / "Serif-Regular.ttf",
        "bold": tmp_path / "Serif-Bold.ttf",
        "sans": tmp_path / "Sans.ttf",
    }
    for name, path in files.items():
        path.write_bytes(name.encode() * 100)
    listing = (
        f"Liberation Serif|{files['serif']}\nLiberation Serif|{files['bold']}\n"
        f"DejaVu Sans|{files['sans']}\nSome Other|{files['sans']}\n"
    )

    def run(args, **_kwargs):
        assert args[0] == "fc-list"
        return subprocess.CompletedProcess(args, 0, stdout=listing, stderr="")

    monkeypatch.setattr(software.subprocess, "run", run)
    software.fonts.cache_clear()
    yield files
    software.fonts.cache_clear()


def test_fonts_count_and_hash_each_family_and_see_a_changed_file(fake_fonts):
    found = software.fonts()
    assert found["Liberation Serif"].startswith("2 files, sha256 ")
    assert found["DejaVu Sans"].startswith("1 file, sha256 ")
    assert found["Liberation Sans"] == "not installed" and found["DejaVu Serif"] == "not installed"
    assert set(found) == set(software.DOCUMENT_FONTS)
    before = found["Liberation Serif"]
    fake_fonts["bold"].write_bytes(b"another version")
    software.fonts.cache_clear()
    assert software.fonts()["Liberation Serif"] != before
    assert software.fonts()["DejaVu Sans"] == found["DejaVu Sans"]


def test_fonts_without_fontconfig_say_so(monkeypatch: pytest.MonkeyPatch):
    def missing(*_args, **_kwargs):
        raise FileNotFoundError("fc-list")

    monkeypatch.setattr(software.subprocess, "run", missing)
    software.fonts.cache_clear()
    try:
        assert software.fonts() == dict.fromkeys(software.DOCUMENT_FONTS, "unknown: fc-list is not installed")
    finally:
        software.fonts.cache_clear()
