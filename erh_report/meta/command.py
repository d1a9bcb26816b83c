"""``erh-report meta``: one meta-analysis of a CSV file with metafor's column names.

Reading and checking the file happens here (the edge); the numbers come from ``erh_report.analysis``.
Every problem in the file is reported at once, with its row and column, before anything is computed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from erh_report.data import load
from erh_report.data.cells import EXPECTED as NUMBER_EXPECTED
from erh_report.data.cells import parse_number
from erh_report.errors import InputError, Problem
from erh_report.jsonable import plain
from erh_report.limits import check_computable, not_computed

# columns each measure needs; a tuple lists alternatives (either group will do)
REQUIRED = {
    "SMD": (("n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i"),),
    "MD": (("n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i"),),
    "OR": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "RR": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "RD": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "COR": (("ri", "ni"),),
    "ZCOR": (("ri", "ni"),),
    "GEN": (("yi", "vi"), ("yi", "sei")),
}


@dataclass
class Table:
    path: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, cells)


def read_csv(path: Path) -> Table:
    """Read a CSV file with the data folder's reader (UTF-8, UTF-16 or Windows text; comma, semicolon or tab);
    blank lines are skipped but row numbers stay those a spreadsheet shows. Problems name the path given."""
    name = str(path)
    if not path.is_file():
        raise InputError([Problem(name, "is a folder" if path.is_dir() else "file not found", expected="a CSV file")])
    raw, problems = load.read_csv(path, path.stem)
    problems = [replace(p, file=name) for p in problems]
    if not problems and not raw.rows:
        problems.append(Problem(name, "no data rows below the header", row=1, expected="one row per study"))
    if problems:
        raise InputError(problems)
    return Table(name, raw.columns, raw.rows)


def _choose_columns(table: Table, measure: str) -> tuple[str, ...]:
    options = REQUIRED[measure]
    for cols in options:
        if all(c in table.header for c in cols):
            return cols
    best = max(options, key=lambda cols: sum(c in table.header for c in cols))
    missing = [c for c in best if c not in table.header]
    alternatives = " or ".join("(" + " ".join(cols) + ")" for cols in options)
    raise InputError(
        [
            Problem(
                table.path,
                f"missing column '{c}' needed for measure {measure}",
                column=c,
                expected=f"columns {alternatives}; found {', '.join(table.header) or 'none'}",
            )
            for c in missing
        ]
    )


def _number(table: Table, row: int, column: str, text: str, problems: list[Problem]) -> float:
    if text == "":
        problems.append(Problem(table.path, "empty cell", row=row, column=column, expected="a number"))
        return math.nan
    try:
        value = parse_number(text)
    except ValueError as exc:
        problems.append(Problem(table.path, str(exc), row=row, column=column, value=text, expected=NUMBER_EXPECTED))
        return math.nan
    if not math.isfinite(value):
        problems.append(
            Problem(table.path, "not a finite number", row=row, column=column, value=text, expected="a finite number")
        )
        return math.nan
    return value


# (condition that is wrong, message, expected) per column, checked once a cell is a number
def _check_value(measure: str, column: str, value: float, cells: dict[str, float]) -> tuple[str, str] | None:
    counts = {"ai", "bi", "ci", "di"}
    if column in ("sd1i", "sd2i") and value <= 0:
        return (
            "standard deviation is negative" if value < 0 else "standard deviation is zero",
            "a standard deviation greater than 0",
        )
    if column in ("n1i", "n2i") and measure in ("SMD", "MD") and value < 2:
        return "group size below 2", "at least 2 participants per group"
    if column in ("n1i", "n2i") and value <= 0:
        return "group size is not positive", "a group size of at least 1"
    if column in counts and value < 0:
        return "negative count", "a count of 0 or more"
    if column in counts | {"n1i", "n2i", "ni"} and value != int(value):
        return "count is not a whole number", "a whole number"
    if column == "vi" and value <= 0:
        return (
            "sampling variance is negative" if value < 0 else "sampling variance is zero",
            "a variance greater than 0",
        )
    if column == "sei" and value <= 0:
        return "standard error is not positive", "a standard error greater than 0"
    if column == "ri" and not -1 < value < 1:
        return "correlation outside (-1, 1)", "a correlation between -1 and 1 (exclusive)"
    if column == "ni" and measure == "ZCOR" and value <= 3:
        return "sample size too small for Fisher's z", "more than 3 participants"
    if column == "ni" and measure == "COR" and value <= 3:
        return "sample size too small for a correlation's variance", "more than 3 participants"
    return None


def parse_effect_data(table: Table, measure: str) -> dict[str, list[float]]:
    """Numeric columns the measure needs, checked cell by cell (all problems at once)."""
    columns = _choose_columns(table, measure)
    problems: list[Problem] = []
    data: dict[str, list[float]] = {c: [] for c in columns}
    for number, cells in table.rows:
        values: dict[str, float] = {}
        for col in columns:
            value = _number(table, number, col, cells.get(col, ""), problems)
            values[col] = value
            data[col].append(value)
            if not math.isnan(value):
                wrong = _check_value(measure, col, value, values)
                if wrong:
                    problems.append(
                        Problem(table.path, wrong[0], row=number, column=col, value=cells[col], expected=wrong[1])
                    )
        if "n1i" in columns and "ai" in columns:
            for events, total in (("ai", "n1i"), ("ci", "n2i")):
                if values[events] > values[total]:
                    problems.append(
                        Problem(
                            table.path,
                            f"events ({events}) exceed the group total ({total})",
                            row=number,
                            column=events,
                            value=cells[events],
                            expected=f"at most {cells[total]}",
                        )
                    )
    if problems:
        raise InputError(problems)
    return data


def parse_moderators(table: Table, names: list[str]) -> list[list[float]]:
    problems: list[Problem] = []
    for name in names:
        if name not in table.header:
            problems.append(
                Problem(
                    table.path,
                    f"moderator column '{name}' not found",
                    column=name,
                    expected=f"one of {', '.join(table.header)}",
                )
            )
    if problems:
        raise InputError(problems)
    out = [[_number(table, number, name, cells[name], problems) for name in names] for number, cells in table.rows]
    if problems:
        raise InputError(problems)
    return out


def parse_groups(table: Table, column: str, kind: str = "subgroup", expected: str = "a subgroup name") -> list[str]:
    if column not in table.header:
        raise InputError(
            [
                Problem(
                    table.path,
                    f"{kind} column '{column}' not found",
                    column=column,
                    expected=f"one of {', '.join(table.header)}",
                )
            ]
        )
    problems = [
        Problem(table.path, f"empty {kind}", row=n, column=column, expected=expected)
        for n, cells in table.rows
        if cells[column] == ""
    ]
    if problems:
        raise InputError(problems)
    return [cells[column] for _, cells in table.rows]


def pooled_keys(result, pi_low: float, pi_high: float) -> dict:
    """The pooled estimate's JSON keys, the same for every kind of model."""
    return {
        "estimate": result.estimate,
        "se": result.se,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "pval": result.pval,
        "pi_low": pi_low,
        "pi_high": pi_high,
    }


