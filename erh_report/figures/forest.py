"""Forest plots as RevMan's: what each row says, from the results.

``forest_spec`` turns one analysis (optionally split by a subgroup variable) into a ``ForestSpec`` of
formatted text and numbers (per-arm data, weights, estimates, pooled rows, the heterogeneity and test
lines, risk-of-bias judgements, the axis), so the picture only draws what the results say; ``forest_draw`` lays
it out. ``jobs`` makes one figure per analysis and one per subgroup variable, with caption and alt text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context

from erh_report import rob_tools
from erh_report import vocabulary as vocab
from erh_report.analysis.model import MetaResult
from erh_report.analysis.subgroup import SubgroupAnalysis
from erh_report.figures import style as st
from erh_report.figures import words
from erh_report.figures.agg_text import remembered_font_lookup
from erh_report.figures.forest_draw import Column, ForestSpec, Mark, Row, draw_forest, paginate
from erh_report.figures.forest_groups import (
    aggregated_suffix,
    dependence_footnotes,
    dependent_header,
    dependent_words,
    grouped_rows,
)
from erh_report.figures.output import Figure, Job, figure, message_job
from erh_report.numbers import NumberStyle
from erh_report.synthesis import AnalysisResult, ReviewResults

# ------------------------------------------------------------------------------------- axis
NICE = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
RATIO_LIMITS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1000.0)


def axis_limit(needed: float, log: bool) -> float:
    """The smallest round limit that holds ``needed`` (on the model scale: log ratios for ratios)."""
    if log:
        return next((lim for lim in RATIO_LIMITS if math.log(lim) >= needed * 0.999), RATIO_LIMITS[-1])
    scale = 1.0
    while needed > NICE[-1] * scale:
        scale *= 10
    while needed and needed < NICE[0] * scale / 10:
        scale /= 10
    return next(n * scale for n in NICE if n * scale >= needed * 0.999)


def axis_ticks(limit: float, log: bool) -> tuple[float, ...]:
    if log:
        table = {
            2.0: (0.5, 0.7, 1, 1.5, 2),
            5.0: (0.2, 0.5, 1, 2, 5),
            10.0: (0.1, 0.2, 0.5, 1, 2, 5, 10),
            20.0: (0.05, 0.2, 1, 5, 20),
            50.0: (0.02, 0.1, 1, 10, 50),
            100.0: (0.01, 0.1, 1, 10, 100),
            1000.0: (0.001, 0.01, 0.1, 1, 10, 100, 1000),
        }
        return tuple(float(t) for t in table[limit])
    return (-limit, -limit / 2, 0.0, limit / 2, limit)


def tick_label(style: NumberStyle, value: float) -> str:
    text = f"{value:g}"
    return text.replace("-", style.minus)


def _needed(values: list[float], core: list[float]) -> float:
    """How far the axis must reach: every pooled bound, and the study estimates unless one outlier
    would squash all the others (then its CI ends in an arrow)."""
    core_abs = [abs(v) for v in core if math.isfinite(v)]
    all_abs = [abs(v) for v in values if math.isfinite(v)]
    base = max(core_abs, default=0.0)
    if all_abs:
        q90 = float(np.quantile(all_abs, 0.9))
        base = max(base, q90)
        base = max(base, min(max(all_abs), 2.5 * max(base, 1e-9)))
    return base or 1.0


# ------------------------------------------------------------------------------------- cells
def _decimals(values: pd.Series) -> int:
    """As few decimals (0-2) as show every reported value exactly."""
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    for d in (0, 1, 2):
        if np.all(np.abs(np.round(finite, d) - finite) < 1e-9):
            return d
    return 2


def _count(style: NumberStyle, x: float) -> str:
    """Arm sizes: whole numbers, or one decimal for a control shared between comparisons."""
    if not math.isfinite(x):
        return ""
    return style.integer(x) if abs(x - round(x)) < 1e-9 else style.number(x, 1)


def _columns(dichotomous: bool, groups: tuple[str, str] = ("Intervention", "Control")) -> tuple[Column, ...]:
    treated, control = groups
    if dichotomous:
        arms = (
            Column("events_i", "Events", treated),
            Column("total_i", "Total", treated),
            Column("events_c", "Events", control),
            Column("total_c", "Total", control),
        )
    else:
        arms = (
            Column("mean_i", "Mean", treated),
            Column("sd_i", "SD", treated),
            Column("n_i", "Total", treated),
            Column("mean_c", "Mean", control),
            Column("sd_c", "SD", control),
            Column("n_c", "Total", control),
        )
    return (*arms, Column("weight", "Weight"), Column("estimate", "", align="center"))


def _study_cells(
    style: NumberStyle, row: Mapping[str, Any], measure: str, decimals: dict[str, int], dichotomous: bool
) -> dict[str, str]:
    cells: dict[str, str] = {}
    if row["data"] == "aggregated":  # several effects of the study combined: its arm sizes only
        keys = ("total_i", "total_c") if dichotomous else ("n_i", "n_c")
        cells.update({key: _count(style, float(row[key])) for key in keys})
    elif row["data"] == "arms":
        if dichotomous:
            for key in ("events_i", "total_i", "events_c", "total_c"):
                cells[key] = _count(style, float(row[key]))
        else:
            for key in ("mean_i", "sd_i", "mean_c", "sd_c"):
                cells[key] = style.number(float(row[key]), decimals[key])
            cells["n_i"], cells["n_c"] = _count(style, float(row["n_i"])), _count(style, float(row["n_c"]))
    else:
        cells["n_i" if not dichotomous else "total_i"] = "\u2020"
        cells["generic_yi"], cells["generic_se"] = (style.number(float(row[c]), 4) for c in ("yi", "sei"))
    w = float(row["weight"])
    cells["weight"] = f"{style.number(w, 1)}%" if math.isfinite(w) else ""
    cells["estimate"] = (
        words.estimate(style, measure, row["yi"], row["ci_low"], row["ci_high"])
        if math.isfinite(float(row["yi"]))
        else "Not estimable"
    )
    return cells


def _generic_columns(measure: str) -> tuple[Column, ...]:
    """RevMan's columns of generic inverse-variance data: the effect as entered (log scale for ratios), SE."""
    m = vocab.measure(measure)
    entered = f"log[{m.header}]" if m.ratio else m.header
    return (
        Column("generic_yi", entered),
        Column("generic_se", "SE"),
        Column("weight", "Weight"),
        Column("estimate", "", align="center"),
    )


