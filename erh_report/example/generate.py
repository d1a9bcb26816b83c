"""Generate the illustrative early-relational-health review in ``data/``.

The published review's per-study data are not public, so ``data/`` holds an **invented** review of
the same shape, made by this seeded generator. Running it again writes the same bytes::

    python -m erh_report.example.generate data/

Study labels are neutral ("Study 001 (2015)"); no real author is attached to any number, and
``review.yaml`` says ``illustrative: true`` so that every output built from it says so too.

True parameters (what an analysis of these data should roughly recover) are in ``catalogue.yaml``
beside this file, with the review's fixed settings and the catalogue of outcomes and instruments:

* 93 studies and exactly 14,993 dyads randomised, as the published review reports (log-normal sizes,
  median about 120 dyads per trial); each trial has an 11 % chance of two intervention arms.
* True standardised mean differences per outcome, post-intervention and at 12 months or later (effects
  fade), and their between-study SD (tau): moderate effects on bonding, sensitivity, attachment and dyadic
  interaction, a small one on parent anxiety, none on child development or parent depression; the child
  development outcomes vary most between trials (different instruments and settings).
* Risk of bias: larger trials are more often well conducted (concealed allocation, blinded assessors);
  outcomes the parent rates (bonding, socio-emotional scores, anxiety, depression) are at some risk of bias
  in measurement even then, observer-rated ones mostly not. So GRADE rates some analyses down for risk of
  bias and others only for inconsistency, imprecision or publication bias: certainty from very low to
  moderate, as in the published review.
* No dose effect: the true effect does not depend on contact hours (1-60 h) or sessions.
* No difference between high- and low-risk populations or between intervention types.
* Outcome-level results judged at high overall risk of bias carry an extra SMD of bias (``high_rob_bias``).
* About 25 % of study-outcomes report two instruments, 25 % of studies a second post-intervention
  time point, 35 % a follow-up at 12-24 months, and 3 % of continuous results only a precomputed
  effect with its standard error.
* PRISMA: about 11,800 records from five databases and four registers, 104 reports of 93 studies.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from erh_report.data.columns import OUTCOME_COLUMNS

SEED = 20221029
N_STUDIES = 93
#: Dyads randomised over all studies, as the published review reports them.
TOTAL_DYADS = 14_993
CATALOGUE = Path(__file__).with_name("catalogue.yaml")
METHOD_REFERENCES = Path(__file__).with_name("method_references.bib")


@dataclass(frozen=True)
class Ins:
    """An instrument: id, name, direction, and the control group's mean and SD on its scale."""

    id: str
    name: str
    higher_is_better: bool
    mean: float = 0.0
    sd: float = 1.0


@dataclass(frozen=True)
class Out:
    """An outcome with its true effects (post, follow-up), tau, probability of being measured."""

    id: str
    name: str
    domain: str
    type: str
    importance: str
    post: float
    follow: float
    tau: float
    p_measured: float
    self_report: bool
    instruments: tuple[Ins, ...]
    base_risk: float = 0.0


@dataclass(frozen=True)
class Catalogue:
    """The illustrative review's fixed parts and true parameters (``catalogue.yaml``)."""

    review: dict
    domains: tuple[dict, ...]
    outcomes: tuple[Out, ...]
    high_rob_bias: float
    well_conducted: dict
    intervention_types: tuple[tuple[str, float, float], ...]
    countries: tuple[tuple[str, float], ...]
    databases: tuple[tuple[str, int], ...]
    registers: tuple[tuple[str, int], ...]
    fulltext_reasons: tuple[tuple[str, int], ...]
    other_reasons: tuple[tuple[str, int], ...]
    other_sources: tuple[tuple[str, int], ...]
    grade_overrides: tuple[dict, ...]


def _outcome(record: dict) -> Out:
    instruments = tuple(
        Ins(i["id"], i["name"], i["higher_is_better"], i.get("mean", 0.0), i.get("sd", 1.0))
        for i in record["instruments"]
    )
    return Out(
        record["id"],
        record["name"],
        record["domain"],
        record["type"],
        record["importance"],
        record["effect"]["post"],
        record["effect"]["follow_up"],
        record["tau"],
        record["p_measured"],
        record["self_report"],
        instruments,
        record.get("base_risk", 0.0),
    )