def coefficient_keys(coefficient) -> dict:
    """One meta-regression coefficient's JSON keys, the same for every kind of model."""
    c = coefficient
    return {
        "term": c.term,
        "estimate": c.estimate,
        "se": c.se,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "pval": c.pval,
    }


def result_summary(result) -> dict:
    """The keys every result carries, plus the pooled estimate or the coefficients."""
    from erh_report.analysis.model import predict

    out = {"k": result.k, "tau2": result.tau2, "i2": result.i2, "h2": result.h2, "q": result.q, "q_pval": result.q_pval}
    if result.intercept_only:
        pred = predict(result)
        out.update(pooled_keys(result, pred.pi_low, pred.pi_high))
    else:
        out["coefficients"] = [coefficient_keys(c) for c in result.coefficients]
        out.update(qm=result.qm, qm_pval=result.qm_pval, r2=result.r2)
    return out


def run_meta(args: argparse.Namespace) -> int:
    """One meta-analysis; data that pass every check but still break the arithmetic end in a message."""
    from numpy.linalg import LinAlgError

    try:
        return _run_meta(args)
    except (ArithmeticError, LinAlgError):
        raise not_computed(args.file, "the analysis") from None


def _run_meta(args: argparse.Namespace) -> int:
    from erh_report.analysis import model, subgroup
    from erh_report.analysis.effect_sizes import escalc
    from erh_report.meta.console import format_meta_summary

    level = args.level * 100 if 0 < args.level < 1 else args.level
    path = Path(args.file)
    if not 0 < level < 100:
        raise InputError(
            [
                Problem(
                    "--level",
                    "confidence level out of range",
                    value=args.level,
                    expected="a percentage between 0 and 100, e.g. 95",
                )
            ]
        )
    table = read_csv(path)
    data = parse_effect_data(table, args.measure)
    moderators = parse_moderators(table, args.moderator) if args.moderator else None
    groups = parse_groups(table, args.subgroup) if args.subgroup else None
    pooling = getattr(args, "pooling", "IV") or "IV"
    method = args.method or ("REML" if pooling == "IV" else "FE")
    args.method = method  # the default depends on the pooling: every later step reads the one chosen
    if pooling != "IV" or getattr(args, "zero_cells", None) == "revman":
        return run_pooled(args, table, data, groups, level=level, pooling=pooling, method=method)
    es = escalc(args.measure, data, smd_variant=args.smd_variant)
    check_computable(table.path, [n for n, _ in table.rows], es.yi, es.vi, moderators, args.moderator)
    # several effects per study: --cluster with --model multilevel, --robust or --aggregate
    from erh_report.meta import dependent as dependent_command

    if dependent_command.requested(args):
        dependent_command.check_options(args)
        return dependent_command.run_dependent(args, table, es, moderators, level)
    try:
        result = model.fit(
            es.yi,
            es.vi,
            method=method,
            hksj=args.hksj,
            level=level,
            moderators=moderators,
            terms=args.moderator or None,
        )
    except model.ModelError as exc:
        raise InputError([Problem(table.path, str(exc))]) from None
    except __import__("numpy").linalg.LinAlgError:
        raise InputError(
            [
                Problem(
                    table.path,
                    "the moderators are collinear (the model matrix is singular)",
                    expected="moderators that are not linear combinations of each other",
                )
            ]
        ) from None
    except (ArithmeticError, ValueError):
        raise not_computed(table.path, "the model") from None
    if not all(
        math.isfinite(c)
        for c in ([result.estimate] if result.intercept_only else [c.estimate for c in result.coefficients])
    ):
        raise not_computed(table.path, "the pooled estimate" if result.intercept_only else "a coefficient")

    out = result_summary(result)
    if args.measure != "GEN":
        out["yi"] = list(es.yi)
        out["vi"] = list(es.vi)
    extras: dict = small_study_tests(args, result, out)
    if groups is not None:
        sub = subgroup.subgroup_analysis(es.yi, es.vi, groups, method=method, hksj=args.hksj, level=level)
        out["subgroups"] = {lev: result_summary(res) for lev, res in sub.results.items()}
        test = sub.moderator_test
        revman = sub.separate_tau2_test
        out["subgroup_test"] = {
            "statistic": test.statistic if test else None,
            "df": list(test.df) if test else None,
            "pval": test.pval if test else None,
            "method": "metafor: subgroup indicators as moderators, common tau2",
            "revman": {
                "statistic": revman.statistic,
                "df": revman.df[0],
                "pval": revman.pval,
                "i2": revman.i2,
                "method": "RevMan: separate tau2 per subgroup",
            }
            if revman
            else None,
        }
        extras["subgroup"] = sub
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(plain(out), indent=2))
    else:
        print(format_meta_summary(result, measure=args.measure, extras=extras))
    return 0


