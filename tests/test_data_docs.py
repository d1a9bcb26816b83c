"""docs/data.md describes every column and key the schemas declare, and its examples are valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from erh_report.data import schema

DOC = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = DOC.index(f"## {title}\n")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end > 0 else len(DOC)]


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_every_column_documented(table: str):
    model = schema.TABLES[table][0]
    section = _section(f"{table}.csv")
    documented = set(re.findall(r"^\| `([a-z0-9_]+)`", section, flags=re.MULTILINE))
    if table == "risk_of_bias":
        documented |= {"d1", "d2", "d3", "d4", "d5"}
    assert documented == set(model.model_fields), table


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_example_rows_pass_the_schema(table: str):
    model = schema.TABLES[table][0]
    block = _section(f"{table}.csv").split("```csv\n", 1)[1].split("```", 1)[0]
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(block)))
    assert rows
    for row in rows:
        model.model_validate(row)


def _keys(model: type[BaseModel]) -> set[str]:
    keys = set(model.model_fields)
    for field in model.model_fields.values():
        for arg in getattr(field.annotation, "__args__", ()) + (field.annotation,):
            inner = getattr(arg, "__args__", (arg,))
            for candidate in (arg, *inner):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    keys |= _keys(candidate)
    return keys


def test_every_review_yaml_key_documented():
    section = _section("review.yaml")
    missing = sorted(k for k in _keys(schema.ReviewConfig) if not re.search(rf"\b{k}\b", section))
    assert missing == []