def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    """The catalogue as plain records."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))

    def pairs(key: str, *fields: str) -> tuple:
        return tuple(tuple(item[f] for f in fields) for item in raw[key])

    return Catalogue(
        review=raw["review"],
        domains=tuple(raw["domains"]),
        outcomes=tuple(_outcome(record) for record in raw["outcomes"]),
        high_rob_bias=raw["high_rob_bias"],
        well_conducted=raw["well_conducted"],
        intervention_types=pairs("intervention_types", "name", "share", "median_hours"),
        countries=pairs("countries", "name", "share"),
        databases=pairs("databases", "name", "records"),
        registers=pairs("registers", "name", "records"),
        fulltext_reasons=pairs("fulltext_reasons", "reason", "reports"),
        other_reasons=pairs("other_reasons", "reason", "reports"),
        other_sources=pairs("other_sources", "name", "records"),
        grade_overrides=tuple(raw["grade_overrides"]),
    )


CAT = load_catalogue()
OUTCOMES = CAT.outcomes


# ------------------------------------------------------------------------------------ helpers
def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...] | list[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in weighted)
    for value, w in weighted:
        r -= w
        if r <= 0:
            return value
    return weighted[-1][0]


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def _sample_sd(rng: random.Random, sigma: float, n: int) -> float:
    return sigma * math.sqrt(rng.gammavariate((n - 1) / 2, 2) / (n - 1))


def _csv(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def _num(x: float, digits: int = 2) -> str:
    text = f"{x:.{digits}f}"
    return "0." + "0" * digits if text == "-0." + "0" * digits else text


# ------------------------------------------------------------------------------------ studies
@dataclass
class Study:
    id: str
    label: str
    year: int
    country: str
    design: str
    risk: str
    itype: str
    name: str
    comparator: str
    hours: float
    sessions: int
    age_weeks: int
    n: int
    arms: tuple[str, ...]
    well_conducted: bool = False


def _sizes(rng: random.Random, n_studies: int, total: int) -> list[int]:
    """Log-normal trial sizes (median about 120) that add up to exactly ``total``, none below 24."""
    raw = [math.exp(rng.gauss(math.log(120), 0.75)) for _ in range(n_studies)]
    scale = total / sum(raw)
    sizes = [max(24, round(r * scale)) for r in raw]
    order = sorted(range(n_studies), key=lambda i: (-sizes[i], i))
    step = 0
    while sum(sizes) != total:  # rounding and the floor leave a few dyads over or short: the largest absorb them
        sizes[order[step % n_studies]] += 1 if sum(sizes) < total else -1
        step += 1
    return sizes


def _studies(rng: random.Random, n_studies: int) -> list[Study]:
    total = round(TOTAL_DYADS * n_studies / N_STUDIES)
    sizes = _sizes(rng, n_studies, total)
    by_size = sorted(range(n_studies), key=sizes.__getitem__)
    size_rank = {i: rank / max(1, n_studies - 1) for rank, i in enumerate(by_size)}
    good = CAT.well_conducted
    studies = []
    for i in range(n_studies):
        number = f"{i + 1:03d}" if n_studies < 1000 else f"{i + 1:04d}"
        year = 1993 + int(29 * rng.random() ** 0.7)
        itype = _pick(rng, [(t, p) for t, p, _ in CAT.intervention_types])
        median_hours = next(h for t, _, h in CAT.intervention_types if t == itype)
        hours = min(60.0, max(1.0, round(2 * math.exp(rng.gauss(math.log(median_hours), 0.8))) / 2))
        session_length = rng.choice((0.5, 1.0, 1.0, 1.5, 2.0))
        sessions = max(1, round(hours / session_length))
        multi = rng.random() < 0.11
        arms = ("intervention A", "intervention B", "control") if multi else ("intervention", "control")
        # Larger trials are more often well conducted (concealed allocation, blinded assessors, registered).
        well = rng.random() < good["base"] + good["per_size_rank"] * size_rank[i]
        studies.append(
            Study(
                id=f"S{number}",
                label=f"Study {number} ({year})",
                year=year,
                country=_pick(rng, CAT.countries),
                design="cluster RCT" if rng.random() < 0.1 else "RCT",
                risk="high" if rng.random() < 0.7 else "low",
                itype=itype,
                name=f"Illustrative {itype} programme {number}",
                comparator=rng.choice(("usual care", "usual care", "waiting list", "attention control")),
                hours=hours,
                sessions=sessions,
                age_weeks=int(rng.random() * 25),
                n=sizes[i],
                arms=arms,
                well_conducted=well,
            )
        )
    return studies


# ---------------------------------------------------------------------------------- outcomes
#: RoB 2 judgement probabilities (low, some concerns, high) per domain D1-D5 for a trial that is not well
#: conducted; D4 (measurement of the outcome) depends on whether the parent rates the outcome.
ROB_LEVELS = ("low", "some concerns", "high")


def _rob(rng: random.Random, self_report: bool, well_conducted: bool) -> list[str]:
    """RoB 2 judgements D1-D5 and overall (the worst of them) of one study's result for one outcome."""
    table = CAT.well_conducted["rob" if well_conducted else "rob_otherwise"]
    d = [
        _pick(rng, list(zip(ROB_LEVELS, table[key], strict=True)))
        for key in ("d1", "d2", "d3", "d4_self_report" if self_report else "d4", "d5")
    ]
    overall = "high" if "high" in d else "some concerns" if "some concerns" in d else "low"
    return [*d, overall]


