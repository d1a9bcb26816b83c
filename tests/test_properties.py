"""Invariants of the analysis core, checked on random data sets (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erh_report.analysis import tau2 as tau2_module
from erh_report.analysis.model import fit, fit_batch
from erh_report.vocabulary import METHODS as METHOD_RECORDS


@st.composite
def meta_data(draw, min_k=2, max_k=25):
    k = draw(st.integers(min_k, max_k))
    yi = draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k))
    vi = draw(st.lists(st.floats(0.001, 2.0, allow_nan=False), min_size=k, max_size=k))
    return np.array(yi), np.array(vi)


SETTINGS = settings(max_examples=40, deadline=None)


@SETTINGS
@given(data=meta_data(min_k=3), method=st.sampled_from(tuple(METHOD_RECORDS)), seed=st.integers(0, 2**32 - 1))
def test_permuting_studies_changes_nothing(data, method, seed):
    yi, vi = data
    order = np.random.default_rng(seed).permutation(yi.size)
    a = fit(yi, vi, method=method)
    b = fit(yi[order], vi[order], method=method)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-6, abs=1e-9)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-5, abs=1e-8)
    assert b.q == pytest.approx(a.q, rel=1e-9, abs=1e-12)


@SETTINGS
@given(data=meta_data())
def test_dl_equals_fe_when_q_at_most_df(data):
    yi, vi = data
    dl = fit(yi, vi, method="DL")
    fe = fit(yi, vi, method="FE")
    if dl.q <= dl.q_df:
        assert dl.tau2 == 0
        assert dl.estimate == pytest.approx(fe.estimate, rel=1e-12, abs=1e-15)
        assert dl.se == pytest.approx(fe.se, rel=1e-12)
    else:
        assert dl.tau2 > 0
        assert dl.i2 == pytest.approx(100 * (dl.q - dl.q_df) / dl.q, rel=1e-9)


@SETTINGS
@given(data=meta_data(min_k=3), method=st.sampled_from(tuple(METHOD_RECORDS)), shift=st.floats(-5, 5))
def test_shifting_all_effects_shifts_the_estimate_only(data, method, shift):
    yi, vi = data
    a = fit(yi, vi, method=method)
    b = fit(yi + shift, vi, method=method)
    assert b.estimate == pytest.approx(a.estimate + shift, abs=1e-6)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-4, abs=1e-7)


@SETTINGS
@given(data=meta_data(min_k=3), method=st.sampled_from(tuple(METHOD_RECORDS)))
def test_bounds(data, method):
    yi, vi = data
    r = fit(yi, vi, method=method)
    assert r.tau2 >= 0
    assert 0 <= r.i2 <= 100
    assert r.h2 >= 1 or method == "FE"
    assert r.ci_low <= r.estimate <= r.ci_high
    assert r.pi_low <= r.ci_low and r.pi_high >= r.ci_high


@SETTINGS
@given(data=meta_data(min_k=3), method=st.sampled_from(("REML", "ML")))
def test_default_stops_within_metafors_rule_of_the_global_optimum(data, method):
    """The default follows metafor's path but never returns a point away from the global maximum."""
    yi, vi = data
    X = np.ones((yi.size, 1))
    default = fit(yi, vi, method=method).tau2
    exact = fit(yi, vi, method=method, exact=True).tau2
    ll = tau2_module.log_likelihood(
        np.stack([yi, yi]), np.stack([vi, vi]), np.stack([X, X]), np.array([default, exact]), reml=method == "REML"
    )
    assert ll[1] >= ll[0] - 1e-9
    assert abs(default - exact) <= 100 * tau2_module.FISHER_THRESHOLD + 1e-3 * exact


def test_narrow_inner_maximum_missed_by_the_likelihood_grid_is_found():
    """Two REML maxima, at 0 and at 0.2365, with the inner peak between two points of the coarse grid:
    metafor's path stops at 0; the score on the grid shows the likelihood rising beyond it."""
    yi = np.array([0, 1.5, 0, 0, 0, 1, 1, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 0])
    vi = np.array([1, 2, 1e-3, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 1.5, 1.5, 1.5, 1e-3])
    exact = fit(yi, vi, method="REML", exact=True).tau2
    default = fit(yi, vi, method="REML").tau2
    X = np.ones((1, yi.size, 1))
    ll = tau2_module.log_likelihood(
        np.stack([yi] * 3), np.stack([vi] * 3), np.repeat(X, 3, 0), np.array([0.0, exact, default]), reml=True
    )
    assert ll[1] > ll[0] + 0.05 and 0.1 < exact < 0.5  # the inner maximum is the global one
    assert abs(default - exact) <= 100 * tau2_module.FISHER_THRESHOLD + 1e-3 * exact
    assert fit(yi, vi, method="ML").tau2 == fit(yi, vi, method="ML", exact=True).tau2 == 0.0


@SETTINGS
@given(
    batch=st.lists(meta_data(min_k=6, max_k=6), min_size=2, max_size=6), method=st.sampled_from(tuple(METHOD_RECORDS))
)
def test_batched_fit_equals_one_at_a_time(batch, method):
    ys = np.stack([b[0] for b in batch])
    vs = np.stack([b[1] for b in batch])
    out = fit_batch(ys, vs, method=method)
    for i, (yi, vi) in enumerate(batch):
        single = fit(yi, vi, method=method)
        assert out["beta"][i, 0] == pytest.approx(single.estimate, rel=1e-10, abs=1e-12)
        assert out["tau2"][i] == pytest.approx(single.tau2, rel=1e-10, abs=1e-12)
