"""One pooled analysis by any of the three pooling methods: inverse variance (``rma.uni``),
Mantel-Haenszel (``rma.mh``) or Peto (``rma.peto``), from columns named as in metafor.

``rules="revman"`` applies RevMan 5's handling of 2x2 tables to every method (see ``zero_cells``) and
drops studies whose effect cannot be estimated (no events in both arms for a ratio, a zero SD or SE);
``rules="metafor"`` keeps metafor's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from erh_report.analysis.effect_sizes import EffectSizes, escalc
from erh_report.analysis.mantel_haenszel import mantel_haenszel
from erh_report.analysis.model import MetaResult, ModelError, fit
from erh_report.analysis.peto import peto
from erh_report.analysis.zero_cells import not_estimable, tables

POOLINGS = ("IV", "MH", "PETO")
POOLING_NAMES = {"IV": "Inverse Variance", "MH": "M-H", "PETO": "Peto"}


def revman_effects(measure: str, data: Mapping[str, object], *, smd_variant: str = "revman") -> EffectSizes:
    """Study effects as RevMan 5 computes them, with the studies it cannot estimate set to NaN."""
    measure = measure.upper()
    if measure in ("OR", "RR", "RD"):
        get = data.get
        t = tables(get("ai"), get("ci"), bi=get("bi"), di=get("di"), n1i=get("n1i"), n2i=get("n2i"))
        es = escalc(measure, {"ai": t.a, "bi": t.b, "ci": t.c, "di": t.d})
        drop = not_estimable(t, measure)
        return EffectSizes(measure, np.where(drop, np.nan, es.yi), np.where(drop, np.nan, es.vi))
    es = escalc(measure, data, smd_variant=smd_variant)
    bad = ~(np.isfinite(es.yi) & np.isfinite(es.vi) & (es.vi > 0))
    return EffectSizes(es.measure, np.where(bad, np.nan, es.yi), np.where(bad, np.nan, es.vi))


def pool(
    measure: str,
    data: Mapping[str, object],
    *,
    pooling: str = "IV",
    method: str = "DL",
    level: float = 95.0,
    rules: str = "metafor",
    smd_variant: str = "metafor",
) -> MetaResult:
    """Pool one set of studies. ``pooling`` IV, MH or PETO; ``method`` an rma.uni estimator for IV,
    FE or DL for MH, FE for PETO."""
    pooling, measure, method = pooling.upper(), measure.upper(), method.upper()
    if pooling not in POOLINGS:
        raise ModelError(f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")
    get = data.get
    cells = {"ai": get("ai"), "ci": get("ci"), "bi": get("bi"), "di": get("di"), "n1i": get("n1i"), "n2i": get("n2i")}
    if pooling == "MH":
        if measure not in ("OR", "RR", "RD"):
            raise ModelError(f"Mantel-Haenszel pools OR, RR or RD, not {measure}")
        return mantel_haenszel(
            measure, cells.pop("ai"), cells.pop("ci"), **cells, method=method, level=level, rules=rules
        )
    if pooling == "PETO":
        if measure != "OR":
            raise ModelError(f"Peto's method pools odds ratios only, not {measure}")
        if method != "FE":
            raise ModelError(f"Peto's method is a common-effect model (FE), not {method}")
        return peto(cells.pop("ai"), cells.pop("ci"), **cells, level=level)
    if rules == "revman":
        es = revman_effects(measure, data, smd_variant=smd_variant)
        keep = np.isfinite(es.yi)
        if not keep.any():
            raise ModelError("no estimable study")
        return fit(es.yi[keep], es.vi[keep], method=method, level=level)
    es = escalc(measure, data, smd_variant=smd_variant)
    return fit(es.yi, es.vi, method=method, level=level)
