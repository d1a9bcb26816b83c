"""The three-level meta-analysis (effects within studies), as metafor's
``rma.mv(yi, vi, random = ~ 1 | study/es_id)`` with REML (default) or ML, with or without moderators.

The marginal covariance of study j's effects is M_j = diag(v_i + σ²_within) + σ²_between 11': every
quantity the likelihood and its gradient need is a sum over studies of closed forms (Sherman-Morrison),
so a fit costs O(k p²) per evaluation and a review with thousands of effects fits in milliseconds.
The variance components are found by projected Newton ascent on the exact score (σ² >= 0), to the
optimum that metafor reaches when its optimiser is run to convergence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from erh_report.analysis import wls
from erh_report.analysis.clusters import Clusters, clusters_of
from erh_report.analysis.model import (
    Coefficient,
    ModelError,
    PooledEstimate,
    Prediction,
    _wald_test,
    critical_value,
    design_matrix,
    prediction_with,
)

MULTILEVEL_METHODS = ("REML", "ML")
LEVELS = ("between studies", "within studies")
NEWTON_MAXITER = 100
NEWTON_TOL = 1e-13  # relative step at which the polish stops


@dataclass(frozen=True)
class MultilevelResult(PooledEstimate):
    """A fitted three-level model. ``sigma2`` and ``i2_levels``: between studies, then within studies."""

    k: int
    p: int
    method: str
    level: float
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    terms: tuple[str, ...]
    clusters: Clusters
    coefficients: tuple[Coefficient, ...]
    vcov: np.ndarray
    sigma2: tuple[float, float]
    i2_levels: tuple[float, float]
    q: float
    q_df: int
    q_pval: float
    qm: float
    qm_df: tuple[int, ...]
    qm_pval: float
    loglik: float
    converged: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def n_clusters(self) -> int:
        return self.clusters.n

    @property
    def i2(self) -> float:
        """Total heterogeneity: the share of the total variance that is not sampling variance."""
        return float(sum(self.i2_levels))

    @property
    def prediction(self) -> Prediction:
        return predict_multilevel(self)

    def marginal_blocks(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per study, its effects' indices and their fitted marginal covariance M_j (n_j x n_j)."""
        between, within = self.sigma2
        blocks = []
        for _, rows in self.clusters.by_size():
            n = rows.shape[1]
            for idx in rows:
                blocks.append((idx, np.diag(self.vi[idx] + within) + between * np.ones((n, n))))
        return blocks


def predict_multilevel(result: MultilevelResult, x_new: np.ndarray | None = None) -> Prediction:
    """As metafor's predict() on rma.mv: pred ± crit × sqrt(SE² + Σσ²)."""
    return prediction_with(result, x_new, sum(result.sigma2), None)


@dataclass(frozen=True)
class _Evaluation:
    """The (restricted) log-likelihood at one pair of variance components, with what the fit needs."""

    loglik: float
    gradient: np.ndarray  # d loglik / d (σ²_between, σ²_within)
    beta: np.ndarray
    vb: np.ndarray  # (X' M^-1 X)^-1


