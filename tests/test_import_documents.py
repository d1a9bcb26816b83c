"""A full build (figures and documents) of an imported RevMan review that is not about infants: the PDF and
DOCX are read back and say where the data came from, each analysis with its own method and RevMan's
numbers, and "not provided" for what the source does not hold."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from docx import Document

from erh_report.build import build
from erh_report.cli import main
from erh_report.importers import rm5
from erh_report.numbers import get_style

REVMAN_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data" / "revman"
SOURCE = REVMAN_DIR / "Fleiss1993.rm5"
pytestmark = pytest.mark.skipif(not SOURCE.is_file(), reason=f"{SOURCE} not found")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleiss")
    assert main(["import", str(SOURCE), "--out", str(base / "data")]) == 0
    build(base / "data", base / "build", cache_dir=False)
    return base / "build"


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(path).pages)


def test_manuscript_reports_revmans_result_with_its_method(built):
    text = _pdf_text(built / "manuscript.pdf")
    aspirin = rm5.read(SOURCE).outcomes[0]
    style = get_style("RevMan5")
    s = aspirin.stored.values
    stored = f"OR {style.bracket(s['effect_size'], s['ci_start'], s['ci_end'])}"
    assert f"Analysis 1.1. {aspirin.name} (Odds Ratio, M-H, Fixed)." in text
    assert stored in text
    assert f"I² = {style.percent(s['i2'])}" in text
    assert "Data imported from Fleiss1993.rm5 (RevMan 5 XML (RevMan 5.0.23))." in text
    # the file holds RevMan's risk-of-bias table (ROB 1): imported, so not among what is not provided
    assert "Not provided by the source: GRADE certainty assessments and PRISMA" in text
    assert "Mantel-Haenszel method with a fixed-effect model (analysis 1.1)" in text
    for word in ("dyad", "infant", "Illustrative data"):
        assert word not in text


def test_docx_and_evidence_profiles_say_not_provided(built):
    docx = "\n".join(p.text for p in Document(str(built / "manuscript.docx")).paragraphs)
    assert "Analysis 1.1. Aspirin for Preventing Death after Myocardial Infarction" in docx
    profiles = _pdf_text(built / "evidence-profiles.pdf")
    assert "GRADE certainty assessments: not provided by the source (Fleiss1993.rm5)" in profiles


def test_forest_plot_header_is_revmans(built):
    svg = (built / "figures" / "forest-1.1.svg").read_text(encoding="utf-8")
    assert "M-H, Fixed, 95% CI" in svg
    assert "Favours experimental" in svg and "Favours control" in svg


def test_nothing_made_up_for_what_the_source_lacks(built):
    """No GRADE or PRISMA tables are written for a source that does not hold them; its risk-of-bias
    table (ROB 1) is shown."""
    assert not (built / "results" / "grade").exists()
    tables = {p.stem for p in (built / "tables").glob("*.csv")}
    assert not tables & {"evidence_profiles", "summary_of_findings", "prisma", "characteristics"}
    assert "subgroups" in tables or "pooled_results" in tables
    figures = {p.stem for p in (built / "figures").glob("*.svg")}
    assert figures == {
        "forest-1.1",
        "forest-1.2",
        "rob-traffic-1.1",
        "rob-traffic-1.2",
        "rob-summary-1.1",
        "rob-summary-1.2",
    }  # no PRISMA diagram


def test_supplement_shows_revmans_risk_of_bias(built):
    """The supplement's ROB 1 table holds RevMan's allocation-concealment judgement of each study (read
    from the XML here) and says how the overall judgement was derived."""
    import xml.etree.ElementTree as ET

    text = _pdf_text(built / "supplement.pdf")
    assert "Risk of bias (ROB 1) per study" in text
    assert "Overall: derived from the domains (any high, high; all low, low; otherwise unclear)" in text
    words = {"YES": "low", "NO": "high", "UNKNOWN": "unclear"}
    studies = {s.id: s.name for s in rm5.read(SOURCE).studies}
    root = ET.parse(SOURCE).getroot()
    entries = root.findall(".//QUALITY_ITEM[@ID='QIT-02']/QUALITY_ITEM_DATA/QUALITY_ITEM_DATA_ENTRY")
    assert entries
    for e in entries:
        name = studies[rm5.study_key(e.get("STUDY_ID"))]
        assert f"{name} no information {words[e.get('RESULT')]} no information" in text
