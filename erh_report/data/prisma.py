"""PRISMA 2020 flow counts: read from the tool's own long table or the PRISMA2020 R package's CSV
template, and checked so that every box adds up (a flow diagram that does not add up is the most
common error reviewers find).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from erh_report.errors import Problem

#: PRISMA2020 (R package) template ``data`` names -> this tool's boxes.
TEMPLATE_BOXES = {
    "database_results": "databases",
    "register_results": "registers",
    "website_results": "other_sources",
    "organisation_results": "other_sources",
    "citations_results": "other_sources",
    "duplicates": "duplicates",
    "excluded_automatic": "automation_excluded",
    "excluded_other": "other_removed",
    "records_screened": "screened",
    "records_excluded": "screen_excluded",
    "dbr_sought_reports": "sought",
    "dbr_notretrieved_reports": "not_retrieved",
    "dbr_assessed": "assessed",
    "dbr_excluded": "fulltext_excluded",
    "other_sought_reports": "other_sought",
    "other_notretrieved_reports": "other_not_retrieved",
    "other_assessed": "other_assessed",
    "other_excluded": "other_excluded",
    "previous_studies": "previous_studies",
    "previous_reports": "previous_reports",
    "new_studies": "new_studies",
    "new_reports": "new_reports",
    "total_studies": "studies_included",
    "total_reports": "reports_included",
}
TEMPLATE_LABELS = {
    "database_results": "Databases",
    "register_results": "Registers",
    "website_results": "Websites",
    "organisation_results": "Organisations",
    "citations_results": "Citation searching",
}
TEMPLATE_COLUMNS = ("data", "n")
REQUIRED_BOXES = ("databases", "screened", "screen_excluded", "sought", "assessed")


@dataclass
class Prisma:
    """Counts of the PRISMA 2020 flow diagram; ``rows`` remembers where each count was read."""

    databases: list[tuple[str, int]] = field(default_factory=list)
    registers: list[tuple[str, int]] = field(default_factory=list)
    duplicates: int = 0
    automation_excluded: int = 0
    other_removed: int = 0
    screened: int = 0
    screen_excluded: int = 0
    sought: int = 0
    not_retrieved: int = 0
    assessed: int = 0
    fulltext_excluded: list[tuple[str, int]] = field(default_factory=list)
    other_sources: list[tuple[str, int]] = field(default_factory=list)
    other_sought: int = 0
    other_not_retrieved: int = 0
    other_assessed: int = 0
    other_excluded: list[tuple[str, int]] = field(default_factory=list)
    previous_studies: int = 0
    previous_reports: int = 0
    studies_included: int = 0
    reports_included: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def identified(self) -> int:
        return sum(n for _, n in self.databases) + sum(n for _, n in self.registers)

    @property
    def removed(self) -> int:
        return self.duplicates + self.automation_excluded + self.other_removed

    @property
    def new_reports(self) -> int:
        return (
            self.assessed
            - sum(n for _, n in self.fulltext_excluded)
            + self.other_assessed
            - sum(n for _, n in self.other_excluded)
        )

    @property
    def new_studies(self) -> int:
        return self.studies_included - self.previous_studies

    def as_rows(self) -> list[dict[str, object]]:
        """Long table (box, label, n) for the results folder and the figure."""
        out: list[dict[str, object]] = []
        for name in self.__dataclass_fields__:
            if name == "rows":
                continue
            value = getattr(self, name)
            if isinstance(value, list):
                out.extend({"box": name, "label": label, "n": n} for label, n in value)
            else:
                out.append({"box": name, "label": "", "n": value})
        return out


def _parse_count_list(text: str) -> list[tuple[str, int]] | None:
    """'Reason one, 12; Reason two, 3' -> [(Reason one, 12), (Reason two, 3)]; None if malformed."""
    items: list[tuple[str, int]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(.+?)\s*[,:]\s*([0-9]+)", part)
        if not match:
            return None
        items.append((match.group(1).strip(), int(match.group(2))))
    return items


def from_template(source: str, rows: list[tuple[int, dict[str, str]]]) -> tuple[Prisma, list[Problem]]:
    """Read the PRISMA2020 R package template (columns data, node, box, description, ..., n)."""
    prisma = Prisma()
    problems: list[Problem] = []
    new_studies = new_reports = None
    for row, cells in rows:
        key = cells.get("data", "").strip()
        if key not in TEMPLATE_BOXES:
            continue
        box = TEMPLATE_BOXES[key]
        raw = cells.get("n", "").strip()
        if raw.upper() in {"", "NA"}:
            continue
        if re.fullmatch(r"[0-9]+", raw):
            items = [(TEMPLATE_LABELS.get(key, ""), int(raw))]
        else:
            parsed = _parse_count_list(raw)
            if (
                parsed is None
                or key not in TEMPLATE_LABELS
                and box
                not in (
                    "fulltext_excluded",
                    "other_excluded",
                )
            ):
                problems.append(
                    Problem(
                        source,
                        "not a count",
                        row=row,
                        column="n",
                        value=raw,
                        expected="a whole number ≥ 0, or 'Name, n; Name, n' for lists",
                    )
                )
                continue
            items = parsed
        prisma.rows.setdefault(box, row)
        if box == "new_studies":
            new_studies = items[0][1]
        elif box == "new_reports":
            new_reports = items[0][1]
        elif isinstance(getattr(prisma, box), list):
            getattr(prisma, box).extend(items)
        else:
            setattr(prisma, box, items[0][1])
    # The template gives new and total separately; totals default to new + previous.
    if "studies_included" not in prisma.rows and new_studies is not None:
        prisma.studies_included = new_studies + prisma.previous_studies
        prisma.rows["studies_included"] = prisma.rows.get("new_studies", 0)
    if "reports_included" not in prisma.rows and new_reports is not None:
        prisma.reports_included = new_reports + prisma.previous_reports
        prisma.rows["reports_included"] = prisma.rows.get("new_reports", 0)
    for box in REQUIRED_BOXES:
        if box not in prisma.rows:
            problems.append(Problem(source, f"no count for {box}", expected="a value in column n"))
    return prisma, problems


def from_rows(source: str, rows: list[tuple[int, dict[str, object]]]) -> tuple[Prisma, list[Problem]]:
    """Read the tool's own long table (already type-checked: box, label, n)."""
    prisma = Prisma()
    problems: list[Problem] = []
    for row, cells in rows:
        box = str(cells["box"])
        label = cells.get("label") or ""
        n = int(cells["n"])  # type: ignore[call-overload]
        current = getattr(prisma, box)
        if isinstance(current, list):
            if any(existing == label for existing, _ in current):
                problems.append(
                    Problem(
                        source,
                        f"{box} '{label}' given twice",
                        row=row,
                        column="label",
                        value=label,
                        expected="each source or reason once",
                    )
                )
                continue
            current.append((str(label), n))
            prisma.rows.setdefault(box, row)
        else:
            if box in prisma.rows:
                problems.append(
                    Problem(
                        source,
                        f"{box} given twice (first in row {prisma.rows[box]})",
                        row=row,
                        column="box",
                        value=box,
                        expected="one row per box",
                    )
                )
                continue
            setattr(prisma, box, n)
            prisma.rows[box] = row
    for box in (*REQUIRED_BOXES, "studies_included", "reports_included"):
        if box not in prisma.rows:
            problems.append(Problem(source, f"no row for box '{box}'", column="box", expected=box))
    return prisma, problems