def _outcome_rows(rng: random.Random, studies: list[Study]) -> tuple[list[list[object]], list[list[object]]]:
    data: list[list[object]] = []
    rob: list[list[object]] = []
    erh = [o for o in OUTCOMES if o.domain == "erh"]
    for s in studies:
        measured = [o for o in OUTCOMES if rng.random() < o.p_measured]
        if not any(o.domain == "erh" for o in measured):
            measured.append(rng.choice(erh))
            measured.sort(key=OUTCOMES.index)
        times = [float(rng.choice((0, 0, 0, 0, 1, 3)))]
        if rng.random() < 0.25:
            times.append(6.0)
        if rng.random() < 0.35:
            times.append(float(rng.choice((12, 12, 18, 24))))
            if rng.random() < 0.2:
                times.append(36.0)
        n_arms = len(s.arms)
        for o in measured:
            judgements = _rob(rng, o.self_report, s.well_conducted)
            rob.append([s.id, o.id, *judgements])
            bias = CAT.high_rob_bias if judgements[-1] == "high" else 0.0
            instruments = (
                [o.instruments[0]]
                if len(o.instruments) == 1
                else rng.sample(o.instruments, 2 if rng.random() < 0.25 else 1)
            )
            instruments.sort(key=o.instruments.index)
            u = rng.gauss(0, o.tau)
            arm_effects = {arm: u + rng.gauss(0, 0.05) for arm in s.arms if arm != "control"}
            precomputed = o.type == "continuous" and rng.random() < 0.03
            attrition = 0.08 + 0.12 * rng.random()
            for months in times:
                fade = o.post if months < 12 else o.follow
                kept = (1 - attrition) * (0.9 if months >= 12 else 1.0)
                arm_n = {arm: max(2, int(s.n / n_arms * kept)) for arm in s.arms}
                for ins in instruments:
                    data.extend(_measurement(rng, s, o, ins, months, arm_n, arm_effects, fade + bias, precomputed))
    return data, rob


def _measurement(
    rng: random.Random,
    s: Study,
    o: Out,
    ins: Ins,
    months: float,
    arm_n: dict[str, int],
    arm_effects: dict[str, float],
    mean_effect: float,
    precomputed: bool,
) -> list[list[object]]:
    """Rows of one study x instrument x time point, in raw units and the instrument's direction."""
    sign = 1 if ins.higher_is_better else -1
    rows: list[list[object]] = []
    if o.type == "dichotomous":
        base = 1 / (1 + math.exp(-(math.log(o.base_risk / (1 - o.base_risk)) + rng.gauss(0, 0.3))))
        for arm, n in arm_n.items():
            theta = 0.0 if arm == "control" else mean_effect + arm_effects[arm]
            logit = math.log(base / (1 - base)) + sign * theta
            p = 1 / (1 + math.exp(-logit))
            role = "control" if arm == "control" else "intervention"
            rows.append([s.id, o.id, ins.id, f"{months:g}", arm, role, "", "", "", _binomial(rng, n, p), n, "", "", ""])
        return rows
    if precomputed:
        arm = next(a for a in arm_n if a != "control")
        n1, n2 = sum(v for a, v in arm_n.items() if a != "control"), arm_n["control"]
        g = sign * (mean_effect + arm_effects[arm])
        se = math.sqrt(1 / n1 + 1 / n2 + g * g / (2 * (n1 + n2)))
        yi = g + rng.gauss(0, se)
        rows.append(
            [
                s.id,
                o.id,
                ins.id,
                f"{months:g}",
                "intervention vs control",
                "contrast",
                "",
                "",
                "",
                "",
                "",
                _num(yi, 3),
                _num(se, 3),
                n1 + n2,
            ]
        )
        return rows
    for arm, n in arm_n.items():
        theta = 0.0 if arm == "control" else mean_effect + arm_effects[arm]
        mu = ins.mean + sign * theta * ins.sd
        mean = rng.gauss(mu, ins.sd / math.sqrt(n))
        sd = _sample_sd(rng, ins.sd, n)
        role = "control" if arm == "control" else "intervention"
        digits = 3 if ins.sd < 1 else 2
        rows.append(
            [s.id, o.id, ins.id, f"{months:g}", arm, role, n, _num(mean, digits), _num(sd, digits), "", "", "", "", ""]
        )
    return rows


