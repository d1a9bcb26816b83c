"""A cheap proof, per data set, that the (restricted) likelihood in τ² has a single maximum.

For the intercept-only model write V = diag(v) + τ²I, W = V⁻¹ and P = W - W11'W / 1'W1. The score of the
REML log-likelihood is S(τ²) = y'PPy - tr(P) (of the ML one, y'PPy - tr(W)), and dP/dτ² = -PP. So

- A = y'PPy, B = tr(P) (ML: tr(W)), C = tr(PP) (ML: tr(WW)) and D = y'PPPy all fall as τ² grows
  (their derivatives are -2y'P³y, -tr(PP), -2tr(P³), -3y'P⁴y: none positive). On an interval [a, b]
  therefore A(b) - B(a) <= S <= A(a) - B(b), and S' = C - 2 y'P³y <= C(a) - 2 D(b): the values at the two
  ends bound the score and its slope in between. To first order, S(t) <= S(a) + (t - a) max(0, C(a) - 2D(b))
  and S(t) >= S(b) - (b - t) max(0, C(a) - 2D(b)): S keeps the sign it has at an end when the rise the
  slope's bound allows over the interval cannot change it (and where that bound is negative S falls).
- Where S = 0, y'PPy = B, and since Py is orthogonal to the null space of P, y'P³y >= λ y'PPy with λ the
  smallest non-zero eigenvalue of P, λ >= min w; also C <= max w · B. So S' <= (max w - 2 min w) B < 0
  at every zero once max w < 2 min w, i.e. for every τ² > max v - 2 min v: there the score can only
  cross zero downwards. (All v equal is the textbook case: the likelihood is then unimodal.)

The end values bound tighter when scaled: with λ between min w = 1/(max v + τ²) and max w = 1/(min v + τ²)
bounding the non-zero eigenvalues of P, A·(max v + τ²)², B·(max v + τ²), C·(max v + τ²)², D·(max v + τ²)³
fall and A·(min v + τ²)², B·(min v + τ²), C·(min v + τ²)², D·(min v + τ²)³ rise (ML: the same with W).

If every zero of S on [0, ∞) is a downward crossing, S has at most one zero and the likelihood at most one
maximum: S cannot change sign twice. An interval is settled when S keeps its sign on it (first bullet) or
every zero in it is a downward crossing (S' < 0 there, or the eigenvalue bound with B(b) and min w at b).
Only [0, max v - 2 min v] needs intervals; those not settled are halved a few times. Data sets left
unsettled are the ones that may have a second maximum, and only they need a search.
"""

from __future__ import annotations

import numpy as np

MARGIN = 1e-9  # relative slack on every comparison, far above the rounding of the sums
ROUNDS = 6  # halvings of the intervals not settled
EPS = float(np.finfo(float).eps)
BLOCK = 16000  # elements per temporary array: 125 KB, below the 128 KiB from which the allocator maps fresh pages
GRID_ELEMENTS = 8192  # a batch this small (data sets x studies x points) gets a grid (see _with_grid)
MAX_GRID = 32  # grid points added for a small batch


def _rowdot_einsum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("...k,...k->...", a, b)


# sum of a * b over the last axis in one pass: numpy >= 2's vecdot has the least call overhead
rowdot = getattr(np, "vecdot", _rowdot_einsum)


def _parts(y: np.ndarray, v: np.ndarray, u: np.ndarray, reml: bool, rows: np.ndarray | None = None) -> np.ndarray:
    """A, B, C, D (see the module's docstring) and E, a bound on the relative rounding error of B and C,
    of rows ``y``, ``v`` (n, k) at τ² = ``u`` (n, G): (5, n, G);
    of the rows ``rows`` of ``y`` and ``v`` if given (u then has a row for each).

    Computed in blocks of rows whose temporaries stay small: large ones are fresh pages from the system
    on every call, whose faults tripled the cost."""
    n, (G, k) = u.shape[0], u.shape[1:] + y.shape[1:]
    step = max(1, BLOCK // (G * k))
    blocks = []
    for i in range(0, n, step):
        block = slice(i, i + step) if rows is None else rows[i : i + step]
        blocks.append(_parts_block(y[block], v[block], u[i : i + step], reml))
    return np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0] if blocks else np.zeros((5, 0, G))


