"""Damaged copies of data/: every kind of problem is reported with its file, row, column and value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from review_copies import copy_data, find_row, problems_of, read_rows, set_cell, texts, write_rows

from erh_report.data import load_review


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def only(folder: Path) -> str:
    """The single problem reported, as printed."""
    found = texts(problems_of(folder))
    assert len(found) == 1, found
    return found[0]


def test_the_shipped_data_pass():
    review = load_review(Path(__file__).resolve().parents[1] / "data")
    assert len(review.studies) == 93
    assert review.illustrative


def test_unknown_study_id(data: Path):
    set_cell(data / "outcome_data.csv", 6, "study_id", "S999")
    set_cell(data / "outcome_data.csv", 7, "study_id", "S999")
    found = texts(problems_of(data))
    assert (
        "outcome_data.csv, row 6, column 'study_id': unknown study (found 'S999'); expected a study_id "
        "listed in studies" in found
    )
    assert any(t.startswith("outcome_data.csv, row 7, column 'study_id': unknown study") for t in found)


def test_outcome_not_in_catalogue(data: Path):
    set_cell(data / "outcome_data.csv", 10, "outcome", "happiness")
    set_cell(data / "outcome_data.csv", 11, "outcome", "happiness")
    found = texts(problems_of(data))
    assert len(found) == 2
    assert found[0].startswith(
        "outcome_data.csv, row 10, column 'outcome': outcome not in the catalogue "
        "(found 'happiness'); expected an outcome id from review.yaml: bonding, "
    )


def test_instrument_not_in_catalogue_names_where_it_is_listed(data: Path):
    row = find_row(data / "outcome_data.csv", outcome="bonding", role="intervention")
    set_cell(data / "outcome_data.csv", row, "instrument", "EPDS")
    set_cell(data / "outcome_data.csv", row + 1, "instrument", "EPDS")  # its control arm
    found = texts(problems_of(data))
    assert found[0] == (
        f"outcome_data.csv, row {row}, column 'instrument': instrument not in the catalogue for outcome "
        "'bonding' (it is listed under depression) (found 'EPDS'); expected one of PBQ, MIBS, MPAS"
    )


def test_instrument_without_direction(data: Path):
    path = data / "review.yaml"
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "- id: PBQ")
    direction = next(i for i in range(start, len(lines)) if "higher_is_better" in lines[i])
    path.write_text("".join(lines[:direction] + lines[direction + 1 :]))
    assert only(data) == (
        f"review.yaml, row {start + 1}, column 'domains.0.outcomes.0.instruments.0.higher_is_better': required "
        "value is missing; expected a value"
    )


def test_duplicate_outcome_row(data: Path):
    rows = read_rows(data / "outcome_data.csv")
    write_rows(data / "outcome_data.csv", [*rows, rows[5]])
    last = len(rows) + 1
    found = texts(problems_of(data))
    assert found[0] == (
        f"outcome_data.csv, row {last}, column 'arm': duplicate row: same study, outcome, instrument, "
        f"follow-up and arm as row 6 (found '{', '.join(rows[5][:5])}'); expected each combination once"
    )


def test_duplicate_study_id(data: Path):
    set_cell(data / "studies.csv", 3, "study_id", "S001")
    found = texts(problems_of(data))
    assert (
        "studies.csv, row 3, column 'study_id': duplicate row: same study_id as row 2 (found 'S001'); "
        "expected each combination once" in found
    )


def test_study_with_two_time_points_when_the_window_wants_one(data: Path):
    path = data / "review.yaml"
    text = path.read_text()
    post = "    max_months: 12\n    pick: earliest\n"
    assert post in text
    path.write_text(text.replace(post, post.replace("earliest", "single"), 1))
    study, instrument, rows = _two_post_time_points(data / "outcome_data.csv")
    problems = problems_of(data)
    found = [p for p in problems if f"study {study} " in p.message and "bonding_post" in p.message]
    assert len(found) == 1
    p = found[0]
    assert (p.file, p.row, p.column) == ("outcome_data.csv", rows[0], "instrument")
    assert p.message.startswith(
        f"study {study} would contribute two effects to analysis bonding_post: reports "
        f"{instrument} at {len(rows) // 2} time points ("
    )
    assert p.message.endswith(") in window 'Post-intervention' and the window's pick is 'single'")
    assert p.expected is not None and p.expected.endswith("rows " + ", ".join(map(str, rows)))


def _two_post_time_points(path: Path) -> tuple[str, str, list[int]]:
    """A study that reports its only bonding instrument at two or more times before 12 months, with the
    spreadsheet rows of those results."""
    rows = read_rows(path)
    header = rows[0]
    at = {name: header.index(name) for name in ("study_id", "outcome", "instrument", "followup_months")}
    found: dict[str, dict[str, list[int]]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if row[at["outcome"]] == "bonding" and float(row[at["followup_months"]]) < 12:
            found.setdefault(row[at["study_id"]], {}).setdefault(row[at["instrument"]], []).append(number)
    return next(
        (study, instrument, numbers)
        for study, by in found.items()
        if len(by) == 1
        for instrument, numbers in by.items()
        if len(numbers) >= 4
    )


def test_study_with_two_instruments_when_the_rule_wants_one(data: Path):
    path = data / "review.yaml"
    path.write_text(path.read_text().replace("instrument_rule: catalogue_order", "instrument_rule: single"))
    problems = problems_of(data)
    assert problems and all("instrument_rule is 'single'" in p.message for p in problems)
    assert all(p.file == "outcome_data.csv" and p.column == "instrument" for p in problems)


def test_prisma_counts_that_do_not_add_up(data: Path):
    set_cell(data / "prisma.csv", 14, "n", "7800")
    found = texts(problems_of(data))
    assert found[0] == (
        "prisma.csv, row 14, column 'n': PRISMA counts do not add up: screened should be records identified "
        "(11739) minus records removed (3906) (found 7800); expected 7833"
    )
    # sought = screened - screen_excluded no longer holds either
    assert any(t.startswith("prisma.csv, row 16, column 'n': PRISMA counts do not add up: sought") for t in found)


def test_prisma_included_must_match_studies(data: Path):
    set_cell(data / "prisma.csv", 32, "n", "92")
    assert (
        "prisma.csv, row 32, column 'n': PRISMA says 92 studies included but studies.csv lists 93 "
        "(found 92); expected 93" in texts(problems_of(data))
    )


def test_rob_judgement_not_in_vocabulary(data: Path):
    set_cell(data / "risk_of_bias.csv", 2, "d1", "moderate")
    assert only(data) == (
        "risk_of_bias.csv, row 2, column 'd1': value not allowed for RoB 2 (found 'moderate'); expected one of "
        "'low', 'some concerns', 'high' or 'no information' (RoB 2, settings.rob_tool)"
    )


def test_rob_overall_better_than_a_domain(data: Path):
    rows = read_rows(data / "risk_of_bias.csv")
    row = next(i for i, r in enumerate(rows[1:], start=2) if r[2:7].count("high") == 1)
    domain = rows[row - 1][2:7].index("high") + 1
    set_cell(data / "risk_of_bias.csv", row, "overall", "low")
    assert only(data) == (
        f"risk_of_bias.csv, row {row}, column 'overall': overall judgement is better than domain D{domain} "
        "('high') (found 'low'); expected at least 'high' (RoB 2 algorithm)"
    )


def test_missing_rob_row(data: Path):
    rows = read_rows(data / "risk_of_bias.csv")
    write_rows(data / "risk_of_bias.csv", [rows[0], *rows[2:]])  # the first study's first outcome gone
    study, outcome = rows[1][:2]
    used = find_row(data / "outcome_data.csv", study_id=study, outcome=outcome)
    assert only(data) == (
        f"risk_of_bias.csv: no risk-of-bias judgement for study {study}, outcome {outcome} (used in "
        f"outcome_data.csv row {used}); expected a row for this study and outcome, or for the study with a "
        "blank outcome"
    )


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("sd", "0", "value out of range (found '0'); expected a number > 0"),
        ("sd", "-2.5", "value out of range (found '-2.5'); expected a number > 0"),
        ("n", "1", "value out of range (found '1'); expected a number ≥ 2"),
        ("n", "19.5", "not a whole number (found '19.5'); expected a whole number"),
        (
            "mean",
            "9,81",
            "not a number: a comma as decimal mark (found '9,81'); expected a number (use a dot for "
            "decimals): an optional sign, digits, an optional exponent, e.g. -1.25 or 3e-4",
        ),
        ("mean", "", "value needed for a intervention row of a continuous outcome; expected n, mean, sd filled in"),
        (
            "role",
            "treated",
            "value not allowed (found 'treated'); expected one of 'intervention', 'control' or 'contrast'",
        ),
    ],
)
def test_bad_cells(data: Path, column: str, value: str, text: str):
    set_cell(data / "outcome_data.csv", 6, column, value)
    found = texts(problems_of(data))
    assert f"outcome_data.csv, row 6, column '{column}': {text}" in found


def test_events_more_than_total(data: Path):
    rows = read_rows(data / "outcome_data.csv")
    events, total = rows[0].index("events"), rows[0].index("total")
    row = next(i for i, r in enumerate(rows[1:], start=2) if r[events])
    n = int(rows[row - 1][total])
    set_cell(data / "outcome_data.csv", row, "events", str(n + 1))
    found = texts(problems_of(data))
    assert found[0] == (
        f"outcome_data.csv, row {row}, column 'events': more events than participants (found {n + 1}); "
        f"expected at most total ({n})"
    )


def test_missing_column(data: Path):
    rows = read_rows(data / "outcome_data.csv")
    col = rows[0].index("sd")
    write_rows(data / "outcome_data.csv", [r[:col] + r[col + 1 :] for r in rows])
    found = texts(problems_of(data))
    assert found[0] == (
        "outcome_data.csv, row 1, column 'sd': required column is missing; expected a column named 'sd' "
        "(needed by intervention rows of continuous outcomes, e.g. row 2)"
    )


def test_empty_file(data: Path):
    (data / "studies.csv").write_text("")
    found = texts(problems_of(data))
    assert found[0] == "studies.csv: the file is empty; expected a header row and data rows"


def test_header_only_studies(data: Path):
    rows = read_rows(data / "studies.csv")
    write_rows(data / "studies.csv", rows[:1])
    assert "studies.csv: the table has a header but no rows; expected at least one data row" in texts(problems_of(data))


def test_missing_file_and_unknown_file(data: Path):
    (data / "risk_of_bias.csv").rename(data / "risk_of_bias_v2.csv")
    found = texts(problems_of(data))
    assert (
        "risk_of_bias_v2.csv: unknown table file; expected one of studies.csv, outcome_data.csv, "
        "risk_of_bias.csv, prisma.csv, excluded_studies.csv, grade.csv" in found
    )
    assert (
        "risk_of_bias.csv: file is missing; expected risk_of_bias.csv or a sheet 'risk_of_bias' in the "
        "workbook" in found
    )


def test_control_arm_missing(data: Path):
    rows = read_rows(data / "outcome_data.csv")
    assert (rows[5][5], rows[6][5]) == ("intervention", "control")
    write_rows(data / "outcome_data.csv", [r for i, r in enumerate(rows, start=1) if i != 7])
    study, outcome, instrument, months = rows[5][:4]
    found = texts(problems_of(data))
    assert found[0] == (
        f"outcome_data.csv, row 6, column 'role': {study} {outcome}/{instrument} at {months} months needs "
        "exactly one control arm and at least one intervention arm (found 0 control, 1 intervention); "
        "expected intervention and control rows"
    )


def test_arms_larger_than_randomised(data: Path):
    rows = read_rows(data / "outcome_data.csv")
    assert (rows[5][5], rows[6][5]) == ("intervention", "control")
    study, outcome, instrument, months = rows[5][:4]
    study_row = find_row(data / "studies.csv", study_id=study)
    randomised = int(
        read_rows(data / "studies.csv")[study_row - 1][read_rows(data / "studies.csv")[0].index("n_randomised")]
    )
    arms = randomised + int(rows[6][6])
    set_cell(data / "outcome_data.csv", 6, "n", str(randomised))
    assert only(data) == (
        f"outcome_data.csv, row 6, column 'n': {study} {outcome}/{instrument} at {months} months: arms add up "
        f"to {arms} participants, more than the {randomised} randomised (studies row {study_row}) (found "
        f"{arms}); expected at most {randomised}"
    )


def test_excluded_studies_must_match_prisma(data: Path):
    rows = read_rows(data / "excluded_studies.csv")
    write_rows(data / "excluded_studies.csv", rows[:-1])
    assert only(data) == (
        "excluded_studies.csv: 10 reports listed with source 'other', but prisma.csv counts 11 in "
        "other_excluded; expected 11 rows"
    )


def test_grade_override_for_unknown_analysis_and_bad_judgement(data: Path):
    set_cell(data / "grade.csv", 2, "analysis_id", "bonding_later")
    rows = read_rows(data / "grade.csv")
    write_rows(data / "grade.csv", [*rows, ["bonding_post", "imprecision", "extremely serious", "why not"]])
    found = texts(problems_of(data))
    assert found[0].startswith(
        "grade.csv, row 3, column 'judgement': value not allowed (found 'extremely "
        "serious'); expected one of not serious, serious, very serious"
    )
    assert found[1].startswith(
        "grade.csv, row 2, column 'analysis_id': unknown analysis (found "
        "'bonding_later'); expected an analysis id such as bonding_post"
    )


def test_reference_key_missing(data: Path):
    set_cell(data / "studies.csv", 5, "reference", "nobody2020")
    assert only(data) == (
        "studies.csv, row 5, column 'reference': reference not found in references.bib (found 'nobody2020'); "
        "expected a citation key of the reference list"
    )


def test_review_yaml_unknown_key_and_bad_setting(data: Path):
    path = data / "review.yaml"
    lines = path.read_text().splitlines()
    method, level = lines.index("  method: REML"), lines.index("  level: 95")
    lines[method], lines[level] = "  methd: REML", "  level: 150"
    path.write_text("\n".join(lines) + "\n")
    assert texts(problems_of(data)) == [
        f"review.yaml, row {level + 1}, column 'settings.level': value out of range (found 150); expected a "
        "number < 100",
        f"review.yaml, row {method + 1}, column 'settings.methd': unknown key (found 'REML'); expected only the "
        "keys described in the documentation",
    ]


def test_review_yaml_not_yaml(data: Path):
    (data / "review.yaml").write_text("title: [unclosed\n")
    found = texts(problems_of(data))
    assert found[0].startswith("review.yaml, row 2: is not valid YAML")


def test_not_utf8_is_read_as_windows_text(data: Path):
    path = data / "studies.csv"
    set_cell(path, 3, "country", "Itàly")
    study = read_rows(path)[2][0]
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    assert load_review(data).study_map[study].country == "Itàly"


def test_all_problems_at_once(data: Path):
    set_cell(data / "outcome_data.csv", 6, "sd", "0")
    set_cell(data / "risk_of_bias.csv", 2, "d1", "moderate")
    set_cell(data / "prisma.csv", 14, "n", "7800")
    (data / "grade.csv").write_text("analysis_id,domain,judgement,reason\nbonding_post,vibes,serious,x\n")
    files = {p.file for p in problems_of(data)}
    assert files == {"outcome_data.csv", "risk_of_bias.csv", "prisma.csv", "grade.csv"}


def test_cli_check_ok_and_problems(data: Path, tmp_path: Path):
    ok = subprocess.run([sys.executable, "-m", "erh_report.cli", "check", str(data)], capture_output=True, text=True)
    assert ok.returncode == 0
    studies = read_rows(data / "studies.csv")
    dyads = sum(int(row[studies[0].index("n_randomised")]) for row in studies[1:])
    assert ok.stdout.startswith(f"OK: {len(studies) - 1} studies, {dyads:,} dyads randomised")
    set_cell(data / "outcome_data.csv", 6, "sd", "0")
    bad = subprocess.run([sys.executable, "-m", "erh_report.cli", "check", str(data)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "outcome_data.csv, row 6, column 'sd': value out of range (found '0'); expected a number > 0" in bad.stderr
    assert "Traceback" not in bad.stderr
    out = tmp_path / "out"
    built = subprocess.run(
        [sys.executable, "-m", "erh_report.cli", "build", str(data), "--out", str(out)], capture_output=True, text=True
    )
    assert built.returncode == 2
    assert not out.exists()


def test_cli_missing_folder(tmp_path: Path):
    run = subprocess.run(
        [sys.executable, "-m", "erh_report.cli", "check", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert f"{tmp_path / 'nope'}: no such data folder; expected a folder with review.yaml" in run.stderr


def test_infinite_number_is_refused(data: Path):
    set_cell(data / "outcome_data.csv", 2, "sd", "inf")
    found = texts(problems_of(data))[0]
    assert found.startswith("outcome_data.csv, row 2, column 'sd': not a finite number (found 'inf'); expected a ")


def test_unreadable_csv_names_the_file(data: Path):
    huge = '"' + "x" * 200_000 + '"'  # over the csv module's field limit
    (data / "prisma.csv").write_text(f"box,label,n\ndatabases,{huge},3812\n", encoding="utf-8")
    found = texts(problems_of(data))
    assert any(t.startswith("prisma.csv") and "CSV" in t for t in found), found