# ------------------------------------------------------------------------------------- PRISMA
def _scaled(items: tuple[tuple[str, int], ...], factor: float) -> list[tuple[str, int]]:
    return [(label, max(1, round(n * factor))) for label, n in items]


def _prisma(n_studies: int) -> tuple[list[list[object]], list[tuple[str, str]]]:
    """Counts that add up, scaled to the number of studies; also which reports were excluded why."""
    f = n_studies / N_STUDIES
    databases, registers = _scaled(CAT.databases, f), _scaled(CAT.registers, f)
    fulltext, other_excl = _scaled(CAT.fulltext_reasons, f), _scaled(CAT.other_reasons, f)
    other_sources = _scaled(CAT.other_sources, f)
    reports = n_studies + round(11 * f)
    other_sought, other_not = round(21 * f), round(2 * f)
    other_assessed = other_sought - other_not
    other_included = other_assessed - sum(n for _, n in other_excl)
    assessed = reports - other_included + sum(n for _, n in fulltext)
    not_retrieved = round(14 * f)
    sought = assessed + not_retrieved
    identified = sum(n for _, n in databases) + sum(n for _, n in registers)
    duplicates = round(3906 * f)
    screened = identified - duplicates
    rows: list[list[object]] = [["box", "label", "n"]]
    rows += [["databases", label, n] for label, n in databases]
    rows += [["registers", label, n] for label, n in registers]
    rows += [
        ["duplicates", "", duplicates],
        ["automation_excluded", "", 0],
        ["other_removed", "", 0],
        ["screened", "", screened],
        ["screen_excluded", "", screened - sought],
        ["sought", "", sought],
        ["not_retrieved", "", not_retrieved],
        ["assessed", "", assessed],
    ]
    rows += [["fulltext_excluded", label, n] for label, n in fulltext]
    rows += [["other_sources", label, n] for label, n in other_sources]
    rows += [
        ["other_sought", "", other_sought],
        ["other_not_retrieved", "", other_not],
        ["other_assessed", "", other_assessed],
    ]
    rows += [["other_excluded", label, n] for label, n in other_excl]
    rows += [["studies_included", "", n_studies], ["reports_included", "", reports]]
    excluded = [(reason, "databases") for reason, n in fulltext for _ in range(n)]
    excluded += [(reason, "other") for reason, n in other_excl for _ in range(n)]
    return rows, excluded


# ---------------------------------------------------------------------------------- review.yaml
REVIEW_HEADER = (
    "# Illustrative review: invented data made by erh_report/example/generate.py from its catalogue.yaml.\n"
    "# Replace this folder with your own extraction; docs/data.md describes every key and column.\n"
)


