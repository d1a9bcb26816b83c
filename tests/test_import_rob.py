"""Risk of bias on import: robvis CSVs of RoB 2, ROBINS-I and ROB 1 (the tool told from the header), and
RevMan 5's own Cochrane-tool (ROB 1) table, become risk_of_bias.csv with settings.rob_tool; the table is
compared with the source file read here; a word the tool does not know is an exit-2 error."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from erh_report import rob_tools
from erh_report.cli import main
from erh_report.data import load_review
from erh_report.importers import rm5

REVMAN_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data" / "revman"
FLEISS = REVMAN_DIR / "Fleiss1993.rm5"
WITH_ROB = REVMAN_DIR / "CD013656.rm5"
pytestmark = pytest.mark.skipif(not REVMAN_DIR.is_dir(), reason=f"RevMan reference files not found in {REVMAN_DIR}")
ROB1_HEADER = [
    "Study",
    "Random sequence generation",
    "Allocation concealment",
    "Blinding of participants and personnel",
    "Blinding of outcome assessment",
    "Incomplete outcome data",
    "Selective reporting",
    "Other sources of bias",
    "Overall",
    "Weight",
]


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _with_review_studies(example: list[list[str]], source: Path, target: Path) -> dict[str, str]:
    """The robvis example's rows, repeated, under the review's study names; name -> row written."""
    ids = [s.id for s in rm5.parse(source.read_bytes(), source.name).studies]
    body = example[1:]
    rows = [[sid, *body[i % len(body)][1:]] for i, sid in enumerate(ids)]
    with target.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([example[0], *rows])
    return {r[0]: r for r in rows}


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _rob1_example(path: Path) -> Path:
    """A robvis ROB 1 table (robvis's template columns) with the words Low, Unclear and High."""
    words = ("Low", "Unclear", "High")
    rows = [ROB1_HEADER]
    for n in range(4):
        domains = [words[(n + j) % 3] if n else "Low" for j in range(7)]
        rows.append(
            [f"Study {n + 1}", *domains, rob_tools.rob1_overall([d.lower() for d in domains]).capitalize(), str(10 + n)]
        )
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.mark.parametrize(
    ("example", "tool"),
    [("robvis_rob2_example.csv", "RoB2"), ("robvis_robins_i_example.csv", "ROBINS-I"), (None, "ROB1")],
)
def test_robvis_each_tool(example, tool, tmp_path, capsys):
    source = REVMAN_DIR / example if example else _rob1_example(tmp_path / "rob1.csv")
    table = _read(source)
    rob = tmp_path / "rob.csv"
    expected = _with_review_studies(table, FLEISS, rob)
    out = tmp_path / "data"
    assert main(["import", str(FLEISS), "--out", str(out), "--rob", str(rob)]) == 0
    config = yaml.safe_load((out / "review.yaml").read_text(encoding="utf-8"))
    assert config["settings"]["rob_tool"] == tool
    assert "risk_of_bias" not in config["source"]["not_provided"]
    t = rob_tools.TOOLS[tool]
    written = _rows(out / "risk_of_bias.csv")
    assert [r["study_id"] for r in written] == list(expected)
    for r in written:
        source_cells = expected[r["study_id"]][1 : len(t.domains) + 2]
        assert [r[d] for d in (*t.domain_ids, "overall")] == [" ".join(c.split()).lower() for c in source_cells]
    load_review(out)  # check passes


def test_robvis_word_of_another_tool_is_an_error(tmp_path, capsys):
    table = _read(REVMAN_DIR / "robvis_rob2_example.csv")
    table[2][3] = "Moderate"  # a ROBINS-I word in a RoB 2 table
    rob = tmp_path / "rob.csv"
    _with_review_studies(table, FLEISS, rob)
    assert main(["import", str(FLEISS), "--out", str(tmp_path / "data"), "--rob", str(rob)]) == 2
    err = capsys.readouterr().err
    assert "rob.csv, row 3, column 'D3': not a RoB 2 judgement (found 'Moderate')" in err
    assert "Traceback" not in err and not (tmp_path / "data").exists()


def _revman_rob(path: Path) -> dict[str, dict[str, list[str]]]:
    """RevMan's judgements per study and item, read from the XML (YES low, NO high, UNKNOWN unclear)."""
    words = {"YES": "low", "NO": "high", "UNKNOWN": "unclear"}
    out: dict[str, dict[str, list[str]]] = {}
    for item in ET.parse(path).getroot().iterfind(".//QUALITY_ITEMS/QUALITY_ITEM"):
        name = "".join(item.find("NAME").itertext())
        for e in item.iterfind("QUALITY_ITEM_DATA/QUALITY_ITEM_DATA_ENTRY"):
            if e.get("RESULT") in words:
                out.setdefault(rm5.study_key(e.get("STUDY_ID")), {}).setdefault(name, []).append(words[e.get("RESULT")])
    return out


def test_revman_rob1_table(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["import", str(WITH_ROB), "--out", str(out)]) == 0
    config = yaml.safe_load((out / "review.yaml").read_text(encoding="utf-8"))
    assert config["settings"]["rob_tool"] == "ROB1"
    assert "risk_of_bias" not in config["source"]["not_provided"]
    stored = _revman_rob(WITH_ROB)
    written = {r["study_id"]: r for r in _rows(out / "risk_of_bias.csv")}
    assert set(written) == set(stored)
    rank = rob_tools.ROB1.rank
    # the file's seven items are, in order, the tool's seven domains
    items = ["".join(i.find("NAME").itertext()) for i in ET.parse(WITH_ROB).getroot().iterfind(".//QUALITY_ITEM")]
    assert len(items) == 7
    for sid, judged in stored.items():
        cells = [max(judged[item], key=rank.__getitem__) if item in judged else "no information" for item in items]
        assert [written[sid][d] for d in rob_tools.ROB1.domain_ids] == cells
        overall = "high" if "high" in cells else "low" if set(cells) == {"low"} else "unclear"
        assert written[sid]["overall"] == overall
    review = load_review(out)
    assert review.config.settings.rob_tool == "ROB1"


def test_revman_rob1_figures(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["import", str(FLEISS), "--out", str(out)]) == 0
    assert main(["build", str(out), "--out", str(tmp_path / "build"), "--only", "figures"]) == 0
    figures = tmp_path / "build" / "figures"
    svg = next(figures.rglob("rob-traffic-1.1*.svg")).read_text(encoding="utf-8")
    assert "Allocation concealment" in svg and "Unclear" in svg and "Some concerns" not in svg
    summary = next(figures.rglob("rob-summary-1.1*.svg")).read_text(encoding="utf-8")
    assert "Other sources of bias" in summary


def test_wrong_word_for_the_tool_is_exit_2(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["import", str(FLEISS), "--out", str(out)]) == 0
    text = (out / "risk_of_bias.csv").read_text(encoding="utf-8")
    (out / "risk_of_bias.csv").write_text(text.replace(",unclear,", ",some concerns,", 1), encoding="utf-8")
    assert main(["check", str(out)]) == 2
    err = capsys.readouterr().err
    assert ("risk_of_bias.csv, row 2, column 'd2': value not allowed for ROB 1 (found 'some concerns')") in err


def test_robvis_rob1_header_as_r_writes_it(tmp_path, capsys):
    """robvis's ROB 1 columns as R names them ("Random.sequence.generation.") are ROB 1 too; a row that
    stops short is an error naming the robvis file, its row and the first missing column."""
    table = _read(_rob1_example(tmp_path / "rob1.csv"))
    table[0] = [h.replace(" ", ".") + "." if h not in ("Study", "Overall", "Weight") else h for h in table[0]]
    rob = tmp_path / "rob.csv"
    _with_review_studies(table, FLEISS, rob)
    assert main(["import", str(FLEISS), "--out", str(tmp_path / "data"), "--rob", str(rob)]) == 0
    assert yaml.safe_load((tmp_path / "data" / "review.yaml").read_text())["settings"]["rob_tool"] == "ROB1"
    rows = _read(rob)
    rows[3] = rows[3][:4]
    with rob.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    assert main(["import", str(FLEISS), "--out", str(tmp_path / "data2"), "--rob", str(rob)]) == 2
    err = capsys.readouterr().err
    assert "rob.csv, row 4, column 'Blinding.of.outcome.assessment.': not a ROB 1 judgement (found '')" in err
