"""Supplementary tables for journals: one XLSX workbook (a sheet per eTable, styled header, sized columns)
and the same tables as CSV files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from erh_report.grade import GradeReport
from erh_report.render.context import risk_of_bias_rows, study_characteristics
from erh_report.spreadsheet import neutralised, write_csv
from erh_report.synthesis import ReviewResults, tables


def supplementary_tables(results: ReviewResults, grade: GradeReport) -> dict[str, pd.DataFrame]:
    """eTables in the supplement's order, as data at full precision (ratio measures on the log scale
    with exp_* columns, as in build/results)."""
    review = results.review
    frames = tables(results)
    grade_frames = grade.tables()
    excluded = pd.DataFrame([r.model_dump() for _, r in review.excluded])
    return {
        "characteristics": pd.DataFrame(study_characteristics(review)),
        "risk_of_bias": pd.DataFrame(risk_of_bias_rows(review)),
        "pooled_results": frames["analyses"],
        "study_effects": frames["study_effects"],
        "subgroups": frames["subgroups"],
        "sensitivity": frames["sensitivity"],
        "leave_one_out": frames["leave_one_out"],
        "dose_metaregression": frames["metaregression"],
        "small_study_effects": frames["small_study_effects"],
        "summary_of_findings": grade_frames["summary_of_findings"],
        "evidence_profiles": grade_frames["evidence_profiles"],
        "grade_footnotes": grade_frames["grade_footnotes"],
        "excluded_studies": excluded,
        "prisma": frames["prisma"],
    }


def write_csvs(frames: dict[str, pd.DataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        write_csv(frame, folder / f"{name}.csv")


def write_workbook(frames: dict[str, pd.DataFrame], path: Path, note: str = "") -> None:
    """One sheet per table: bold shaded header, frozen header row, columns sized to their content."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DCE6F1")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        if note:
            neutralised(pd.DataFrame({"note": [note]})).to_excel(writer, sheet_name="README", index=False)
        for name, frame in frames.items():
            frame = neutralised(frame)
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for cell in sheet[1]:
                cell.font, cell.fill = header_font, header_fill
                cell.alignment = Alignment(wrap_text=True, vertical="bottom")
            for i, column in enumerate(frame.columns, start=1):
                longest = max([len(str(column))] + [len(str(v)) for v in frame[column].head(500)])
                sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, longest + 2))
        book = writer.book
        book.properties.creator = "erh_report"
        book.properties.lastModifiedBy = None