def _sum_cells(style: NumberStyle, part: pd.DataFrame, dichotomous: bool) -> dict[str, str]:
    arms = part[part["data"] == "arms"]
    keys = ("total_i", "total_c") if dichotomous else ("n_i", "n_c")
    return {k: _count(style, float(arms[k].sum())) for k in keys} if len(arms) else {}


def _pooled_rows(
    style: NumberStyle,
    measure: str,
    r: MetaResult | None,
    part: pd.DataFrame,
    label: str,
    kind: str,
    dichotomous: bool,
    weight: float,
    note: str,
    gid: str,
) -> list[Row]:
    """The Total / Subtotal row, total events, heterogeneity and overall-effect lines."""
    cells = _sum_cells(style, part, dichotomous)
    rows: list[Row] = []
    if r is None:
        cells["estimate"] = "Not estimable"
        rows.append(Row(kind, label, cells, bold=True, gid=gid))
    else:
        cells["weight"] = f"{style.number(weight, 1)}%" if math.isfinite(weight) else ""
        cells["estimate"] = words.estimate(style, measure, r.estimate, r.ci_low, r.ci_high)
        mark = Mark("diamond", *(float(vocab.measure(measure).shown(x)) for x in (r.estimate, r.ci_low, r.ci_high)))
        rows.append(Row(kind, label, cells, mark, bold=True, gid=gid))
    if dichotomous:
        arms = part[part["data"] == "arms"]
        if len(arms):
            rows.append(
                Row(
                    "events",
                    "Total events",
                    {
                        "events_i": _count(style, float(arms["events_i"].sum())),
                        "events_c": _count(style, float(arms["events_c"].sum())),
                    },
                    gid=f"{gid}-events",
                )
            )
    if r is not None and kind == "total" and words.pi_finite(r):
        lo, hi = (float(vocab.measure(measure).shown(x)) for x in (r.pi_low, r.pi_high))
        rows.append(
            Row(
                "pi",
                f"{r.level:g}% prediction interval",
                {"estimate": style.brackets(lo, hi)},
                Mark("interval", float(vocab.measure(measure).shown(r.estimate)), lo, hi),
                gid="forest-pi",
            )
        )
    if r is not None:
        rows.append(Row("note", words.heterogeneity_line(style, r), {}, gid=f"{gid}-heterogeneity"))
        rows.append(Row("note", words.overall_line(style, r), {}, gid=f"{gid}-overall"))
    elif note:
        rows.append(Row("note", note[:1].upper() + note[1:] + ".", {}, gid=f"{gid}-note"))
    return rows


