"""Brent's root finder, step for step as R's ``uniroot()`` (the zeroin algorithm, Brent 1973).

metafor finds the Paule-Mandel estimate and the Q-profile confidence limits with ``uniroot()`` at
R's default tolerance (``.Machine$double.eps^0.25``), so its answers sit up to ~1e-4 from the exact
root. To give an R user the same numbers, this module follows the same iterates; callers that want the
exact root pass a tight tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

EPSILON = 2.220446049250313e-16
R_DEFAULT_TOL = EPSILON**0.25


class RootNotBracketed(ValueError):
    """f(lower) and f(upper) have the same sign."""


def zeroin(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    *,
    f_lower: float | None = None,
    f_upper: float | None = None,
    tol: float = R_DEFAULT_TOL,
    maxiter: int = 1000,
) -> tuple[float, bool]:
    """Return (root, converged) of ``f`` in [lower, upper], as R's uniroot(f, c(lower, upper), tol=tol)."""
    a, b = float(lower), float(upper)
    fa = f(a) if f_lower is None else float(f_lower)
    fb = f(b) if f_upper is None else float(f_upper)
    if fa * fb > 0:
        raise RootNotBracketed(f"f({a}) = {fa} and f({b}) = {fb} have the same sign")
    if fa == 0.0:
        return a, True
    if fb == 0.0:
        return b, True
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b, True
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b, False
