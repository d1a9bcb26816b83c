"""Generate the illustrative early-relational-health review in ``data/``.

The published review's per-study data are not public, so ``data/`` holds an **invented** review of
the same shape, made by this seeded generator. Running it again writes the same bytes::

    python -m erh_report.example.generate data/

Study labels are neutral ("Study 001 (2015)"); no real author is attached to any number, and
``review.yaml`` says ``illustrative: true`` so that every output built from it says so too.

True parameters (what an analysis of these data should roughly recover)
-----------------------------------------------------------------------
* 93 studies, about 15,000 dyads randomised (log-normal sizes, median about 120 dyads per trial);
  each trial has an 11 % chance of two intervention arms and one control arm (6 trials in data/).
* True standardised mean differences (positive = favours the intervention), post-intervention /
  at 12 months or later (effects fade):

  ====================== ============ ============ =========
  outcome                post         >= 12 months tau (SD)
  ====================== ============ ============ =========
  bonding                0.35         0.15         0.20
  sensitivity            0.40         0.20         0.20
  attachment (AQS)       0.30         0.15         0.20
  dyadic interaction     0.35         0.15         0.20
  socio-emotional        0.05         0.03         0.08
  cognitive              0.05         0.03         0.08
  language               0.04         0.02         0.08
  motor                  0.02         0.00         0.08
  parent anxiety         0.20         0.10         0.10
  parent depression      0.06         0.03         0.10
  ====================== ============ ============ =========

  Dichotomous outcomes, as log odds ratios favouring the intervention: secure attachment 0.55 / 0.25,
  disorganised attachment 0.45 / 0.20 (fewer disorganised infants), tau 0.35.
* No dose effect: the true effect does not depend on contact hours (1-60 h) or sessions.
* No difference between high- and low-risk populations or between intervention types.
* Outcome-level results judged at high overall risk of bias carry an extra +0.10 SMD of bias.
* About 25 % of study-outcomes report two instruments, 25 % of studies a second post-intervention
  time point, 35 % a follow-up at 12-24 months, and 3 % of continuous results only a precomputed
  effect with its standard error.
* PRISMA: about 11,800 records from five databases and four registers, 104 reports of 93 studies.
"""

from __future__ import annotations

import csv
import io
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 20221029
N_STUDIES = 93
DYADS_PER_STUDY = 161.2  # 93 x 161.2 = about 15,000

DOMAINS = (
    ("erh", "Early relational health", "primary"),
    ("child", "Child socio-emotional functioning and development", "secondary"),
    ("parent", "Parent/caregiver mental health", "secondary"),
)
ABBREVIATIONS = {"erh": ("    abbreviation: ERH",)}


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


