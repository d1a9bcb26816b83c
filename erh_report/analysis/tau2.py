"""Estimators of the between-study variance τ², registered by name, each vectorised over a batch.

Every estimator takes ``y`` (B, k), ``v`` (B, k), ``X`` (B, k, p) and returns a ``Tau2Estimate``.
They follow metafor's ``rma.uni()`` algorithm for algorithm, so an R user gets the same numbers:

- DL, HE, SJ: closed forms (SJ starts from the variance of y, as metafor does);
- ML, REML, EB: Fisher scoring from the (truncated) HE estimate, threshold 1e-5, at most 100 steps,
  with metafor's step-halving at the boundary and its check against τ² = 0 for ML/REML;
- PM: the root of the generalised Q-statistic Q(τ²) = k - p by R's ``uniroot()`` at its tolerance.

metafor stops with an error where Fisher scoring does not converge (about 0.5% of data sets). Here a
bounded, safeguarded search takes over and finds the global optimum of the (restricted) likelihood
or the root of the estimating equation; the result says so in ``fallback``. With ``exact=True`` the
safeguarded search is used for every data set, giving the optimum to machine precision instead of to
metafor's stopping rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from erh_report.analysis import unimodal, wls
from erh_report.analysis.roots import R_DEFAULT_TOL, RootNotBracketed, zeroin
from erh_report.analysis.unimodal import rowdot

FISHER_THRESHOLD = 1e-5
FISHER_MAXITER = 100
LL0_TOL = R_DEFAULT_TOL
EXACT_TOL = 1e-15
SCALAR_ROWS = 8  # up to this many data sets, a step's halving is done in plain Python floats
_sum, _count = np.add.reduce, np.count_nonzero  # no method-call overhead


@dataclass(frozen=True)
class Tau2Estimate:
    """τ² per data set of the batch, its standard error as metafor reports it, and how it was found."""

    tau2: np.ndarray
    se_tau2: np.ndarray
    converged: np.ndarray
    fallback: np.ndarray  # True where the safeguarded search replaced metafor's algorithm
    local: np.ndarray | None = None  # True where metafor's algorithm stops away from the global maximum


Estimator = Callable[..., Tau2Estimate]
ESTIMATORS: dict[str, Estimator] = {}


def register(name: str) -> Callable[[Estimator], Estimator]:
    def add(function: Estimator) -> Estimator:
        ESTIMATORS[name] = function
        return function

    return add


def _dims(y: np.ndarray, X: np.ndarray | None) -> tuple[int, int]:
    return y.shape[1], 1 if X is None else X.shape[2]


def _rows(X: np.ndarray | None, idx) -> np.ndarray | None:
    """The design matrices of the data sets ``idx`` (None stays None: intercept only)."""
    return None if X is None else X[idx]


def _done(tau2, se, converged=None, fallback=None, local=None) -> Tau2Estimate:
    n = tau2.shape[0]
    ok = np.ones(n, bool) if converged is None else converged
    fb = np.zeros(n, bool) if fallback is None else fallback
    return Tau2Estimate(tau2, se, ok, fb, np.zeros(n, bool) if local is None else local)


@register("FE")
def fixed_effect(y, v, X, **_) -> Tau2Estimate:
    zero = np.zeros(y.shape[0])
    return _done(zero, np.full(y.shape[0], np.nan))


@register("DL")
def dersimonian_laird(y, v, X, **_) -> Tau2Estimate:
    k, p = _dims(y, X)
    w = 1 / v
    fit = wls.wls(y, w, X)
    tau2 = np.maximum(0.0, (fit.ypy - (k - p)) / fit.trace_p)
    se = np.sqrt((2 * (k - p) + 4 * tau2 * fit.trace_p + 2 * tau2**2 * wls.trace_pp(w, X, fit.vb)) / fit.trace_p**2)
    return _done(tau2, se)


def _hedges_raw(y, v, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The untruncated HE estimate, with tr(PV) and the OLS (X'X)^-1 it used."""
    k, p = _dims(y, X)
    if X is None:  # unit weights: the sums wls() and trace_pv() form, without multiplying by ones
        resid = y - (np.sum(y, axis=1) / k)[:, None]
        vb = np.full((y.shape[0], 1, 1), 1 / k)
        sv = np.sum(v, axis=1)
        trpv = sv - vb[:, 0, 0] * sv
        return (np.sum(resid * resid, axis=1) - trpv) / (k - p), trpv, vb
    ones = np.ones_like(y)
    fit = wls.wls(y, ones, X)
    trpv = wls.trace_pv(ones, v, X, fit.vb)
    return (fit.ypy - trpv) / (k - p), trpv, fit.vb


