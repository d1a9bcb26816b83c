"""One way to make values JSON-ready, for every JSON file and printout: the results files, grade.json and
``erh-report meta --json``."""

from __future__ import annotations

import math
from typing import Any


def plain(value: Any) -> Any:
    """Plain JSON values: NaN, infinities and pandas' missing values as null, numpy scalars as Python
    numbers, tuples as lists, keys as strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if type(value).__module__.startswith("pandas"):  # pd.NA, pd.NaT
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
