"""What the analyses can compute with in double precision: effects and variances whose weights, squares
and sums stay finite. Outside these bounds the estimators overflow or divide by zero, so such rows are
refused with a message naming them (in ``erh-report meta`` and in a build) instead of giving a traceback
or a silent null."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from erh_report.errors import InputError, Problem

MAX_ABS = 1e50  # |yi|, |moderator|: squares and weighted sums stay far inside double precision
MIN_VI, MAX_VI = 1e-50, 1e50  # weights 1/vi and their squares and cubes stay finite
MAX_VI_RATIO = 1e20  # beyond it the smallest weights vanish beside the largest in every sum


def _reason(yi: float, vi: float) -> tuple[str, str, float] | None:
    if not math.isfinite(yi):
        return "the effect size cannot be computed in double precision", "yi", yi
    if abs(yi) > MAX_ABS:
        return f"the effect size is beyond ±{MAX_ABS:g}", "yi", yi
    if not math.isfinite(vi):
        return "the sampling variance cannot be computed in double precision", "vi", vi
    if vi < MIN_VI:
        return f"the sampling variance is below {MIN_VI:g} (its weight would overflow)", "vi", vi
    if vi > MAX_VI:
        return f"the sampling variance is beyond {MAX_VI:g}", "vi", vi
    return None


def check_computable(
    path: str,
    rows: Sequence[int],
    yi: Sequence[float],
    vi: Sequence[float],
    moderators: Sequence[Sequence[float]] | None = None,
    names: Sequence[str] = (),
) -> None:
    """InputError naming every row whose effect, variance or moderator is outside the bounds above."""
    problems: list[Problem] = []
    for row, y, v in zip(rows, yi, vi, strict=True):
        reason = _reason(float(y), float(v))
        if reason:
            problems.append(
                Problem(
                    path,
                    reason[0],
                    row=row,
                    column=reason[1],
                    value=reason[2],
                    expected=f"|yi| ≤ {MAX_ABS:g} and {MIN_VI:g} ≤ vi ≤ {MAX_VI:g}",
                )
            )
    finite = [(float(v), row) for row, v in zip(rows, vi, strict=True) if MIN_VI <= float(v) <= MAX_VI]
    high, high_row = max(finite, key=lambda t: t[0], default=(0.0, 0))
    low, low_row = min(finite, key=lambda t: t[0], default=(0.0, 0))
    if not problems and finite and high > MAX_VI_RATIO * low:
        problems.append(
            Problem(
                path,
                f"the sampling variances span more than {MAX_VI_RATIO:g} times (row "
                f"{low_row}: {low:g}, row {high_row}: {high:g})",
                column="vi",
                expected="variances of one scale: check the units of these rows",
            )
        )
    for row, values in zip(rows, moderators or [], strict=False):
        for name, value in zip(names, values, strict=False):
            if abs(value) > MAX_ABS:
                problems.append(
                    Problem(
                        path,
                        f"moderator beyond ±{MAX_ABS:g}",
                        row=row,
                        column=name,
                        value=value,
                        expected="a moderator on a scale that fits double precision",
                    )
                )
    if problems:
        raise InputError(problems)


def not_computed(path: str, what: str) -> InputError:
    """The data passed every check but the arithmetic still failed: say so instead of printing a null."""
    return InputError(
        [
            Problem(
                path,
                f"{what} cannot be computed from these data in double precision",
                expected="effects and variances on a usual scale (rescale the data)",
            )
        ]
    )


def check_study_effects(source: str, analysis_id: str, effects: Any) -> None:
    """The study effects of one planned analysis (a frame with yi, vi and the outcome_data rows used)."""
    problems = []
    for y, v, rows in zip(effects["yi"], effects["vi"], effects["source_rows"], strict=True):
        reason = _reason(float(y), float(v))
        if reason:
            used = str(rows).split(";")
            first = used[0]
            problems.append(
                Problem(
                    source,
                    f"{reason[0]} in analysis {analysis_id} (rows {', '.join(used)})",
                    row=int(first) if first.isdigit() else None,
                    value=reason[2],
                    expected=f"means, SDs and counts on a usual scale (|effect| ≤ {MAX_ABS:g}, "
                    f"{MIN_VI:g} ≤ variance ≤ {MAX_VI:g})",
                )
            )
    if problems:
        raise InputError(problems)
