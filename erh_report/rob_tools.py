"""The risk-of-bias tools a review may use (``settings.rob_tool``), each declared once.

A tool is its domains (column ids d1..dN of risk_of_bias.csv, robvis's headers, the domain names), its
judgement words (as written in risk_of_bias.csv, lower case, best to worst), robvis's colours for them,
and what each overall judgement means for GRADE's risk-of-bias domain ("not serious", "serious" or
"very serious" concern). Validation, the importer, the figures and the GRADE rule all read these records.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_ASSESSED = "not assessed"
NOT_ASSESSED_COLOUR = "#D9D9D9"
CONCERNS = ("not serious", "serious", "very serious")


@dataclass(frozen=True)
class RobDomain:
    id: str  # column of risk_of_bias.csv
    header: str  # robvis's column header and the figure's column label
    name: str


@dataclass(frozen=True)
class RobTool:
    id: str  # the value of settings.rob_tool
    name: str  # as printed: "RoB 2"
    domains: tuple[RobDomain, ...]
    judgements: tuple[str, ...]  # best to worst; "no information" last where the tool has it
    labels: dict[str, str]  # judgement -> printed word
    colours: dict[str, str]  # judgement -> robvis colour
    concern: dict[str, str]  # overall judgement -> GRADE concern (CONCERNS)
    rank: dict[str, int]  # judgement -> severity, for "overall at least as bad as the worst domain"

    @property
    def domain_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.domains)

    def label(self, judgement: str) -> str:
        return self.labels.get(judgement, judgement.capitalize())

    def colour(self, judgement: str) -> str:
        return self.colours.get(judgement, NOT_ASSESSED_COLOUR)

    def symbol(self, judgement: str) -> str:
        """robvis's symbol class of a judgement, named by its RoB 2 word: "low" (+), "some concerns" (-),
        "high" (x), "no information" (?); "not assessed" has none."""
        if judgement in ("no information", NOT_ASSESSED) or judgement not in self.rank:
            return judgement
        return ("low", "some concerns", "high")[min(self.rank[judgement], 2)]

    def legend(self) -> str:
        """The forest plot's key to its risk-of-bias columns and symbols."""
        marks = {"low": "+", "some concerns": "\u2212", "high": "\u00d7", "no information": "?"}
        domains = "; ".join(f"{d.id.upper()} {d.name[0].lower() + d.name[1:]}" for d in self.domains)
        words = "; ".join(f"{marks[self.symbol(j)]} {j}" for j in self.judgements)
        return f"Risk of bias ({self.name}): {domains}; O overall. {words}."

    def expected(self) -> str:
        words = [f"'{j}'" for j in self.judgements]
        return "one of " + ", ".join(words[:-1]) + " or " + words[-1] + f" ({self.name}, settings.rob_tool)"


def _domains(*pairs: tuple[str, str]) -> tuple[RobDomain, ...]:
    return tuple(RobDomain(f"d{i}", header, name) for i, (header, name) in enumerate(pairs, start=1))


GREEN, YELLOW, RED, DARK_RED, BLUE = "#02C100", "#E2DF07", "#BF0000", "#820000", "#4EA1F7"

ROB2 = RobTool(
    "RoB2",
    "RoB 2",
    _domains(
        ("D1", "Bias arising from the randomisation process"),
        ("D2", "Bias due to deviations from intended interventions"),
        ("D3", "Bias due to missing outcome data"),
        ("D4", "Bias in measurement of the outcome"),
        ("D5", "Bias in selection of the reported result"),
    ),
    ("low", "some concerns", "high", "no information"),
    {"low": "Low", "some concerns": "Some concerns", "high": "High", "no information": "No information"},
    {"low": GREEN, "some concerns": YELLOW, "high": RED, "no information": BLUE},
    {"low": "not serious", "some concerns": "serious", "high": "very serious", "no information": "serious"},
    {"low": 0, "some concerns": 1, "no information": 1, "high": 2},
)

ROBINS_I = RobTool(
    "ROBINS-I",
    "ROBINS-I",
    _domains(
        ("D1", "Bias due to confounding"),
        ("D2", "Bias due to selection of participants"),
        ("D3", "Bias in classification of interventions"),
        ("D4", "Bias due to deviations from intended interventions"),
        ("D5", "Bias due to missing data"),
        ("D6", "Bias in measurement of outcomes"),
        ("D7", "Bias in selection of the reported result"),
    ),
    ("low", "moderate", "serious", "critical", "no information"),
    {
        "low": "Low",
        "moderate": "Moderate",
        "serious": "Serious",
        "critical": "Critical",
        "no information": "No information",
    },
    {"low": GREEN, "moderate": YELLOW, "serious": RED, "critical": DARK_RED, "no information": BLUE},
    {
        "low": "not serious",
        "moderate": "serious",
        "serious": "very serious",
        "critical": "very serious",
        "no information": "serious",
    },
    {"low": 0, "moderate": 1, "no information": 1, "serious": 2, "critical": 3},
)

ROB1 = RobTool(
    "ROB1",
    "ROB 1",
    _domains(
        ("Random sequence generation", "Random sequence generation (selection bias)"),
        ("Allocation concealment", "Allocation concealment (selection bias)"),
        ("Blinding of participants and personnel", "Blinding of participants and personnel (performance bias)"),
        ("Blinding of outcome assessment", "Blinding of outcome assessment (detection bias)"),
        ("Incomplete outcome data", "Incomplete outcome data (attrition bias)"),
        ("Selective reporting", "Selective reporting (reporting bias)"),
        ("Other sources of bias", "Other sources of bias"),
    ),
    ("low", "unclear", "high", "no information"),
    {"low": "Low", "unclear": "Unclear", "high": "High", "no information": "No information"},
    {"low": GREEN, "unclear": YELLOW, "high": RED, "no information": BLUE},
    {"low": "not serious", "unclear": "serious", "high": "very serious", "no information": "serious"},
    {"low": 0, "unclear": 1, "no information": 1, "high": 2},
)

TOOLS: dict[str, RobTool] = {t.id: t for t in (ROB2, ROBINS_I, ROB1)}
MAX_DOMAINS = max(len(t.domains) for t in TOOLS.values())


def tool(tool_id: str | None) -> RobTool:
    """The tool a review's settings name (RoB 2 when none is named)."""
    return TOOLS[tool_id or ROB2.id]


def rob1_overall(judgements: list[str]) -> str:
    """A study's overall ROB 1 judgement as robvis and the Cochrane Handbook (8.7) summarise it: any high
    -> high; all low -> low; otherwise unclear."""
    if "high" in judgements:
        return "high"
    if judgements and all(j == "low" for j in judgements):
        return "low"
    return "unclear"
