"""Which 2x2 tables are pooled and with what continuity correction: RevMan 5's rule and metafor's.

RevMan 5 (Deeks and Higgins, "Statistical algorithms in Review Manager 5"): a study with a zero cell
gets 0.5 added to every cell, and this corrected table is used by every method, Mantel-Haenszel
included; a study with no events, or only events, in both arms is not estimable for a ratio measure
and is left out. metafor's ``rma.mh()`` and ``rma.peto()`` pool the uncorrected counts and use the
corrected study effects only for the heterogeneity statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RULES = ("revman", "metafor")


@dataclass(frozen=True)
class Tables:
    """Counts per study (a, b: events and non-events in group 1; c, d in group 2)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    d: np.ndarray

    @property
    def n1(self) -> np.ndarray:
        return self.a + self.b

    @property
    def n2(self) -> np.ndarray:
        return self.c + self.d

    @property
    def n(self) -> np.ndarray:
        return self.a + self.b + self.c + self.d

    def subset(self, keep: np.ndarray) -> Tables:
        return Tables(self.a[keep], self.b[keep], self.c[keep], self.d[keep])


def tables(ai, ci, *, bi=None, di=None, n1i=None, n2i=None) -> Tables:
    """2x2 tables from events and either non-events (``bi``, ``di``) or group sizes (``n1i``, ``n2i``)."""
    a, c = np.asarray(ai, float), np.asarray(ci, float)
    b = np.asarray(bi, float) if bi is not None else np.asarray(n1i, float) - a
    d = np.asarray(di, float) if di is not None else np.asarray(n2i, float) - c
    return Tables(a, b, c, d)


def not_estimable(t: Tables, measure: str) -> np.ndarray:
    """Studies a ratio measure cannot use: no events in both arms, or only events in both arms."""
    if measure == "RD":
        return np.zeros(t.a.shape, dtype=bool)
    return ((t.a == 0) & (t.c == 0)) | ((t.b == 0) & (t.d == 0))


def has_zero_cell(t: Tables) -> np.ndarray:
    return (t.a == 0) | (t.b == 0) | (t.c == 0) | (t.d == 0)


def corrected(t: Tables, add: float = 0.5) -> Tables:
    """``add`` added to every cell of the tables that have a zero cell."""
    z = has_zero_cell(t) * add
    return Tables(t.a + z, t.b + z, t.c + z, t.d + z)
