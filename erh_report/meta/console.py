"""Plain-text summaries for the terminal, laid out like metafor's print() so R users read them at once."""

from __future__ import annotations

import math

from erh_report.analysis.heterogeneity import q_profile
from erh_report.analysis.model import MetaResult, predict
from erh_report.vocabulary import method


def _num(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    return f"{x:.{digits}f}"


def _pval(p: float) -> str:
    if math.isnan(p):
        return "NA"
    return "<.0001" if p < 0.0001 else f"{p:.4f}"


def _pval_clause(p: float) -> str:
    return "< .0001" if p < 0.0001 else f"= {_pval(p)}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def format_meta_summary(result: MetaResult, *, measure: str, extras: dict | None = None) -> str:
    extras = extras or {}
    kind = "Common-Effect" if result.method == "FE" else "Random-Effects"
    if not result.intercept_only:
        kind = "Mixed-Effects" if result.method != "FE" else "Common-Effect (meta-regression)"
    if result.pooling != "IV":
        kind = {"MH": "Mantel-Haenszel", "PETO": "Peto"}.get(result.pooling, result.pooling) + " " + kind
    lines = [
        f"{kind} Model (k = {result.k}; measure: {measure}"
        + ("" if result.method == "FE" else f"; tau^2 estimator: {result.method} ({method(result.method).name})")
        + ")",
        "",
    ]
    if result.method != "FE":
        ci = q_profile(result) if result.intercept_only and result.pooling == "IV" else None
        lines.append(
            f"tau^2 (estimated amount of {'residual' if not result.intercept_only else 'total'} "
            f"heterogeneity): {_num(result.tau2)} (SE = {_num(result.se_tau2)})"
            + (f", {result.level:g}% CI [{_num(ci.tau2[1])}, {_num(ci.tau2[2])}]" if ci else "")
        )
        lines.append(f"tau (square root of estimated tau^2 value): {_num(result.tau)}")
    lines.append(f"I^2 (heterogeneity / total variability): {_num(result.i2, 2)}%")
    lines.append(f"H^2 (total variability / sampling variability): {_num(result.h2, 2)}")
    if result.r2 is not None:
        lines.append(f"R^2 (amount of heterogeneity accounted for): {_num(result.r2, 2)}%")
    lines += [
        "",
        "Test for Heterogeneity:",
        f"Q(df = {result.q_df}) = {_num(result.q)}, p-val {_pval_clause(result.q_pval)}",
        "",
    ]
    if not result.intercept_only:
        df = ", ".join(str(d) for d in result.qm_df)
        stat = "F" if result.hksj else "QM"
        lines += [
            f"Test of Moderators (coefficients 2:{result.p}):",
            f"{stat}(df = {df}) = {_num(result.qm)}, p-val {_pval_clause(result.qm_pval)}",
            "",
        ]
    stat_name = "tval" if result.hksj else "zval"
    rows = [
        [c.term, _num(c.estimate), _num(c.se), _num(c.statistic), _pval(c.pval), _num(c.ci_low), _num(c.ci_high)]
        for c in result.coefficients
    ]
    lines += [
        "Model Results" + (f" (t-tests with df = {result.df}, Knapp-Hartung)" if result.hksj else "") + ":",
        "",
        _table(["", "estimate", "se", stat_name, "pval", "ci.lb", "ci.ub"], rows),
    ]
    if result.intercept_only:
        pred = predict(result)
        lines += ["", f"Prediction interval ({result.level:g}%): [{_num(pred.pi_low)}, {_num(pred.pi_high)}]"]
    if "egger" in extras:
        eg = extras["egger"]
        lines += [
            "",
            "Regression Test for Funnel Plot Asymmetry (Egger; predictor: standard error):",
            f"{'t' if eg.df else 'z'} = {_num(eg.statistic)}, p = {_pval(eg.pval)}",
        ]
        if eg.limit_estimate is not None:
            lines.append(
                f"Limit estimate (as sei -> 0): b = {_num(eg.limit_estimate)} "
                f"(CI: {_num(eg.limit_ci_low)}, {_num(eg.limit_ci_high)})"
            )
    if "trimfill" in extras:
        tf = extras["trimfill"]
        lines += [
            "",
            f"Trim-and-fill (L0): estimated number of missing studies on the {tf.side} side: {tf.k0} "
            f"(SE = {_num(tf.se_k0)})",
            f"Adjusted estimate: {_num(tf.estimate)} [{_num(tf.ci_low)}, {_num(tf.ci_high)}]",
        ]
    if "subgroup" in extras:
        sub = extras["subgroup"]
        rows = [
            [lev, str(r.k), _num(r.estimate), _num(r.ci_low), _num(r.ci_high), _num(r.tau2), _num(r.i2, 1)]
            for lev, r in sub.results.items()
        ]
        lines += ["", "Subgroups:", _table(["subgroup", "k", "estimate", "ci.lb", "ci.ub", "tau^2", "I^2"], rows)]
        for test in (sub.moderator_test, sub.separate_tau2_test):
            if test:
                lines.append(
                    f"{test.label}: statistic = {_num(test.statistic)}, "
                    f"df = {', '.join(map(str, test.df))}, p = {_pval(test.pval)}"
                )
        for lev, err in sub.errors.items():
            lines.append(f"subgroup {lev}: not pooled ({err})")
    for key in ("egger_error", "trimfill_error"):
        if key in extras:
            lines += ["", extras[key]]
    return "\n".join(lines)


def format_multilevel_summary(result, *, measure: str) -> str:
    """A three-level model as metafor prints rma.mv(yi, vi, random = ~ 1 | study/es_id)."""
    sizes = (result.n_clusters, result.k)
    rows = [
        [f"sigma^2.{i + 1}", _num(s), _num(math.sqrt(s)), str(n), "no", factor, _num(i2, 2) + "%"]
        for i, (s, n, factor, i2) in enumerate(
            zip(result.sigma2, sizes, ("study", "study/es_id"), result.i2_levels, strict=True)
        )
    ]
    lines = [
        f"Multilevel Meta-Analysis Model (k = {result.k}; studies = {result.n_clusters}; measure: {measure}; "
        f"method: {result.method})",
        "",
        f"logLik = {_num(result.loglik)}",
        "",
        "Variance Components:",
        "",
        _table(["", "estim", "sqrt", "nlvls", "fixed", "factor", "I^2"], rows),
        f"I^2 (total heterogeneity / total variability): {_num(result.i2, 2)}%",
        "",
        "Test for Heterogeneity:",
        f"Q(df = {result.q_df}) = {_num(result.q)}, p-val {_pval_clause(result.q_pval)}",
        "",
    ]
    if not result.intercept_only:
        df = ", ".join(str(d) for d in result.qm_df)
        lines += [
            f"Test of Moderators (coefficients 2:{result.p}):",
            f"QM(df = {df}) = {_num(result.qm)}, p-val {_pval_clause(result.qm_pval)}",
            "",
        ]
    rows = [
        [c.term, _num(c.estimate), _num(c.se), _num(c.statistic), _pval(c.pval), _num(c.ci_low), _num(c.ci_high)]
        for c in result.coefficients
    ]
    lines += ["Model Results:", "", _table(["", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub"], rows)]
    if result.intercept_only:
        lines += ["", f"Prediction interval ({result.level:g}%): [{_num(result.pi_low)}, {_num(result.pi_high)}]"]
    return "\n".join(lines)


def format_robust(robust, cluster: str) -> str:
    """Cluster-robust tests, as metafor prints robust(..., clubSandwich = TRUE)."""
    rows = [
        [
            c.term,
            _num(c.estimate),
            _num(c.se),
            _num(c.statistic),
            _num(c.df, 2),
            _pval(c.pval),
            _num(c.ci_low),
            _num(c.ci_high),
        ]
        for c in robust.coefficients
    ]
    return "\n".join(
        [
            "",
            "",
            f"Cluster-robust tests (CR2, Satterthwaite df; clusters: {cluster}, {robust.n_clusters} levels):",
            "",
            _table(["", "estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub"], rows),
        ]
    )
