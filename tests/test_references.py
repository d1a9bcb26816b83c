"""The reference list: read from BibTeX, CSL-JSON, RIS or a PubMed export, written in the CSL style
review.yaml names (AMA by default); bad reference files are named with their line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from review_copies import copy_data

from erh_report.cli import main
from erh_report.data import load_review
from erh_report.data.csl import csl_date, csl_page
from erh_report.data.csl_style import style_file
from erh_report.data.reference_files import read_references
from erh_report.render.references import Citations, format_references

FIXTURES = Path(__file__).parent / "fixtures" / "references"
#: The same three articles in each format; a PubMed export is keyed by PMID.
KEYS = {
    "references.bib": ["egger1997bias", "guyatt2008grade", "duval2000trimfill"],
    "references.ris": ["egger1997bias", "guyatt2008grade", "duval2000trimfill"],
    "references.nbib": ["9310563", "18436948", "10877304"],
}


def _read(tmp_path: Path, *names: str):
    folder = tmp_path / "refs"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, folder / name)
    return read_references(folder)


def _listing(tmp_path: Path, name: str, style: str) -> list[str]:
    items, source, problems = _read(tmp_path, name)
    assert problems == [] and source == name
    return [str(e) for e in format_references([items[k] for k in KEYS[name]], style_file(style))]


@pytest.mark.parametrize("style", ["american-medical-association", "apa"])
@pytest.mark.parametrize("name", ["references.ris", "references.nbib"])
def test_ris_and_pubmed_exports_give_the_references_bibtex_gives(tmp_path: Path, name: str, style: str):
    assert _listing(tmp_path, name, style) == _listing(tmp_path / "bib", "references.bib", style)


def test_ama_entries_follow_the_ama_rules(tmp_path: Path):
    egger, guyatt, duval = _listing(tmp_path, "references.nbib", "american-medical-association")
    # surname and initials without periods; journal abbreviation in italics; year;volume(issue):pages; doi
    assert egger == (
        "Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis detected by a simple, graphical "
        "test. <i>BMJ</i>. 1997;315(7109):629-634. doi:10.1136/bmj.315.7109.629"
    )
    assert guyatt.startswith("Guyatt GH, Oxman AD, Vist GE, et al. GRADE:")  # more than 6 authors: 3, et al
    assert "2000;56(2):455-463." in duval  # MEDLINE's "455-63" written out


def test_another_csl_style_changes_the_list_as_that_style_says(tmp_path: Path):
    apa = _listing(tmp_path, "references.bib", "apa")
    assert apa[0].startswith("Egger, M., Davey Smith, G., Schneider, M., &amp; Minder, C. (1997). Bias in")
    assert apa[0].endswith("https://doi.org/10.1136/bmj.315.7109.629")
    vancouver = _listing(tmp_path / "v", "references.bib", "nlm-citation-sequence")
    assert "BMJ. 1997" in vancouver[0] and "<i>" not in vancouver[0]  # NLM: journal not italic
    assert "Alonso-Coello P, et al." in vancouver[1]  # NLM: six authors, then et al


def test_review_yaml_names_the_style_by_name_or_as_a_csl_file(tmp_path: Path):
    data = copy_data(tmp_path)
    review_yaml = data / "review.yaml"
    original = review_yaml.read_text(encoding="utf-8")
    default = Citations.of_review(load_review(data))
    default.cite("page2021prisma")
    assert str(default.listing()[0]).startswith("Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020")

    review_yaml.write_text(original + "references:\n  style: apa\n", encoding="utf-8")
    apa = Citations.of_review(load_review(data))
    apa.cite("page2021prisma")
    assert str(apa.listing()[0]).startswith("Page, M. J., McKenzie, J. E., &amp; Bossuyt, P. M. (2021).")

    shutil.copy(style_file("nlm-citation-sequence"), data / "our-journal.csl")
    review_yaml.write_text(original + "references:\n  style: our-journal.csl\n", encoding="utf-8")
    own = Citations.of_review(load_review(data))
    own.cite("page2021prisma")
    assert own.style == data / "our-journal.csl"
    assert str(own.listing()[0]) == str(
        format_references([own.entries["page2021prisma"]], style_file("nlm-citation-sequence"))[0]
    )


def test_an_unknown_style_is_refused_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = copy_data(tmp_path)
    review_yaml = data / "review.yaml"
    text = review_yaml.read_text(encoding="utf-8")
    line = text.count("\n") + 2
    review_yaml.write_text(text + "references:\n  style: journal-of-nowhere\n", encoding="utf-8")
    assert main(["check", str(data)]) == 2
    err = capsys.readouterr().err
    assert f"review.yaml, row {line}, column 'references.style': no CSL style named 'journal-of-nowhere'" in err, err
    assert "Traceback" not in err


def test_an_entry_without_author_shows_its_title_once():
    items, _, _ = read_references(Path(__file__).resolve().parents[1] / "data")
    title = items["s001"]["title"]
    for style in ("american-medical-association", "apa"):
        (entry,) = format_references([items["s001"]], style_file(style))
        assert str(entry).count(title) == 1, entry


def test_the_list_is_the_same_whatever_was_formatted_before():
    items, _, _ = read_references(Path(__file__).resolve().parents[1] / "data")
    chosen = [items[k] for k in ("guyatt2008grade", "page2021prisma", "s002")]
    first = format_references(chosen, style_file(None))
    format_references(list(items.values()), style_file("apa"))
    assert format_references(chosen, style_file(None)) == first
    assert [str(e).split(",")[0] for e in first] == ["Guyatt GH", "Page MJ", first[2].split(",")[0]]


def test_several_reference_files_are_merged_and_a_key_in_two_is_named(tmp_path: Path):
    items, source, problems = _read(tmp_path, "references.bib", "references.nbib")
    assert problems == [] and source == "references.bib or references.nbib"
    assert set(items) == set(KEYS["references.bib"]) | set(KEYS["references.nbib"])
    _, _, problems = _read(tmp_path, "references.ris")
    assert [str(p) for p in problems] == [
        f"references.ris: key '{key}' is also in references.bib; expected each key in one reference file"
        for key in KEYS["references.ris"]
    ]


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        (
            "references.ris",
            lambda t: t.replace("ER  - \n\nTY  - JOUR\nID  - guyatt", "TY  - JOUR\nID  - guyatt", 1),
            "references.ris, row 1: record not closed by an 'ER  - ' line",
        ),
        (
            "references.ris",
            lambda t: t.replace("ID  - guyatt2008grade\n", "", 1),
            "references.ris, row 21: record without an ID; expected an 'ID  - ' line: the citation key",
        ),
        (
            "references.ris",
            lambda t: t.replace("ID  - guyatt2008grade", "ID  - Egger1997bias", 1),
            "references.ris, row 21: ID 'Egger1997bias' already used at line 1; expected each ID once",
        ),
        (
            "references.nbib",
            lambda t: t.replace("PG  - 629-34", "PG629-34", 1),
            "references.nbib, row 13: line is neither a 'TAG - value' line nor its continuation (found 'PG629-34')",
        ),
        (
            "references.nbib",
            lambda t: t.replace("PMID- 18436948", "PMID- 9310563", 1),
            "references.nbib, row 41: PMID 9310563 already given at line 1; expected each record once",
        ),
        (
            "references.bib",
            lambda t: t.replace("@article{duval2000trimfill,", "@article{duval2000trimfill", 1),
            "references.bib, row 16: an entry cannot be read",
        ),
    ],
)
def test_a_bad_reference_file_is_named_with_its_line(tmp_path: Path, name: str, damage, message: str):
    folder = tmp_path / "refs"
    folder.mkdir()
    (folder / name).write_text(damage((FIXTURES / name).read_text(encoding="utf-8")), encoding="utf-8")
    items, _, problems = read_references(folder)
    assert items is None
    assert problems and str(problems[0]).startswith(message), [str(p) for p in problems]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2021", [2021]),
        ("2021 Mar 29", [2021, 3, 29]),  # MEDLINE's DP
        ("2020 Jan-Feb", [2020, 1]),  # a span of months: the first
        ("1997/09/13/", [1997, 9, 13]),  # RIS's DA
        ("2019 Spring", [2019]),
    ],
)
def test_dates_of_the_reference_formats(text: str, parts: list[int]):
    assert csl_date(text) == {"date-parts": [parts]}
    assert csl_date("in press") == {"literal": "in press"}


@pytest.mark.parametrize(
    ("text", "page"), [("924--926", "924-926"), ("924-6", "924-926"), ("1195-204", "1195-1204"), ("e71", "e71")]
)
def test_page_ranges_are_written_out(text: str, page: str):
    assert csl_page(text) == page
