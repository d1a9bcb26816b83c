"""Declared schemas of every input file, as pydantic models.

The models are the single statement of what the tool expects: validation reads them, and the
"Your data" documentation is checked against them, so the two cannot drift apart.
Cells arrive as text (exactly what the spreadsheet shows); empty cells and ``NA`` mean "missing".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null"})
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
ID_EXPECTED = "an identifier of letters, digits, '_', '-' or '.' (no spaces)"

ROB_JUDGEMENTS = ("low", "some concerns", "high", "no information")
ROB_DOMAINS = ("d1", "d2", "d3", "d4", "d5")
GRADE_DOMAINS = (
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
    "certainty",
)
GRADE_DOWNGRADES = ("not serious", "serious", "very serious")
GRADE_CERTAINTY = ("high", "moderate", "low", "very low")
ROLES = ("intervention", "control", "contrast")
PRISMA_BOXES = (
    "databases",
    "registers",
    "duplicates",
    "automation_excluded",
    "other_removed",
    "screened",
    "screen_excluded",
    "sought",
    "not_retrieved",
    "assessed",
    "fulltext_excluded",
    "other_sources",
    "other_sought",
    "other_not_retrieved",
    "other_assessed",
    "other_excluded",
    "previous_studies",
    "previous_reports",
    "studies_included",
    "reports_included",
)
#: PRISMA boxes that may hold several rows, told apart by their ``label``.
PRISMA_LABELLED = frozenset({"databases", "registers", "fulltext_excluded", "other_sources", "other_excluded"})


def _missing_to_none(value: Any) -> Any:
    """Spreadsheet cells: blank or NA means no value."""
    if isinstance(value, str):
        value = value.strip()
        if value.lower() in MISSING_TOKENS:
            return None
    return value


def _lower_text(value: Any) -> Any:
    """Vocabulary cells are matched without regard to case or surrounding spaces."""
    value = _missing_to_none(value)
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value).lower()
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


OptFloat = Annotated[float | None, BeforeValidator(_missing_to_none)]
OptInt = Annotated[int | None, BeforeValidator(_missing_to_none)]
OptText = Annotated[str | None, BeforeValidator(_missing_to_none)]
Text = Annotated[str, BeforeValidator(_strip), Field(min_length=1)]
Ident = Annotated[str, BeforeValidator(_strip), Field(min_length=1, pattern=ID_PATTERN)]
RobJudgement = Annotated[str | None, BeforeValidator(_lower_text)]  # checked against settings.rob_tool


class _Row(BaseModel):
    """A table row: unknown columns are ignored, every declared column is checked."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------- tables
