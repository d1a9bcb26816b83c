"""Leave-one-out analysis, as metafor's ``leave1out()``: the model refitted without each study in turn.

All k refits run as one batch of k data sets of size k - 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from erh_report.analysis.model import fit_batch


@dataclass(frozen=True)
class LeaveOneOut:
    """Row i holds the results without study i."""

    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pval: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    q: np.ndarray
    q_pval: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray


def leave_one_out(
    yi, vi, *, method: str = "REML", hksj: bool = False, level: float = 95.0, exact: bool = False
) -> LeaveOneOut:
    """Refit the intercept-only model k times, each time without one study (needs k >= 2)."""
    y = np.asarray(yi, float)
    v = np.asarray(vi, float)
    k = y.size
    if k < 2:
        raise ValueError("leave-one-out needs at least 2 studies")
    keep = ~np.eye(k, dtype=bool)
    ys = np.stack([y[row] for row in keep])
    vs = np.stack([v[row] for row in keep])
    out = fit_batch(ys, vs, None, method=method, hksj=hksj, level=level, exact=exact)
    return LeaveOneOut(
        estimate=out["beta"][:, 0],
        se=out["se"][:, 0],
        statistic=out["zval"][:, 0],
        pval=out["pval"][:, 0],
        ci_low=out["ci_lb"][:, 0],
        ci_high=out["ci_ub"][:, 0],
        pi_low=out["pi_lb"],
        pi_high=out["pi_ub"],
        q=out["QE"],
        q_pval=out["QEp"],
        tau2=out["tau2"],
        i2=out["I2"],
        h2=out["H2"],
    )
