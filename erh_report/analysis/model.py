"""Inverse-variance meta-analysis and meta-regression, as metafor's ``rma.uni()`` and ``predict()``.

``fit()`` fits one model and returns an immutable ``MetaResult`` that carries everything printing,
plotting and reporting need. ``fit_batch()`` fits many models of the same size at once (leave-one-out,
simulations, large reviews) and returns arrays.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from erh_report.analysis import wls
from erh_report.analysis.tau2 import ESTIMATORS, estimate_tau2
from erh_report.vocabulary import METHODS, method_label
from erh_report.vocabulary import method as method_record

_EPS = np.finfo(float).eps


class ModelError(ValueError):
    """The data cannot support the requested model (e.g. more parameters than studies)."""


@dataclass(frozen=True)
class Coefficient:
    term: str
    estimate: float
    se: float
    statistic: float
    pval: float
    ci_low: float
    ci_high: float


class PooledEstimate:
    """For a model with coefficients ``coefficients`` and names ``terms``: the pooled effect of an
    intercept-only model under plain names (``estimate`` ... ``ci_high``)."""

    p: int
    terms: tuple[str, ...]
    coefficients: tuple

    @property
    def intercept_only(self) -> bool:
        return self.p == 1 and self.terms == ("intercept",)

    def _pooled(self):
        if not self.intercept_only:
            raise AttributeError("a model with moderators has no single pooled estimate")
        return self.coefficients[0]

    @property
    def estimate(self) -> float:
        return self._pooled().estimate

    @property
    def se(self) -> float:
        return self._pooled().se

    @property
    def statistic(self) -> float:
        return self._pooled().statistic

    @property
    def pval(self) -> float:
        return self._pooled().pval

    @property
    def ci_low(self) -> float:
        return self._pooled().ci_low

    @property
    def ci_high(self) -> float:
        return self._pooled().ci_high

    @property
    def pi_low(self) -> float:
        return self.prediction.pi_low

    @property
    def pi_high(self) -> float:
        return self.prediction.pi_high


@dataclass(frozen=True)
class MetaResult(PooledEstimate):
    """A fitted model. For intercept-only models ``estimate`` ... ``pi_high`` describe the pooled effect."""

    k: int
    p: int
    method: str
    hksj: bool
    level: float
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    terms: tuple[str, ...]
    coefficients: tuple[Coefficient, ...]
    vcov: np.ndarray
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pval: float
    qm: float
    qm_df: tuple[int, ...]
    qm_pval: float
    r2: float | None
    weights: np.ndarray  # percent
    df: float | None  # t-distribution degrees of freedom under HKSJ, else None
    converged: bool = True
    notes: tuple[str, ...] = field(default=())
    pooling: str = "IV"  # IV (inverse variance), MH (Mantel-Haenszel) or PETO

    @property
    def test(self) -> str:
        return "t" if self.hksj else "z"

    @property
    def method_label(self) -> str:
        return method_label(self.method, self.hksj)

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def prediction(self) -> Prediction:
        return predict(self)


@dataclass(frozen=True)
class Prediction:
    pred: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float


@functools.lru_cache(maxsize=4096)
def critical_value(level: float, df: float | None) -> float:
    """Two-sided critical value for a ``level`` percent interval: normal, or t with ``df``. Remembered:
    every study's CI and every prediction asks for the same few values, and scipy's quantiles are slow."""
    alpha = 1 - level / 100
    if df is None:
        return float(stats.norm.isf(alpha / 2))
    return float(stats.t.isf(alpha / 2, df)) if df > 0 else float("nan")


def predict(result: MetaResult, x_new: np.ndarray | None = None) -> Prediction:
    """Predicted effect with its CI and prediction interval, as metafor's predict() (default type):
    pred ± crit × sqrt(SE² + τ²), crit from the normal or (HKSJ) t distribution with k - p df."""
    return prediction_with(result, x_new, result.tau2, result.df)


def prediction_with(result, x_new: np.ndarray | None, heterogeneity: float, df: float | None) -> Prediction:
    """pred ± crit × SE and pred ± crit × sqrt(SE² + heterogeneity) for a model with ``coefficients``,
    ``vcov`` and ``level``; ``heterogeneity`` is the variance of the true effects about the prediction."""
    x = np.ones(1) if x_new is None else np.asarray(x_new, float)
    beta = np.array([c.estimate for c in result.coefficients])
    pred = float(x @ beta)
    se = float(np.sqrt(x @ result.vcov @ x))
    crit = critical_value(result.level, df)
    half_pi = crit * np.sqrt(se**2 + heterogeneity)
    return Prediction(pred, se, pred - crit * se, pred + crit * se, pred - half_pi, pred + half_pi)


def _as_batch(yi, vi, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.atleast_2d(np.asarray(yi, float))
    v = np.atleast_2d(np.asarray(vi, float))
    Xa = np.asarray(X, float)
    if Xa.ndim == 2:
        Xa = np.broadcast_to(Xa, (y.shape[0], *Xa.shape))
    return y, v, Xa


def fit_batch(
    yi, vi, X=None, *, method: str = "REML", hksj: bool = False, level: float = 95.0, exact: bool = False
) -> dict[str, np.ndarray]:
    """Fit B models at once. ``yi``, ``vi``: (B, k); ``X``: (k, p) shared or (B, k, p); None means an
    intercept. Returns arrays keyed as metafor names them (beta, se, zval, pval, ci_lb, ci_ub, tau2,
    se_tau2, QE, QEp, I2, H2, pi_lb, pi_ub for the first coefficient, converged, fallback)."""
    method = method.upper()
    y, v, _ = _as_batch(yi, vi, np.ones((1, 1)))
    B, k = y.shape
    if X is None:
        X = np.ones((k, 1))
    y, v, Xb = _as_batch(y, v, X)
    p = Xb.shape[2]
    if p == 1 and np.all(Xb[0] == 1) and (Xb.shape[0] == 1 or np.all(Xb == 1)):
        Xb = None  # intercept only: the estimators use sums instead of matrix algebra
    if method not in ESTIMATORS:
        raise ModelError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    single_study = k == 1 and p == 1
    if not single_study:
        needed = p if method == "FE" else p + 1
        if needed > k:
            raise ModelError(
                f"{k} studies cannot support a {method_record(method).name} model with {p} coefficient(s)"
                f"{'' if method == 'FE' else ' and tau²'}: need at least {needed}"
            )
    if method == "FE" or single_study:
        est = estimate_tau2("FE", y, v, Xb)
        tau2 = np.zeros(B)
        se_tau2 = est.se_tau2
        converged, fallback, local = est.converged, est.fallback, est.local
    else:
        est = estimate_tau2(method, y, v, Xb, exact=exact)
        tau2, se_tau2, converged, fallback = est.tau2, est.se_tau2, est.converged, est.fallback
        local = est.local

    w = 1 / (v + tau2[:, None])
    if Xb is None and not hksj:  # the estimate and its variance alone (no residuals needed)
        beta, vb = wls.weighted_mean(y, w)
    else:
        fit = wls.wls(y, w, Xb)
        beta, vb = fit.beta, fit.vb
    df = None
    if hksj:
        s2w = np.where(fit.ypy <= _EPS, 0.0, fit.ypy / max(k - p, 1) if k > p else np.nan)
        vb = vb * s2w[:, None, None]
        df = k - p
    se = np.sqrt(np.einsum("bii->bi", vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    # scipy.special's ndtr, stdtr and chdtrc are what stats' norm.sf, t.sf and chi2.sf compute (the same
    # numbers), without the distribution objects' argument checks, which cost more than a batch's fits
    if df is None:
        pval = 2 * special.ndtr(-np.abs(zval))
    else:
        pval = 2 * special.stdtr(df, -np.abs(zval)) if df > 0 else np.full_like(zval, np.nan)
    crit = critical_value(level, df)

    # heterogeneity, from the common-effect fit as metafor does
    if k > p:
        w_fe = 1 / v
        fe = wls.wls(y, w_fe, Xb)
        qe = np.maximum(0.0, fe.ypy)
        qep = special.chdtrc(k - p, qe)
        vt = (k - p) / fe.trace_p
        if method == "FE":
            with np.errstate(divide="ignore", invalid="ignore"):
                i2 = np.maximum(0.0, 100 * (qe - (k - p)) / qe)
                h2 = qe / (k - p)
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    else:
        qe, qep, i2, h2 = (np.full(B, x) for x in (0.0, 1.0, 0.0, 1.0))
        vt = np.zeros(B)

    out = {
        "beta": beta,
        "se": se,
        "zval": zval,
        "pval": pval,
        "ci_lb": beta - crit * se,
        "ci_ub": beta + crit * se,
        "vb": vb,
        "tau2": tau2,
        "se_tau2": se_tau2,
        "QE": qe,
        "QEp": qep,
        "I2": i2,
        "H2": h2,
        "vt": vt,
        "weights": 100 * w / np.sum(w, axis=1, keepdims=True),
        "converged": converged,
        "fallback": fallback,
        "local": local,
        "df": df,
        "crit": crit,
    }
    half_pi = crit * np.sqrt(se[:, 0] ** 2 + tau2)
    out["pi_lb"] = beta[:, 0] - half_pi
    out["pi_ub"] = beta[:, 0] + half_pi
    return out


def _wald_test(beta: np.ndarray, vb: np.ndarray, btt: list[int], df: int | None):
    b = beta[btt]
    try:
        qm = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
    except np.linalg.LinAlgError:
        return float("nan"), (len(btt),), float("nan")
    m = len(btt)
    if df is None:
        return qm, (m,), float(stats.chi2.sf(qm, m))
    qm /= m
    pval = float(stats.f.sf(qm, m, df)) if df > 0 else float("nan")
    return qm, (m, df), pval


def design_matrix(
    moderators=None, terms: list[str] | None = None, k: int | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Intercept plus moderator columns (k x m array, or None), with term names."""
    if moderators is None:
        if k is None:
            raise ValueError("k is needed for an intercept-only design")
        return np.ones((k, 1)), ("intercept",)
    mods = np.asarray(moderators, float)
    if mods.ndim == 1:
        mods = mods[:, None]
    names = tuple(terms) if terms is not None else tuple(f"x{j + 1}" for j in range(mods.shape[1]))
    return np.column_stack([np.ones(mods.shape[0]), mods]), ("intercept", *names)