class StudyRow(_Row):
    """`studies`: one row per included study."""

    study_id: Ident = Field(description="Unique study identifier used by every other table.")
    label: Text = Field(description="How the study is cited in tables and figures (author year).")
    year: Annotated[Annotated[int, Field(ge=1900, le=2100)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Year of publication."
    )
    country: OptText = Field(None, description="Country where the trial was run.")
    design: OptText = Field(None, description="Trial design, e.g. RCT or cluster RCT.")
    population_risk: Annotated[Literal["high", "low", "mixed"] | None, BeforeValidator(_lower_text)] = Field(
        None, description="Risk level of the families enrolled."
    )
    intervention_name: OptText = Field(None, description="Name of the intervention.")
    intervention_type: Annotated[str | None, BeforeValidator(_lower_text)] = Field(
        None, description="Kind of intervention (subgroup variable), e.g. video feedback, home visiting."
    )
    comparator: OptText = Field(None, description="What the control group received.")
    dose_hours: Annotated[Annotated[float, Field(ge=0)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Planned contact time in hours (meta-regression moderator)."
    )
    sessions: Annotated[Annotated[int, Field(ge=1)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Planned number of sessions (meta-regression moderator)."
    )
    infant_age_weeks: Annotated[Annotated[float, Field(ge=0)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Infant age in weeks when the intervention began."
    )
    n_randomised: Annotated[Annotated[int, Field(ge=2)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Dyads randomised."
    )
    reference: OptText = Field(None, description="Citation key in references.bib / CSL-JSON id.")
    doi: OptText = Field(None, description="DOI of the main report.")


class OutcomeRow(_Row):
    """`outcome_data`: one row per study x outcome x instrument x time point x arm."""

    study_id: Ident = Field(description="A study_id from studies.")
    outcome: Ident = Field(description="An outcome id from the catalogue in review.yaml.")
    instrument: Ident = Field(description="An instrument id listed under that outcome.")
    followup_months: Annotated[float, Field(ge=0)] = Field(
        description="Months from the end of the intervention to the assessment (0 = at the end)."
    )
    arm: Text = Field(description="Arm label, unique within the study (e.g. control, video).")
    role: Annotated[Literal["intervention", "control", "contrast"], BeforeValidator(_lower_text)] = Field(
        description="intervention or control arm, or contrast for a precomputed effect."
    )
    n: Annotated[Annotated[int, Field(ge=2)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Participants analysed in the arm (continuous outcomes)."
    )
    mean: OptFloat = Field(None, description="Arm mean on the instrument's own scale.")
    sd: Annotated[Annotated[float, Field(gt=0)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Arm standard deviation."
    )
    events: Annotated[Annotated[int, Field(ge=0)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Participants with the event (dichotomous outcomes)."
    )
    total: Annotated[Annotated[int, Field(ge=2)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Participants analysed in the arm (dichotomous outcomes)."
    )
    yi: OptFloat = Field(
        None,
        description="Precomputed effect (contrast rows): SMD, or log odds/risk ratio, "
        "intervention minus control on the instrument's own direction.",
    )
    sei: Annotated[Annotated[float, Field(gt=0)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Standard error of yi (contrast rows)."
    )
    n_total: Annotated[Annotated[int, Field(ge=2)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Participants behind a precomputed effect (contrast rows)."
    )
    subgroup: OptText = Field(
        None, description="Subgroup of this row in analyses that pool by subgroup (a RevMan subgroup's name)."
    )


class RiskOfBiasRow(_Row):
    """`risk_of_bias`: judgements of settings.rob_tool (RoB 2 by default) per study and outcome (blank
    outcome = every outcome)."""

    study_id: Ident = Field(description="A study_id from studies.")
    outcome: Annotated[str | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Outcome id, or blank / 'all' for every outcome of the study."
    )
    d1: RobJudgement = Field(None, description="Domain 1 of settings.rob_tool (RoB 2: randomisation process).")
    d2: RobJudgement = Field(None, description="Domain 2 (RoB 2: deviations from intended interventions).")
    d3: RobJudgement = Field(None, description="Domain 3 (RoB 2: missing outcome data).")
    d4: RobJudgement = Field(None, description="Domain 4 (RoB 2: measurement of the outcome).")
    d5: RobJudgement = Field(None, description="Domain 5 (RoB 2: selection of the reported result).")
    d6: RobJudgement = Field(None, description="Domain 6 (ROBINS-I and ROB 1 only).")
    d7: RobJudgement = Field(None, description="Domain 7 (ROBINS-I and ROB 1 only).")
    overall: RobJudgement = Field(None, description="Overall risk of bias.")


class PrismaRow(_Row):
    """`prisma`: one PRISMA 2020 count per row."""

    box: Annotated[Literal[PRISMA_BOXES], BeforeValidator(_lower_text)] = Field(  # type: ignore[valid-type]
        description="Which box of the flow diagram the count belongs to."
    )
    label: OptText = Field(None, description="Source name (databases, registers, other_sources) or exclusion reason.")
    n: Annotated[int, Field(ge=0)] = Field(description="The count.")


class ExcludedRow(_Row):
    """`excluded_studies`: full-text reports excluded, each with its reason."""

    study: Text = Field(description="How the excluded report is cited.")
    year: Annotated[Annotated[int, Field(ge=1900, le=2100)] | None, BeforeValidator(_missing_to_none)] = Field(
        None, description="Year of the report."
    )
    reason: Text = Field(description="Reason for exclusion (as labelled in prisma).")
    source: Annotated[Literal["databases", "other"], BeforeValidator(lambda v: _lower_text(v) or "databases")] = Field(
        "databases", description="Found via databases/registers or via other methods."
    )
    reference: OptText = Field(None, description="Citation key or DOI.")


class GradeRow(_Row):
    """`grade`: a GRADE judgement that overrides the suggested one, with its reason."""

    analysis_id: Ident = Field(description="An analysis id from the plan (outcome_window).")
    domain: Annotated[Literal[GRADE_DOMAINS], BeforeValidator(_lower_text)] = Field(  # type: ignore[valid-type]
        description="GRADE domain, or certainty to set the overall rating."
    )
    judgement: Annotated[str, BeforeValidator(_lower_text), Field(min_length=1)] = Field(
        description="not serious / serious / very serious; for certainty: high .. very low."
    )
    reason: Text = Field(description="Why (printed as the table footnote).")

    @model_validator(mode="after")
    def _judgement_fits_domain(self) -> GradeRow:
        allowed = GRADE_CERTAINTY if self.domain == "certainty" else GRADE_DOWNGRADES
        if self.judgement not in allowed:
            raise ValueError(f"one of {', '.join(allowed)} for domain {self.domain}")
        return self


#: Every table: file stem -> (row model, may the table have no rows).
TABLES: dict[str, tuple[type[_Row], bool]] = {
    "studies": (StudyRow, False),
    "outcome_data": (OutcomeRow, False),
    "risk_of_bias": (RiskOfBiasRow, False),
    "prisma": (PrismaRow, False),
    "excluded_studies": (ExcludedRow, True),
    "grade": (GradeRow, True),
}


def required_columns(model: type[_Row]) -> list[str]:
    """Columns that must be present in the header (they have no default)."""
    return [name for name, f in model.model_fields.items() if f.is_required()]


# ---------------------------------------------------------------------------------- review.yaml
class _Strict(BaseModel):
    """review.yaml sections: a misspelt key is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Affiliation(_Strict):
    id: int | str
    name: str


class Author(_Strict):
    name: str
    affiliations: list[int | str] = []
    corresponding: bool = False
    email: str | None = None


class Question(_Strict):
    population: str
    intervention: str
    comparator: str
    outcomes: str | None = None
    study_design: str | None = None


class SearchSource(_Strict):
    name: str
    kind: Literal["database", "register", "other"] = "database"
    date: dt.date | str | None = None


class Search(_Strict):
    date: dt.date | str
    sources: list[SearchSource]
    notes: str | None = None
    strategy: str | None = None


class Settings(_Strict):
    """How numbers are computed and printed; every choice the paper leaves open is one of these."""

    effect_measure: Literal["SMD", "MD"] = "SMD"
    dichotomous_measure: Literal["OR", "RR", "RD"] = "OR"
    method: Literal["FE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB"] = "REML"
    hksj: bool = False
    level: float = Field(95.0, gt=50, lt=100)
    number_style: Literal["JAMA", "RevMan5"] = "JAMA"
    smd_variant: Literal["metafor", "revman"] = "metafor"
    # several effects per study: their assumed sampling correlation when aggregated (sensitivity analysis)
    within_study_correlation: float = Field(0.6, ge=-1, le=1)
    # several effects per study in the main analyses: one selected (the paper), aggregated, or multilevel
    dependence: Literal["select", "aggregate", "multilevel"] = "select"
    robust: bool = False  # cluster-robust (CR2, Satterthwaite df) CI and P by study in the main analyses
    rob_tool: Literal["RoB2", "ROBINS-I", "ROB1"] = "RoB2"  # risk-of-bias tool of risk_of_bias.csv (rob_tools.py)
    # Table 1 of the manuscript lists every study up to this many, else summarises them (render/study_summary.py)
    list_studies_up_to: int = Field(40, ge=0)


class Thresholds(_Strict):
    """Effect sizes that GRADE imprecision is judged against (SMD 0.2 / 0.5 / 0.8 by default)."""

    small: float = 0.2
    moderate: float = 0.5
    large: float = 0.8


class Instrument(_Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: str
    higher_is_better: bool
    scale: str | None = None


class Outcome(_Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: str
    type: Literal["continuous", "dichotomous"] = "continuous"
    importance: Literal["critical", "important", "not important"] | None = None
    mid: float | None = None
    thresholds: Thresholds = Thresholds()
    instruments: list[Instrument] = Field(min_length=1)

    @field_validator("instruments")
    @classmethod
    def _unique_instruments(cls, value: list[Instrument]) -> list[Instrument]:
        ids = [i.id for i in value]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"instrument ids must be unique within an outcome: {', '.join(dup)}")
        return value


class Domain(_Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: str
    abbreviation: str | None = None  # "ERH": written after the name at its first mention, then instead of it
    role: Literal["primary", "secondary"] = "primary"
    outcomes: list[Outcome] = Field(min_length=1)


class Window(_Strict):
    """A time window: follow-up months in [min_months, max_months)."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    label: str
    min_months: float = Field(0.0, ge=0)
    max_months: float | None = None
    pick: Literal["earliest", "latest", "single"] = "earliest"

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.max_months is not None and self.max_months <= self.min_months:
            raise ValueError("max_months must be greater than min_months")
        return self

    def contains(self, months: float) -> bool:
        return months >= self.min_months and (self.max_months is None or months < self.max_months)


class PlannedAnalysis(_Strict):
    """An analysis of the plan; the optional keys set it up as RevMan does, per analysis."""

    outcome: str
    window: str
    id: Annotated[str, Field(pattern=ID_PATTERN)] | None = None  # default <outcome>_<window>; RevMan: "3.2"
    measure: Literal["SMD", "MD", "OR", "RR", "RD", "PETO_OR", "HR", "RATIO", "GEN"] | None = None
    pooling: Literal["IV", "MH", "PETO"] | None = None  # None: settings.method's inverse-variance model
    model: Literal["fixed", "random"] | None = None  # with pooling: common effect or DerSimonian-Laird
    totals: Literal["YES", "SUB", "NO"] = "YES"  # overall and subtotals, subtotals only, neither
    subgroups: bool = False  # pool by outcome_data's subgroup column
    subgroup_test: bool = True
    level: float | None = Field(None, gt=50, lt=100)
    group_labels: list[str] | None = None  # [experimental, control]
    graph_labels: list[str] | None = None  # [left, right]: "Favours experimental", "Favours control"
    source_id: str | None = None  # the analysis in the source file, e.g. CMP-003.02
    within_study_correlation: float | None = Field(None, ge=-1, le=1)  # overrides the setting
    dependence: Literal["select", "aggregate", "multilevel"] | None = None  # overrides the setting
    robust: bool | None = None  # overrides the setting


class Sensitivity(_Strict):
    exclude_high_rob: bool = True
    leave_one_out: bool = True


class Dose(_Strict):
    """Which moderator is the intervention's dose, and its words: "Dose (contact hours) was ...", "each
    additional contact hour changed the effect by ..."."""

    moderator: str = "dose_hours"
    name: str | None = None  # default: the moderator's name in erh_report/vocabulary.py ("contact hours")
    unit: str | None = None  # default: its unit there ("contact hour")


class Plan(_Strict):
    """Which analyses run and how each picks one effect per study."""

    windows: list[Window] = Field(min_length=1)
    instrument_rule: Literal["catalogue_order", "largest_n", "single"] = "catalogue_order"
    multi_arm: Literal["combine", "split_control"] = "combine"
    analyses: Literal["all"] | list[PlannedAnalysis] = "all"
    min_studies: int = Field(2, ge=1)
    subgroups: list[str] = []
    moderators: list[str] = []
    min_studies_subgroup: int = Field(4, ge=2)
    min_studies_metaregression: int = Field(10, ge=3)
    min_studies_egger: int = Field(10, ge=3)
    sensitivity: Sensitivity = Sensitivity()
    primary_window: str | None = None  # the window of the key results (abstract, figures); the first by default
    dose: Dose = Dose()

    @model_validator(mode="after")
    def _known_primary_window(self) -> Plan:
        ids = [w.id for w in self.windows]
        if self.primary_window is not None and self.primary_window not in ids:
            raise ValueError(
                f"primary_window {self.primary_window!r} is not a window; expected one of {', '.join(ids)}"
            )
        return self

    @property
    def primary_window_id(self) -> str:
        return self.primary_window or self.windows[0].id


class Source(_Strict):
    """Where the data came from, when they were imported (``erh-report import``)."""

    file: str
    format: str
    doi: str | None = None
    not_provided: list[str] = []  # what the source does not hold, e.g. PRISMA counts, risk of bias, GRADE


class References(_Strict):
    """How the reference list is written: a CSL style by its name in the CSL styles repository
    ("american-medical-association", "apa", "nlm-citation-sequence", "jama", ...) or a .csl file in the
    data folder."""

    style: str = "american-medical-association"


class ReviewConfig(_Strict):
    """review.yaml as a whole."""

    illustrative: bool = False
    source: Source | None = None
    title: str
    short_title: str | None = None
    authors: list[Author] = []
    affiliations: list[Affiliation] = []
    question: Question | None = None
    search: Search | None = None
    registration: str | None = None
    funding: str | None = None
    conflicts: str | None = None
    settings: Settings = Settings()
    domains: list[Domain] = Field(min_length=1)
    plan: Plan
    references: References = References()