def small_study_tests(args: argparse.Namespace, result, out: dict) -> dict:
    """Egger's test and trim-and-fill when asked (``--egger``, ``--trimfill``): their JSON keys into ``out``,
    and what the readable summary prints, returned."""
    from erh_report.analysis import bias, model

    extras: dict = {}
    if args.egger:
        try:
            eg = bias.egger_test(result)
            out["egger"] = {"statistic": eg.statistic, "pval": eg.pval}
            extras["egger"] = eg
        except (model.ModelError, __import__("numpy").linalg.LinAlgError) as exc:
            out["egger"] = {"statistic": None, "pval": None}
            extras["egger_error"] = f"Egger's test not possible: {exc}"
    if args.trimfill:
        try:
            tf = bias.trim_and_fill(result)
            out["trimfill"] = {"k0": tf.k0, "estimate": tf.estimate, "ci_low": tf.ci_low, "ci_high": tf.ci_high}
            extras["trimfill"] = tf
        except (ValueError, model.ModelError) as exc:
            out["trimfill"] = {"k0": None, "estimate": None, "ci_low": None, "ci_high": None}
            extras["trimfill_error"] = f"trim-and-fill not possible: {exc}"
    return extras


def run_pooled(
    args: argparse.Namespace,
    table: Table,
    data: dict[str, list[float]],
    groups: list[str] | None,
    *,
    level: float,
    pooling: str,
    method: str,
) -> int:
    """Mantel-Haenszel or Peto pooling (or inverse variance with RevMan's rules), with RevMan's test for
    subgroup differences when ``--subgroup`` is given."""
    from erh_report.analysis.model import ModelError
    from erh_report.analysis.pooling import pool
    from erh_report.analysis.revman import revman_analysis
    from erh_report.meta.console import format_meta_summary

    unsupported = [
        opt
        for opt, on in (
            ("--hksj", args.hksj),
            ("--moderator", args.moderator),
            ("--egger", args.egger),
            ("--trimfill", args.trimfill),
        )
        if on
    ]
    problems = (
        [
            Problem(
                opt,
                f"not available with --pooling {pooling}",
                expected="--pooling IV for meta-regression, HKSJ, Egger's test and trim-and-fill",
            )
            for opt in unsupported
        ]
        if pooling != "IV"
        else []
    )
    allowed = {"MH": ("FE", "DL"), "PETO": ("FE",)}.get(pooling)
    if allowed and method not in allowed:
        problems.append(
            Problem(
                "--method",
                f"{method} is not available with --pooling {pooling}",
                value=method,
                expected=" or ".join(allowed),
            )
        )
    if problems:
        raise InputError(problems)
    rules = args.zero_cells or ("revman" if (pooling, method) == ("MH", "DL") else "metafor")
    columns = {k: __import__("numpy").asarray(v, float) for k, v in data.items()}
    try:
        result = pool(
            args.measure,
            columns,
            pooling=pooling,
            method=method,
            level=level,
            rules=rules,
            smd_variant=args.smd_variant,
        )
    except ModelError as exc:
        raise InputError([Problem(table.path, str(exc))]) from None
    out = result_summary(result)
    out.update(pooling=pooling, zero_cells=rules, yi=list(result.yi), vi=list(result.vi))
    if groups is not None:
        sub = revman_analysis(
            args.measure,
            columns,
            groups,
            pooling=pooling,
            level=level,
            smd_variant=args.smd_variant,
            rules=rules,
            method=method,
        )
        out["subgroups"] = {lev: result_summary(res) for lev, res in sub.subgroups.items()}
        test = sub.test
        out["subgroup_test"] = (
            {
                "statistic": test.statistic,
                "df": test.df[0],
                "pval": test.pval,
                "i2": test.i2,
                "method": "RevMan: subgroup estimates compared (chi-square)",
            }
            if test
            else None
        )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(plain(out), indent=2))
    else:
        print(format_meta_summary(result, measure=args.measure))
    return 0
