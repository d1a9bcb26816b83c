"""`erh-report import`: every reference file becomes a data folder that `erh-report check` passes; the
format is read from the content; bad sources end in exit 2 with a message naming the problem.

The Cochrane files are read from ../shared/reference-data/revman/ (copies are made in pytest's tmp_path
only, to change them)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml

from erh_report.cli import main
from erh_report.data import load_review
from erh_report.importers import rm5

REVMAN_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data" / "revman"
SOURCES = [
    "Fleiss1993.rm5",
    "CD004976.rm5",
    "CD003188.rm5",
    "CD013656.rm5",
    "Fleiss1993_revman5_analysis_export.csv",
    "Fleiss1993_cochrane_data_package_v1.zip",
]
pytestmark = pytest.mark.skipif(not REVMAN_DIR.is_dir(), reason=f"RevMan reference files not found in {REVMAN_DIR}")


def _import(source: Path, out: Path, *extra: str) -> int:
    return main(["import", str(source), "--out", str(out), *extra])


@pytest.mark.parametrize("name", SOURCES)
def test_import_then_check(name, tmp_path, capsys):
    out = tmp_path / "data"
    assert _import(REVMAN_DIR / name, out) == 0
    review = load_review(out)
    config = yaml.safe_load((out / "review.yaml").read_text(encoding="utf-8"))
    assert config["source"]["file"] == name
    assert set(config["source"]["not_provided"]) >= {"prisma", "grade"}
    # RevMan's own risk-of-bias table (ROB 1) is imported; only a source without one says "not provided"
    assert ("risk_of_bias" in config["source"]["not_provided"]) != (out / "risk_of_bias.csv").exists()
    ids = [a.id for a in review.analyses]
    assert ids[0] == "1.1" and len(ids) == len(set(ids))
    assert f"into {out}" in capsys.readouterr().out


def test_analyses_carry_revman_settings(tmp_path, capsys):
    out = tmp_path / "data"
    assert _import(REVMAN_DIR / "CD013656.rm5", out) == 0
    source = rm5.read(REVMAN_DIR / "CD013656.rm5")
    review = load_review(out)
    by_id = {a.id: a for a in review.analyses}
    assert list(by_id) == [o.id for o in source.outcomes]
    for o in source.outcomes:
        s = by_id[o.id].settings
        assert (s.pooling, s.model, s.totals, s.subgroups) == (
            o.method,
            "random" if o.random else "fixed",
            o.totals,
            o.has_subgroups,
        )
        assert s.graph_labels == list(o.graph_labels)
        levels = {i.subgroup for i in review.selections[o.id]}
        assert levels <= {g.name for g in o.subgroups} | {""}


def test_format_from_content_not_name(tmp_path, capsys):
    disguised = tmp_path / "review.txt"
    disguised.write_bytes((REVMAN_DIR / "Fleiss1993.rm5").read_bytes())
    assert _import(disguised, tmp_path / "data") == 0


def test_unzipped_package_folder(tmp_path, capsys):
    folder = tmp_path / "package"
    with zipfile.ZipFile(REVMAN_DIR / "Fleiss1993_cochrane_data_package_v1.zip") as z:
        z.extractall(folder)
    assert _import(folder, tmp_path / "data") == 0
    assert load_review(tmp_path / "data").analyses[0].id == "1.1"


def _fails(source: Path, out: Path, capsys, *extra: str) -> str:
    assert _import(source, out, *extra) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
    return err


def test_not_a_known_format(tmp_path, capsys):
    src = tmp_path / "notes.csv"
    src.write_text("a,b\n1,2\n")
    assert "not a known review format" in _fails(src, tmp_path / "data", capsys)


def test_broken_zip(tmp_path, capsys):
    src = tmp_path / "package.zip"
    src.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert "broken zip" in _fails(src, tmp_path / "data", capsys)


def test_unknown_effect_measure(tmp_path, capsys):
    text = (REVMAN_DIR / "Fleiss1993.rm5").read_bytes().replace(b'EFFECT_MEASURE="OR"', b'EFFECT_MEASURE="XYZ"')
    src = tmp_path / "bad.rm5"
    src.write_bytes(text)
    err = _fails(src, tmp_path / "data", capsys)
    assert "analysis CMP-001.01: unknown effect measure (found 'XYZ')" in err


def test_duplicate_study_ids(tmp_path, capsys):
    text = (REVMAN_DIR / "Fleiss1993.rm5").read_bytes()
    text = text.replace(b'ID="STD-CDP"', b'ID="STD-AMIS"', 1)
    src = tmp_path / "dup.rm5"
    src.write_bytes(text)
    assert "duplicate study id (found 'STD-AMIS')" in _fails(src, tmp_path / "data", capsys)


def test_outcome_without_usable_rows_is_a_note(tmp_path, capsys):
    text = (REVMAN_DIR / "Fleiss1993.rm5").read_bytes()
    for sd in (b'SD_1="4.7"', b'SD_1="1.71"', b'SD_1="3.44"', b'SD_1="1.47"', b'SD_1="0.76"'):
        text = text.replace(sd, b'SD_1="0.0"')
    src = tmp_path / "sd0.rm5"
    src.write_bytes(text)
    assert _import(src, tmp_path / "data") == 0
    err = capsys.readouterr().err
    assert "analysis 1.2 (Mental Health Treatment versus Control): no usable study rows" in err


def test_refuses_non_empty_folder_without_force(tmp_path, capsys):
    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert _import(REVMAN_DIR / "Fleiss1993.rm5", out) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    assert _import(REVMAN_DIR / "Fleiss1993.rm5", out, "--force") == 0
    assert not (out / "keep.txt").exists()


def test_rob2_from_robvis(tmp_path, capsys):
    rob = tmp_path / "rob.csv"
    rob.write_text(
        "Study,D1,D2,D3,D4,D5,Overall\n"
        + "".join(
            f"{name},Low,Some concerns,Low,Low,Low,Some concerns\n"
            for name in (
                "MRC-1",
                "CDP",
                "MRC-2",
                "GASP",
                "PARIS",
                "AMIS",
                "ISIS-2",
                "Davis",
                "Florell",
                "Gruen",
                "Hart",
                "Wilson",
            )
        )
    )
    out = tmp_path / "data"
    assert _import(REVMAN_DIR / "Fleiss1993.rm5", out, "--rob", str(rob)) == 0
    review = load_review(out)
    assert review.rob("MRC-1", "o1_1").overall == "some concerns"
    assert "risk_of_bias" not in yaml.safe_load((out / "review.yaml").read_text())["source"]["not_provided"]


def test_only_included_studies_become_studies(tmp_path, capsys):
    """A study listed under EXCLUDED_STUDIES is not an included study of the data folder."""
    text = (REVMAN_DIR / "Fleiss1993.rm5").read_bytes()
    excluded = (
        b'<EXCLUDED_STUDIES><STUDY DATA_SOURCE="PUB" ID="STD-Left_x002d_out" NAME="Left-out" YEAR="1990">'
        b"</STUDY></EXCLUDED_STUDIES>"
    )
    text = text.replace(b"<EXCLUDED_STUDIES/>", excluded) if b"<EXCLUDED_STUDIES/>" in text else text
    assert b"Left_x002d_out" in text
    src = tmp_path / "with-excluded.rm5"
    src.write_bytes(text)
    review = rm5.read(src)
    assert "Left-out" not in {s.id for s in review.studies} and len(review.studies) == 12


def test_outcome_types_not_imported_are_named_not_dropped(tmp_path, capsys):
    """An 'O-E and variance' outcome is said in a note (on the terminal and in imported/notes.txt)."""
    data = (REVMAN_DIR / "Fleiss1993.rm5").read_bytes()
    at = data.index(b"</COMPARISON>")
    source = tmp_path / "with-oe.rm5"
    source.write_bytes(data[:at] + b'<IPD_OUTCOME ID="X" NO="9"><NAME>Death by O-E</NAME></IPD_OUTCOME>' + data[at:])
    assert _import(source, tmp_path / "out") == 0
    note = "analysis 1.9 (Death by O-E): RevMan's 'O-E and variance' data is not imported"
    assert note in capsys.readouterr().err
    assert note in (tmp_path / "out" / "imported" / "notes.txt").read_text(encoding="utf-8")
