"""Effect-size pieces that metafor does not have: RevMan's SMD, merging arms, direction."""

from __future__ import annotations

import numpy as np
import pytest

from erh_report.analysis.effect_sizes import combine_arms, escalc, smd


def test_combined_arms_equal_the_pooled_sample():
    rng = np.random.default_rng(7)
    arms = [rng.normal(loc, 2.0, size=n) for loc, n in ((10, 23), (12.5, 31), (9, 17))]
    n, mean, sd = combine_arms([a.size for a in arms], [a.mean() for a in arms], [a.std(ddof=1) for a in arms])
    pooled = np.concatenate(arms)
    assert n == pooled.size
    assert mean == pytest.approx(pooled.mean(), rel=1e-12)
    assert sd == pytest.approx(pooled.std(ddof=1), rel=1e-12)


def test_revman_smd_uses_its_approximate_correction_and_variance():
    n1, m1, s1, n2, m2, s2 = 40, 12.0, 3.0, 35, 10.5, 2.5
    es = smd(n1, m1, s1, n2, m2, s2, variant="revman")
    n = n1 + n2
    s_pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n - 2))
    g = (m1 - m2) / s_pooled * (1 - 3 / (4 * n - 9))
    assert es.yi == pytest.approx(g, rel=1e-12)
    assert es.vi == pytest.approx(n / (n1 * n2) + g**2 / (2 * (n - 3.94)), rel=1e-12)
    exact = smd(n1, m1, s1, n2, m2, s2)
    assert abs(es.yi - exact.yi) / exact.yi < 1e-3  # the two corrections nearly agree at this size


def test_unknown_measure_is_refused():
    with pytest.raises(ValueError, match="unknown measure"):
        escalc("HR", {})
