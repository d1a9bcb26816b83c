"""The proof that the (restricted) likelihood in τ² has one maximum: never claimed where there are two,
always found where the textbook says so, and the maximum it leads to is the exact search's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import meta_data

from erh_report.analysis import tau2 as tau2_module
from erh_report.analysis import unimodal
from erh_report.analysis.model import fit

CONVERGENCE = json.loads((Path(__file__).parent / "fixtures" / "metafor" / "convergence.json").read_text())
NARROW = (
    np.array([0, 1.5, 0, 0, 0, 1, 1, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 0.0]),
    np.array([1, 2, 1e-3, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 1.5, 1.5, 1.5, 1e-3]),
)


def local_maxima(yi, vi, method):
    return tau2_module._stationary_points(yi, vi, None, method)


def data_sets():
    return [(np.array(c["yi"]), np.array(c["vi"])) for c in CONVERGENCE["cases"]] + [NARROW]


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_two_maxima_are_never_proven_single(method):
    for yi, vi in data_sets():
        proven = unimodal.single_maximum(yi[None], vi[None], reml=method == "REML")[0]
        assert not (proven and len(local_maxima(yi, vi, method)) > 1)


def test_the_cases_with_two_maxima_are_there():
    """The test above has teeth: four of its (data set, method) pairs have two local maxima."""
    pairs = [len(local_maxima(yi, vi, method)) for yi, vi in data_sets() for method in ("REML", "ML")]
    assert pairs.count(2) == 4 and set(pairs) == {1, 2}


@settings(max_examples=60, deadline=None)
@given(data=meta_data(), method=st.sampled_from(("REML", "ML")))
def test_a_proven_single_maximum_is_the_only_one_the_exact_search_finds(data, method):
    yi, vi = data
    reml = method == "REML"
    if unimodal.single_maximum(yi[None], vi[None], reml=reml)[0]:
        maxima = local_maxima(yi, vi, method)
        assert len(maxima) == 1
        start = np.array([0.1])
        assert unimodal.unique_maximum(yi[None], vi[None], start, reml=reml)[0] == pytest.approx(
            maxima[0], rel=1e-10, abs=1e-13
        )


@settings(max_examples=40, deadline=None)
@given(
    yi=st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=30),
    v=st.floats(0.001, 2.0),
    method=st.sampled_from(("REML", "ML")),
)
def test_equal_variances_are_proven_single(yi, v, method):
    """All vi equal: the textbook unimodal case needs no interval at all."""
    y = np.array(yi)[None]
    assert unimodal.single_maximum(y, np.full_like(y, v), reml=method == "REML")[0]


def test_close_variances_are_proven_without_a_grid():
    """max v <= 2 min v: every zero of the score is a downward crossing, at any τ² >= 0."""
    v = np.array([[0.5, 0.7, 0.99, 0.6]])
    assert unimodal._top(v)[0] == 0.0
    assert unimodal.single_maximum(np.array([[3.0, -2.0, 0.1, 8.0]]), v, reml=True)[0]


def test_the_proof_near_a_point_rejects_a_point_away_from_the_maximum():
    yi, vi = CONVERGENCE["cases"][0]["yi"], CONVERGENCE["cases"][0]["vi"]
    y, v = np.array([yi]), np.array([vi])
    best = CONVERGENCE["cases"][0]["tau2_optimum"]
    near = tau2_module._accepted_distance(np.array([best]))
    assert unimodal.single_maximum_near(y, v, np.array([best]), near, reml=True)[0]
    assert not unimodal.single_maximum_near(y, v, np.array([best * 1.5]), near, reml=True)[0]


def test_a_dominant_weight_is_not_settled_by_rounding():
    """vi 1e-9 beside 1: tr(P) is a difference of two numbers near 1e9 and loses its digits at τ² = 0; the
    error bound then keeps that interval open, and the fit still ends at the exact search's maximum."""
    yi, vi = np.array([0.3, 1.2, -0.5, 0.8]), np.array([1e-9, 1.0, 0.5, 2.0])
    error = unimodal._parts(yi[None], vi[None], np.array([[0.0, 0.1]]), True)[4, 0]
    assert error[0] > 1e-3 and error[1] < 1e-9
    assert not unimodal.single_maximum(yi[None], vi[None], reml=True)[0]
    default = fit(yi, vi, method="REML").tau2
    exact = fit(yi, vi, method="REML", exact=True).tau2
    assert abs(default - exact) <= tau2_module._accepted_distance(np.array([exact]))[0]
