"""One row per study of an analysis (or per comparison when a shared control is split): the effect ``yi``,
its variance ``vi`` and standard error ``sei``, its own confidence interval ``ci_low``/``ci_high``, the
summary data it came from and where in the spreadsheet they are.

Arms are combined by the Cochrane Handbook formula; signs are harmonised so that a positive effect favours
the intervention. Column names say what a value is: ``n_i``/``n_c`` (participants, intervention and
control arm), ``events_i``/``total_i`` (events and participants of a dichotomous outcome) and so on; they
are given to ``escalc()`` under metafor's names only at the call.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from erh_report.analysis.effect_sizes import combine_arms, escalc
from erh_report.data.plan import Analysis, StudyInput
from erh_report.data.review import Review

#: The summary data of a continuous and of a dichotomous outcome, by name in ``escalc()`` (metafor's).
CONTINUOUS = {"n_i": "n1i", "mean_i": "m1i", "sd_i": "sd1i", "n_c": "n2i", "mean_c": "m2i", "sd_c": "sd2i"}
DICHOTOMOUS = {"events_i": "ai", "total_i": "n1i", "events_c": "ci", "total_c": "n2i"}


def _nan(x: float | int | None) -> float:
    return math.nan if x is None else float(x)


def study_intervals(yi: np.ndarray, sei: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Each study's own Wald confidence interval at ``level`` percent."""
    crit = float(stats.norm.ppf(0.5 + level / 200))
    return yi - crit * sei, yi + crit * sei


def _summary_data(analysis: Analysis, s: StudyInput) -> dict[str, float]:
    """The study's summary data under this module's names (NaN where not reported); ``yi``/``vi`` as
    reported for a contrast."""
    data = dict.fromkeys((*CONTINUOUS, *DICHOTOMOUS), math.nan)
    if s.kind == "contrast":
        c = s.contrast
        assert c is not None
        return {**data, "yi_reported": c.yi, "vi_reported": (c.sei or math.nan) ** 2, "participants": _nan(c.n_total)}
    ctrl = s.control
    assert ctrl is not None
    share = s.control_share
    data.update(yi_reported=math.nan, vi_reported=math.nan)
    if analysis.outcome_type == "dichotomous":
        n1 = float(sum(a.total or 0 for a in s.treated))
        n2 = (ctrl.total or 0) * share
        return {
            **data,
            "events_i": float(sum(a.events or 0 for a in s.treated)),
            "total_i": n1,
            "events_c": (ctrl.events or 0) * share,
            "total_c": n2,
            "participants": n1 + n2,
        }
    if len(s.treated) == 1:
        t = s.treated[0]
        n1, m1, sd1 = float(t.n or 0), _nan(t.mean), _nan(t.sd)
    else:
        n1, m1, sd1 = combine_arms([a.n for a in s.treated], [a.mean for a in s.treated], [a.sd for a in s.treated])
    n2 = (ctrl.n or 0) * share
    return {
        **data,
        "n_i": n1,
        "mean_i": m1,
        "sd_i": sd1,
        "n_c": n2,
        "mean_c": _nan(ctrl.mean),
        "sd_c": _nan(ctrl.sd),
        "participants": n1 + n2,
    }


def study_effects(review: Review, analysis: Analysis, inputs: list[StudyInput]) -> pd.DataFrame:
    """The study rows of one analysis (see the module's docstring); empty when no study reports it."""
    settings = review.config.settings
    studies = review.study_map
    records = []
    for s in inputs:
        study = studies[s.study_id]
        rob = review.rob(s.study_id, analysis.outcome_id)
        records.append(
            {
                "analysis_id": analysis.id,
                "study_id": s.study_id,
                "study": s.label,
                "comparison": s.comparison,
                "instrument": s.instrument,
                "instrument_name": s.instrument_name,
                "followup_months": s.followup_months,
                "direction": "higher is better" if s.sign > 0 else "lower is better",
                "data": s.kind,
                **_summary_data(analysis, s),
                "sign": s.sign,
                "population_risk": study.population_risk,
                "intervention_type": study.intervention_type,
                "design": study.design,
                "country": study.country or "",
                "year": study.year,
                "dose_hours": _nan(study.dose_hours),
                "sessions": _nan(study.sessions),
                "infant_age_weeks": _nan(study.infant_age_weeks),
                "n_randomised": study.n_randomised,
                "rob_overall": rob.overall if rob else "",
                "subgroup": s.subgroup,
                "source_rows": ";".join(map(str, s.rows)),
                "why": s.reason,
            }
        )
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    yi = frame["yi_reported"].to_numpy(dtype=float).copy()
    vi = frame["vi_reported"].to_numpy(dtype=float).copy()
    arms = (frame["data"] == "arms").to_numpy()
    if arms.any():
        names = DICHOTOMOUS if analysis.outcome_type == "dichotomous" else CONTINUOUS
        part = frame[arms]
        es = escalc(
            "OR" if analysis.measure == "PETO_OR" else analysis.measure,
            {metafor: part[ours].to_numpy() for ours, metafor in names.items()},
            smd_variant=settings.smd_variant,
        )
        yi[arms], vi[arms] = es.yi, es.vi
    frame["yi"] = yi * frame["sign"].to_numpy()
    frame["vi"] = vi
    frame["sei"] = np.sqrt(vi)
    frame["ci_low"], frame["ci_high"] = study_intervals(frame["yi"].to_numpy(), frame["sei"].to_numpy(), settings.level)
    return frame.drop(columns=["yi_reported", "vi_reported"])
