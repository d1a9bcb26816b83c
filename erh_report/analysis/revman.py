"""A RevMan 5 analysis: overall and subgroup results with RevMan's totals setting and its test for
subgroup differences.

Totals: "YES" pools all studies (ignoring subgroups) and each subgroup; "SUB" shows the subgroups only;
"NO" neither (the rows are only shown). With "SUB" RevMan still stores an overall result that it does not
show: the heterogeneity of all studies together (Q, τ², I²) with, as estimate, the inverse-variance
average of the subgroup estimates (θ̄ of the test below); ``overall`` is that result, ``overall_shown``
says whether a forest plot shows it. The test for subgroup differences takes each subgroup's pooled estimate
θ_g with its standard error: Q = Σ w_g (θ_g - θ̄)², w_g = 1 / SE_g², θ̄ = Σ w_g θ_g / Σ w_g, chi-square
with G - 1 degrees of freedom, I² = (Q - df) / Q (Deeks and Higgins, "Statistical algorithms in Review
Manager 5"). Random effects are DerSimonian-Laird in every method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from erh_report.analysis.model import Coefficient, MetaResult, ModelError, critical_value
from erh_report.analysis.pooled import i_squared
from erh_report.analysis.pooling import pool
from erh_report.analysis.subgroup import SubgroupTest

TOTALS = ("YES", "SUB", "NO")


@dataclass(frozen=True)
class RevManAnalysis:
    overall: MetaResult | None
    overall_shown: bool
    subgroups: dict[str, MetaResult]
    errors: dict[str, str]  # subgroups (or "overall") that could not be pooled, with the reason
    test: SubgroupTest | None


def subgroup_difference(results: Sequence[MetaResult]) -> SubgroupTest | None:
    """RevMan's test for subgroup differences from the subgroups' pooled estimates and standard errors."""
    if len(results) < 2:
        return None
    est = np.array([r.estimate for r in results])
    w = 1 / np.array([r.se for r in results]) ** 2
    pooled = np.sum(w * est) / np.sum(w)
    q = float(np.sum(w * (est - pooled) ** 2))
    df = len(results) - 1
    return SubgroupTest(
        "test for subgroup differences (RevMan)", q, (df,), float(stats.chi2.sf(q, df)), i2=i_squared(q, df)
    )


def _subset(data: Mapping[str, object], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, float)[mask] for k, v in data.items() if v is not None}


def revman_analysis(
    measure: str,
    data: Mapping[str, object],
    groups: Sequence[str] | None = None,
    *,
    pooling: str = "IV",
    random: bool = True,
    totals: str = "YES",
    level: float = 95.0,
    smd_variant: str = "revman",
    rules: str = "revman",
    method: str | None = None,
) -> RevManAnalysis:
    """Pool as RevMan 5 does: ``data`` columns named as in metafor, ``groups`` the subgroup of each row.
    ``rules`` and ``method`` (default DL if ``random`` else FE) may be changed for other software's rules."""
    if totals not in TOTALS:
        raise ValueError(f"unknown totals {totals!r}; expected one of {', '.join(TOTALS)}")
    method = method or ("DL" if random else "FE")
    if pooling.upper() == "PETO":
        method = "FE"
    kw = {"pooling": pooling, "method": method, "level": level, "rules": rules, "smd_variant": smd_variant}
    errors: dict[str, str] = {}
    overall = None
    if totals != "NO":
        try:
            overall = pool(measure, data, **kw)
        except ModelError as exc:
            errors["overall"] = str(exc)
    subgroups: dict[str, MetaResult] = {}
    if groups is not None and totals != "NO":
        labels = np.asarray([str(g) for g in groups])
        for level_name in dict.fromkeys(labels):
            try:
                subgroups[level_name] = pool(measure, _subset(data, labels == level_name), **kw)
            except ModelError as exc:
                errors[level_name] = str(exc)
    test = subgroup_difference(list(subgroups.values())) if subgroups else None
    if totals == "SUB" and overall is not None and subgroups:
        overall = _average_of_subgroups(overall, list(subgroups.values()))
    return RevManAnalysis(overall, totals == "YES" or groups is None, subgroups, errors, test)


def _average_of_subgroups(all_studies: MetaResult, results: Sequence[MetaResult]) -> MetaResult:
    """The all-studies result with its estimate replaced by the inverse-variance average of the subgroups."""
    w = 1 / np.array([r.se for r in results]) ** 2
    est = float(np.sum(w * np.array([r.estimate for r in results])) / np.sum(w))
    se = float(np.sqrt(1 / np.sum(w)))
    crit = critical_value(all_studies.level, None)
    z = est / se
    pval = float(2 * stats.norm.sf(abs(z)))
    coef = Coefficient("intercept", est, se, z, pval, est - crit * se, est + crit * se)
    return replace(all_studies, coefficients=(coef,), vcov=np.array([[se**2]]), qm=z**2, qm_pval=pval)
