"""Reading the review: CSV or one XLSX workbook, the PRISMA2020 template, BibTeX, review.yaml lines."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from openpyxl import Workbook
from review_copies import DATA, copy_data, find_row, problems_of, read_rows, texts

from erh_report.data import load_review
from erh_report.data.bibtex import read_bibtex
from erh_report.data.schema import TABLES

TABLE_NAMES = [name for name in TABLES]


def _number(cell: str) -> object:
    """Cells as a spreadsheet program would store them: numbers as numbers."""
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(cell)
    return cell if cell != "" else None


def to_workbook(folder: Path, extra_sheet: str | None = None) -> Path:
    """Move every CSV table of ``folder`` into one workbook ``review.xlsx``."""
    book = Workbook()
    book.remove(book.active)
    for name in TABLE_NAMES:
        sheet = book.create_sheet(name)
        for row in read_rows(folder / f"{name}.csv"):
            sheet.append([_number(c) for c in row])
        (folder / f"{name}.csv").unlink()
    if extra_sheet:
        book.create_sheet(extra_sheet).append(["some", "notes"])
    path = folder / "review.xlsx"
    book.save(path)
    return path


def test_workbook_gives_the_same_review(tmp_path: Path):
    folder = copy_data(tmp_path)
    to_workbook(folder)
    from_csv, from_xlsx = load_review(DATA), load_review(folder)
    assert from_xlsx.summary() == from_csv.summary()
    assert from_xlsx.sources["outcome_data"] == "review.xlsx [sheet outcome_data]"
    first = from_xlsx.selections["bonding_post"][0]
    row = find_row(DATA / "outcome_data.csv", study_id=first.study_id, outcome="bonding", instrument=first.instrument)
    assert first.rows == (row, row + 1), "the sheet's row numbers are the CSV's"
    assert first == from_csv.selections["bonding_post"][0]


def test_workbook_problem_names_sheet_row_and_column(tmp_path: Path):
    folder = copy_data(tmp_path)
    path = to_workbook(folder, extra_sheet="Notes")
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book["outcome_data"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=6, column=header.index("sd") + 1, value=-1)
    book.save(path)
    found = texts(problems_of(folder))
    assert (
        "review.xlsx: unknown sheet (found 'Notes'); expected sheets named studies, outcome_data, "
        "risk_of_bias, prisma, excluded_studies, grade" in found
    )
    assert (
        "review.xlsx [sheet outcome_data], row 6, column 'sd': value out of range (found '-1'); "
        "expected a number > 0" in found
    )


def test_table_given_twice(tmp_path: Path):
    folder = copy_data(tmp_path)
    to_workbook(folder)
    (folder / "grade.csv").write_text((DATA / "grade.csv").read_text())
    assert texts(problems_of(folder)) == [
        "grade.csv: table given twice (also in review.xlsx [sheet grade]); expected each table once, as a "
        "CSV file or a workbook sheet"
    ]


def _template(rows: list[list[str]]) -> str:
    """The tool's prisma.csv rewritten as the PRISMA2020 R package's template."""
    by_box: dict[str, list[tuple[str, str]]] = {}
    for box, label, n in rows[1:]:
        by_box.setdefault(box, []).append((label, n))

    def listed(box: str) -> str:
        return "; ".join(f"{label}, {n}" for label, n in by_box[box])

    def one(box: str) -> str:
        return by_box[box][0][1]

    other = dict(by_box["other_sources"])
    data = [
        ("database_results", listed("databases")),
        ("register_results", listed("registers")),
        ("citations_results", other["Citation searching"]),
        ("organisation_results", other["Contact with authors"]),
        ("website_results", "NA"),
        ("duplicates", one("duplicates")),
        ("excluded_automatic", "0"),
        ("excluded_other", "0"),
        ("records_screened", one("screened")),
        ("records_excluded", one("screen_excluded")),
        ("dbr_sought_reports", one("sought")),
        ("dbr_notretrieved_reports", one("not_retrieved")),
        ("dbr_assessed", one("assessed")),
        ("dbr_excluded", listed("fulltext_excluded")),
        ("other_sought_reports", one("other_sought")),
        ("other_notretrieved_reports", one("other_not_retrieved")),
        ("other_assessed", one("other_assessed")),
        ("other_excluded", listed("other_excluded")),
        ("previous_studies", "0"),
        ("previous_reports", "0"),
        ("new_studies", one("studies_included")),
        ("new_reports", one("reports_included")),
        ("total_studies", "NA"),
        ("total_reports", "NA"),
    ]
    lines = ["data,node,box,description,boxtext,tooltips,url,n"]
    lines += [f'{key},node,box,"{key}","{key}","{key}",{key}.html,"{n}"' for key, n in data]
    return "\n".join(lines) + "\n"


def test_prisma2020_template_is_accepted(tmp_path: Path):
    folder = copy_data(tmp_path)
    (folder / "prisma.csv").write_text(_template(read_rows(DATA / "prisma.csv")))
    native, template = load_review(DATA).prisma, load_review(folder).prisma
    assert (
        template.databases
        == native.databases
        == [("PubMed", 3812), ("Medline", 2947), ("CINAHL", 1604), ("ERIC", 318), ("PsycInfo", 2455)]
    )
    assert template.fulltext_excluded == native.fulltext_excluded
    assert (template.screened, template.assessed, template.studies_included, template.reports_included) == (
        7833,
        527,
        93,
        104,
    )


def test_prisma2020_template_that_does_not_add_up(tmp_path: Path):
    folder = copy_data(tmp_path)
    text = _template(read_rows(DATA / "prisma.csv")).replace('dbr_assessed.html,"527"', 'dbr_assessed.html,"530"')
    (folder / "prisma.csv").write_text(text)
    found = texts(problems_of(folder))
    assert found[0] == (
        "prisma.csv, row 14, column 'n': PRISMA counts do not add up: assessed should be reports sought (541) "
        "minus reports not retrieved (14) (found 530); expected 527"
    )


def test_bibtex_keys_and_fields():
    entries, problems = read_bibtex((DATA / "references.bib").read_text(), "references.bib")
    assert problems == []
    assert entries["page2021prisma"]["DOI"] == "10.1136/bmj.n71"
    assert entries["page2021prisma"]["title"].startswith("The PRISMA 2020 statement")
    assert entries["sterne2019rob2"]["author"][1] == {"family": "Savović", "given": "Jelena"}
    assert entries["guyatt2008grade"]["page"] == "924-926"
    assert entries["s001"]["issued"] == {"date-parts": [[2009]]}
    assert len([k for k in entries if k.startswith("s")]) >= 93


def test_csv_with_semicolons_and_bom(tmp_path: Path):
    folder = copy_data(tmp_path)
    rows = read_rows(folder / "grade.csv")
    (folder / "grade.csv").write_text("\ufeff" + "\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    review = load_review(folder)
    assert [(g.analysis_id, g.domain, g.judgement) for _, g in review.grade] == [
        ("dyadic_interaction_fu12", "indirectness", "serious")
    ]


@pytest.mark.parametrize("name", ["grade.csv", "excluded_studies.csv"])
def test_optional_tables_may_be_header_only_or_absent(tmp_path: Path, name: str):
    folder = copy_data(tmp_path)
    if name == "grade.csv":
        (folder / name).write_text("analysis_id,domain,judgement,reason\n")
        assert load_review(folder).grade == []
    else:
        (folder / name).unlink()
        assert load_review(folder).excluded == []
