"""Effect sizes from study-level summary data, as metafor's ``escalc()`` computes them by default.

Each function takes arrays (one element per study) and returns an ``EffectSizes`` with ``yi`` (the
effect) and ``vi`` (its sampling variance). Defaults follow metafor, so that an R user gets the same
numbers: Hedges' g with the exact bias correction and the large-sample variance ("LS"), 1/2 added to
every cell of a 2x2 table that has a zero cell (``to="only0"``), double-zero studies kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from erh_report.vocabulary import MEASURES


@dataclass(frozen=True)
class EffectSizes:
    """Effects and sampling variances, one per study, with the measure that produced them."""

    measure: str
    yi: np.ndarray
    vi: np.ndarray


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def hedges_correction(df) -> np.ndarray:
    """Exact small-sample correction factor J(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2)); NaN for m <= 1."""
    m = _arr(df)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, j)


def smd(n1i, m1i, sd1i, n2i, m2i, sd2i, *, variant: str = "metafor") -> EffectSizes:
    """Standardised mean difference (Hedges' g).

    ``variant="metafor"``: exact correction, vi = 1/n1 + 1/n2 + g²/(2N) (metafor's default "LS").
    ``variant="revman"``: RevMan 5's approximate correction J = 1 - 3/(4N - 9) and
    vi = N/(n1 n2) + g²/(2(N - 3.94)).
    """
    n1, m1, s1, n2, m2, s2 = map(_arr, (n1i, m1i, sd1i, n2i, m2i, sd2i))
    n = n1 + n2
    df = n - 2
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df)
        d = (m1 - m2) / sd_pooled
        if variant == "metafor":
            yi = hedges_correction(df) * d
            vi = 1 / n1 + 1 / n2 + yi**2 / (2 * n)
        elif variant == "revman":
            yi = (1 - 3 / (4 * n - 9)) * d
            vi = n / (n1 * n2) + yi**2 / (2 * (n - 3.94))
        else:
            raise ValueError(f"unknown SMD variant {variant!r}; expected 'metafor' or 'revman'")
    return EffectSizes("SMD", yi, vi)


def md(n1i, m1i, sd1i, n2i, m2i, sd2i) -> EffectSizes:
    """Raw mean difference with the heteroscedastic variance sd1²/n1 + sd2²/n2 (metafor's default)."""
    n1, m1, s1, n2, m2, s2 = map(_arr, (n1i, m1i, sd1i, n2i, m2i, sd2i))
    return EffectSizes("MD", m1 - m2, s1**2 / n1 + s2**2 / n2)


def two_by_two(
    measure: str,
    ai,
    ci,
    *,
    bi=None,
    di=None,
    n1i=None,
    n2i=None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> EffectSizes:
    """Log odds ratio, log risk ratio or risk difference from 2x2 counts.

    Give either ``bi``/``di`` (non-events) or ``n1i``/``n2i`` (group totals). ``add`` is added to every
    cell of the studies with a zero cell (``to="only0"``), of all studies (``"all"``), of all studies if
    any has a zero cell (``"if0all"``), or never (``"none"``). ``drop00`` drops studies with no events
    (or no non-events) in both groups.
    """
    if measure not in ("OR", "RR", "RD"):
        raise ValueError(f"not a 2x2 measure: {measure!r}")
    a, c = _arr(ai), _arr(ci)
    b = _arr(bi) if bi is not None else _arr(n1i) - a
    d = _arr(di) if di is not None else _arr(n2i) - c
    a, b, c, d = (x.copy() for x in (a, b, c, d))
    if drop00:
        both_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        for x in (a, b, c, d):
            x[both_zero] = np.nan
    if to == "all":
        zero = np.ones_like(a, dtype=bool)
    elif to == "only0":
        zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    elif to == "if0all":
        any_zero = np.any((a == 0) | (b == 0) | (c == 0) | (d == 0))
        zero = np.full(a.shape, any_zero)
    elif to == "none":
        zero = np.zeros_like(a, dtype=bool)
    else:
        raise ValueError(f"unknown 'to' {to!r}; expected all, only0, if0all or none")
    for x in (a, b, c, d):
        x[zero] += add
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        else:
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return EffectSizes(measure, yi, vi)


def correlation(ri, ni, *, fisher_z: bool = False) -> EffectSizes:
    """Raw correlation (vi = (1 - r²)² / (n - 1)) or Fisher's z (vi = 1 / (n - 3)); vi is NaN for n <= 3."""
    r, n = _arr(ri), _arr(ni)
    with np.errstate(divide="ignore", invalid="ignore"):
        if fisher_z:
            yi = 0.5 * np.log((1 + r) / (1 - r))
            vi = 1 / (n - 3)
        else:
            yi = r.copy()
            vi = (1 - r**2) ** 2 / (n - 1)
    vi = np.where(n <= 3, np.nan, vi)
    return EffectSizes("ZCOR" if fisher_z else "COR", yi, vi)


def generic(yi, vi=None, sei=None) -> EffectSizes:
    """Precomputed effects with their variances (or standard errors)."""
    if vi is None:
        if sei is None:
            raise ValueError("generic effect sizes need vi or sei")
        vi = _arr(sei) ** 2
    return EffectSizes("GEN", _arr(yi), _arr(vi))


def escalc(
    measure: str,
    data: Mapping[str, object],
    *,
    smd_variant: str = "metafor",
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> EffectSizes:
    """Compute effect sizes for ``measure`` from columns named as in metafor (n1i, m1i, ai, ri, yi, ...)."""
    measure = measure.upper()
    get = data.get
    if measure == "SMD":
        return smd(get("n1i"), get("m1i"), get("sd1i"), get("n2i"), get("m2i"), get("sd2i"), variant=smd_variant)
    if measure == "MD":
        return md(get("n1i"), get("m1i"), get("sd1i"), get("n2i"), get("m2i"), get("sd2i"))
    if measure in ("OR", "RR", "RD"):
        return two_by_two(
            measure,
            get("ai"),
            get("ci"),
            bi=get("bi"),
            di=get("di"),
            n1i=get("n1i"),
            n2i=get("n2i"),
            add=add,
            to=to,
            drop00=drop00,
        )
    if measure in ("COR", "ZCOR"):
        return correlation(get("ri"), get("ni"), fisher_z=measure == "ZCOR")
    if measure == "GEN":
        return generic(get("yi"), get("vi"), get("sei"))
    raise ValueError(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")


def combine_arms(n, mean, sd) -> tuple[float, float, float]:
    """Merge several arms into one group (Cochrane Handbook, Table 6.5.a), applied pairwise.

    N = N1 + N2, M = (N1 M1 + N2 M2) / N,
    SD = sqrt(((N1-1) SD1² + (N2-1) SD2² + N1 N2 / N (M1 - M2)²) / (N - 1)).
    """
    ns, ms, sds = _arr(n), _arr(mean), _arr(sd)
    n_tot, m_tot, sd_tot = ns[0], ms[0], sds[0]
    for n2, m2, s2 in zip(ns[1:], ms[1:], sds[1:], strict=True):
        n_new = n_tot + n2
        m_new = (n_tot * m_tot + n2 * m2) / n_new
        var = ((n_tot - 1) * sd_tot**2 + (n2 - 1) * s2**2 + n_tot * n2 / n_new * (m_tot - m2) ** 2) / (n_new - 1)
        n_tot, m_tot, sd_tot = n_new, m_new, float(np.sqrt(var))
    return float(n_tot), float(m_tot), float(sd_tot)
