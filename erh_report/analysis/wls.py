"""Weighted least squares for many meta-analyses at once.

Arrays carry a leading batch axis: ``y`` and ``w`` are (B, k), ``X`` is (B, k, p). Every quantity that
metafor computes from the k x k matrix P = W - W X (X'WX)^-1 X'W is computed here from p x p matrices
instead (traces of P, PP, PV, ...), so the cost grows linearly with k and a batch of leave-one-out fits
of a large review stays small in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def cross(X: np.ndarray | None, d: np.ndarray) -> np.ndarray:
    """X' D X for diagonal D given by its (B, k) diagonal d: shape (B, p, p). ``X=None`` is an intercept."""
    if X is None:
        return np.sum(d, axis=1)[:, None, None]
    return np.einsum("bki,bk,bkj->bij", X, d, X)


def trace_prod(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """tr(A B) for batches of square matrices."""
    return np.einsum("bij,bji->b", A, B)


@dataclass(frozen=True)
class WLSFit:
    """The GLS fit of y on X with weights w, and the pieces of P that the estimators need."""

    beta: np.ndarray  # (B, p)
    vb: np.ndarray  # (B, p, p) = (X'WX)^-1
    resid: np.ndarray  # (B, k) = y - X beta
    py: np.ndarray  # (B, k) = P y = W (y - X beta)
    ypy: np.ndarray  # (B,) = y'Py = sum w r^2
    trace_p: np.ndarray  # (B,) = tr(P)


def wls(y: np.ndarray, w: np.ndarray, X: np.ndarray | None) -> WLSFit:
    """Weighted least squares of y (B, k) on X (B, k, p) with weights w (B, k); ``X=None`` is an intercept
    only, computed with sums (the common case, and the one batched fits must do fast)."""
    if X is None:
        sw = np.sum(w, axis=1)
        beta = np.sum(w * y, axis=1) / sw
        resid = y - beta[:, None]
        py = w * resid
        return WLSFit(
            beta[:, None],
            (1 / sw)[:, None, None],
            resid,
            py,
            np.sum(py * resid, axis=1),
            sw - np.sum(w**2, axis=1) / sw,
        )
    xtwx = cross(X, w)
    vb = np.linalg.inv(xtwx)
    xtwy = np.einsum("bki,bk->bi", X, w * y)
    beta = np.einsum("bij,bj->bi", vb, xtwy)
    resid = y - np.einsum("bki,bi->bk", X, beta)
    py = w * resid
    ypy = np.sum(py * resid, axis=1)
    trace_p = np.sum(w, axis=1) - trace_prod(vb, cross(X, w**2))
    return WLSFit(beta, vb, resid, py, ypy, trace_p)


def weighted_mean(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """beta (B, 1) and vb (B, 1, 1) of the intercept-only fit, the numbers ``wls(y, w, None)`` gives, without
    the residuals and traces it also computes."""
    sw = np.sum(w, axis=1)
    return (np.sum(w * y, axis=1) / sw)[:, None], (1 / sw)[:, None, None]


def trace_pp(w: np.ndarray, X: np.ndarray | None, vb: np.ndarray) -> np.ndarray:
    """tr(PP) = sum w^2 - 2 tr(A^-1 X'W^3X) + tr((A^-1 X'W^2X)^2), A = X'WX."""
    if X is None:
        inv_sw = vb[:, 0, 0]
        sw2 = np.sum(w**2, axis=1)
        return sw2 - 2 * np.sum(w**3, axis=1) * inv_sw + (sw2 * inv_sw) ** 2
    m2 = np.einsum("bij,bjk->bik", vb, cross(X, w**2))
    return np.sum(w**2, axis=1) - 2 * trace_prod(vb, cross(X, w**3)) + trace_prod(m2, m2)


def trace_pv(w: np.ndarray, v: np.ndarray, X: np.ndarray, vb: np.ndarray) -> np.ndarray:
    """tr(PV) = sum w v - tr(A^-1 X'W^2VX)."""
    return np.sum(w * v, axis=1) - trace_prod(vb, cross(X, w**2 * v))


def trace_pvpv(w: np.ndarray, v: np.ndarray, X: np.ndarray, vb: np.ndarray) -> np.ndarray:
    """tr(PVPV) = sum w^2 v^2 - 2 tr(A^-1 X'W^3V^2X) + tr((A^-1 X'W^2VX)^2)."""
    m = np.einsum("bij,bjk->bik", vb, cross(X, w**2 * v))
    return np.sum((w * v) ** 2, axis=1) - 2 * trace_prod(vb, cross(X, w**3 * v**2)) + trace_prod(m, m)


def trace_ppv(w: np.ndarray, v: np.ndarray, X: np.ndarray, vb: np.ndarray) -> np.ndarray:
    """tr(PPV) = sum w^2 v - 2 tr(A^-1 X'W^3VX) + tr(A^-1 X'W^2X A^-1 X'W^2VX)."""
    m_w = np.einsum("bij,bjk->bik", vb, cross(X, w**2))
    m_wv = np.einsum("bij,bjk->bik", vb, cross(X, w**2 * v))
    return np.sum(w**2 * v, axis=1) - 2 * trace_prod(vb, cross(X, w**3 * v)) + trace_prod(m_w, m_wv)


def log_det(A: np.ndarray) -> np.ndarray:
    """log |A| for a batch of positive definite matrices."""
    return np.linalg.slogdet(A)[1]
