"""One effect per study from several, as metafor's ``aggregate()`` of an escalc object (``struct = "CS"``,
``weighted = TRUE``): within a study the effects' sampling errors correlate with a common ``rho``, and the
study's effect is their generalised-least-squares mean, yi = (1'V^-1 1)^-1 1'V^-1 y, vi = (1'V^-1 1)^-1.
Moderators are averaged within each study (metafor's default for numeric variables).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from erh_report.analysis.clusters import clusters_of
from erh_report.analysis.model import ModelError


@dataclass(frozen=True)
class Aggregated:
    """One row per study, in the order in which the studies first appear."""

    labels: tuple
    yi: np.ndarray
    vi: np.ndarray
    sizes: np.ndarray  # effects combined per study
    moderators: np.ndarray | None  # (J, m) within-study means


def aggregate(yi, vi, cluster: Sequence, rho: float, moderators=None) -> Aggregated:
    """Combine the effects of each study under compound symmetry with correlation ``rho``."""
    if not -1 <= rho <= 1:
        raise ModelError(f"the within-study correlation must lie between -1 and 1, not {rho}")
    y = np.asarray(yi, float)
    v = np.asarray(vi, float)
    clusters = clusters_of(list(cluster))
    J = clusters.n
    out_y, out_v = np.empty(J), np.empty(J)
    for codes, rows in clusters.by_size():
        n = rows.shape[1]
        sd = np.sqrt(v[rows])
        V = rho * sd[:, :, None] * sd[:, None, :]
        V[:, np.arange(n), np.arange(n)] = v[rows]
        smallest = np.linalg.eigvalsh(V)[:, 0]
        bad = np.flatnonzero(smallest <= 1e-12 * np.max(v[rows], axis=1))
        if bad.size:
            names = ", ".join(str(clusters.labels[c]) for c in codes[bad][:5])
            raise ModelError(
                f"with correlation {rho} the covariance of the effects of study {names}"
                f"{' and others' if bad.size > 5 else ''} is not positive definite; "
                "use a correlation further from -1 and 1"
            )
        w = np.linalg.solve(V, np.ones((len(codes), n, 1)))[:, :, 0]  # V^-1 1
        total = w.sum(axis=1)
        out_v[codes] = 1 / total
        out_y[codes] = np.sum(w * y[rows], axis=1) / total
    mods = None
    if moderators is not None:
        m = np.asarray(moderators, float)
        m = m[:, None] if m.ndim == 1 else m
        mods = clusters.sum(m) / clusters.sizes[:, None]
    return Aggregated(clusters.labels, out_y, out_v, clusters.sizes, mods)
