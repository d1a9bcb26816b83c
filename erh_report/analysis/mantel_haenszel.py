"""Mantel-Haenszel pooling of 2x2 tables (OR, RR, RD), fixed effect and DerSimonian-Laird random effects.

``rules="metafor"`` equals metafor's ``rma.mh()``: the Mantel-Haenszel sums over the uncorrected counts,
Q = Σ (y_i - θ_MH)² / v_i over the studies' corrected effects (double-zero studies dropped), and for
the risk difference Sato's variance. ``rules="revman"`` equals RevMan 5: the sums over the corrected
tables (see ``zero_cells``), ratio measures without the non-estimable studies, Greenland-Robins variance
for the risk difference. ``method="DL"`` is RevMan's Mantel-Haenszel random-effects model: τ² by
DerSimonian-Laird from the Q above, then inverse-variance weights 1/(v_i + τ²) and a Wald interval.
"""

from __future__ import annotations

import numpy as np

from erh_report.analysis.effect_sizes import two_by_two
from erh_report.analysis.model import MetaResult, ModelError
from erh_report.analysis.pooled import dersimonian_laird, pooled_result
from erh_report.analysis.zero_cells import RULES, Tables, corrected, not_estimable, tables

MH_MEASURES = ("OR", "RR", "RD")


def mh_estimate(measure: str, t: Tables, *, rd_variance: str = "greenland-robins") -> tuple[float, float, np.ndarray]:
    """The Mantel-Haenszel estimate (log scale for OR, RR), its standard error and the study weights.

    Standard errors: Robins-Breslow-Greenland (OR), Greenland-Robins (RR), and for RD Greenland-Robins
    (RevMan) or Sato (``rd_variance="sato"``, metafor)."""
    a, b, c, d, n1, n2, n = t.a, t.b, t.c, t.d, t.n1, t.n2, t.n
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            r, s = a * d / n, b * c / n
            p, q = (a + d) / n, (b + c) / n
            sr, ss = np.sum(r), np.sum(s)
            est = np.log(sr / ss)
            var = 0.5 * (np.sum(p * r) / sr**2 + np.sum(p * s + q * r) / (sr * ss) + np.sum(q * s) / ss**2)
            return float(est), float(np.sqrt(var)), s
        if measure == "RR":
            r, s = a * n2 / n, c * n1 / n
            sr, ss = np.sum(r), np.sum(s)
            est = np.log(sr / ss)
            var = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2) / (sr * ss)
            return float(est), float(np.sqrt(var)), s
        if measure == "RD":
            w = n1 * n2 / n
            est = np.sum(a * n2 / n - c * n1 / n) / np.sum(w)
            if rd_variance == "sato":
                var = (
                    est * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
                    + np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2
                ) / np.sum(w) ** 2
            else:
                var = np.sum((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * n**2)) / np.sum(w) ** 2
            return float(est), float(np.sqrt(var)), w
    raise ValueError(f"Mantel-Haenszel pools OR, RR or RD, not {measure!r}")


def mantel_haenszel(
    measure: str,
    ai,
    ci,
    *,
    bi=None,
    di=None,
    n1i=None,
    n2i=None,
    method: str = "FE",
    level: float = 95.0,
    rules: str = "revman",
) -> MetaResult:
    """Pool 2x2 tables by Mantel-Haenszel; ``method`` "FE" (common effect) or "DL" (random effects)."""
    measure, method = measure.upper(), method.upper()
    if measure not in MH_MEASURES:
        raise ModelError(f"Mantel-Haenszel pools OR, RR or RD, not {measure}")
    if method not in ("FE", "DL"):
        raise ModelError(f"Mantel-Haenszel is a common-effect (FE) or DerSimonian-Laird (DL) model, not {method}")
    if rules not in RULES:
        raise ValueError(f"unknown rules {rules!r}; expected one of {', '.join(RULES)}")
    raw = tables(ai, ci, bi=bi, di=di, n1i=n1i, n2i=n2i)
    if raw.a.size == 0:
        raise ModelError("no studies to pool")
    drop = not_estimable(raw, measure)
    if rules == "revman":
        kept = corrected(raw.subset(~drop))
        est, se, mh_w = mh_estimate(measure, kept)
        yi, vi = _study_effects(measure, kept)
    else:
        est, se, mh_w = mh_estimate(measure, raw, rd_variance="sato")
        es = two_by_two(measure, raw.a, raw.c, bi=raw.b, di=raw.d, drop00=True)
        keep = np.isfinite(es.yi) & np.isfinite(es.vi)
        yi, vi = es.yi[keep], es.vi[keep]
        mh_w = mh_w[keep]
    if yi.size == 0 or not np.isfinite(est):
        raise ModelError("no estimable study: every study has no events (or only events) in both groups")
    w = 1 / vi
    q = float(max(0.0, np.sum(w * (yi - est) ** 2))) if yi.size > 1 else 0.0
    notes = ()
    if drop.any():
        notes = (
            f"{int(drop.sum())} stud{'y' if drop.sum() == 1 else 'ies'} with no events (or only events) "
            "in both groups left out",
        )
    if method == "FE" or yi.size == 1:
        return pooled_result(
            estimate=est,
            se=se,
            yi=yi,
            vi=vi,
            weights=mh_w,
            q=q,
            q_df=yi.size - 1,
            tau2=0.0,
            method="FE",
            pooling="MH",
            level=level,
            notes=notes,
        )
    tau2 = dersimonian_laird(q, w)
    w_re = 1 / (vi + tau2)
    est_re = float(np.sum(w_re * yi) / np.sum(w_re))
    return pooled_result(
        estimate=est_re,
        se=float(np.sqrt(1 / np.sum(w_re))),
        yi=yi,
        vi=vi,
        weights=w_re,
        q=q,
        q_df=yi.size - 1,
        tau2=tau2,
        method="DL",
        pooling="MH",
        level=level,
        notes=notes,
    )


def _study_effects(measure: str, t: Tables) -> tuple[np.ndarray, np.ndarray]:
    """Study effects and variances of already corrected tables (no further correction)."""
    es = two_by_two(measure, t.a, t.c, bi=t.b, di=t.d, to="none")
    return es.yi, es.vi
