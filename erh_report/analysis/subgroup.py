"""Subgroup analysis with the test for subgroup differences, computed two ways and labelled:

- ``moderator_test`` (metafor): one meta-regression on subgroup indicators with a common τ²;
  the test is the omnibus QM test of the indicators (chi-square, or F under HKSJ).
- ``separate_tau2_test`` (RevMan): each subgroup pooled on its own with its own τ², then
  Q = Σ w_g (θ_g - θ̄)², w_g = 1/SE_g², chi-square with G - 1 df, and I² = (Q - df)/Q.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from erh_report.analysis.model import MetaResult, ModelError, fit


@dataclass(frozen=True)
class SubgroupTest:
    label: str
    statistic: float
    df: tuple[int, ...]
    pval: float
    i2: float | None = None
    tau2: float | None = None  # the common τ² of the moderator model


@dataclass(frozen=True)
class SubgroupAnalysis:
    levels: tuple[str, ...]
    results: dict[str, MetaResult]
    errors: dict[str, str]  # subgroups that could not be pooled, with the reason
    moderator_test: SubgroupTest | None
    separate_tau2_test: SubgroupTest | None


def _levels_in_order(groups) -> list[str]:
    seen: dict[str, None] = {}
    for g in groups:
        seen.setdefault(str(g), None)
    return list(seen)


def subgroup_analysis(
    yi, vi, groups, *, method: str = "REML", hksj: bool = False, level: float = 95.0
) -> SubgroupAnalysis:
    """Pool each subgroup and test whether the subgroup effects differ (both tests above)."""
    y = np.asarray(yi, float)
    v = np.asarray(vi, float)
    g = np.asarray([str(x) for x in groups])
    levels = _levels_in_order(g)
    results: dict[str, MetaResult] = {}
    errors: dict[str, str] = {}
    for lev in levels:
        mask = g == lev
        try:
            results[lev] = fit(y[mask], v[mask], method=method, hksj=hksj, level=level)
        except ModelError as exc:
            errors[lev] = str(exc)
    moderator = None
    if len(levels) > 1:
        indicators = np.column_stack([(g == lev).astype(float) for lev in sorted(levels)[1:]])
        try:
            reg = fit(
                y,
                v,
                method=method,
                hksj=hksj,
                level=level,
                moderators=indicators,
                terms=[f"subgroup={lev}" for lev in sorted(levels)[1:]],
            )
            moderator = SubgroupTest(
                "moderator test (common tau², metafor)", reg.qm, reg.qm_df, reg.qm_pval, tau2=reg.tau2
            )
        except ModelError:
            moderator = None
    separate = None
    if len(levels) > 1 and not errors:
        wald = {lev: fit(y[g == lev], v[g == lev], method=method, level=level) for lev in levels}
        est = np.array([wald[lev].estimate for lev in levels])
        w = 1 / np.array([wald[lev].se for lev in levels]) ** 2
        pooled = np.sum(w * est) / np.sum(w)
        q = float(np.sum(w * (est - pooled) ** 2))
        df = len(levels) - 1
        i2 = max(0.0, 100 * (q - df) / q) if q > 0 else 0.0
        separate = SubgroupTest(
            "test for subgroup differences (separate tau², RevMan)", q, (df,), float(stats.chi2.sf(q, df)), i2=i2
        )
    return SubgroupAnalysis(tuple(levels), results, errors, moderator, separate)
