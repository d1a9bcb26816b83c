"""A new review folder (``erh-report init``) and the next steps that ``erh-report check`` lists for it.

The folder has every file with its header only, a ``review.yaml`` whose every key is commented with its
meaning and allowed values, and a README. ``check`` on it reports each empty table and each value still to
fill in; ``next_steps`` turns those problems into the author's to-do list.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from erh_report.data.schema import TABLES, required_columns
from erh_report.errors import InputError, Problem

STARTER = Path(__file__).parent
#: What a table's rows are, for the next steps.
TABLE_ROWS = {
    "studies": "one row per included study",
    "outcome_data": "one row per study × outcome × instrument × time point × arm",
    "risk_of_bias": "the risk-of-bias judgements (settings.rob_tool), one row per study and outcome",
    "prisma": "the PRISMA 2020 flow counts, one row per box",
    "excluded_studies": "the full-text reports excluded, with reasons (optional)",
    "grade": "GRADE judgements that replace the suggested ones (optional)",
}
EMPTY_TABLE = "the table has a header but no rows"


def init_review(folder: Path, example: bool = False) -> list[Path]:
    """Write a new review into ``folder`` (made if needed; it must be empty): the starter files, or with
    ``example`` the illustrative review. Returns the files written."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(
            [
                Problem(
                    str(folder),
                    "the folder exists and is not empty",
                    expected="a new or empty folder, so that nothing is overwritten",
                )
            ]
        )
    if example:
        from erh_report.example.generate import write

        return write(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (model, _) in TABLES.items():
        path = folder / f"{name}.csv"
        path.write_text(",".join(model.model_fields) + "\n", encoding="utf-8")
        written.append(path)
    for name in ("review.yaml", "README.md"):
        path = folder / name
        path.write_bytes((STARTER / name).read_bytes())
        written.append(path)
    return sorted(written)


def _value_at(config: object, column: str) -> tuple[bool, str]:
    """Whether the value at a dotted review.yaml path is empty, and the path as far as it exists (a union
    type's alternatives add a last segment that is not in the file)."""
    node, found = config, []
    for key in column.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            break
        found.append(key)
    return node is None, ".".join(found)


def next_steps(problems: list[Problem], folder: Path) -> list[str]:
    """The author's next steps for a review folder that is not complete: the review.yaml values still
    empty, then each table that has no rows yet, with its required columns. Empty when nothing is
    missing (problems of other kinds are listed by ``check`` itself)."""
    steps: list[str] = []
    config = None
    review_yaml = Path(folder) / "review.yaml"
    if review_yaml.is_file():
        try:
            config = yaml.safe_load(review_yaml.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            config = None
    empty: dict[str, int | None] = {}
    for problem in problems:
        if problem.file == "review.yaml" and problem.column and config is not None:
            is_empty, path = _value_at(config, problem.column)
            if is_empty:
                empty.setdefault(path, problem.row)
    if empty:
        where = ", ".join(f"{path} (row {row})" if row else path for path, row in empty.items())
        steps.append(f"review.yaml: fill in {where}")
    for name, (model, _) in TABLES.items():
        if any(p.file.startswith(f"{name}.") and p.message.startswith(EMPTY_TABLE) for p in problems):
            steps.append(f"{name}.csv: add {TABLE_ROWS[name]} (required columns: {', '.join(required_columns(model))})")
    if steps:
        steps.append(f"run `erh-report check {folder}` again, then `erh-report build {folder}`")
    return steps
