"""The analysis plan: which analyses run, and for each one the single effect each study contributes.

A study often reports several instruments for one outcome, several time points, or several
intervention arms. Pooling them all would count the study twice, so the plan states a rule, applies
it here, and records which spreadsheet rows were used and why. The numbers themselves (combining arms,
effect sizes) are computed later by the analysis layer; this module only chooses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from erh_report.data.schema import Outcome, OutcomeRow, PlannedAnalysis, ReviewConfig, Window


@dataclass(frozen=True)
class Analysis:
    """One planned meta-analysis: an outcome in a time window."""

    id: str
    domain_id: str
    domain: str
    domain_role: str
    outcome_id: str
    outcome: str
    outcome_type: str
    importance: str
    window_id: str
    window: str
    measure: str
    settings: PlannedAnalysis | None = None  # review.yaml's own settings for this analysis (pooling, model, ...)

    @property
    def pooling(self) -> str | None:
        """IV, MH or PETO when the analysis chooses its pooling itself (an imported RevMan analysis)."""
        return self.settings.pooling if self.settings else None


@dataclass(frozen=True)
class Arm:
    """One arm's summary data as read from outcome_data (row = spreadsheet row)."""

    row: int
    arm: str
    role: str
    n: int | None
    mean: float | None
    sd: float | None
    events: int | None
    total: int | None
    yi: float | None
    sei: float | None
    n_total: int | None


@dataclass(frozen=True)
class StudyInput:
    """What one study contributes to one analysis, and why.

    ``kind`` is ``arms`` (compute the effect from ``treated`` vs ``control``, the control's counts
    multiplied by ``control_share`` when a shared control is split) or ``contrast`` (a precomputed
    effect). ``sign`` is +1 when higher scores are better, -1 otherwise, so that after multiplying a
    positive effect always favours the intervention.
    """

    analysis_id: str
    study_id: str
    label: str
    comparison: str
    instrument: str
    instrument_name: str
    followup_months: float
    sign: int
    kind: str
    treated: tuple[Arm, ...]
    control: Arm | None
    control_share: float
    contrast: Arm | None
    rows: tuple[int, ...]
    reason: str
    subgroup: str = ""  # the row's subgroup in an analysis pooled by subgroup (RevMan's subgroup name)


@dataclass(frozen=True)
class Ambiguity:
    """A study that would contribute two effects to one analysis: the rule cannot pick one."""

    analysis_id: str
    study_id: str
    rows: tuple[int, ...]
    message: str


def planned_analyses(config: ReviewConfig) -> list[Analysis]:
    """The analyses of review.yaml's plan, in catalogue order then window order."""
    windows = {w.id: w for w in config.plan.windows}
    wanted: dict[tuple[str, str], PlannedAnalysis] | None = None
    if config.plan.analyses != "all":
        wanted = {(a.outcome, a.window): a for a in config.plan.analyses}
    out: list[Analysis] = []
    for domain in config.domains:
        for outcome in domain.outcomes:
            for window in config.plan.windows:
                if wanted is not None and (outcome.id, window.id) not in wanted:
                    continue
                measure = (
                    config.settings.dichotomous_measure
                    if outcome.type == "dichotomous"
                    else config.settings.effect_measure
                )
                planned = wanted.get((outcome.id, window.id)) if wanted is not None else None
                if planned is not None and planned.measure:
                    measure = planned.measure
                out.append(
                    Analysis(
                        id=(planned.id if planned is not None and planned.id else f"{outcome.id}_{window.id}"),
                        domain_id=domain.id,
                        domain=domain.name,
                        domain_role=domain.role,
                        outcome_id=outcome.id,
                        outcome=outcome.name,
                        outcome_type=outcome.type,
                        importance=outcome.importance or "not provided",
                        window_id=window.id,
                        window=windows[window.id].label,
                        measure=measure,
                        settings=planned,
                    )
                )
    return out


def _arm(row: int, r: OutcomeRow) -> Arm:
    return Arm(row, r.arm, r.role, r.n, r.mean, r.sd, r.events, r.total, r.yi, r.sei, r.n_total)


def _arm_size(arm: Arm) -> int:
    return arm.n or arm.total or arm.n_total or 0


def _fmt_months(months: float) -> str:
    return f"{months:g} month{'s' if months != 1 else ''}"


