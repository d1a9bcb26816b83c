"""Which effects come from the same study: cluster codes, sums per cluster and the clusters by size.

Several effects of one study share its participants, so their errors are correlated; the multilevel
model, the robust variance and ``aggregate`` all work cluster by cluster. Clusters are numbered in the
order in which they first appear (as metafor's ``aggregate()`` keeps them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Clusters:
    """``codes[i]`` is the cluster of effect i (0 .. J-1, in order of first appearance)."""

    codes: np.ndarray
    labels: tuple
    sizes: np.ndarray
    indicator: sparse.csr_matrix  # (J, k): 1 where effect i belongs to cluster j

    @property
    def n(self) -> int:
        return len(self.labels)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sums over the effects of each cluster: (k,) -> (J,), (k, q) -> (J, q)."""
        return self.indicator @ values

    def by_size(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Clusters of equal size together: their codes (m,) and their effects' indices (m, n), one
        cluster a row in data order, so that per-cluster matrix algebra can run as a batch."""
        order = np.argsort(self.codes, kind="stable")
        starts = np.concatenate([[0], np.cumsum(self.sizes)])
        for n in np.unique(self.sizes):
            which = np.flatnonzero(self.sizes == n)
            yield which, order[starts[which][:, None] + np.arange(n)[None, :]]


def clusters_of(labels: Sequence) -> Clusters:
    """Cluster codes from one label per effect (any hashable values)."""
    first: dict = {}
    codes = np.array([first.setdefault(label, len(first)) for label in labels], dtype=np.intp)
    k = codes.size
    indicator = sparse.csr_matrix((np.ones(k), (codes, np.arange(k))), shape=(len(first), k))
    return Clusters(codes, tuple(first), np.bincount(codes, minlength=len(first)), indicator)