class _Likelihood:
    """The three-level (restricted) likelihood of one data set, as a function of (σ²_between, σ²_within)."""

    def __init__(self, y: np.ndarray, v: np.ndarray, X: np.ndarray, clusters: Clusters, reml: bool):
        self.y, self.v, self.X, self.clusters, self.reml = y, v, X, clusters, reml
        self.k, self.p = X.shape
        self.logdet_xx = float(np.linalg.slogdet(X.T @ X)[1])

    def evaluate(self, sigma2: np.ndarray) -> _Evaluation:
        between, within = float(sigma2[0]), float(sigma2[1])
        cl, codes = self.clusters, self.clusters.codes
        a = 1 / (self.v + within)  # diagonal part of M_j^-1
        sum_a = cl.sum(a)
        c = between / (1 + between * sum_a)  # M_j^-1 = diag(a) - c_j a a'

        def m_inv(B: np.ndarray) -> np.ndarray:
            aB = a[:, None] * B
            return aB - a[:, None] * (c[:, None] * cl.sum(aB))[codes]

        R = m_inv(self.X)
        xtwx = self.X.T @ R
        chol = np.linalg.cholesky(xtwx)
        vb = np.linalg.inv(xtwx)
        beta = vb @ (R.T @ self.y)
        r = self.y - self.X @ beta
        pr = m_inv(r[:, None])[:, 0]  # P y = M^-1 (y - X beta)
        logdet_m = float(np.sum(np.log(self.v + within)) + np.sum(np.log1p(between * sum_a)))
        rss = float(r @ pr)
        if self.reml:
            logdet_xwx = 2 * float(np.sum(np.log(np.diag(chol))))
            ll = -0.5 * ((self.k - self.p) * np.log(2 * np.pi) + logdet_m + logdet_xwx + rss - self.logdet_xx)
        else:
            ll = -0.5 * (self.k * np.log(2 * np.pi) + logdet_m + rss)
        # score: -1/2 tr(P dM) + 1/2 (Py)' dM (Py), dM = ZZ' (between) or I (within); ML has M^-1 for P
        tr_between = float(np.sum(sum_a / (1 + between * sum_a)))
        tr_within = float(np.sum(a) - np.sum(c * cl.sum(a * a)))
        if self.reml:
            U = cl.sum(R)
            tr_between -= float(np.sum(vb * (U.T @ U)))
            tr_within -= float(np.sum(vb * (R.T @ R)))
        gradient = np.array(
            [-0.5 * tr_between + 0.5 * float(np.sum(cl.sum(pr) ** 2)), -0.5 * tr_within + 0.5 * float(pr @ pr)]
        )
        return _Evaluation(float(ll), gradient, beta, vb)