def fit(
    yi,
    vi,
    *,
    method: str = "REML",
    hksj: bool = False,
    level: float = 95.0,
    moderators=None,
    terms: list[str] | None = None,
    exact: bool = False,
) -> MetaResult:
    """Fit one meta-analysis (no moderators) or meta-regression (``moderators``: k x m)."""
    y = np.asarray(yi, float)
    v = np.asarray(vi, float)
    k = y.size
    if k == 0:
        raise ModelError("no studies to pool")
    X, names = design_matrix(moderators, terms, k)
    p = X.shape[1]
    method = method.upper()
    arrays = fit_batch(y[None], v[None], X, method=method, hksj=hksj, level=level, exact=exact)
    beta, se, vb = arrays["beta"][0], arrays["se"][0], arrays["vb"][0]
    df = arrays["df"]
    coefs = tuple(
        Coefficient(
            names[j],
            float(beta[j]),
            float(se[j]),
            float(arrays["zval"][0, j]),
            float(arrays["pval"][0, j]),
            float(arrays["ci_lb"][0, j]),
            float(arrays["ci_ub"][0, j]),
        )
        for j in range(p)
    )
    btt = list(range(1, p)) if p > 1 else [0]
    qm, qm_df, qm_pval = _wald_test(beta, vb, btt, df)
    tau2 = float(arrays["tau2"][0])
    notes: list[str] = []
    if k == 1:
        notes.append("one study: no pooling; tau² fixed at 0 and heterogeneity not estimable")
    elif method != "FE" and tau2 == 0:
        notes.append("tau² estimated at 0: the random-effects and common-effect results coincide")
    if np.ptp(v) == 0 and k > 1:
        notes.append("all sampling variances are equal")
    if bool(arrays["local"][0]):
        notes.append(
            f"{method}: metafor's default algorithm stops away from the maximum of the likelihood on these data "
            "(at a local maximum or too early); the safeguarded search found the global maximum"
        )
    elif bool(arrays["fallback"][0]):
        notes.append(
            f"{method}: metafor's default algorithm does not converge on these data; "
            "the safeguarded search found the optimum"
        )
    r2 = _r_squared(y, v, X, method, tau2, arrays["weights"][0], exact) if p > 1 else None
    return MetaResult(
        k=k,
        p=p,
        method=method,
        hksj=hksj,
        level=level,
        yi=y,
        vi=v,
        X=X,
        terms=names,
        coefficients=coefs,
        vcov=vb,
        tau2=tau2,
        se_tau2=float(arrays["se_tau2"][0]),
        i2=float(arrays["I2"][0]),
        h2=float(arrays["H2"][0]),
        q=float(arrays["QE"][0]),
        q_df=k - p,
        q_pval=float(arrays["QEp"][0]),
        qm=qm,
        qm_df=qm_df,
        qm_pval=qm_pval,
        r2=r2,
        weights=arrays["weights"][0],
        df=df,
        converged=bool(arrays["converged"][0]),
        notes=tuple(notes),
    )


def _r_squared(y, v, X, method, tau2, weights, exact) -> float | None:
    """Share of τ² explained by the moderators, as metafor (R² = (τ²_RE - τ²) / τ²_RE, at least 0);
    for a common-effect model the adjusted R² of the weighted regression."""
    k, p = X.shape
    if method == "FE":
        w = 1 / v
        if np.var(y) == 0:
            return 0.0
        beta = np.linalg.lstsq(X * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
        fitted = X @ beta
        rss = np.sum(w * (y - fitted) ** 2)
        mean_w = np.sum(w * fitted) / np.sum(w)
        mss = np.sum(w * (fitted - mean_w) ** 2)
        r2 = mss / (mss + rss)
        adj = 1 - (1 - r2) * (k - 1) / (k - p)
        return float(max(0.0, 100 * adj))
    try:
        reduced = fit_batch(y[None], v[None], np.ones((k, 1)), method=method, exact=exact)
    except ModelError:
        return None
    tau2_re = float(reduced["tau2"][0])
    if tau2_re == 0:
        return 0.0
    return float(max(0.0, 100 * (tau2_re - tau2) / tau2_re))
