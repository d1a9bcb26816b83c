"""The study rows of a multilevel forest plot: each effect drawn, grouped under its study.

A study's label row says how many effects it gave ("Ahmed 2015 (3 effects)"); its effects follow,
each labelled by instrument and time point (and comparison, for a split control), so that a reader sees
which effects the three-level model pooled and where each study's weight went.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from erh_report.analysis.dependent import DependentResult
from erh_report.figures.forest_draw import Row
from erh_report.render.words import count_word
from erh_report.vocabulary import method


def effect_label(row: pd.Series) -> str:
    """ "PBQ, 3 months" (with the comparison when the study has several)."""
    months = float(row["followup_months"])
    label = f"{row['instrument']}, {months:g} {count_word(int(months) if months.is_integer() else 2, 'month')}"
    return label + (f" \u2014 {row['comparison']}" if row["comparison"] else "")


def grouped_rows(effects: pd.DataFrame, study_row: Callable[[int], Row]) -> list[Row]:
    """A label row per study (with its number of effects), then its effects' rows, studies in data order."""
    rows: list[Row] = []
    order = list(dict.fromkeys(effects["study_id"]))
    for n, sid in enumerate(order, start=1):
        idx = [i for i in range(len(effects)) if effects["study_id"].iloc[i] == sid]
        count = len(idx)
        label = f"{effects['study'].iloc[idx[0]]} ({count} {count_word(count, 'effect')})"
        rows.append(Row("heading", label, {}, gid=f"forest-study-group-{n}"))
        rows.extend(replace(study_row(i), label=effect_label(effects.iloc[i])) for i in idx)
    return rows


def aggregated_suffix(row: Mapping[str, Any]) -> str:
    """ " (3 effects aggregated)" after a study whose effects were combined into its row."""
    n = row.get("effects_in_study")
    if row.get("data") != "aggregated" or n is None or n != n:
        return ""
    return f" ({int(n)} effects aggregated)"


def dependent_header(r, level: float) -> str:
    """The model header of a forest plot whose model is not the usual one: "IV, Multilevel (REML), CR2,
    95% CI"; "" for the usual model."""
    if not isinstance(r, DependentResult):
        return ""
    kind = "Multilevel" if r.multilevel else "Random"
    extra = "".join((", aggregated" if r.choice.dependence == "aggregate" else "", ", CR2" if r.robust else ""))
    return f"IV, {kind} ({r.method}){extra}, {level:g}% CI"


def dependent_words(r) -> str:
    """The model as a caption names it; "" for the usual model."""
    if not isinstance(r, DependentResult):
        return ""
    name = method(r.method).name
    if r.multilevel:
        text = f"three-level model of effects within studies ({name})"
    elif r.choice.dependence == "aggregate":
        text = (
            f"random-effects model ({name} τ²) of each study's effects aggregated "
            f"(within-study correlation {r.choice.rho:g})"
        )
    else:
        text = f"random-effects model ({name} τ²)"
    return text + (", cluster-robust CI (CR2, Satterthwaite df)" if r.robust is not None else "")


def dependence_footnotes(r, grouped: bool) -> list[str]:
    """What a reader needs to read the rows of a model with several effects per study (``grouped``: each
    effect drawn under its study; otherwise the rows are one selected effect per study, as in subgroups)."""
    if not isinstance(r, DependentResult):
        return []
    notes = []
    if r.multilevel and grouped:
        notes.append(
            f"Each effect is shown under its study ({r.k_effects} effects from {r.k_studies} studies); weights are "
            "the three-level model's. Heterogeneity: σ² between and within studies; I² is their total."
        )
    elif r.multilevel:
        notes.append(
            f"Rows: the selected effect of each study; the total is the three-level model of all {r.k_effects} "
            f"effects from {r.k_studies} studies."
        )
    if r.robust is not None:
        notes.append(
            "CI and test cluster-robust by study (CR2 small-sample correction, Satterthwaite degrees of freedom)."
        )
    return notes