OUTCOMES: tuple[Out, ...] = (
    Out(
        "bonding",
        "Parent-infant bonding",
        "erh",
        "continuous",
        "critical",
        0.35,
        0.15,
        0.20,
        0.30,
        True,
        (
            Ins("PBQ", "Postpartum Bonding Questionnaire (total)", False, 12.0, 9.0),
            Ins("MIBS", "Mother-to-Infant Bonding Scale", False, 3.0, 2.5),
            Ins("MPAS", "Maternal Postnatal Attachment Scale", True, 80.0, 8.0),
        ),
    ),
    Out(
        "sensitivity",
        "Parent/caregiver sensitivity",
        "erh",
        "continuous",
        "critical",
        0.40,
        0.20,
        0.20,
        0.45,
        False,
        (
            Ins("AMSS", "Ainsworth Maternal Sensitivity Scale", True, 5.0, 2.0),
            Ins("EAS_S", "Emotional Availability Scales: sensitivity", True, 20.0, 5.0),
            Ins("MBQS", "Maternal Behavior Q-Sort", True, 0.40, 0.30),
        ),
    ),
    Out(
        "attachment",
        "Attachment security (continuous)",
        "erh",
        "continuous",
        "critical",
        0.30,
        0.15,
        0.20,
        0.18,
        False,
        (
            Ins("AQS", "Attachment Q-Sort security score", True, 0.30, 0.20),
            Ins("AQS_SR", "Attachment Q-Sort, parent-sorted", True, 0.35, 0.22),
        ),
    ),
    Out(
        "secure_attachment",
        "Secure attachment",
        "erh",
        "dichotomous",
        "critical",
        0.55,
        0.25,
        0.35,
        0.22,
        False,
        (Ins("SSP_SECURE", "Strange Situation Procedure: secure classification", True),),
        base_risk=0.55,
    ),
    Out(
        "disorganised_attachment",
        "Disorganised attachment",
        "erh",
        "dichotomous",
        "important",
        0.45,
        0.20,
        0.35,
        0.12,
        False,
        (Ins("SSP_DISORG", "Strange Situation Procedure: disorganised classification", False),),
        base_risk=0.25,
    ),
    Out(
        "dyadic_interaction",
        "Dyadic interaction",
        "erh",
        "continuous",
        "critical",
        0.35,
        0.15,
        0.20,
        0.40,
        False,
        (
            Ins("CARE", "CARE-Index dyadic synchrony", True, 7.0, 3.0),
            Ins("NCAST", "NCAST Parent-Child Interaction Teaching Scale", True, 55.0, 7.0),
            Ins("CIB", "Coding Interactive Behavior: dyadic reciprocity", True, 3.2, 0.8),
        ),
    ),
    Out(
        "socioemotional",
        "Child socio-emotional functioning",
        "child",
        "continuous",
        "important",
        0.05,
        0.03,
        0.08,
        0.30,
        True,
        (
            Ins("ASQSE", "Ages and Stages Questionnaire: Social-Emotional (total)", False, 35.0, 25.0),
            Ins("BITSEA_P", "BITSEA problem scale", False, 10.0, 6.0),
            Ins("BITSEA_C", "BITSEA competence scale", True, 16.0, 3.0),
        ),
    ),
    Out(
        "cognitive",
        "Child cognitive development",
        "child",
        "continuous",
        "important",
        0.05,
        0.03,
        0.08,
        0.22,
        False,
        (
            Ins("BSID_COG", "Bayley-III cognitive composite", True, 100.0, 15.0),
            Ins("MSEL_VR", "Mullen Scales: visual reception", True, 50.0, 10.0),
        ),
    ),
    Out(
        "language",
        "Child language development",
        "child",
        "continuous",
        "important",
        0.04,
        0.02,
        0.08,
        0.18,
        False,
        (
            Ins("BSID_LANG", "Bayley-III language composite", True, 98.0, 15.0),
            Ins("CDI", "MacArthur-Bates CDI: words produced", True, 60.0, 40.0),
        ),
    ),
    Out(
        "motor",
        "Child motor development",
        "child",
        "continuous",
        "important",
        0.02,
        0.00,
        0.08,
        0.15,
        False,
        (
            Ins("BSID_MOT", "Bayley-III motor composite", True, 100.0, 14.0),
            Ins("ASQ_GM", "Ages and Stages Questionnaire-3: gross motor", True, 50.0, 10.0),
        ),
    ),
    Out(
        "anxiety",
        "Parent/caregiver anxiety",
        "parent",
        "continuous",
        "important",
        0.20,
        0.10,
        0.10,
        0.22,
        True,
        (
            Ins("STAI_S", "State-Trait Anxiety Inventory: state", False, 38.0, 11.0),
            Ins("GAD7", "Generalized Anxiety Disorder 7-item scale", False, 5.0, 4.5),
            Ins("HADS_A", "Hospital Anxiety and Depression Scale: anxiety", False, 6.0, 4.0),
        ),
    ),
    Out(
        "depression",
        "Parent/caregiver depression",
        "parent",
        "continuous",
        "important",
        0.06,
        0.03,
        0.10,
        0.38,
        True,
        (
            Ins("EPDS", "Edinburgh Postnatal Depression Scale", False, 8.0, 5.0),
            Ins("BDI2", "Beck Depression Inventory-II", False, 10.0, 8.0),
            Ins("CESD", "Center for Epidemiologic Studies Depression Scale", False, 14.0, 10.0),
            Ins("PHQ9", "Patient Health Questionnaire-9", False, 6.0, 5.0),
        ),
    ),
)
HIGH_ROB_BIAS = 0.10
INTERVENTION_TYPES = (
    ("video feedback", 0.25, 8.0),
    ("home visiting", 0.30, 20.0),
    ("skin-to-skin contact", 0.12, 12.0),
    ("parenting group", 0.18, 14.0),
    ("infant massage", 0.15, 5.0),
)
COUNTRIES = (
    ("United States", 0.34),
    ("United Kingdom", 0.10),
    ("Netherlands", 0.08),
    ("Australia", 0.07),
    ("Canada", 0.06),
    ("Sweden", 0.04),
    ("Germany", 0.04),
    ("Iran", 0.04),
    ("Turkey", 0.04),
    ("Brazil", 0.03),
    ("South Africa", 0.03),
    ("China", 0.03),
    ("Norway", 0.03),
    ("Italy", 0.03),
    ("Pakistan", 0.02),
    ("Chile", 0.02),
)
DATABASES = (("PubMed", 3812), ("Medline", 2947), ("CINAHL", 1604), ("ERIC", 318), ("PsycInfo", 2455))
REGISTERS = (("ClinicalTrials.gov", 412), ("ISRCTN", 96), ("EU Clinical Trials Register", 37), ("ANZCTR", 58))
FULLTEXT_REASONS = (
    ("Intervention began after 6 months of age", 112),
    ("Not a dyadic intervention", 97),
    ("No early relational health outcome", 84),
    ("Not a randomised controlled trial", 71),
    ("Ineligible population", 38),
    ("Conference abstract without usable data", 29),
)
OTHER_REASONS = (("Intervention began after 6 months of age", 5), ("Not a dyadic intervention", 6))
OTHER_SOURCES = (("Citation searching", 38), ("Contact with authors", 9))


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