@register("HE")
def hedges(y, v, X, **_) -> Tau2Estimate:
    k, p = _dims(y, X)
    raw, trpv, vb = _hedges_raw(y, v, X)
    tau2 = np.maximum(0.0, raw)
    ones = np.ones_like(y)
    trpvpv = wls.trace_pvpv(ones, v, X, vb)
    se = np.sqrt((2 * trpvpv + 4 * tau2 * trpv + 2 * tau2**2 * (k - p)) / (k - p) ** 2)
    return _done(tau2, se)


@register("SJ")
def sidik_jonkman(y, v, X, **_) -> Tau2Estimate:
    k, p = _dims(y, X)
    tau2_0 = np.mean((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    w = 1 / (v + tau2_0[:, None])
    fit = wls.wls(y, w, X)
    tau2 = np.maximum(0.0, tau2_0 * fit.ypy / (k - p))
    se = np.sqrt(
        tau2_0**2
        / (k - p) ** 2
        * (
            2 * wls.trace_pvpv(w, v, X, fit.vb)
            + 4 * tau2 * wls.trace_ppv(w, v, X, fit.vb)
            + 2 * tau2**2 * wls.trace_pp(w, X, fit.vb)
        )
    )
    return _done(tau2, se)


# --- likelihood-based and moment estimators ------------------------------------------------------


def log_likelihood(y, v, X, tau2, *, reml: bool) -> np.ndarray:
    """(Restricted) log-likelihood at τ², without REML's constant log|X'X| term (as metafor's check)."""
    k, p = _dims(y, X)
    vt = v + tau2[:, None]
    w = 1 / vt
    if X is None:  # intercept only: plain sums (metafor's check runs on every fit)
        resid = y - (rowdot(w, y) / w.sum(1))[:, None]
        ll = -0.5 * np.log(vt).sum(1) - 0.5 * rowdot(w * resid, resid)
        return (
            ll - 0.5 * (k - 1) * np.log(2 * np.pi) - 0.5 * np.log(w.sum(1))
            if reml
            else (ll - 0.5 * k * np.log(2 * np.pi))
        )
    fit = wls.wls(y, w, X)
    ll = -0.5 * np.sum(np.log(vt), axis=1) - 0.5 * fit.ypy
    if reml:
        return ll - 0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * wls.log_det(wls.cross(X, w))
    return ll - 0.5 * k * np.log(2 * np.pi)


def _score(y, v, X, tau2, method: str) -> np.ndarray:
    """The estimating equation whose root in τ² the method seeks (positive below the root)."""
    k, p = _dims(y, X)
    w = 1 / (v + tau2[:, None])
    fit = wls.wls(y, w, X)
    if method == "ML":
        return np.sum(fit.py**2, axis=1) - np.sum(w, axis=1)
    if method == "REML":
        return np.sum(fit.py**2, axis=1) - fit.trace_p
    return fit.ypy - (k - p)  # EB and PM: generalised Q equals its degrees of freedom


def _fisher_step_intercept(y, v, tau2, method: str) -> np.ndarray:
    """The Fisher scoring step for intercept-only models, with plain sums (the hot loop: few passes, and
    ufunc reductions called directly, as most calls are on the few data sets still iterating)."""
    w = np.add(v, tau2[:, None])
    np.reciprocal(w, out=w)
    sw = _sum(w, 1)
    resid = np.subtract(y, (rowdot(w, y) / sw)[:, None])
    if method == "EB":
        k = y.shape[1]
        return (rowdot(w * resid, resid) * k / (k - 1) - k) / sw
    resid *= w  # P y
    yppy = rowdot(resid, resid)
    w2 = w * w
    sw2 = _sum(w2, 1)
    if method == "ML":
        return (yppy - sw) / sw2
    ratio = sw2 / sw
    return (yppy - (sw - ratio)) / (sw2 - 2 * rowdot(w2, w) / sw + ratio * ratio)


def _fisher_step(y, v, X, tau2, method: str) -> np.ndarray:
    if X is None:
        return _fisher_step_intercept(y, v, tau2, method)
    k, p = _dims(y, X)
    w = 1 / (v + tau2[:, None])
    fit = wls.wls(y, w, X)
    if method == "ML":
        return (np.sum(fit.py**2, axis=1) - np.sum(w, axis=1)) / np.sum(w**2, axis=1)
    if method == "REML":
        return (np.sum(fit.py**2, axis=1) - fit.trace_p) / wls.trace_pp(w, X, fit.vb)
    return (fit.ypy * k / (k - p) - k) / np.sum(w, axis=1)  # EB


def _halved_to_zero(t: np.ndarray, adj: np.ndarray, new: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """``new`` = t + adj, corrected at the data sets ``bad`` (where it is NaN or below 0) by metafor's
    step-halving: a NaN step is no step, a step below τ² = 0 from 0 is none, and any other step below 0
    is halved until τ² stays >= 0. The number of halvings m is found at once (halving is exact in
    binary, so adj / 2^m equals halving m times, as metafor's loop does)."""
    if bad.size > SCALAR_ROWS:
        t_bad, adj_bad = t[bad], adj[bad]
        adj_bad[np.isnan(adj_bad)] = 0.0
        adj_bad[(t_bad == 0.0) & (adj_bad < 0)] = 0.0  # metafor's halving from 0 ends at -0.0
        new_bad = t_bad + adj_bad
        low = np.flatnonzero(new_bad < 0)
        t_low, adj_low = t_bad[low], adj_bad[low]
        # a lower bound on the least m >= 1 with t + adj / 2^m >= 0 (t > 0 here), then up one at a time
        with np.errstate(over="ignore"):  # an overflowing ratio: 1000 is still a lower bound
            m = np.clip(np.floor(np.log2(-adj_low / t_low)) - 1, 1, 1000).astype(int)
        while True:
            short = t_low + np.ldexp(adj_low, -m) < 0
            if not short.any():
                break
            m += short
        new_bad[low] = t_low + np.ldexp(adj_low, -m)
        new[bad] = new_bad
        return new
    # the usual case, one or two data sets: plain floats, the same IEEE operations
    for i, t_i, adj_i in zip(bad.tolist(), t[bad].tolist(), adj[bad].tolist(), strict=True):
        if adj_i != adj_i or (t_i == 0.0 and adj_i < 0):
            new[i] = t_i + 0.0
        elif t_i + adj_i < 0:
            ratio = -adj_i / t_i
            m = int(min(max(math.floor(math.log2(ratio)) - 1, 1), 1000)) if ratio < math.inf else 1000
            while t_i + math.ldexp(adj_i, -m) < 0:
                m += 1
            new[i] = t_i + math.ldexp(adj_i, -m)
    return new


def _fisher_scoring(y, v, X, method: str) -> tuple[np.ndarray, np.ndarray]:
    """metafor's Fisher scoring, run for the whole batch; returns (τ², converged).

    A data set leaves the loop when its step is at most the threshold (converged), or when it is caught
    in an exact two-cycle (τ² equal, bit for bit, to its value two steps before while still moving):
    the map is deterministic, so such a sequence can never converge and metafor would fail on it.
    """
    tau2 = np.maximum(0.0, _hedges_raw(y, v, X)[0])
    converged = np.zeros(tau2.shape[0], bool)
    idx = np.arange(tau2.shape[0])
    ya, va, Xa, t = y, v, X, tau2.copy()
    before = np.full_like(t, np.nan)
    for _ in range(FISHER_MAXITER):
        adj = _fisher_step(ya, va, Xa, t, method)
        new = t + adj
        ok = new >= 0
        if _count(ok) < ok.size:  # NaN steps; metafor's halving of steps below τ² = 0
            new = _halved_to_zero(t, adj, new, (~ok).nonzero()[0])
        done = np.abs(np.subtract(t, new)) <= FISHER_THRESHOLD
        leave = done | (new == before)
        before, t = t, new
        if _count(leave):
            tau2[idx[leave]] = new[leave]
            converged[idx[done]] = True
            keep = (~leave).nonzero()[0]  # of a 1-D mask: flatnonzero without its wrappers
            if keep.size == 0:
                break
            idx, t, before = idx.take(keep), t.take(keep), before.take(keep)
            ya, va, Xa = ya.take(keep, 0), va.take(keep, 0), None if Xa is None else Xa.take(keep, 0)
    else:
        tau2[idx] = t
    return tau2, converged


def _ll0_check(y, v, X, tau2, method: str) -> np.ndarray:
    """metafor: if τ² = 0 has a clearly higher likelihood than the point found, take τ² = 0."""
    reml = method == "REML"
    rows = np.flatnonzero(tau2 > FISHER_THRESHOLD)  # only these can be taken to 0
    y, v, X, at = y[rows], v[rows], _rows(X, rows), tau2[rows]
    ll = log_likelihood(y, v, X, at, reml=reml)
    ll0 = log_likelihood(y, v, X, np.zeros_like(at), reml=reml)
    checked = tau2.copy()
    checked[rows[ll0 - ll > LL0_TOL]] = 0.0
    return checked


def _lift(X1: np.ndarray | None, n: int = 1) -> np.ndarray | None:
    """One data set's design matrix as a batch of ``n`` copies (None stays None)."""
    return None if X1 is None else np.repeat(X1[None], n, axis=0)


def _upper_bracket(y1, v1, X1, method: str) -> float:
    """A τ² above the root/optimum: the score is negative there."""
    hi = max(100.0, 10 * float(np.var(y1)) * len(y1))
    for _ in range(200):
        if _score(y1[None], v1[None], _lift(X1), np.array([hi]), method)[0] < 0:
            return hi
        hi *= 4
    return hi


def _stationary_points(y1, v1, X1, method: str) -> list[float]:
    """Every local maximum (ML/REML) or root (EB/PM) in τ² for one data set, to machine precision.

    The score is evaluated on a log grid over [0, hi]; every sign change from + to - brackets a local
    maximum, refined by Brent's method; the boundary τ² = 0 is a candidate when the score there is
    not positive.
    """
    hi = _upper_bracket(y1, v1, X1, method)
    scale = max(float(np.min(v1)), 1e-12)
    grid = np.concatenate([[0.0], np.geomspace(scale * 1e-8, hi, 400)])
    yb, vb_ = (np.repeat(a[None], grid.size, axis=0) for a in (y1, v1))
    Xb = _lift(X1, grid.size)
    s = _score(yb, vb_, Xb, grid, method)

    def f(t: float) -> float:
        return float(_score(y1[None], v1[None], _lift(X1), np.array([t]), method)[0])

    candidates = [0.0] if s[0] <= 0 else []
    for i in np.flatnonzero((s[:-1] > 0) & (s[1:] <= 0)):
        root, _ = zeroin(f, grid[i], grid[i + 1], f_lower=s[i], f_upper=s[i + 1], tol=EXACT_TOL, maxiter=10_000)
        candidates.append(root)
    return candidates or [hi]


def _best(y1, v1, X1, candidates: list[float], method: str) -> float:
    """The candidate with the highest (restricted) likelihood."""
    cand = np.array(candidates)
    n = cand.size
    ll = log_likelihood(np.repeat(y1[None], n, 0), np.repeat(v1[None], n, 0), _lift(X1, n), cand, reml=method == "REML")
    return float(cand[int(np.argmax(ll))])


def _safeguarded_one(y1, v1, X1, method: str) -> float:
    """Global optimum (ML/REML) or the root (EB/PM) for one data set, to machine precision."""
    candidates = _stationary_points(y1, v1, X1, method)
    if method in ("EB", "PM"):
        return float(candidates[-1])
    return _best(y1, v1, X1, candidates, method)


def _global_or_none(y1, v1, X1, found: float, method: str) -> float | None:
    """The global maximum if ``found`` is not where Fisher scoring should have stopped; else None.

    ``found`` is kept when it lies in the basin of the global maximum and within what metafor's stopping
    rule allows of it. It is replaced when it sits at another, lower, local maximum, or when Fisher
    scoring stopped early because its first steps were below the threshold (large weights make the
    information huge near τ² = 0, so the steps are tiny far from the maximum).
    """
    candidates = _stationary_points(y1, v1, X1, method)
    best = _best(y1, v1, X1, candidates, method)
    nearest = min(candidates, key=lambda c: abs(c - found))
    close_enough = abs(found - best) <= _accepted_distance(best)
    return None if nearest == best and close_enough else best


def _safeguarded(y, v, X, method: str) -> np.ndarray:
    tau2 = np.empty(y.shape[0])
    search = np.arange(y.shape[0])
    if X is None and method in ("ML", "REML"):  # proven unimodal: the score's one root, for all at once
        reml = method == "REML"
        single = unimodal.single_maximum(y, v, reml=reml)
        start = dersimonian_laird(y[single], v[single], None).tau2
        tau2[single] = unimodal.unique_maximum(y[single], v[single], start, reml=reml)
        search = np.flatnonzero(~single)
    for i in search:
        tau2[i] = _safeguarded_one(y[i], v[i], None if X is None else X[i], method)
    return tau2


GLOBAL_GRID = 12
GLOBAL_LL_TOL = 1e-8


def _grid_log_likelihood(y, v, X, grid: np.ndarray, reml: bool) -> np.ndarray:
    """(Restricted) log-likelihood of each data set at each of its grid values of τ²: (B, G)."""
    B, G = grid.shape
    if X is None:  # plain sums over (B, G, k): the check runs on every fit, so keep it cheap
        vt = v[:, None, :] + grid[:, :, None]
        w = 1 / vt
        sw = w.sum(2)
        swy = np.einsum("bgk,bk->bg", w, y)
        ypy = np.einsum("bgk,bk->bg", w, y * y) - swy**2 / sw  # a screen: the cancellation error is harmless
        ll = -0.5 * np.log(vt, out=vt).sum(2) - 0.5 * ypy
        return ll - 0.5 * np.log(sw) if reml else ll
    ll = log_likelihood(np.repeat(y, G, 0), np.repeat(v, G, 0), np.repeat(X, G, 0), grid.ravel(), reml=reml)
    return ll.reshape(B, G)


def _grid_score(y, v, X, grid: np.ndarray, method: str) -> np.ndarray:
    """The score (ML/REML estimating equation) of each data set at each of its grid values of τ²: (B, G)."""
    B, G = grid.shape
    if X is None:  # intercept only: residuals about the weighted mean, no cancellation
        w = 1 / (v[:, None, :] + grid[:, :, None])
        sw = w.sum(2)
        mean = np.einsum("bgk,bk->bg", w, y) / sw
        py = w * (y[:, None, :] - mean[:, :, None])
        score = (py * py).sum(2) - sw
        return score + (w * w).sum(2) / sw if method == "REML" else score
    score = _score(np.repeat(y, G, 0), np.repeat(v, G, 0), np.repeat(X, G, 0), grid.ravel(), method)
    return score.reshape(B, G)


def _beaten_on_grid(y, v, X, tau2, method: str) -> np.ndarray:
    """Data sets that may have a maximum in τ² other than ``tau2``, seen on a coarse grid: the (restricted)
    likelihood is higher at a grid point, or the score shows the likelihood rising beyond ``tau2`` or
    falling below it (so another maximum lies there, even when its peak falls between grid points; it is
    missed only if the whole rise to it does).

    The likelihood in τ² can have two maxima (e.g. one at 0 and one inside); Fisher scoring then
    stops at whichever it meets first, which metafor reports without warning.
    """
    B, k = y.shape
    spread = np.max((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)  # no maximum lies beyond this
    hi = 10 * np.maximum(spread, 1e-12)
    lo = np.minimum(np.maximum(np.min(v, axis=1), 1e-12) * 1e-3, hi / 10)
    steps = np.linspace(0.0, 1.0, GLOBAL_GRID)
    grid = np.concatenate([tau2[:, None], np.zeros((B, 1)), lo[:, None] * (hi / lo)[:, None] ** steps[None, :]], axis=1)
    ll = _grid_log_likelihood(y, v, X, grid, method == "REML")
    points = grid[:, 1:]
    near = _accepted_distance(tau2)[:, None]
    far = np.abs(points - tau2[:, None]) > near  # near points don't count
    higher = np.any(far & (ll[:, 1:] > ll[:, :1] + GLOBAL_LL_TOL), axis=1)
    score = _grid_score(y, v, X, points, method)
    rising_above = (points > tau2[:, None] + near) & (score > 0)
    falling_below = (points < tau2[:, None] - near) & (score < 0)
    return higher | np.any(rising_above | falling_below, axis=1)


def _may_have_another_maximum(y, v, X, tau2, converged, method: str) -> np.ndarray:
    """Indices of the converged fits that may lie away from the global maximum: those for which a single
    maximum near ``tau2`` cannot be proven cheaply (intercept-only models) and the grid sees another."""
    if X is None:
        converged = converged & ~unimodal.single_maximum_near(
            y, v, tau2, _accepted_distance(tau2), reml=method == "REML"
        )
    idx = np.flatnonzero(converged)
    if idx.size == 0:
        return idx
    return idx[_beaten_on_grid(y[idx], v[idx], _rows(X, idx), tau2[idx], method)]


def _accepted_distance(tau2):
    """How far metafor's stopping point may lie from the maximum (its threshold, 100 steps' worth)."""
    return 100 * FISHER_THRESHOLD + 1e-3 * tau2


def _likelihood_se(y, v, X, tau2, method: str) -> np.ndarray:
    k, p = _dims(y, X)
    w = 1 / (v + tau2[:, None])
    if method == "ML":
        return np.sqrt(2 / np.sum(w**2, axis=1))
    if method == "REML":
        vb = (1 / np.sum(w, axis=1))[:, None, None] if X is None else wls.wls(y, w, X).vb  # as wls() has it
        return np.sqrt(2 / wls.trace_pp(w, X, vb))
    return np.sqrt(2 * k**2 / (k - p) / np.sum(w, axis=1) ** 2)  # EB, PM


def _iterative(y, v, X, method: str, exact: bool) -> Tau2Estimate:
    n = y.shape[0]
    if exact:
        tau2 = _safeguarded(y, v, X, method)
        fallback = np.zeros(n, bool)
    else:
        tau2, converged = _fisher_scoring(y, v, X, method)
        if method in ("ML", "REML"):
            tau2 = np.where(converged, _ll0_check(y, v, X, tau2, method), tau2)
        fallback = ~converged
        if fallback.any():
            idx = np.flatnonzero(fallback)
            tau2[idx] = _safeguarded(y[idx], v[idx], _rows(X, idx), method)
        local = np.zeros(n, bool)
        if method in ("ML", "REML"):
            for i in _may_have_another_maximum(y, v, X, tau2, converged, method):
                better = _global_or_none(y[i], v[i], None if X is None else X[i], float(tau2[i]), method)
                if better is not None:
                    tau2[i], local[i] = better, True
            fallback = fallback | local
    tau2 = np.maximum(0.0, tau2)
    return _done(tau2, _likelihood_se(y, v, X, tau2, method), fallback=fallback, local=None if exact else local)


@register("ML")
def maximum_likelihood(y, v, X, *, exact: bool = False, **_) -> Tau2Estimate:
    return _iterative(y, v, X, "ML", exact)


@register("REML")
def restricted_maximum_likelihood(y, v, X, *, exact: bool = False, **_) -> Tau2Estimate:
    return _iterative(y, v, X, "REML", exact)


@register("EB")
def empirical_bayes(y, v, X, *, exact: bool = False, **_) -> Tau2Estimate:
    return _iterative(y, v, X, "EB", exact)


def _mad_squared(y1: np.ndarray) -> float:
    """R's mad(y)^2 (scale constant 1.4826)."""
    return float((1.4826 * np.median(np.abs(y1 - np.median(y1)))) ** 2)


@register("PM")
def paule_mandel(y, v, X, *, exact: bool = False, **_) -> Tau2Estimate:
    k, p = _dims(y, X)
    n = y.shape[0]
    tau2 = np.zeros(n)
    fallback = np.zeros(n, bool)
    for i in range(n):
        y1, v1, X1 = y[i], v[i], None if X is None else X[i]

        def q_minus_df(t: float, y1=y1, v1=v1, X1=X1) -> float:
            return float(_score(y1[None], v1[None], _lift(X1), np.array([t]), "PM")[0])

        f0 = q_minus_df(0.0)
        if f0 < 0:
            continue
        upper = max(100.0, 10 * _mad_squared(y1))
        f_upper = q_minus_df(upper)
        if exact or f_upper > 0:
            fallback[i] = not exact
            tau2[i] = _safeguarded_one(y1, v1, X1, "PM")
            continue
        try:
            tau2[i], ok = zeroin(
                q_minus_df, 0.0, upper, f_lower=f0, f_upper=f_upper, tol=R_DEFAULT_TOL, maxiter=FISHER_MAXITER
            )
        except RootNotBracketed:
            ok = False
        if not ok:
            fallback[i] = True
            tau2[i] = _safeguarded_one(y1, v1, X1, "PM")
    return _done(tau2, _likelihood_se(y, v, X, tau2, "PM"), fallback=fallback)


def estimate_tau2(method: str, y, v, X, *, exact: bool = False) -> Tau2Estimate:
    """Run the estimator registered as ``method`` on a batch."""
    try:
        estimator = ESTIMATORS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(ESTIMATORS)}") from None
    return estimator(y, v, X, exact=exact)
