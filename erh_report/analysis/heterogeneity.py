"""Confidence intervals for τ², τ, I² and H² by the Q-profile method, as metafor's ``confint()``.

The limits are the τ² values at which the generalised Q-statistic equals the chi-square quantiles with
k - p degrees of freedom; they are found with R's root finder at R's tolerance, as metafor does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from erh_report.analysis import wls
from erh_report.analysis.model import MetaResult
from erh_report.analysis.roots import R_DEFAULT_TOL, zeroin


@dataclass(frozen=True)
class HeterogeneityCI:
    """Estimate and limits (lower, upper) of each heterogeneity measure; ``tau2_ci_is_null`` when the
    whole interval collapses to 0 (Q below its lower quantile)."""

    tau2: tuple[float, float, float]
    tau: tuple[float, float, float]
    i2: tuple[float, float, float]
    h2: tuple[float, float, float]
    tau2_ci_is_null: bool


def generalised_q(yi: np.ndarray, vi: np.ndarray, X: np.ndarray, tau2: float) -> float:
    """Q(τ²) = Σ w (y - Xb)² with w = 1 / (v + τ²)."""
    w = 1 / (vi + tau2)
    return float(wls.wls(yi[None], w[None], X[None]).ypy[0])


def q_profile(result: MetaResult, level: float | None = None) -> HeterogeneityCI | None:
    """Q-profile CI of τ² (and of τ, I², H² derived from it); None for common-effect models or k = 1."""
    if result.method == "FE" or result.k < 2 or np.any(result.vi <= 0):
        return None
    level = result.level if level is None else level
    alpha = 1 - level / 100
    k, p = result.k, result.p
    y, v, X = result.yi, result.vi, result.X
    tau2_min = min(0.0, result.tau2)
    tau2_max = max(100.0, 10 * result.tau2, 10 * tau2_min)
    crit_u = float(stats.chi2.isf(alpha / 2, k - p))
    crit_l = float(stats.chi2.ppf(alpha / 2, k - p))

    def q(t: float) -> float:
        return generalised_q(y, v, X, t)

    q_max, q_min = q(tau2_max), q(tau2_min)
    lower = upper = float("nan")
    is_null = False
    if q_min < crit_l:
        lower = upper = tau2_min
        is_null = tau2_min <= 0
    elif q_max > crit_l:
        upper = tau2_max
    else:
        upper, _ = zeroin(
            lambda t: q(t) - crit_l,
            tau2_min,
            tau2_max,
            f_lower=q_min - crit_l,
            f_upper=q_max - crit_l,
            tol=R_DEFAULT_TOL,
            maxiter=1000,
        )
    if q_max > crit_u:
        lower = upper = tau2_max
    elif q_min < crit_u:
        lower = tau2_min
    else:
        lower, _ = zeroin(
            lambda t: q(t) - crit_u,
            tau2_min,
            tau2_max,
            f_lower=q_min - crit_u,
            f_upper=q_max - crit_u,
            tol=R_DEFAULT_TOL,
            maxiter=1000,
        )
    vt = (k - p) / float(wls.wls(y[None], 1 / v[None], X[None]).trace_p[0])

    def i2(t: float) -> float:
        return 100 * t / (vt + t)

    def h2(t: float) -> float:
        return t / vt + 1

    def root(t: float) -> float:
        return float(np.sqrt(t)) if t >= 0 else float("nan")

    return HeterogeneityCI(
        tau2=(result.tau2, lower, upper),
        tau=(root(result.tau2), root(lower), root(upper)),
        i2=(result.i2, i2(lower), i2(upper)),
        h2=(result.h2, h2(lower), h2(upper)),
        tau2_ci_is_null=is_null,
    )