def _subgroup_test_line(style: NumberStyle, sg: SubgroupAnalysis) -> str:
    t = sg.separate_tau2_test
    if t is not None:
        return (
            f"Test for subgroup differences: Chi² = {style.number(t.statistic)}, df = {t.df[0]} "
            f"({style.p(t.pval)}), I² = {style.percent(t.i2 or 0.0, 1)}"
        )
    m = sg.moderator_test
    if m is not None:
        stat = "F" if len(m.df) > 1 else "Chi²"
        df = ", ".join(str(d) for d in m.df)
        return (
            f"Test for subgroup differences (common τ²): {stat} = {style.number(m.statistic)}, "
            f"df = {df} ({style.p(m.pval)})"
        )
    return "Test for subgroup differences: not estimable"


# ------------------------------------------------------------------------------------- spec
def forest_spec(
    results: ReviewResults,
    ar: AnalysisResult,
    style: NumberStyle,
    *,
    subgroup: str | None = None,
    rob_columns: bool = True,
) -> ForestSpec:
    """Everything the forest plot of one analysis shows, formatted; ``subgroup`` splits it by a variable."""
    a, review = ar.analysis, results.review
    settings = review.config.settings
    measure, dichotomous = a.measure, a.outcome_type == "dichotomous"
    log = vocab.measure(measure).ratio
    every = ar.model_effects is not None and subgroup is None  # a multilevel model: each effect, by study
    effects = (ar.model_effects if every else ar.effects).reset_index(drop=True)
    r = ar.result
    decimals = {k: _decimals(effects[k]) for k in ("mean_i", "sd_i", "mean_c", "sd_c")}
    wmax = float(np.nanmax(effects["weight"])) if ar.k and effects["weight"].notna().any() else math.nan

    rob_tool = rob_tools.tool(settings.rob_tool)
    rob_rows: dict[str, tuple[str, ...] | None] = {}
    for sid in effects["study_id"]:
        rb = review.rob(sid, a.outcome_id)
        rob_rows[sid] = tuple(getattr(rb, d) for d in (*rob_tool.domain_ids, "overall")) if rb else None

    records = effects.to_dict("records")  # a row as a dict: a pandas row of mixed columns is slow to make

    def study_row(i: int) -> Row:
        row = records[i]
        w = float(row["weight"])
        size = math.sqrt(w / wmax) if math.isfinite(w) and wmax > 0 else 0.6
        mark = Mark(
            "square", *(float(vocab.measure(measure).shown(row[c])) for c in ("yi", "ci_low", "ci_high")), size=size
        )
        label = str(row["study"]) + (f" \u2014 {row['comparison']}" if row["comparison"] else "")
        label += aggregated_suffix(row)
        return Row(
            "study",
            label,
            _study_cells(style, row, measure, decimals, dichotomous),
            mark,
            rob_rows[row["study_id"]],
            gid=f"forest-study-{i + 1}",
        )

    rows: list[Row] = []
    setup = a.settings if a.pooling else None  # an analysis set up as in RevMan
    totals = setup.totals if setup else "YES"
    if subgroup is not None:
        sg = ar.subgroups[subgroup]
        groups = effects[subgroup].astype(str)
        for n, level in enumerate(sg.levels, start=1):
            idx = [i for i in range(len(effects)) if groups.iloc[i] == level]
            heading = f"{a.id}.{n} {level}" if setup else f"{vocab.variable_name(subgroup)}: {level}"
            rows.append(Row("heading", heading, {}, bold=True, gid=f"forest-subgroup-{n}"))
            rows.extend(study_row(i) for i in idx)
            part = effects.iloc[idx]
            weight = float(part["weight"].sum())
            sub = sg.results.get(level)
            rows.extend(
                _pooled_rows(
                    style,
                    measure,
                    sub,
                    part,
                    f"Subtotal ({settings.level:g}% CI)",
                    "subtotal",
                    dichotomous,
                    weight,
                    sg.errors.get(level, ""),
                    f"forest-subtotal-{n}",
                )
            )
            rows.append(Row("blank", "", {}))
    elif every:
        rows.extend(grouped_rows(effects, study_row))
        rows.append(Row("blank", "", {}))
    else:
        rows.extend(study_row(i) for i in range(len(effects)))
        rows.append(Row("blank", "", {}))
    if totals == "YES" or subgroup is None:
        rows.extend(
            _pooled_rows(
                style,
                measure,
                r,
                ar.effects if every else effects,  # arm totals: each study once
                f"Total ({settings.level:g}% CI)",
                "total",
                dichotomous,
                100.0,
                ar.note,
                "forest-total",
            )
        )
    if subgroup is not None and (setup is None or setup.subgroup_test) and totals != "NO":
        rows.append(Row("note", _subgroup_test_line(style, ar.subgroups[subgroup]), {}, gid="forest-subgroup-test"))

    # axis
    values = [float(v) for v in effects["yi"]]
    core: list[float] = []
    if r is not None:
        core += [r.ci_low, r.ci_high]
        if words.pi_finite(r):
            core += [r.pi_low, r.pi_high]
    if not core:
        core = [float(v) for v in effects["ci_low"]] + [float(v) for v in effects["ci_high"]]
        core = [float(np.median(np.abs(core)))] if core else [1.0]
    limit = axis_limit(_needed(values, core), log)
    ticks = axis_ticks(limit, log)
    xlim = (1 / limit, limit) if log else (-limit, limit)

    footnotes: list[str] = []
    generic = setup is not None and bool((effects["data"] != "arms").all())  # RevMan's generic inverse variance
    if (effects["data"] == "contrast").any() and not generic:
        footnotes.append("\u2020 Effect size as reported by the study (arm data not reported; not in the arm totals).")
    lower = effects["direction"] == "lower is better"
    if lower.any():
        reversed_ = ", ".join(sorted(set(effects.loc[lower, "instrument"].astype(str))))
        what = "ratios inverted" if log else "signs reversed"
        footnotes.append(
            f"Lower is better on {reversed_}: {what} so that values "
            f"{'above 1' if log else 'above 0'} favour the intervention; arm data as reported."
        )
    show_rob = rob_columns and ar.k > 0 and "risk_of_bias" not in review.not_provided
    if show_rob:
        missing = [
            str(effects.loc[i, "study"]) for i in range(len(effects)) if rob_rows[effects.loc[i, "study_id"]] is None
        ]
        footnotes.append(rob_tool.legend())
        if missing:
            footnotes.append(f"No risk-of-bias assessment for {a.outcome.lower()} in: {', '.join(missing)} (grey).")
    if "risk_of_bias" in review.not_provided:
        footnotes.append("Risk of bias: not provided by the source.")
    footnotes.extend(dependence_footnotes(r, every))
    if r is not None and ar.note:
        footnotes.append(f"Note: {ar.note}.")
    if r is not None and words.pi_finite(r):
        footnotes.append(
            f"The {r.level:g}% prediction interval is where the effect of a new study like these is expected to lie."
        )
    if review.illustrative:
        footnotes.append(vocab.ILLUSTRATIVE_NOTICE)
    header2 = words.model_header(r.method if r else settings.method, settings.hksj, settings.level)
    header2 = dependent_header(r, settings.level) or header2
    groups = ("Intervention", "Control")
    favours = (style.spell("Favours control"), style.spell("Favours intervention"))
    if setup is not None:
        header2 = words.pooling_header(setup.pooling or "IV", setup.model == "random", setup.level or settings.level)
        groups = tuple(setup.group_labels[:2]) if setup.group_labels and len(setup.group_labels) > 1 else groups
        if setup.graph_labels and len(setup.graph_labels) > 1:  # RevMan's: left, right, as the source has them
            favours = (setup.graph_labels[0], setup.graph_labels[1])
    by = "" if setup else (f", by {vocab.variable_name(subgroup).lower()}" if subgroup else "")
    return ForestSpec(
        title=words.analysis_title(a) + by,
        columns=_generic_columns(measure) if generic else _columns(dichotomous, groups),  # type: ignore[arg-type]
        measure_header=(vocab.measure(measure).header, header2),
        rows=tuple(rows),
        log=log,
        xlim=xlim,
        ticks=ticks,
        tick_labels=tuple(tick_label(style, t) for t in ticks),
        null=vocab.measure(measure).null,
        favours=favours,
        show_rob=show_rob,
        footnotes=tuple(style.spell(f) for f in footnotes),
        rob_tool=rob_tool,
    )