def _studies(rng: random.Random, n_studies: int) -> list[Study]:
    raw_sizes = [math.exp(rng.gauss(math.log(120), 0.75)) for _ in range(n_studies)]
    scale = DYADS_PER_STUDY * n_studies / sum(raw_sizes)
    studies = []
    for i in range(n_studies):
        number = f"{i + 1:03d}" if n_studies < 1000 else f"{i + 1:04d}"
        year = 1993 + int(29 * rng.random() ** 0.7)
        itype = _pick(rng, [(t, p) for t, p, _ in INTERVENTION_TYPES])
        median_hours = next(h for t, _, h in INTERVENTION_TYPES if t == itype)
        hours = min(60.0, max(1.0, round(2 * math.exp(rng.gauss(math.log(median_hours), 0.8))) / 2))
        session_length = rng.choice((0.5, 1.0, 1.0, 1.5, 2.0))
        sessions = max(1, round(hours / session_length))
        multi = rng.random() < 0.11
        arms = ("intervention A", "intervention B", "control") if multi else ("intervention", "control")
        n = max(24, round(raw_sizes[i] * scale))
        studies.append(
            Study(
                id=f"S{number}",
                label=f"Study {number} ({year})",
                year=year,
                country=_pick(rng, COUNTRIES),
                design="cluster RCT" if rng.random() < 0.1 else "RCT",
                risk="high" if rng.random() < 0.7 else "low",
                itype=itype,
                name=f"Illustrative {itype} programme {number}",
                comparator=rng.choice(("usual care", "usual care", "waiting list", "attention control")),
                hours=hours,
                sessions=sessions,
                age_weeks=int(rng.random() * 25),
                n=n,
                arms=arms,
            )
        )
    return studies


