"""`erh-report meta`: JSON keys and values, and clear errors (exit 2, no traceback) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from erh_report.analysis.effect_sizes import escalc
from erh_report.analysis.model import fit
from erh_report.cli import main

REFERENCE = Path(__file__).parent / "data" / "reference"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def write(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_json_has_exactly_the_documented_keys(capsys):
    code, out, _ = run(["meta", str(REFERENCE / "normand1999.csv"), "--measure", "SMD", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert set(data) == {
        "k",
        "tau2",
        "i2",
        "h2",
        "q",
        "q_pval",
        "yi",
        "vi",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pval",
        "pi_low",
        "pi_high",
    }
    d = pd.read_csv(REFERENCE / "normand1999.csv")
    es = escalc("SMD", d.to_dict("series"))
    expected = fit(es.yi, es.vi, method="REML")
    assert data["k"] == 9
    assert data["estimate"] == pytest.approx(expected.estimate, rel=1e-12)
    assert data["yi"] == pytest.approx(list(es.yi), rel=1e-12)


def test_json_with_moderators_egger_trimfill_subgroups(tmp_path, capsys):
    d = pd.read_csv(REFERENCE / "bcg.csv").rename(columns={"tpos": "ai", "tneg": "bi", "cpos": "ci", "cneg": "di"})
    path = tmp_path / "bcg.csv"
    d.to_csv(path, index=False)
    code, out, _ = run(
        ["meta", str(path), "--measure", "OR", "--method", "DL", "--moderator", "ablat", "--json"], capsys
    )
    assert code == 0
    data = json.loads(out)
    assert [c["term"] for c in data["coefficients"]] == ["intercept", "ablat"]
    assert {"qm", "qm_pval", "r2"} <= set(data)
    assert "estimate" not in data
    code, out, _ = run(
        ["meta", str(path), "--measure", "OR", "--egger", "--trimfill", "--subgroup", "alloc", "--json"], capsys
    )
    data = json.loads(out)
    assert set(data["egger"]) == {"statistic", "pval"}
    assert set(data["trimfill"]) == {"k0", "estimate", "ci_low", "ci_high"}
    assert set(data["subgroups"]) == {"random", "alternate", "systematic"}
    assert data["subgroups"]["random"]["k"] == int((d.alloc == "random").sum())
    assert data["subgroup_test"]["df"] == [2]


def test_fe_prediction_interval_equals_ci(capsys):
    code, out, _ = run(
        ["meta", str(REFERENCE / "kacker2004.csv"), "--measure", "GEN", "--method", "FE", "--json"], capsys
    )
    data = json.loads(out)
    assert data["pi_low"] == data["ci_low"] and data["pi_high"] == data["ci_high"]
    assert "yi" not in data  # not computed from raw data


def test_readable_summary(capsys):
    code, out, _ = run(
        ["meta", str(REFERENCE / "normand1999.csv"), "--measure", "MD", "--method", "DL", "--hksj"], capsys
    )
    assert code == 0
    assert "Random-Effects Model (k = 9" in out
    assert "Knapp-Hartung" in out and "tval" in out


BAD_INPUTS = [
    ("n1i,m1i,sd1i,n2i,m2i\n10,1,1,10,2\n", "SMD", "missing column 'sd2i'", None),
    ("n1i,m1i,sd1i,n2i,m2i,sd2i\n10,1,1,10,2,1\n10,abc,1,10,2,1\n", "SMD", "row 3, column 'm1i': not a number", None),
    (
        "n1i,m1i,sd1i,n2i,m2i,sd2i\n10,1,-1,10,2,1\n",
        "SMD",
        "row 2, column 'sd1i': standard deviation is negative",
        None,
    ),
    ("yi,vi\n0.1,0.02\n0.2,-0.01\n", "GEN", "row 3, column 'vi': sampling variance is negative", None),
    ("n1i,m1i,sd1i,n2i,m2i,sd2i\n1,1,1,10,2,1\n", "MD", "row 2, column 'n1i': group size below 2", None),
    ("ai,n1i,ci,n2i\n12,10,3,10\n", "OR", "row 2, column 'ai': events (ai) exceed the group total (n1i)", None),
    ("", "OR", "the file is empty", None),
    ("ri,ni\n1.5,30\n", "COR", "row 2, column 'ri': correlation outside (-1, 1)", None),
    ("yi,vi\n0.1,\n", "GEN", "row 2, column 'vi': empty cell", None),
    ("yi,vi\n0.1,0.1\n0.3,0.2\n", "GEN", "moderator column 'dose' not found", ["--moderator", "dose"]),
]


@pytest.mark.parametrize(("text", "measure", "message", "extra"), BAD_INPUTS)
def test_bad_input_is_named_with_row_and_column(tmp_path, capsys, text, measure, message, extra):
    path = write(tmp_path, text)
    code, out, err = run(["meta", path, "--measure", measure, *(extra or [])], capsys)
    assert code == 2
    assert out == ""
    assert message in err
    assert path in err


def test_every_problem_reported_at_once(tmp_path, capsys):
    path = write(tmp_path, "n1i,m1i,sd1i,n2i,m2i,sd2i\n10,x,1,10,2,1\n10,1,-2,1,2,1\n")
    code, _, err = run(["meta", path, "--measure", "SMD"], capsys)
    assert code == 2
    assert "3 problems" in err
    assert "row 2, column 'm1i'" in err and "row 3, column 'sd1i'" in err and "row 3, column 'n2i'" in err


def test_missing_file_and_unknown_measure_without_traceback(tmp_path):
    for args in (
        ["meta", str(tmp_path / "nope.csv"), "--measure", "SMD"],
        ["meta", write(tmp_path, "yi,vi\n1,1\n"), "--measure", "XYZ"],
    ):
        proc = subprocess.run([sys.executable, "-m", "erh_report.cli", *args], capture_output=True, text=True)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
    assert (
        "file not found"
        in subprocess.run(
            [sys.executable, "-m", "erh_report.cli", "meta", str(tmp_path / "nope.csv"), "--measure", "SMD"],
            capture_output=True,
            text=True,
        ).stderr
    )


def test_too_few_studies_for_moderators_is_a_clear_error(tmp_path, capsys):
    path = write(tmp_path, "yi,vi,x\n0.1,0.1,1\n0.3,0.2,2\n")
    code, _, err = run(["meta", path, "--measure", "GEN", "--moderator", "x"], capsys)
    assert code == 2
    assert "need at least 3" in err


def test_single_study_gives_result_with_note(tmp_path, capsys):
    path = write(tmp_path, "yi,vi\n0.4,0.04\n")
    code, out, err = run(["meta", path, "--measure", "GEN", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["k"] == 1 and data["tau2"] == 0
    assert data["estimate"] == pytest.approx(0.4)
    assert data["ci_low"] == pytest.approx(0.4 - 1.959963984540054 * 0.2)
    assert "one study" in err


def test_equal_variances_and_zero_tau2_are_not_errors(tmp_path, capsys):
    path = write(tmp_path, "yi,vi\n0.1,0.05\n0.12,0.05\n0.11,0.05\n")
    code, out, err = run(["meta", path, "--measure", "GEN", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["tau2"] == 0
    assert data["estimate"] == pytest.approx(np.mean([0.1, 0.12, 0.11]))
    assert "tau² estimated at 0" in err and "all sampling variances are equal" in err


def test_semicolon_file_reads_as_the_data_folder_does(tmp_path, capsys):
    """The meta command reads with the data folder's reader: a spreadsheet's semicolon export works too."""
    comma = write(tmp_path, "yi,vi\n0.1,0.02\n0.3,0.05\n0.2,0.04\n", "comma.csv")
    semicolon = write(tmp_path, "yi;vi\n0.1;0.02\n0.3;0.05\n0.2;0.04\n", "semicolon.csv")
    results = []
    for path in (comma, semicolon):
        code, out, _ = run(["meta", path, "--measure", "GEN", "--json"], capsys)
        assert code == 0
        results.append(json.loads(out))
    assert results[0] == results[1] and results[0]["k"] == 3
