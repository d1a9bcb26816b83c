"""``erh-report meta`` with several effects per study: ``--cluster COL`` with ``--model multilevel``,
``--robust`` or ``--aggregate RHO``.

Reading the cluster column and refusing combinations that cannot work happen here (the edge); the
numbers come from ``erh_report.analysis`` (multilevel, robust, aggregate).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from erh_report.errors import InputError, Problem

MODELS = ("uni", "multilevel")


def add_options(meta: argparse.ArgumentParser) -> None:
    """The options of ``meta`` for dependent effects."""
    meta.add_argument("--cluster", metavar="COL", help="rows with the same value of COL come from the same study")
    meta.add_argument(
        "--model",
        choices=MODELS,
        default="uni",
        help="uni: one random effect per row (default); multilevel: effects within studies "
        "(three-level model, needs --cluster; REML or ML)",
    )
    meta.add_argument(
        "--robust", action="store_true", help="cluster-robust variance (CR2, Satterthwaite df) by the --cluster column"
    )
    meta.add_argument(
        "--aggregate",
        type=float,
        metavar="RHO",
        help="combine each study's effects first, their sampling errors correlated RHO (-1 to 1)",
    )


def requested(args: argparse.Namespace) -> bool:
    return bool(
        getattr(args, "cluster", None)
        or getattr(args, "model", "uni") != "uni"
        or getattr(args, "robust", False)
        or getattr(args, "aggregate", None) is not None
    )


def check_options(args: argparse.Namespace) -> None:
    """Every combination that cannot work, at once, before the file is read."""
    problems = []

    def refuse(option: str, message: str, expected: str) -> None:
        problems.append(Problem(option, message, expected=expected))

    if not args.cluster:
        for option, wanted in (
            ("--robust", args.robust),
            ("--model", args.model == "multilevel"),
            ("--aggregate", args.aggregate is not None),
        ):
            if wanted:
                refuse(option, "needs --cluster", "--cluster COL naming the column that identifies each study")
    if args.aggregate is not None and not -1 <= args.aggregate <= 1:
        refuse("--aggregate", f"correlation {args.aggregate:g} outside [-1, 1]", "a correlation between -1 and 1")
    if args.aggregate is not None and args.model == "multilevel":
        refuse(
            "--aggregate",
            "cannot be combined with --model multilevel",
            "either one effect per study (--aggregate) or the three-level model",
        )
    if args.model == "multilevel":
        if args.method not in ("REML", "ML"):
            refuse("--method", f"{args.method} cannot fit a multilevel model", "--method REML (default) or ML")
        if args.hksj:
            refuse("--hksj", "is not available with --model multilevel", "--robust for small-sample inference")
    if args.subgroup and args.cluster:
        refuse(
            "--subgroup",
            "is not available with --cluster",
            "--moderator with 0/1 indicator columns (a subgroup test in the same model), or a file with one "
            "effect per study",
        )
    for option, wanted in (("--egger", args.egger), ("--trimfill", args.trimfill)):
        if wanted and args.cluster and args.aggregate is None:
            refuse(
                option,
                "needs one effect per study (as metafor's regtest() and trimfill())",
                "--aggregate RHO to combine each study's effects first",
            )
    if problems:
        raise InputError(problems)


def parse_clusters(table, column: str) -> list[str]:
    """The cluster label of every row: a column that exists and has no empty cell."""
    from erh_report.meta.command import parse_groups

    return parse_groups(table, column, "cluster", "the study this effect comes from")


def robust_summary(coefficient) -> dict:
    return {
        "se": coefficient.se,
        "df": coefficient.df,
        "ci_low": coefficient.ci_low,
        "ci_high": coefficient.ci_high,
        "pval": coefficient.pval,
    }


def _coefficients(result, robust) -> list[dict]:
    from erh_report.meta.command import coefficient_keys

    rows = []
    for j, c in enumerate(result.coefficients):
        row = coefficient_keys(c)
        if robust is not None:
            row["robust"] = robust_summary(robust.coefficients[j])
        rows.append(row)
    return rows


def multilevel_summary(result) -> dict:
    """JSON of a three-level model: the usual keys, n_clusters, sigma2 and i2_levels (between, within)."""
    out = {
        "k": result.k,
        "n_clusters": result.n_clusters,
        "sigma2": list(result.sigma2),
        "i2_levels": list(result.i2_levels),
        "q": result.q,
        "q_pval": result.q_pval,
    }
    if result.intercept_only:
        from erh_report.meta.command import pooled_keys

        out.update(pooled_keys(result, result.pi_low, result.pi_high))
    else:
        out["coefficients"] = _coefficients(result, None)
        out.update(qm=result.qm, qm_pval=result.qm_pval)
    return out


def _with_robust(out: dict, result, robust) -> dict:
    if robust is None:
        return out
    out["n_clusters"] = robust.n_clusters
    if result.intercept_only:
        out["robust"] = robust_summary(robust.coefficients[0])
    else:
        out["coefficients"] = _coefficients(result, robust)
    return out


def run_dependent(args: argparse.Namespace, table, es, moderators, level: float) -> int:
    """Fit the model the options ask for and print it (JSON or a metafor-like summary)."""
    from erh_report.analysis import model
    from erh_report.analysis.aggregate import aggregate
    from erh_report.analysis.multilevel import fit_multilevel
    from erh_report.analysis.robust import robust_multilevel, robust_uni
    from erh_report.jsonable import plain
    from erh_report.meta.command import result_summary, small_study_tests
    from erh_report.meta.console import format_meta_summary, format_multilevel_summary, format_robust

    clusters = parse_clusters(table, args.cluster)
    terms = args.moderator or None
    yi, vi, header = es.yi, es.vi, ""
    try:
        if args.model == "multilevel":
            result = fit_multilevel(
                yi, vi, clusters, method=args.method, level=level, moderators=moderators, terms=terms
            )
            robust = robust_multilevel(result) if args.robust else None
            out = _with_robust(multilevel_summary(result), result, robust)
            text = format_multilevel_summary(result, measure=args.measure)
        else:
            if args.aggregate is not None:
                agg = aggregate(yi, vi, clusters, args.aggregate, moderators)
                yi, vi, clusters = agg.yi, agg.vi, list(agg.labels)
                moderators = agg.moderators
                header = (
                    f"Effects aggregated within {len(agg.labels)} studies (compound symmetry, "
                    f"rho = {args.aggregate:g}; {int(agg.sizes.sum())} effects)\n\n"
                )
            result = model.fit(
                yi, vi, method=args.method, hksj=args.hksj, level=level, moderators=moderators, terms=terms
            )
            robust = robust_uni(result, clusters) if args.robust else None
            out = _with_robust(result_summary(result), result, robust)
            extras = small_study_tests(args, result, out)  # on the aggregated effects, one per study
            text = header + format_meta_summary(result, measure=args.measure, extras=extras)
    except model.ModelError as exc:
        raise InputError([Problem(table.path, str(exc))]) from None
    except np.linalg.LinAlgError:
        raise InputError(
            [
                Problem(
                    table.path,
                    "the moderators are collinear (the model matrix is singular)",
                    expected="moderators that are not linear combinations of each other",
                )
            ]
        ) from None
    if args.measure != "GEN":
        out["yi"] = list(es.yi)
        out["vi"] = list(es.vi)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(plain(out), indent=2))
    else:
        print(text + (format_robust(robust, args.cluster) if robust is not None else ""))
    return 0