def _start(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """A rough total heterogeneity (residual variance beyond sampling variance) to start from."""
    fe = wls.wls(y[None], (1 / v)[None], X[None])
    spread = float(np.mean(fe.resid[0] ** 2) - np.mean(v))
    return max(spread, 0.01 * float(np.mean(v)), 1e-8)


def _hessian(lik: _Likelihood, s: np.ndarray, free: np.ndarray, scale: float) -> np.ndarray:
    """Central differences of the exact score over the free components (one-sided at the boundary)."""
    H = np.empty((free.size, free.size))
    for col, i in enumerate(free):
        h = 1e-5 * max(s[i], scale)
        up, down = s.copy(), s.copy()
        up[i] += h
        down[i] = max(s[i] - h, 0.0)
        H[:, col] = (lik.evaluate(up).gradient[free] - lik.evaluate(down).gradient[free]) / (up[i] - down[i])
    return (H + H.T) / 2


def _newton(lik: _Likelihood, s: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Projected Newton ascent on σ² >= 0: a component at 0 stays there while the score pushes it below 0;
    where the Hessian is not negative definite, a gradient step; every step halved until the likelihood
    does not fall. Returns the point, its log-likelihood and whether the steps became negligible."""
    scale = max(float(np.mean(lik.v)), 1e-12)
    here = lik.evaluate(s)
    for _ in range(NEWTON_MAXITER):
        g = here.gradient
        free = np.flatnonzero((s > 0) | (g > 0))
        if free.size == 0:
            return s, here.loglik, True
        H = _hessian(lik, s, free, scale)
        step = np.zeros_like(s)
        if np.all(np.linalg.eigvalsh(H) < 0):
            step[free] = -np.linalg.solve(H, g[free])
        else:
            step[free] = g[free] * np.maximum(s[free], scale) / max(float(np.max(np.abs(g[free]))), 1e-300)
        for _ in range(60):
            new = np.maximum(s + step, 0.0)
            there = lik.evaluate(new)
            if there.loglik >= here.loglik - 1e-12 * abs(here.loglik):
                break
            step /= 2
        moved = np.abs(new - s)
        s, here = new, there
        if np.all(moved <= NEWTON_TOL * np.maximum(s, scale)):
            return s, here.loglik, True
    return s, here.loglik, False


def _optimum(lik: _Likelihood) -> tuple[np.ndarray, bool]:
    """The (restricted) maximum likelihood variance components, σ² >= 0: the best of Newton ascents from
    three splits of a rough total heterogeneity (the likelihood may have more than one maximum)."""
    total = _start(lik.y, lik.v, lik.X)
    best = None
    for share in (0.5, 0.9, 0.1):
        found = _newton(lik, np.array([share * total, (1 - share) * total]))
        if best is None or found[1] > best[1]:
            best = found
    return best[0], best[2]


def check_multilevel_data(clusters: Clusters, k: int, p: int) -> None:
    """The model needs several studies and at least one study with several effects."""
    if clusters.n < 2:
        raise ModelError("a multilevel model needs effects from at least 2 studies")
    if np.all(clusters.sizes == 1):
        raise ModelError("every study has one effect: the variance between and within studies cannot be told apart")
    if k <= p + 1:
        raise ModelError(
            f"{k} effects cannot support a multilevel model with {p} coefficient(s) and 2 variance "
            f"components: need at least {p + 2}"
        )


def fit_multilevel(
    yi,
    vi,
    cluster: Sequence,
    *,
    method: str = "REML",
    level: float = 95.0,
    moderators=None,
    terms: list[str] | None = None,
) -> MultilevelResult:
    """Fit the three-level model: random effects of studies (``cluster``) and of effects within them."""
    method = method.upper()
    if method not in MULTILEVEL_METHODS:
        raise ModelError(f"a multilevel model is fitted by {' or '.join(MULTILEVEL_METHODS)}, not {method}")
    y = np.asarray(yi, float)
    v = np.asarray(vi, float)
    k = y.size
    clusters = clusters_of(list(cluster))
    if len(clusters.codes) != k:
        raise ValueError("one cluster label per effect is needed")
    X, names = design_matrix(moderators, terms, k)
    p = X.shape[1]
    check_multilevel_data(clusters, k, p)
    lik = _Likelihood(y, v, X, clusters, reml=method == "REML")
    sigma2, converged = _optimum(lik)
    final = lik.evaluate(sigma2)
    se = np.sqrt(np.diag(final.vb))
    crit = critical_value(level, None)
    zval = final.beta / se
    pval = 2 * stats.norm.sf(np.abs(zval))
    coefs = tuple(
        Coefficient(
            names[j],
            float(final.beta[j]),
            float(se[j]),
            float(zval[j]),
            float(pval[j]),
            float(final.beta[j] - crit * se[j]),
            float(final.beta[j] + crit * se[j]),
        )
        for j in range(p)
    )
    btt = list(range(1, p)) if p > 1 else [0]
    qm, qm_df, qm_pval = _wald_test(final.beta, final.vb, btt, None)
    fe = wls.wls(y[None], (1 / v)[None], X[None])
    q = max(0.0, float(fe.ypy[0]))
    typical = (k - p) / float(fe.trace_p[0])  # the "typical" sampling variance of Cheung (2014)
    i2 = tuple(float(100 * s / (np.sum(sigma2) + typical)) for s in sigma2)
    notes = [] if converged else ["multilevel: the optimiser stopped before the optimum was confirmed"]
    notes += [f"σ² {name} estimated at 0" for name, s in zip(LEVELS, sigma2, strict=True) if s == 0]
    return MultilevelResult(
        k=k,
        p=p,
        method=method,
        level=level,
        yi=y,
        vi=v,
        X=X,
        terms=names,
        clusters=clusters,
        coefficients=coefs,
        vcov=final.vb,
        sigma2=(float(sigma2[0]), float(sigma2[1])),
        i2_levels=i2,
        q=q,
        q_df=k - p,
        q_pval=float(stats.chi2.sf(q, k - p)),
        qm=qm,
        qm_df=qm_df,
        qm_pval=qm_pval,
        loglik=final.loglik,
        converged=converged,
        notes=tuple(notes),
    )
