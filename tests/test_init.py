"""`erh-report init`: a new review folder with every file, a commented review.yaml and a README; `check`
on it lists the next steps and exits 2; `--example` writes the illustrative review."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path

import yaml
from review_copies import read_rows

from erh_report.data.schema import TABLES, Plan, Settings, required_columns
from erh_report.example import generate


def erh_report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "erh_report.cli", *args], capture_output=True, text=True)


def _keys(node: object) -> set[str]:
    """Every mapping key of a YAML document, at any depth."""
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in _keys(value)}
    if isinstance(node, list):
        return {k for value in node for k in _keys(value)}
    return set()


def test_init_writes_every_file_with_its_header_only(tmp_path: Path):
    folder = tmp_path / "my-review"
    done = erh_report("init", str(folder))
    assert done.returncode == 0, done.stderr
    assert {p.name for p in folder.iterdir()} == {f"{name}.csv" for name in TABLES} | {"review.yaml", "README.md"}
    for name, (model, _) in TABLES.items():
        assert read_rows(folder / f"{name}.csv") == [list(model.model_fields)], name
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}.csv`" in readme for name in TABLES) and "erh-report check" in readme


def test_every_key_of_review_yaml_is_explained_with_its_allowed_values(tmp_path: Path):
    folder = tmp_path / "my-review"
    erh_report("init", str(folder))
    text = (folder / "review.yaml").read_text(encoding="utf-8")
    comments = " ".join(line.split("#", 1)[1] for line in text.splitlines() if line.lstrip().startswith("#"))
    words = set(re.findall(r"[A-Za-z_]+", comments))
    lines = text.splitlines()
    unexplained = []
    for before, line in zip(["#", *lines], lines, strict=False):
        key = re.match(r"\s*(?:- )?([A-Za-z_]+):", line)
        if key and key.group(1) not in words and not before.lstrip().startswith("#"):
            unexplained.append(line)
    assert unexplained == [], "a key neither named in a comment nor commented on the line above it"
    assert _keys(yaml.safe_load(text)) >= {"title", "settings", "domains", "plan", "higher_is_better"}
    for model in (Settings, Plan):
        for name, field in model.model_fields.items():
            for choice in typing.get_args(field.annotation):
                if isinstance(choice, str):
                    assert choice in comments, (name, choice)


def test_check_lists_what_is_missing_as_next_steps_and_exits_2(tmp_path: Path):
    folder = tmp_path / "my-review"
    erh_report("init", str(folder))
    done = erh_report("check", str(folder))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    steps = done.stdout.split("Next steps:\n", 1)[1].splitlines()
    assert steps[0].startswith("  1. review.yaml: fill in title (row ")
    assert "question.population" in steps[0] and "domains.0.outcomes.0.instruments.0.higher_is_better" in steps[0]
    for number, name in enumerate(("studies", "outcome_data", "risk_of_bias", "prisma"), start=2):
        model, _ = TABLES[name]
        assert steps[number - 1].startswith(f"  {number}. {name}.csv: add ")
        assert steps[number - 1].endswith(f"(required columns: {', '.join(required_columns(model))})")
    assert steps[-1] == f"  6. run `erh-report check {folder}` again, then `erh-report build {folder}`"
    assert "studies.csv: the table has a header but no rows" in done.stderr


def test_init_never_writes_into_a_folder_that_has_files(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine")
    done = erh_report("init", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "the folder exists and is not empty" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_example_writes_the_illustrative_review_which_checks_out(tmp_path: Path):
    folder = tmp_path / "example"
    assert erh_report("init", "--example", str(folder)).returncode == 0
    for name, text in generate.generate().items():
        assert (folder / name).read_text(encoding="utf-8") == text
    done = erh_report("check", str(folder))
    assert done.returncode == 0 and done.stdout.startswith("OK: 93 studies")