def _parts_block(y: np.ndarray, v: np.ndarray, u: np.ndarray, reml: bool) -> np.ndarray:
    # sums over the k studies as dot products (with ones where a plain sum): numpy's reductions along a
    # short last axis cost twice as much; the rounding bounds below hold for any order of summation
    k = y.shape[1]
    w = np.add(v[:, None, :], u[:, :, None])
    np.reciprocal(w, out=w)
    sw = rowdot(w, np.ones(k))
    z = np.subtract(y[:, None, :], (rowdot(w, y[:, None, :]) / sw)[:, :, None])
    z *= w  # P y
    a = rowdot(z, z)
    sw2 = rowdot(w, w)
    if reml:
        b = sw - sw2 / sw
        c = sw2 - 2 * rowdot(w * w, w) / sw + (sw2 / sw) ** 2
    else:
        b, c = sw, sw2
    wz = w * z
    wzz = rowdot(wz, z)
    # y'P³y = sum w z² - (sum w z)² / sum w, less a bound on the rounding of that difference
    d = wzz - rowdot(w, z) ** 2 / sw - 4 * (k + 2) * EPS * wzz
    # B and C are differences: a bound on their relative rounding error (large when one weight dominates)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = 8 * (k + 2) * EPS * np.maximum(sw / b, 3 * sw2 / c)
    return np.stack([a, b, c, d, e])


def _score_and_slope(y: np.ndarray, v: np.ndarray, t: np.ndarray, reml: bool) -> tuple[np.ndarray, np.ndarray]:
    """S and C - 2D (see the module's docstring) of rows ``y``, ``v`` (n, k) at τ² = ``t`` (n,), for
    Newton's method: summed with numpy's reductions, so that the iterates (and the root to the last bit)
    stay what they were when the proof's pieces were summed so."""
    w = np.add(v, t[:, None])
    np.reciprocal(w, out=w)
    sw = w.sum(1)
    z = np.subtract(y, (rowdot(w, y) / sw)[:, None])
    z *= w
    a = rowdot(z, z)
    w2 = w * w
    sw2 = w2.sum(1)
    if reml:
        b = sw - sw2 / sw
        c = sw2 - 2 * rowdot(w2, w) / sw + (sw2 / sw) ** 2
    else:
        b, c = sw, sw2
    wz = w * z
    wzz = rowdot(wz, z)
    d = wzz - wz.sum(1) ** 2 / sw - 4 * (y.shape[1] + 2) * EPS * wzz
    return a - b, c - 2 * d


def _settled(pieces: np.ndarray) -> np.ndarray:
    """Which intervals (columns of ``pieces``: lo, A B C D E at lo, hi, A B C D E at hi, min v, max v, top)
    are settled: S keeps its sign on them, or crosses zero only downwards, or they lie beyond ``top``."""
    with np.errstate(invalid="ignore", over="ignore"):  # an infinite error bound settles nothing
        lo, a_lo, b_lo, c_lo, d_lo, e_lo, hi, a_hi, b_hi, c_hi, d_hi, e_hi, v_min, v_max, top = pieces
        big = 1 + MARGIN + e_lo + e_hi
        s_lo, s_hi, l_lo, l_hi = v_min + lo, v_min + hi, v_max + lo, v_max + hi
        s_ratio = s_lo / s_hi  # (min v + τ²) grows by 1 / s_ratio over the interval
        s_ratio2 = s_ratio * s_ratio
        a_lo_big, b_lo_big, b_hi_big, c_lo_big, c_hi_big = a_lo * big, b_lo * big, b_hi * big, c_lo * big, c_hi * big
        settled = (lo >= top) | (hi <= lo)
        # S > 0 throughout
        settled |= a_hi > b_lo_big
        settled |= a_hi * l_hi > b_lo_big * l_lo
        settled |= a_lo * s_ratio2 > b_hi_big
        settled |= a_hi * s_ratio > b_hi_big
        # S < 0 throughout
        settled |= a_lo_big < b_hi
        settled |= a_lo_big * l_lo < b_hi * l_hi
        settled |= a_hi * big < b_lo * s_ratio2
        settled |= a_lo_big < b_lo * s_ratio
        # S' < 0 wherever S = 0: it crosses zero only downwards
        c_big = c_lo_big * (l_lo * l_lo)
        d_hi2, d_lo2 = 2 * d_hi, 2 * d_lo * (s_ratio2 * s_ratio)
        settled |= c_lo_big < d_hi2
        settled |= c_big < d_hi2 * (l_hi * l_hi)
        settled |= c_big < 2 * b_hi * l_hi
        settled |= c_hi_big < d_lo2
        settled |= c_lo_big < d_lo2
        settled |= c_hi_big < d_hi2 * s_ratio2
        # first order: S' <= C(lo) - 2 D(hi) on the interval. Where that bound is negative, S falls (and can
        # only cross zero downwards); else S stays below S(lo) plus the rise the bound allows over the width,
        # and above S(hi) less it. Either way the two tests below settle the interval rightly.
        width = hi - lo
        rise, fall = c_lo * width, np.maximum(d_hi2, 0.0) * width
        settled |= (a_lo + rise) * big < b_lo + fall
        settled |= (b_hi + rise) * big < a_hi + fall
        return settled