def review_config() -> dict:
    """review.yaml of the illustrative review as data: the catalogue's fixed part, its search sources,
    domains and outcomes."""
    fixed = dict(CAT.review)
    sources = [{"name": name, "kind": "database"} for name, _ in CAT.databases]
    sources += [{"name": name, "kind": "register"} for name, _ in CAT.registers]
    sources += [{"name": name, "kind": "other"} for name in fixed.pop("other_search_sources")]
    search = {"date": dt.date.fromisoformat(fixed.pop("search_date")), "sources": sources}
    domains = []
    for domain in CAT.domains:
        outcomes = []
        for o in (o for o in OUTCOMES if o.domain == domain["id"]):
            record: dict = {"id": o.id, "name": o.name, "type": o.type, "importance": o.importance}
            if o.type == "continuous":
                record["thresholds"] = {"small": 0.2, "moderate": 0.5, "large": 0.8}
            record["instruments"] = [
                {"id": i.id, "name": i.name, "higher_is_better": i.higher_is_better} for i in o.instruments
            ]
            outcomes.append(record)
        domains.append({**domain, "outcomes": outcomes})
    plan = fixed.pop("plan")
    return {**fixed, "search": search, "domains": domains, "plan": plan}


def review_yaml() -> str:
    """review.yaml of the illustrative review, written by yaml.safe_dump."""
    body = yaml.safe_dump(review_config(), sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    return REVIEW_HEADER + body


def _references(studies: list[Study]) -> str:
    entries = [
        f"@misc{{{s.id.lower()},\n  title = {{{s.label}: illustrative trial of {s.itype} (invented data)}},\n"
        f"  year = {{{s.year}}},\n  note = {{Invented record of the illustrative review; not a real publication}}\n}}\n"
        for s in studies
    ]
    return METHOD_REFERENCES.read_text(encoding="utf-8") + "".join(entries)


# ------------------------------------------------------------------------------------------ main
def generate(n_studies: int = N_STUDIES, seed: int = SEED) -> dict[str, str]:
    """Every file of the illustrative review as text, keyed by file name."""
    rng = random.Random(seed)
    studies = _studies(rng, n_studies)
    data, rob = _outcome_rows(rng, studies)
    prisma_rows, excluded = _prisma(n_studies)
    study_rows: list[list[object]] = [
        [
            "study_id",
            "label",
            "year",
            "country",
            "design",
            "population_risk",
            "intervention_name",
            "intervention_type",
            "comparator",
            "dose_hours",
            "sessions",
            "infant_age_weeks",
            "n_randomised",
            "reference",
            "doi",
        ]
    ]
    study_rows += [
        [
            s.id,
            s.label,
            s.year,
            s.country,
            s.design,
            s.risk,
            s.name,
            s.itype,
            s.comparator,
            f"{s.hours:g}",
            s.sessions,
            s.age_weeks,
            s.n,
            s.id.lower(),
            "",
        ]
        for s in studies
    ]
    outcome_rows: list[list[object]] = [[c for c in OUTCOME_COLUMNS if c != "subgroup"]]  # no subgroups here
    rob_rows: list[list[object]] = [["study_id", "outcome", "d1", "d2", "d3", "d4", "d5", "overall"], *rob]
    width = 3 if len(excluded) < 1000 else 4
    excluded_rows: list[list[object]] = [["study", "year", "reason", "source", "reference"]]
    for i, (reason, source) in enumerate(excluded, start=1):
        year = 1990 + rng.randrange(32)
        excluded_rows.append([f"Excluded report {i:0{width}d} ({year})", year, reason, source, ""])
    grade_rows: list[list[object]] = [["analysis_id", "domain", "judgement", "reason"]]
    grade_rows += [[o["analysis_id"], o["domain"], o["judgement"], o["reason"]] for o in CAT.grade_overrides]
    return {
        "review.yaml": review_yaml(),
        "studies.csv": _csv(study_rows),
        "outcome_data.csv": _csv([*outcome_rows, *data]),
        "risk_of_bias.csv": _csv(rob_rows),
        "prisma.csv": _csv(prisma_rows),
        "excluded_studies.csv": _csv(excluded_rows),
        "grade.csv": _csv(grade_rows),
        "references.bib": _references(studies),
    }


def write(folder: str | Path, n_studies: int = N_STUDIES, seed: int = SEED) -> list[Path]:
    """Write the review's files into ``folder`` (created if needed)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate(n_studies, seed).items():
        path = out / name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m erh_report.example.generate [FOLDER] [--studies N] [--seed S]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Write the illustrative review's data files.")
    parser.add_argument("folder", nargs="?", default="data")
    parser.add_argument("--studies", type=int, default=N_STUDIES, help="number of studies (default 93)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.studies < 10:
        parser.error("--studies must be at least 10")
    for path in write(args.folder, args.studies, args.seed):
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
