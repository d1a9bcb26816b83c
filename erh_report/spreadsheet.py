"""Text that reaches a spreadsheet or a CSV file is neutralised, so that opening a table never runs a
formula hidden in the data (the OWASP rule against CSV/formula injection).

Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``; numbers stay
numbers. openpyxl writes text starting with ``=`` as a formula, so the same rule keeps every XLSX cell that
comes from data a string.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would take for a formula; else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are neutralised; numeric columns untouched."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Any) -> None:
    """The project's one way to write a table as CSV: neutralised text, no index, LF line ends."""
    neutralised(frame).to_csv(path, index=False, lineterminator="\n")