# ---------------------------------------------------------------------------------- outcomes
def _rob(rng: random.Random, self_report: bool) -> list[str]:
    levels = ("low", "some concerns", "high")
    d = [
        _pick(rng, list(zip(levels, (0.65, 0.28, 0.07), strict=True))),
        _pick(rng, list(zip(levels, (0.55, 0.37, 0.08), strict=True))),
        _pick(rng, list(zip(levels, (0.52, 0.33, 0.15), strict=True))),
        _pick(rng, list(zip(levels, (0.30, 0.60, 0.10) if self_report else (0.75, 0.22, 0.03), strict=True))),
        _pick(rng, list(zip(levels, (0.60, 0.38, 0.02), strict=True))),
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
            judgements = _rob(rng, o.self_report)
            rob.append([s.id, o.id, *judgements])
            bias = HIGH_ROB_BIAS if judgements[-1] == "high" else 0.0
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
    databases, registers = _scaled(DATABASES, f), _scaled(REGISTERS, f)
    fulltext, other_excl = _scaled(FULLTEXT_REASONS, f), _scaled(OTHER_REASONS, f)
    other_sources = _scaled(OTHER_SOURCES, f)
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
def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def review_yaml() -> str:
    """review.yaml of the illustrative review; the catalogue is built from OUTCOMES above."""
    lines = [
        "# Illustrative review: invented data made by erh_report/example/generate.py (see its docstring).",
        "# Replace this folder with your own extraction; docs/data.md describes every key and column.",
        "illustrative: true",
        'title: "Dyadic Parent/Caregiver-Infant Interventions Initiated in the First 6 Months of Life to '
        'Support Early Relational Health: A Meta-Analysis"',
        'short_title: "Dyadic interventions for early relational health"',
        "authors:",
        '  - {name: "Author One", affiliations: [1], corresponding: true, email: "author.one@example.org"}',
        '  - {name: "Author Two", affiliations: [1, 2]}',
        '  - {name: "Author Three", affiliations: [2]}',
        "affiliations:",
        '  - {id: 1, name: "Department of Example Studies, Illustrative University"}',
        '  - {id: 2, name: "Centre for Invented Data, Example City"}',
        "question:",
        '  population: "Parent/caregiver-infant dyads with infants in the first 6 months of life"',
        '  intervention: "Dyadic parent/caregiver-infant interventions initiated in the first 6 months"',
        '  comparator: "Usual care, waiting list or attention control"',
        '  outcomes: "Early relational health; child socio-emotional functioning and development; '
        'parent/caregiver mental health"',
        '  study_design: "Randomised controlled trials"',
        "search:",
        "  date: 2022-04-28",
        "  sources:",
    ]
    lines += [f"    - {{name: {_yaml_str(name)}, kind: database}}" for name, _ in DATABASES]
    lines += [f"    - {{name: {_yaml_str(name)}, kind: register}}" for name, _ in REGISTERS]
    lines += [
        '    - {name: "Backward and forward citation searching", kind: other}',
        '    - {name: "Contact with authors of unpublished and ongoing studies", kind: other}',
        "settings:",
        "  effect_measure: SMD          # Hedges' g",
        "  dichotomous_measure: OR",
        "  method: REML                 # tau-squared estimator",
        "  hksj: false                  # Hartung-Knapp-Sidik-Jonkman adjustment",
        "  level: 95",
        "  number_style: JAMA",
        "  smd_variant: metafor         # or revman",
        "domains:",
    ]
    for did, dname, role in DOMAINS:
        lines += [f"  - id: {did}", f"    name: {_yaml_str(dname)}", *ABBREVIATIONS.get(did, ()), f"    role: {role}",
                  "    outcomes:"]
        for o in (o for o in OUTCOMES if o.domain == did):
            lines += [
                f"      - id: {o.id}",
                f"        name: {_yaml_str(o.name)}",
                f"        type: {o.type}",
                f"        importance: {o.importance}",
            ]
            if o.type == "continuous":
                lines.append("        thresholds: {small: 0.2, moderate: 0.5, large: 0.8}")
            lines.append("        instruments:")
            for ins in o.instruments:
                lines.append(
                    f"          - {{id: {ins.id}, name: {_yaml_str(ins.name)}, "
                    f"higher_is_better: {str(ins.higher_is_better).lower()}}}"
                )
    lines += [
        "plan:",
        "  windows:",
        '    - {id: post, label: "Post-intervention", min_months: 0, max_months: 12, pick: earliest}',
        '    - {id: fu12, label: "Follow-up of 1 year or more", min_months: 12, pick: earliest}',
        "  instrument_rule: catalogue_order   # or largest_n, or single (then two instruments is an error)",
        "  multi_arm: combine                 # or split_control",
        "  analyses: all                      # every outcome in every window",
        "  min_studies: 2",
        "  subgroups: [population_risk, intervention_type]",
        "  moderators: [dose_hours, sessions]",
        "  min_studies_subgroup: 4",
        "  min_studies_metaregression: 10",
        "  min_studies_egger: 10",
        "  sensitivity: {exclude_high_rob: true, leave_one_out: true}",
        "  primary_window: post              # the window of the key results (abstract, Key Points, figures)",
        '  dose: {moderator: dose_hours, name: "contact hours", unit: "contact hour"}',
    ]
    return "\n".join(lines) + "\n"


METHOD_REFERENCES = """\
@article{page2021prisma,
  author = {Page, Matthew J. and McKenzie, Joanne E. and Bossuyt, Patrick M. and others},
  title = {The {PRISMA} 2020 statement: an updated guideline for reporting systematic reviews},
  journal = {BMJ}, year = {2021}, volume = {372}, pages = {n71}, doi = {10.1136/bmj.n71}
}
@article{sterne2019rob2,
  author = {Sterne, Jonathan A. C. and Savovi{\\'c}, Jelena and Page, Matthew J. and others},
  title = {{RoB} 2: a revised tool for assessing risk of bias in randomised trials},
  journal = {BMJ}, year = {2019}, volume = {366}, pages = {l4898}, doi = {10.1136/bmj.l4898}
}
@article{guyatt2008grade,
  author = {Guyatt, Gordon H. and Oxman, Andrew D. and Vist, Gunn E. and others},
  title = {{GRADE}: an emerging consensus on rating quality of evidence and strength of recommendations},
  journal = {BMJ}, year = {2008}, volume = {336}, pages = {924--926}, doi = {10.1136/bmj.39489.470347.AD}
}
@article{viechtbauer2010metafor,
  author = {Viechtbauer, Wolfgang},
  title = {Conducting meta-analyses in {R} with the metafor package},
  journal = {Journal of Statistical Software}, year = {2010}, volume = {36}, number = {3}, pages = {1--48},
  doi = {10.18637/jss.v036.i03}
}
@article{egger1997bias,
  author = {Egger, Matthias and Davey Smith, George and Schneider, Martin and Minder, Christoph},
  title = {Bias in meta-analysis detected by a simple, graphical test},
  journal = {BMJ}, year = {1997}, volume = {315}, pages = {629--634}, doi = {10.1136/bmj.315.7109.629}
}
@article{duval2000trimfill,
  author = {Duval, Sue and Tweedie, Richard},
  title = {Trim and fill: a simple funnel-plot-based method of testing and adjusting for publication bias
           in meta-analysis},
  journal = {Biometrics}, year = {2000}, volume = {56}, number = {2}, pages = {455--463},
  doi = {10.1111/j.0006-341X.2000.00455.x}
}
@article{garner2021relational,
  author = {Garner, Andrew and Yogman, Michael and {Committee on Psychosocial Aspects of Child and Family Health}},
  title = {Preventing childhood toxic stress: partnering with families and communities to promote relational
           health},
  journal = {Pediatrics}, year = {2021}, volume = {148}, number = {2}, pages = {e2021052582},
  doi = {10.1542/peds.2021-052582}
}
"""


def _references(studies: list[Study]) -> str:
    entries = [
        f"@misc{{{s.id.lower()},\n  title = {{{s.label}: illustrative trial of {s.itype} (invented data)}},\n"
        f"  year = {{{s.year}}},\n  note = {{Invented record of the illustrative review; not a real publication}}\n}}\n"
        for s in studies
    ]
    return METHOD_REFERENCES + "".join(entries)


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
    outcome_rows: list[list[object]] = [
        [
            "study_id",
            "outcome",
            "instrument",
            "followup_months",
            "arm",
            "role",
            "n",
            "mean",
            "sd",
            "events",
            "total",
            "yi",
            "sei",
            "n_total",
        ]
    ]
    rob_rows: list[list[object]] = [["study_id", "outcome", "d1", "d2", "d3", "d4", "d5", "overall"], *rob]
    width = 3 if len(excluded) < 1000 else 4
    excluded_rows: list[list[object]] = [["study", "year", "reason", "source", "reference"]]
    for i, (reason, source) in enumerate(excluded, start=1):
        year = 1990 + rng.randrange(32)
        excluded_rows.append([f"Excluded report {i:0{width}d} ({year})", year, reason, source, ""])
    grade_rows: list[list[object]] = [
        ["analysis_id", "domain", "judgement", "reason"],
        [
            "dyadic_interaction_fu12",
            "indirectness",
            "serious",
            "Follow-up assessments used different interaction tasks from the post-intervention ones "
            "(illustrative override).",
        ],
    ]
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