# ------------------------------------------------------------------------------------- jobs
def _side(low: float, high: float, neutral: bool = False) -> str:
    """Where a CI on the model scale lies (0 is no effect for differences and log ratios alike); ``neutral``
    when the data's direction is the source's (an imported analysis), not "positive favours the intervention"."""
    if neutral:
        return (
            "entirely right of the line of no effect"
            if low > 0
            else "entirely left of the line of no effect"
            if high < 0
            else "across the line of no effect"
        )
    if low > 0:
        return "entirely on the side favouring the intervention"
    if high < 0:
        return "entirely on the side favouring the control"
    return "across the line of no effect"


def describe(
    results: ReviewResults, ar: AnalysisResult, style: NumberStyle, subgroup: str | None = None
) -> tuple[str, str, str]:
    """Title, caption and alt text of a forest plot, from the results."""
    a, r = ar.analysis, ar.result
    measure = a.measure
    title = f"Forest plot: {words.analysis_title(a)}" + (
        f", by {vocab.variable_name(subgroup).lower()}" if subgroup and not a.pooling else ""
    )
    favours = "values above 1" if vocab.measure(measure).ratio else "positive values"
    favour_words = f"{favours} favour the intervention"
    setup = a.settings if a.pooling else None
    if setup is not None and setup.graph_labels and len(setup.graph_labels) > 1:  # the source's own words
        favour_words = (
            f"left of the line of no effect: {setup.graph_labels[0].lower()}; right: {setup.graph_labels[1].lower()}"
        )
    studies = f"{ar.k} stud{'y' if ar.k == 1 else 'ies'}, {style.integer(ar.participants)} participants"
    if r is None:
        caption = (
            f"{title}. {studies}; {vocab.measure(measure).prose(style.spelling)}; not pooled ({ar.note}). "
            f"Squares show each study's estimate with its {results.review.config.settings.level:g}% CI; "
            f"{favour_words}."
        )
        alt = (
            f"Forest plot of {ar.k} study rows for {words.analysis_title(a).lower()}; no pooled estimate "
            f"because {ar.note}."
        )
        return title, style.spell(caption), alt
    pooled = words.estimate_ci(style, measure, r.estimate, r.ci_low, r.ci_high, r.level)
    pi = ""
    if words.pi_finite(r):
        lo, hi = (float(vocab.measure(measure).shown(x)) for x in (r.pi_low, r.pi_high))
        pi = f"; {r.level:g}% prediction interval, {style.interval(lo, hi)}"
    sub = ""
    if subgroup:
        sg = ar.subgroups[subgroup]
        sub = f" Subgroups by {vocab.variable_name(subgroup).lower()}: {_subgroup_test_line(style, sg)}."
    model = dependent_words(r) or words.model_words(r.method, r.hksj)
    if setup is not None and setup.pooling:
        model = f"{vocab.POOLINGS[setup.pooling][1]} method, " + (
            "random-effects model (DerSimonian-Laird τ²)" if setup.model == "random" else "fixed-effect model"
        )
    caption = (
        f"{title}. {studies}; {vocab.measure(measure).prose(style.spelling)}, "
        f"{model}. Pooled {measure} {pooled}, {style.p(r.pval)}; "
        f"{style.i2(r.i2)}{pi}.{sub} Squares show each study's estimate (area proportional to "
        f"its weight) with its {r.level:g}% CI; the diamond shows the pooled estimate; {favour_words}."
    )
    yi = np.asarray(vocab.measure(measure).shown(ar.effects["yi"].to_numpy(dtype=float)))
    alt = (
        f"Forest plot of {ar.k} study rows for {words.analysis_title(a).lower()}. Study estimates range from "
        f"{style.number(float(np.nanmin(yi)))} to {style.number(float(np.nanmax(yi)))} ({measure}). The pooled "
        f"diamond is at {pooled}, {_side(r.ci_low, r.ci_high, neutral=setup is not None)}. {style.i2(r.i2)}."
    )
    return title, style.spell(caption), style.spell(alt)


