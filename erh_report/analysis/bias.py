"""Small-study effects: Egger's regression test and trim-and-fill, as metafor's defaults.

``egger_test`` is ``regtest(fit)``: the fitted model refitted with the standard error as an extra
moderator (same estimator, test and level); the test is that moderator's. ``trim_and_fill`` is
``trimfill(fit)``: Duval and Tweedie's L0 estimator, the side chosen from the sign of the Egger slope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from erh_report.analysis.model import MetaResult, fit, fit_batch


@dataclass(frozen=True)
class EggerTest:
    statistic: float  # z, or t under HKSJ
    pval: float
    df: int | None
    limit_estimate: float | None  # the intercept: the effect as the standard error goes to 0
    limit_ci_low: float | None
    limit_ci_high: float | None


def egger_test(result: MetaResult) -> EggerTest:
    """Egger's regression test for funnel-plot asymmetry (metafor's regtest, model "rma", predictor sei)."""
    moderators = result.X[:, 1:] if result.p > 1 else None
    extra = np.sqrt(result.vi)[:, None]
    mods = extra if moderators is None else np.column_stack([moderators, extra])
    terms = [*result.terms[1:], "sei"]
    reg = fit(
        result.yi, result.vi, method=result.method, hksj=result.hksj, level=result.level, moderators=mods, terms=terms
    )
    slope = reg.coefficients[-1]
    if result.intercept_only:
        icpt = reg.coefficients[0]
        limit = (icpt.estimate, icpt.ci_low, icpt.ci_high)
    else:
        limit = (None, None, None)
    return EggerTest(slope.statistic, slope.pval, reg.df, *limit)


@dataclass(frozen=True)
class TrimAndFill:
    k0: int
    se_k0: float
    side: str  # where studies were missing: "left" or "right"
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    result: MetaResult  # the model fitted to the observed plus filled studies

    @property
    def estimate(self) -> float:
        return self.result.estimate

    @property
    def ci_low(self) -> float:
        return self.result.ci_low

    @property
    def ci_high(self) -> float:
        return self.result.ci_high


def _pooled_estimate(y: np.ndarray, v: np.ndarray, method: str) -> float:
    return float(fit_batch(y[None], v[None], None, method=method)["beta"][0, 0])


def trim_and_fill(result: MetaResult, *, maxiter: int = 100) -> TrimAndFill:
    """Duval and Tweedie's trim-and-fill with the L0 estimator, as metafor's trimfill() default.

    As in metafor, the model with the filled studies is refitted with the same estimator but the
    default Wald-type (z) test and a 95% level.
    """
    if not result.intercept_only:
        raise ValueError("trim-and-fill applies to models without moderators")
    if result.k < 2:
        raise ValueError("trim-and-fill needs at least 2 studies")
    slope = (
        fit(result.yi, result.vi, method=result.method, moderators=np.sqrt(result.vi)[:, None], terms=["sei"])
        .coefficients[1]
        .estimate
    )
    side = "right" if slope < 0 else "left"
    y0 = -result.yi if side == "right" else result.yi.copy()
    order = np.argsort(y0, kind="stable")
    y, v = y0[order], result.vi[order]
    k = y.size
    k0, k0_prev, beta, se_k0 = 0, -1, 0.0, 0.0
    for _ in range(maxiter):
        if k0 == k0_prev:
            break
        k0_prev = k0
        beta = _pooled_estimate(y[: k - k0], v[: k - k0], result.method)
        centred = y - beta
        ranks = rankdata(np.abs(centred), method="ordinal")
        signed = np.sign(centred) * ranks
        sr = float(np.sum(signed[signed > 0]))
        k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
        var_sr = (
            k * (k + 1) * (2 * k + 1)
            + 10 * k0_raw**3
            + 27 * k0_raw**2
            + 17 * k0_raw
            - 18 * k * k0_raw**2
            - 18 * k * k0_raw
            + 6 * k**2 * k0_raw
        ) / 24
        se_k0 = max(0.0, 4 * np.sqrt(var_sr) / (2 * k - 1)) if var_sr >= 0 else float("nan")
        k0 = max(0, int(np.round(k0_raw)))
    else:
        if k0 != k0_prev:
            raise ValueError("trim-and-fill did not converge")
    if k0 == 0:
        return TrimAndFill(0, se_k0, side, np.empty(0), np.empty(0), result)
    mirrored = 2 * beta - y[k - k0 :]
    filled_y = -mirrored if side == "right" else mirrored
    filled_v = v[k - k0 :]
    augmented = fit(np.concatenate([result.yi, filled_y]), np.concatenate([result.vi, filled_v]), method=result.method)
    return TrimAndFill(k0, se_k0, side, filled_y, filled_v, augmented)