def _split(lo: np.ndarray, hi: np.ndarray, v_min: np.ndarray) -> np.ndarray:
    """Where to halve the intervals [lo, hi]: on a log scale of τ² + min v / 4 (the weights, and so the
    score's pieces, change on the scale of min v + τ², and τ² spans decades); from 0, at the smaller of
    hi / 4 and the log-midpoint of min v + τ². Of the rules tried, this needed the fewest evaluations on
    the benchmark's data sets and settled no fewer random ones."""
    q = v_min / 4
    inner = np.sqrt((q + lo) * (q + hi)) - q
    from_zero = np.minimum(hi / 4, np.maximum(np.sqrt(v_min * (v_min + hi)) - v_min, hi / 65536))
    return np.where(lo > 0, inner, from_zero)


def _proven(
    y, v, points: np.ndarray, parts: np.ndarray, extent: np.ndarray, rows: np.ndarray, reml: bool
) -> np.ndarray:
    """Which of ``rows`` have every interval between consecutive ``points`` (n, G; with their ``parts``;
    ``extent`` from ``_extent``) settled, halving those that are not up to ROUNDS times."""
    n, G = points.shape
    rows = np.repeat(rows, G - 1)
    j = np.tile(np.arange(G - 1), rows.size // (G - 1))
    ends = np.concatenate([points[None], parts])  # τ², A, B, C, D, E at each point
    # one column per interval (one numpy call filters or doubles them all)
    pieces = np.concatenate([ends[:, rows, j], ends[:, rows, j + 1], extent[:, rows]])
    for halvings in range(ROUNDS + 1):
        open_ = (~_settled(pieces)).nonzero()[0]
        rows, pieces = rows[open_], pieces[:, open_]
        if rows.size == 0 or halvings == ROUNDS:
            break
        lo, hi = pieces[0], pieces[6]
        mid = _split(lo, hi, pieces[12])
        at_mid = _parts(y, v, mid[:, None], reml, rows)[:, :, 0]
        m = rows.size
        pieces = np.concatenate([pieces, pieces], axis=1)  # the left halves, then the right ones
        pieces[6, :m], pieces[7:12, :m], pieces[0, m:], pieces[1:6, m:] = mid, at_mid, mid, at_mid
        rows = np.concatenate([rows, rows])
    proven = np.ones(n, bool)
    proven[rows] = False
    return proven


def _extent(v: np.ndarray) -> np.ndarray:
    """min v, max v and top = max v - 2 min v (at least 0) of each row: (3, n). Beyond top every zero
    of the score is a downward crossing."""
    v_min, v_max = v.min(1), v.max(1)
    return np.stack([v_min, v_max, np.maximum(0.0, (v_max - 2 * v_min) * (1 + 1e-9))])


def _top(v: np.ndarray) -> np.ndarray:
    return _extent(v)[2]


def _with_grid(
    y, v, points: np.ndarray, parts: np.ndarray, top: np.ndarray, reml: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``points`` (n, G) and their ``parts``, with a log grid on [0, top] added and all sorted: as many grid
    points as fit in GRID_ELEMENTS, so a small batch (one fit) is settled in one evaluation, not in rounds
    of a few numpy calls each."""
    n, (G, k) = points.shape[0], points.shape[1:] + y.shape[1:]
    extra = int(np.clip(GRID_ELEMENTS // max(1, n * k) - G, 0, MAX_GRID))
    if extra == 0:
        return points, parts
    grid = top[:, None] * np.geomspace(1e-4, 1, extra + 1)[None, :-1]
    points = np.concatenate([points, grid], axis=1)
    parts = np.concatenate([parts, _parts(y, v, grid, reml)], axis=2)
    order = np.argsort(points, axis=1)
    return np.take_along_axis(points, order, 1), np.take_along_axis(parts, order[None], 2)


def single_maximum(y: np.ndarray, v: np.ndarray, *, reml: bool) -> np.ndarray:
    """True for the data sets (rows of ``y``, ``v``: intercept-only models) whose (restricted) likelihood
    provably has one maximum over τ² >= 0: the score has at most one zero there, crossing downwards."""
    extent = _extent(v)
    top = extent[2]
    points = np.stack([np.zeros_like(top), top], axis=1)
    points, parts = _with_grid(y, v, points, _parts(y, v, points, reml), top, reml)
    return _proven(y, v, points, parts, extent, np.arange(y.shape[0]), reml)


def single_maximum_near(y: np.ndarray, v: np.ndarray, tau2: np.ndarray, near: np.ndarray, *, reml: bool) -> np.ndarray:
    """True for the data sets (rows of ``y``, ``v``: intercept-only models) whose (restricted) likelihood
    provably has one maximum over τ² >= 0, lying within ``near`` of ``tau2``; False where that could not
    be shown (which does not mean there is another maximum)."""
    extent = _extent(v)
    top = extent[2]
    below, above = np.maximum(0.0, tau2 - near), tau2 + near
    end = np.maximum(above, top)
    # 0, below, above, end; where [0, below] or [above, end] is empty, its point halves the other instead
    from_zero, to_end = below == 0, (below > 0) & (top <= above)
    zero = np.zeros_like(top)
    points = np.stack(
        [
            zero,
            np.where(from_zero, above, np.where(to_end, _split(zero, below, extent[0]), below)),
            np.where(from_zero, _split(above, end, extent[0]), np.where(to_end, below, above)),
            np.where(to_end, above, end),
        ],
        axis=1,
    )
    parts = _parts(y, v, points, reml)
    score = parts[0] - parts[1]
    # the maximum lies in [below, above] if S(below) > 0 (or below = 0) and S(above) < 0
    rows = np.arange(top.size)
    at_below, at_above = score[rows, 1 + to_end], score[rows, np.where(from_zero, 1, 2 + to_end)]
    located = (at_above < 0) & (from_zero | (at_below > 0))
    points, parts = _with_grid(y, v, points, parts, top, reml)
    return located & _proven(y, v, points, parts, extent, located.nonzero()[0], reml)


def unique_maximum(y: np.ndarray, v: np.ndarray, start: np.ndarray, *, reml: bool, maxiter: int = 200) -> np.ndarray:
    """The τ² of the maximum for data sets with a single maximum (see ``single_maximum``), to machine
    precision: 0 where the score is not positive there, else the score's root by Newton's method from
    ``start``, kept inside a bracket that is halved (on a log scale) when a step would leave it."""
    n = y.shape[0]
    tau2 = np.zeros(n)
    s0, _ = _score_and_slope(y, v, tau2, reml)
    rows = (s0 > 0).nonzero()[0]
    y, v, start = y[rows], v[rows], start[rows]
    lo = np.zeros(rows.size)
    hi = np.maximum(_top(v), np.var(y, axis=1) * y.shape[1]) + np.max(v, axis=1)
    for _ in range(maxiter):  # an upper end of the bracket: the score is negative beyond the root
        s_hi, _ = _score_and_slope(y, v, hi, reml)
        up = s_hi >= 0
        if not up.any():
            break
        lo[up], hi[up] = hi[up], hi[up] * 4
    t = np.where((start > lo) & (start < hi), start, (lo + hi) / 2)
    root = t.copy()
    left = np.arange(rows.size)  # the data sets still iterating; their arrays are kept compact
    for _ in range(maxiter):
        s, slope = _score_and_slope(y, v, t, reml)
        pos = s > 0
        lo, hi = np.where(pos, t, lo), np.where(pos, hi, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = t - s / slope
        inside = (new > lo) & (new < hi)
        new = np.where(inside, new, np.where(lo > 0, np.sqrt(lo * hi), hi / 16))  # else halve on a log scale
        done = (np.abs(new - t) <= 4 * EPS * t) | (s == 0) | (hi - lo <= 4 * EPS * hi)
        t = np.where(s == 0, t, new)
        root[left] = t
        if done.any():
            keep = (~done).nonzero()[0]
            if keep.size == 0:
                break
            left, t, lo, hi, y, v = left[keep], t[keep], lo[keep], hi[keep], y[keep], v[keep]
    tau2[rows] = root
    return tau2
