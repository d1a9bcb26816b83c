"""The one rule for a number in a data cell, the same for CSV files, XLSX sheets and ``erh-report meta``.

Python's ``float()`` accepts much that nobody means in a data cell: ``1_000``, ``nan``, ``inf``,
``Infinity``, surrounding spaces, and digits of other scripts (``١٢``); pydantic adds more. One such
cell can move a pooled estimate by orders of magnitude without a word, so a number here is only: an
optional sign, ASCII digits with at most one dot, and an optional exponent (``-1.25``, ``.5``, ``3e-4``).
"""

from __future__ import annotations

import math
import re

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
EXPECTED = "a number (use a dot for decimals): an optional sign, digits, an optional exponent, e.g. -1.25 or 3e-4"


def number_problem(text: str) -> str | None:
    """Why ``text`` is not a number by the rule above (None when it is one)."""
    if NUMBER.fullmatch(text):
        return None if math.isfinite(float(text)) else "not a number: too large"
    stripped = text.strip()
    if stripped != text and NUMBER.fullmatch(stripped):
        return "not a number: spaces around it"
    if "," in text and NUMBER.fullmatch(text.replace(",", ".", 1)):
        return "not a number: a comma as decimal mark"
    if "_" in text:
        return "not a number: '_' inside it"
    if stripped.lower().lstrip("+-") in {"inf", "infinity", "nan"}:
        return "not a finite number"
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in text):
        return "not a number: digits other than 0-9"
    return "not a number"


def parse_number(text: str) -> float:
    """``text`` as a float by the rule above; ValueError naming what is wrong otherwise."""
    problem = number_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return float(text)