def jobs(results: ReviewResults, style: NumberStyle, rob_columns: bool = True) -> list[Job]:
    """A forest plot for every analysis, and one per subgroup variable that was analysed."""
    out: list[Job] = []
    for ar in results.analyses:
        variants: list[str | None] = [None, *ar.subgroups]
        if ar.analysis.pooling and ar.subgroups:  # an imported analysis with subgroups: RevMan draws it once
            variants = list(ar.subgroups)
        for sub in variants:
            fid = f"forest-{ar.analysis.id}" + (f"-{sub}" if sub else "")
            title, caption, alt = describe(results, ar, style, sub)
            fig = figure(fid, "forest_subgroup" if sub else "forest", title, caption, alt, ar.analysis.id)
            if ar.k == 0:
                out.append(
                    message_job(
                        fig,
                        [
                            f"{words.analysis_title(ar.analysis)}: {ar.note}.",
                            "No forest plot can be drawn without studies.",
                        ],
                    )
                )
                continue
            spec = forest_spec(results, ar, style, subgroup=sub, rob_columns=rob_columns)
            with rc_context(st.RC), remembered_font_lookup():  # text measured as the figure draws it
                pages = paginate(spec)
            out += [
                Job(
                    page_figure(fig, n, len(pages)), draw_forest, page, len(page.rows) * (1.6 if page.show_rob else 1.2)
                )
                for n, page in enumerate(pages, start=1)
            ]
    return out


def page_figure(fig: Figure, page: int, pages: int) -> Figure:
    """The record of one page of a figure printed over ``pages`` pages: the first keeps the figure's id and
    caption, later pages are ``<id>-page<n>`` and their caption names the figure and the page."""
    if pages == 1:
        return fig
    alt = f"{fig.alt_text} Page {page} of {pages}."
    if page == 1:
        return replace(
            fig, caption=f"{fig.caption} Page 1 of {pages}; continued on the next page.", alt_text=alt, pages=pages
        )
    return replace(
        fig,
        alt_text=alt,
        id=f"{fig.id}-page{page}",
        svg_path=fig.svg_path.with_name(f"{fig.id}-page{page}.svg"),
        png_path=fig.png_path.with_name(f"{fig.id}-page{page}.png"),
        caption=f"{fig.title}. Page {page} of {pages}.",  # the label before it says "(continued)"
        page=page,
        pages=pages,
        continues=fig.id,
    )