def select_effects(
    config: ReviewConfig,
    rows: Iterable[tuple[int, OutcomeRow]],
    labels: Mapping[str, str],
    *,
    every: bool = False,
) -> tuple[dict[str, list[StudyInput]], list[Ambiguity]]:
    """Apply the plan's selection rules: analysis id -> study inputs, plus what could not be chosen.

    Rows must already be checked (known study, outcome and instrument). Studies keep the order of
    studies.csv (``labels``' order). ``every``: instead of one, every instrument and time point a study
    reports in the window (for aggregation and multilevel models), in catalogue then time order.
    """
    plan = config.plan
    outcomes: dict[str, Outcome] = {o.id: o for d in config.domains for o in d.outcomes}
    study_order = {sid: i for i, sid in enumerate(labels)}
    # outcome -> (study, subgroup) -> (instrument, months) -> arms; a study may sit in several subgroups
    grouped: dict[str, dict[tuple[str, str], dict[tuple[str, float], list[Arm]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    subgroup_order: dict[str, int] = {}
    for row, r in rows:
        grouped[r.outcome][(r.study_id, r.subgroup or "")][(r.instrument, r.followup_months)].append(_arm(row, r))
        subgroup_order.setdefault(r.subgroup or "", len(subgroup_order))

    selected: dict[str, list[StudyInput]] = {}
    ambiguities: list[Ambiguity] = []
    for analysis in planned_analyses(config):
        outcome = outcomes[analysis.outcome_id]
        window = next(w for w in plan.windows if w.id == analysis.window_id)
        rank = {ins.id: i for i, ins in enumerate(outcome.instruments)}
        inputs: list[StudyInput] = []
        by_study = grouped.get(outcome.id, {})
        for study_id, subgroup in sorted(
            by_study, key=lambda s: (subgroup_order[s[1]], study_order.get(s[0], len(study_order)))
        ):
            measurements = {
                key: arms for key, arms in by_study[(study_id, subgroup)].items() if window.contains(key[1])
            }
            if not measurements:
                continue
            picks = (
                _every_measurement(measurements, rank)
                if every
                else [_choose(analysis, study_id, measurements, rank, plan.instrument_rule, window)]
            )
            for chosen in picks:
                if isinstance(chosen, Ambiguity):
                    ambiguities.append(chosen)
                    continue
                (instrument, months), reason = chosen
                arms = measurements[(instrument, months)]
                made = _study_inputs(
                    analysis,
                    study_id,
                    labels.get(study_id, study_id),
                    outcome,
                    instrument,
                    months,
                    arms,
                    reason,
                    plan.multi_arm,
                )
                if isinstance(made, Ambiguity):
                    ambiguities.append(made)
                else:
                    inputs.extend(replace(m, subgroup=subgroup) if subgroup else m for m in made)
        selected[analysis.id] = inputs
    return selected, ambiguities


def _every_measurement(
    measurements: Mapping[tuple[str, float], list[Arm]], rank: Mapping[str, int]
) -> list[tuple[tuple[str, float], str]]:
    """Every (instrument, time point) of a study in the window, with the reason it is used."""
    keys = sorted(measurements, key=lambda key: (rank.get(key[0], len(rank)), key[1]))
    return [
        (key, f"{key[0]} at {_fmt_months(key[1])}: one of the study's {len(keys)} effects in the window")
        for key in keys
    ]


def _choose(
    analysis: Analysis,
    study_id: str,
    measurements: Mapping[tuple[str, float], list[Arm]],
    rank: Mapping[str, int],
    rule: str,
    window: Window,
) -> tuple[tuple[str, float], str] | Ambiguity:
    """Pick one (instrument, time point) for the study, or say why the rule cannot."""
    instruments = sorted({k[0] for k in measurements}, key=lambda i: rank.get(i, len(rank)))
    reasons: list[str] = []
    if len(instruments) == 1:
        instrument = instruments[0]
        reasons.append(f"{instrument}: only instrument reported")
    elif rule == "single":
        rows = tuple(a.row for arms in measurements.values() for a in arms)
        return Ambiguity(
            analysis.id,
            study_id,
            rows,
            f"reports {len(instruments)} instruments ({', '.join(instruments)}) in window "
            f"'{window.label}' and the plan's instrument_rule is 'single'",
        )
    elif rule == "largest_n":

        def size(ins: str) -> int:
            return max(sum(_arm_size(a) for a in arms) for k, arms in measurements.items() if k[0] == ins)

        instrument = max(instruments, key=lambda i: (size(i), -rank.get(i, 0)))
        others = ", ".join(i for i in instruments if i != instrument)
        reasons.append(f"{instrument}: largest sample (also reported: {others})")
    else:
        instrument = instruments[0]
        others = ", ".join(i for i in instruments if i != instrument)
        reasons.append(f"{instrument}: first in the catalogue's order (also reported: {others})")

    times = sorted(k[1] for k in measurements if k[0] == instrument)
    if len(times) == 1:
        months = times[0]
        reasons.append(f"{_fmt_months(months)}: only time point in window")
    elif window.pick == "single":
        rows = tuple(a.row for k, arms in measurements.items() if k[0] == instrument for a in arms)
        return Ambiguity(
            analysis.id,
            study_id,
            rows,
            f"reports {instrument} at {len(times)} time points "
            f"({', '.join(_fmt_months(t) for t in times)}) in window '{window.label}' "
            "and the window's pick is 'single'",
        )
    else:
        months = times[0] if window.pick == "earliest" else times[-1]
        others = ", ".join(_fmt_months(t) for t in times if t != months)
        reasons.append(f"{_fmt_months(months)}: {window.pick} in window (also: {others})")
    return (instrument, months), "; ".join(reasons)


def _study_inputs(
    analysis: Analysis,
    study_id: str,
    label: str,
    outcome: Outcome,
    instrument_id: str,
    months: float,
    arms: list[Arm],
    reason: str,
    multi_arm: str,
) -> list[StudyInput] | Ambiguity:
    """Turn the chosen arms into one effect (or one per arm when a shared control is split)."""
    instrument = next(i for i in outcome.instruments if i.id == instrument_id)
    sign = 1 if instrument.higher_is_better else -1
    rows = tuple(a.row for a in arms)
    contrasts = [a for a in arms if a.role == "contrast"]
    treated = tuple(a for a in arms if a.role == "intervention")
    controls = [a for a in arms if a.role == "control"]
    if not instrument.higher_is_better:
        reason += "; sign reversed (lower is better)"
    common = dict(
        analysis_id=analysis.id,
        study_id=study_id,
        instrument=instrument.id,
        instrument_name=instrument.name,
        followup_months=months,
        sign=sign,
    )
    if contrasts:
        if len(contrasts) > 1 or treated or controls:
            return Ambiguity(
                analysis.id,
                study_id,
                rows,
                f"has {'a precomputed effect and arm data' if treated or controls else 'two precomputed effects'} "
                f"for {instrument.id} at {_fmt_months(months)}",
            )
        return [
            StudyInput(
                label=label,
                comparison="",
                kind="contrast",
                treated=(),
                control=None,
                control_share=1.0,
                contrast=contrasts[0],
                rows=rows,
                reason=reason + "; precomputed effect",
                **common,
            )
        ]  # type: ignore[arg-type]
    if len(controls) != 1 or not treated:
        return Ambiguity(
            analysis.id,
            study_id,
            rows,
            f"needs one control arm and at least one intervention arm for {instrument.id} at "
            f"{_fmt_months(months)} (found {len(controls)} control, {len(treated)} intervention)",
        )
    control = controls[0]
    if len(treated) == 1:
        return [
            StudyInput(
                label=label,
                comparison="",
                kind="arms",
                treated=treated,
                control=control,
                control_share=1.0,
                contrast=None,
                rows=rows,
                reason=reason,
                **common,
            )
        ]  # type: ignore[arg-type]
    names = ", ".join(a.arm for a in treated)
    if multi_arm == "combine":
        return [
            StudyInput(
                label=label,
                comparison="",
                kind="arms",
                treated=treated,
                control=control,
                control_share=1.0,
                contrast=None,
                rows=rows,
                reason=reason + f"; {len(treated)} intervention arms ({names}) combined (Cochrane Handbook formula)",
                **common,
            )
        ]  # type: ignore[arg-type]
    share = 1.0 / len(treated)
    return [
        StudyInput(
            label=f"{label} ({a.arm})",
            comparison=a.arm,
            kind="arms",
            treated=(a,),
            control=control,
            control_share=share,
            contrast=None,
            rows=(a.row, control.row),
            reason=reason + f"; shared control split across {len(treated)} arms ({names})",
            **common,  # type: ignore[arg-type]
        )
        for a in treated
    ]
