"""Cluster-robust variance with the CR2 small-sample correction and Satterthwaite degrees of freedom,
as metafor's ``robust(fit, cluster, clubSandwich = TRUE)`` (clubSandwich's ``vcovCR(type = "CR2")``,
``coef_test`` and ``conf_int`` with ``test = "Satterthwaite"``).

The model's own covariance (``M_j`` per cluster) is the working model: its inverse gives the weights,
and it is the target of the bias-reducing adjustment A_j = L_j G_j^(-1/2) L_j' with
G_j = L_j' (I - H)_jj M_j L_j (L_j L_j' = M_j), Pustejovsky & Tipton (2018).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from erh_report.analysis.clusters import Clusters, clusters_of
from erh_report.analysis.model import MetaResult, ModelError, PooledEstimate, critical_value
from erh_report.analysis.multilevel import MultilevelResult

EIGEN_TOL = 1e-12  # clubSandwich's matrix_power: eigenvalues at most this count as 0 (pseudo-inverse)


@dataclass(frozen=True)
class RobustCoefficient:
    term: str
    estimate: float
    se: float
    statistic: float
    df: float
    pval: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class RobustResult(PooledEstimate):
    """Robust tests of a fitted model's coefficients; for an intercept-only model also ``se``, ``df`` ..."""

    p: int
    terms: tuple[str, ...]
    coefficients: tuple[RobustCoefficient, ...]
    vcov: np.ndarray
    n_clusters: int
    level: float

    @property
    def df(self) -> float:
        return self._pooled().df


def _batched_blocks(clusters: Clusters, X: np.ndarray, resid: np.ndarray, block_of):
    """Per cluster size: the codes, X_j, e_j and M_j stacked (m, n, ...), M_j from ``block_of(rows)``."""
    for codes, rows in clusters.by_size():
        yield codes, X[rows], resid[rows], block_of(rows)


def cr2(
    X: np.ndarray,
    resid: np.ndarray,
    clusters: Clusters,
    block_of,
    *,
    beta: np.ndarray,
    terms: tuple[str, ...],
    level: float,
    weight_scale: float = 1.0,
) -> RobustResult:
    """CR2 variance and Satterthwaite tests. ``block_of(rows)`` returns the model covariance of the
    effects ``rows`` (m, n) as (m, n, n). ``weight_scale``: clubSandwich divides rma.uni's weights by their
    mean before the pseudo-inverse threshold applies, so the threshold scales with it."""
    p = X.shape[1]
    n_clusters = clusters.n
    if n_clusters <= p:
        raise ModelError(f"robust variance needs more clusters ({n_clusters}) than coefficients ({p})")
    groups = []
    xtwx = np.zeros((p, p))
    for codes, Xj, ej, Mj in _batched_blocks(clusters, X, resid, block_of):
        Wj = np.linalg.inv(Mj)
        XtW = np.swapaxes(Xj, 1, 2) @ Wj
        xtwx += np.sum(XtW @ Xj, axis=0)
        groups.append((codes, Xj, ej, Mj, XtW))
    bread = np.linalg.inv(xtwx)
    meat_parts = np.zeros((n_clusters, p))
    PX = np.zeros((n_clusters, p, p))  # (bread E_j X_j): row c is q_cj
    phi = np.zeros((n_clusters, p))  # p_cj' M_j p_cj
    tol = EIGEN_TOL / weight_scale**2
    for codes, Xj, ej, Mj, XtW in groups:
        n = Xj.shape[1]
        L = np.linalg.cholesky(Mj)
        IH = np.eye(n) - Xj @ bread @ XtW
        G = np.swapaxes(L, 1, 2) @ IH @ Mj @ L  # L' (I - H)_jj M_j L
        G = (G + np.swapaxes(G, 1, 2)) / 2
        val, vec = np.linalg.eigh(G)
        inv_root = np.where(val > tol, 1 / np.sqrt(np.where(val > tol, val, 1.0)), 0.0)
        G_half = (vec * inv_root[:, None, :]) @ np.swapaxes(vec, 1, 2)
        A = L @ G_half @ np.swapaxes(L, 1, 2)  # L G^(-1/2) L'
        E = XtW @ A  # X_j' W_j A_j
        meat_parts[codes] = (E @ ej[:, :, None])[:, :, 0]
        P = bread @ E  # rows: p_cj'
        PX[codes] = P @ Xj
        phi[codes] = np.sum((P @ Mj) * P, axis=2)
    vcov = bread @ (meat_parts.T @ meat_parts) @ bread
    se = np.sqrt(np.diag(vcov))
    df = np.empty(p)
    for c in range(p):
        Q = PX[:, c, :]  # (clusters, p)
        qaq = np.sum((Q @ bread) * Q, axis=1)
        QtQ = Q.T @ Q
        expected = np.sum(phi[:, c]) - np.sum(qaq)
        spread = np.sum(phi[:, c] ** 2) - 2 * np.sum(phi[:, c] * qaq) + np.sum((bread @ QtQ) * (bread @ QtQ).T)
        df[c] = expected**2 / spread
    tval = beta / se
    coefs = []
    for j in range(p):
        crit = critical_value(level, float(df[j]))
        coefs.append(
            RobustCoefficient(
                terms[j],
                float(beta[j]),
                float(se[j]),
                float(tval[j]),
                float(df[j]),
                float(2 * stats.t.sf(abs(tval[j]), df[j])),
                float(beta[j] - crit * se[j]),
                float(beta[j] + crit * se[j]),
            )
        )
    return RobustResult(p=p, terms=terms, coefficients=tuple(coefs), vcov=vcov, n_clusters=n_clusters, level=level)


def _beta(result) -> np.ndarray:
    return np.array([c.estimate for c in result.coefficients])


def robust_multilevel(result: MultilevelResult) -> RobustResult:
    """Robust tests of a three-level model, clustered by its studies."""
    between, within = result.sigma2
    v = result.vi

    def block_of(rows: np.ndarray) -> np.ndarray:
        n = rows.shape[1]
        return (np.eye(n)[None] * (v[rows] + within)[:, :, None]) + between

    beta = _beta(result)
    return cr2(
        result.X,
        result.yi - result.X @ beta,
        result.clusters,
        block_of,
        beta=beta,
        terms=result.terms,
        level=result.level,
    )


def robust_uni(result: MetaResult, cluster: Sequence) -> RobustResult:
    """Robust tests of a usual (one effect per row) model whose rows are clustered by ``cluster``."""
    clusters = clusters_of(list(cluster))
    if len(clusters.codes) != result.k:
        raise ValueError("one cluster label per effect is needed")
    total = result.vi + result.tau2

    def block_of(rows: np.ndarray) -> np.ndarray:
        return np.eye(rows.shape[1])[None] * total[rows][:, :, None]

    beta = _beta(result)
    return cr2(
        result.X,
        result.yi - result.X @ beta,
        clusters,
        block_of,
        beta=beta,
        terms=result.terms,
        level=result.level,
        weight_scale=float(np.mean(1 / total)),
    )