def check_arithmetic(prisma: Prisma, source: str) -> list[Problem]:
    """Every box must follow from the boxes before it."""
    problems: list[Problem] = []

    def expect(box: str, found: int, wanted: int, how: str) -> None:
        if found != wanted:
            problems.append(
                Problem(
                    source,
                    f"PRISMA counts do not add up: {box} should be {how}",
                    row=prisma.rows.get(box),
                    column="n",
                    value=found,
                    expected=str(wanted),
                )
            )

    expect(
        "screened",
        prisma.screened,
        prisma.identified - prisma.removed,
        f"records identified ({prisma.identified}) minus records removed ({prisma.removed})",
    )
    expect(
        "sought",
        prisma.sought,
        prisma.screened - prisma.screen_excluded,
        f"records screened ({prisma.screened}) minus records excluded ({prisma.screen_excluded})",
    )
    expect(
        "assessed",
        prisma.assessed,
        prisma.sought - prisma.not_retrieved,
        f"reports sought ({prisma.sought}) minus reports not retrieved ({prisma.not_retrieved})",
    )
    if prisma.other_sought or prisma.other_assessed:
        expect(
            "other_assessed",
            prisma.other_assessed,
            prisma.other_sought - prisma.other_not_retrieved,
            f"reports sought via other methods ({prisma.other_sought}) minus not retrieved "
            f"({prisma.other_not_retrieved})",
        )
    expect(
        "reports_included",
        prisma.reports_included - prisma.previous_reports,
        prisma.new_reports,
        "reports assessed minus reports excluded, over both columns"
        + (f", plus {prisma.previous_reports} from the previous version" if prisma.previous_reports else ""),
    )
    if prisma.reports_included < prisma.studies_included:
        problems.append(
            Problem(
                source,
                "fewer reports than studies included",
                row=prisma.rows.get("reports_included"),
                column="n",
                value=prisma.reports_included,
                expected=f"at least {prisma.studies_included} (one report per study or more)",
            )
        )
    return problems
