"""Peto's one-step odds ratio, as metafor's ``rma.peto()`` and RevMan 5 compute it.

For each study O - E = a - n1 (a + c) / N and V = n1 n2 (a + c)(b + d) / (N² (N - 1)); the pooled log odds
ratio is Σ(O - E) / ΣV with standard error 1 / sqrt(ΣV), and Q = Σ (O - E)² / V - (Σ(O - E))² / ΣV.
No continuity correction is needed; studies with V = 0 (no events or only events in both groups) carry
no information and are left out of Q and of its degrees of freedom.
"""

from __future__ import annotations

import numpy as np

from erh_report.analysis.model import MetaResult, ModelError
from erh_report.analysis.pooled import pooled_result
from erh_report.analysis.zero_cells import tables


def peto(ai, ci, *, bi=None, di=None, n1i=None, n2i=None, level: float = 95.0) -> MetaResult:
    """Pool 2x2 tables by Peto's method (common effect, log odds ratio)."""
    t = tables(ai, ci, bi=bi, di=di, n1i=n1i, n2i=n2i)
    if t.a.size == 0:
        raise ModelError("no studies to pool")
    n, n1, n2 = t.n, t.n1, t.n2
    events, non_events = t.a + t.c, t.b + t.d
    o_e = t.a - n1 * events / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = events * non_events * (n1 / n) * (n2 / n) / (n - 1)
    informative = np.isfinite(v) & (v > 0)
    if not informative.any():
        raise ModelError("Peto's method needs events: one of the two outcomes never occurred in any study")
    o_e, v = o_e[informative], v[informative]
    est = float(np.sum(o_e) / np.sum(v))
    se = float(np.sqrt(1 / np.sum(v)))
    q = float(max(0.0, np.sum(o_e**2 / v) - np.sum(o_e) ** 2 / np.sum(v)))
    dropped = int((~informative).sum())
    notes = (f"{dropped} stud{'y' if dropped == 1 else 'ies'} without information (V = 0) left out",) if dropped else ()
    return pooled_result(
        estimate=est,
        se=se,
        yi=o_e / v,
        vi=1 / v,
        weights=v,
        q=q,
        q_df=int(v.size) - 1,
        tau2=0.0,
        method="FE",
        pooling="PETO",
        level=level,
        notes=notes,
    )
