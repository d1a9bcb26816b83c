"""RevMan's words for measures, methods and models, as its CSV exports write them, and study ids made from
study names. Shared by the importers."""

from __future__ import annotations

import math
import re

from erh_report.errors import InputError, Problem

# RevMan's effect measure names (and codes) -> our codes
MEASURE_NAMES = {
    "odds ratio": "OR",
    "or": "OR",
    "peto odds ratio": "PETO_OR",
    "peto_or": "PETO_OR",
    "risk ratio": "RR",
    "rr": "RR",
    "relative risk": "RR",
    "risk difference": "RD",
    "rd": "RD",
    "mean difference": "MD",
    "md": "MD",
    "std. mean difference": "SMD",
    "standardized mean difference": "SMD",
    "standardised mean difference": "SMD",
    "smd": "SMD",
    "hazard ratio": "HR",
    "hr": "HR",
    "rate ratio": "RATIO",
    "ratio of means": "RATIO",
}
DATA_TYPES = {
    "dic": "DICH",
    "dich": "DICH",
    "dichotomous": "DICH",
    "con": "CONT",
    "cont": "CONT",
    "continuous": "CONT",
    "iv": "IV",
    "giv": "IV",
    "generic inverse variance": "IV",
    "o-e": "IV",
    "o_e": "IV",
}
METHODS = {
    "mh": "MH",
    "m-h": "MH",
    "mantel-haenszel": "MH",
    "iv": "IV",
    "inverse variance": "IV",
    "peto": "PETO",
    "exp_o_e": "PETO",
}
ROB_WORDS = {
    "low risk": "Low",
    "high risk": "High",
    "unclear risk": "Unclear",
    "low": "Low",
    "high": "High",
    "unclear": "Unclear",
    "some concerns": "Some concerns",
}
_NOT_ID = re.compile(r"[^A-Za-z0-9_.\-]+")


def _lookup(table: dict[str, str], name: str, source: str, where: str, what: str, expected: str) -> str:
    code = table.get(name.strip().lower())
    if code is None:
        raise InputError([Problem(source, f"{where}: unknown {what}", value=name, expected=expected)])
    return code


def measure_code(name: str, source: str, where: str) -> str:
    return _lookup(
        MEASURE_NAMES,
        name,
        source,
        where,
        "effect measure",
        "Odds Ratio, Peto Odds Ratio, Risk Ratio, Risk Difference, Mean Difference, Std. Mean Difference, Hazard Ratio",
    )


def data_type(name: str, source: str, where: str) -> str:
    return _lookup(DATA_TYPES, name, source, where, "data type", "Dichotomous, Continuous or Generic inverse variance")


def method(name: str, source: str, where: str) -> str:
    return _lookup(METHODS, name, source, where, "statistical method", "MH, IV or Peto")


def number(cell: str | None) -> float | None:
    """A number as RevMan writes it: '' (or #N/A) -> None; 'NaN' -> nan; '6.5E-4' -> 0.00065; '95%' -> 95."""
    if cell is None or not cell.strip() or cell.strip() == "#N/A":
        return None
    try:
        return float(cell.strip().rstrip("%"))
    except ValueError:
        return math.nan


def study_id(name: str) -> str:
    """An identifier (letters, digits, '_', '-', '.') from a study's name: 'Smith 2001a' -> 'Smith-2001a'."""
    ident = _NOT_ID.sub("-", name.strip()).strip("-.")
    return ident or "study"
