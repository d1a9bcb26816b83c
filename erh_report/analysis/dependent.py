"""The reported model of an analysis whose studies may give several effects: the usual model of one
effect per study, of each study's effects aggregated, or the three-level model, each optionally with
cluster-robust (CR2) tests by study.

``DependentResult`` answers with ``MetaResult``'s names (``estimate``, ``ci_low``, ``pi_low``, ``tau2``,
``i2`` ...), so tables, figures, GRADE and documents read it as they read a usual model: with ``robust``
the robust SE, CI, P and Satterthwaite df are the reported ones (as metafor's ``robust()`` replaces
them); a multilevel model's ``tau2`` is the total heterogeneity σ²_between + σ²_within and its ``i2`` the
sum of the level I²s; the prediction interval is metafor's ``predict()`` of the model (or of its robust
version: t with the robust df, SE robust, the same heterogeneity).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from erh_report.analysis.aggregate import aggregate
from erh_report.analysis.model import MetaResult, PooledEstimate, Prediction, fit, prediction_with
from erh_report.analysis.multilevel import MultilevelResult, fit_multilevel
from erh_report.analysis.robust import RobustResult, robust_multilevel, robust_uni

APPROACHES = ("select", "aggregate", "multilevel")


@dataclass(frozen=True)
class Choice:
    """How one analysis handles several effects per study: ``dependence`` (select, aggregate or multilevel),
    ``robust`` CR2 tests by study, and the correlation ``rho`` assumed when aggregating."""

    dependence: str = "select"
    robust: bool = False
    rho: float = 0.6

    @property
    def usual(self) -> bool:
        """One selected effect per study and model-based tests: the analysis as the paper ran it."""
        return self.dependence == "select" and not self.robust


def multilevel_weights(result: MultilevelResult) -> np.ndarray:
    """Each effect's percent weight, as metafor's ``weights()`` of rma.mv: the diagonal of M^-1, scaled."""
    between, within = result.sigma2
    cl = result.clusters
    a = 1 / (result.vi + within)
    c = between / (1 + between * cl.sum(a))
    diagonal = a - c[cl.codes] * a**2
    return 100 * diagonal / diagonal.sum()


@dataclass(frozen=True)
class DependentResult(PooledEstimate):
    """A fitted reported model (see the module's docstring). ``model`` is the usual fit (of the selected or
    aggregated effects) or the three-level fit; ``robust`` its CR2 tests or None."""

    choice: Choice
    model: MetaResult | MultilevelResult
    robust: RobustResult | None
    k_effects: int
    k_studies: int

    # -- what kind of model
    @property
    def multilevel(self) -> bool:
        return isinstance(self.model, MultilevelResult)

    @property
    def method(self) -> str:
        return self.model.method

    @property
    def hksj(self) -> bool:
        return False if self.multilevel or self.robust is not None else bool(self.model.hksj)

    @property
    def level(self) -> float:
        return self.model.level

    @property
    def k(self) -> int:
        return self.model.k

    @property
    def p(self) -> int:
        return 1

    @property
    def terms(self) -> tuple[str, ...]:
        return self.model.terms

    @property
    def notes(self) -> tuple[str, ...]:
        return self.model.notes

    @property
    def converged(self) -> bool:
        return self.model.converged

    @property
    def method_label(self) -> str:
        """As the results tables name it: "REML multilevel+CR2", "REML aggregated", "REML+CR2"."""
        plain = self.multilevel or self.robust is not None  # robust tests replace a Knapp-Hartung adjustment
        base = self.model.method if plain else self.model.method_label
        kind = {"aggregate": " aggregated", "multilevel": " multilevel"}.get(self.choice.dependence, "")
        return f"{base}{kind}{'+CR2' if self.robust is not None else ''}"

    # -- the pooled effect and its test (robust ones when asked): PooledEstimate reads them from here
    @property
    def coefficients(self) -> tuple:
        return (self.robust or self.model).coefficients

    @property
    def df(self) -> float | None:
        """Degrees of freedom of the t test: Satterthwaite's under robust tests, Knapp-Hartung's, or None (z)."""
        if self.robust is not None:
            return self.robust.coefficients[0].df
        return None if self.multilevel else self.model.df

    @property
    def test(self) -> str:
        return "z" if self.df is None else "t"

    @property
    def prediction(self) -> Prediction:
        vcov = self.robust.vcov if self.robust is not None else self.model.vcov
        view = _Coefficients(self.model.coefficients, vcov, self.level)
        return prediction_with(view, None, self.tau2, self.df)

    # -- heterogeneity: the total of a multilevel model
    @property
    def sigma2(self) -> tuple[float, float] | None:
        return self.model.sigma2 if self.multilevel else None

    @property
    def tau2(self) -> float:
        return float(sum(self.model.sigma2)) if self.multilevel else self.model.tau2

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    @property
    def i2(self) -> float:
        return self.model.i2

    @property
    def i2_levels(self) -> tuple[float, float] | None:
        return self.model.i2_levels if self.multilevel else None

    @property
    def h2(self) -> float:
        return math.nan if self.multilevel else self.model.h2

    @property
    def q(self) -> float:
        return self.model.q

    @property
    def q_df(self) -> int:
        return self.model.q_df

    @property
    def q_pval(self) -> float:
        return self.model.q_pval

    @property
    def weights(self) -> np.ndarray:
        return multilevel_weights(self.model) if self.multilevel else self.model.weights

    @property
    def yi(self) -> np.ndarray:
        return self.model.yi

    @property
    def vi(self) -> np.ndarray:
        return self.model.vi


@dataclass(frozen=True)
class _Coefficients:
    coefficients: tuple
    vcov: np.ndarray
    level: float


def fit_dependent(yi, vi, study: Sequence, choice: Choice, *, method: str, hksj: bool, level: float) -> DependentResult:
    """Fit the reported model of one analysis: ``yi``, ``vi`` every effect that the choice uses (one per
    study under ``select``), ``study`` its study. Raises ModelError when the data cannot support it."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    labels = list(study)
    k_studies = len(set(labels))
    model: MetaResult | MultilevelResult
    if choice.dependence == "multilevel":
        model = fit_multilevel(y, v, labels, method=method, level=level)
        rob = robust_multilevel(model) if choice.robust else None
        return DependentResult(choice, model, rob, len(y), k_studies)
    if choice.dependence == "aggregate":
        agg = aggregate(y, v, labels, choice.rho)
        y, v, labels = agg.yi, agg.vi, list(agg.labels)
    model = fit(y, v, method=method, hksj=hksj, level=level)
    rob = robust_uni(model, labels) if choice.robust else None
    return DependentResult(choice, model, rob, len(np.asarray(yi)), k_studies)
