"""A pooled estimate from a method other than ``rma.uni()`` (Mantel-Haenszel, Peto), as a ``MetaResult``.

The Mantel-Haenszel and Peto estimators are not weighted regressions, but everything downstream
(printing, forest plots, results tables) reads a ``MetaResult``; this builds one from the estimate, its
standard error, the study effects and the heterogeneity statistics.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from erh_report.analysis.model import Coefficient, MetaResult, critical_value


def i_squared(q: float, df: int) -> float:
    """Higgins' I² = (Q - df) / Q in percent, at least 0 (0 when Q is 0)."""
    return max(0.0, 100 * (q - df) / q) if q > 0 else 0.0


def dersimonian_laird(q: float, w: np.ndarray) -> float:
    """DerSimonian-Laird τ² from Q and the inverse-variance weights: max(0, (Q - df) / (Σw - Σw²/Σw))."""
    df = w.size - 1
    if df < 1:
        return 0.0
    return max(0.0, (q - df) / (np.sum(w) - np.sum(w**2) / np.sum(w)))


def pooled_result(
    *,
    estimate: float,
    se: float,
    yi: np.ndarray,
    vi: np.ndarray,
    weights: np.ndarray,
    q: float,
    q_df: int,
    tau2: float,
    method: str,
    pooling: str,
    level: float = 95.0,
    notes: tuple[str, ...] = (),
) -> MetaResult:
    """A ``MetaResult`` (intercept only, Wald z interval) for an estimate computed outside ``rma.uni``.

    ``weights`` are the method's own study weights (any scale; reported as percent)."""
    k = int(yi.size)
    crit = critical_value(level, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / se
    pval = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
    coef = Coefficient(
        "intercept",
        float(estimate),
        float(se),
        float(z),
        pval,
        float(estimate - crit * se),
        float(estimate + crit * se),
    )
    q_pval = float(stats.chi2.sf(q, q_df)) if q_df > 0 else 1.0
    i2 = i_squared(q, q_df)
    w = np.asarray(weights, float)
    total = np.sum(w)
    return MetaResult(
        k=k,
        p=1,
        method=method,
        hksj=False,
        level=level,
        yi=np.asarray(yi, float),
        vi=np.asarray(vi, float),
        X=np.ones((k, 1)),
        terms=("intercept",),
        coefficients=(coef,),
        vcov=np.array([[se**2]]),
        tau2=float(tau2),
        se_tau2=float("nan"),
        i2=i2,
        h2=q / q_df if q_df > 0 and q > 0 else 1.0,
        q=float(q),
        q_df=q_df,
        q_pval=q_pval,
        qm=float(z**2),
        qm_df=(1,),
        qm_pval=pval,
        r2=None,
        weights=100 * w / total if total > 0 else np.full(k, np.nan),
        df=None,
        notes=notes,
        pooling=pooling,
    )
