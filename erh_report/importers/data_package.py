"""The Cochrane / RevMan Web data package (v1): a zip as downloaded (holding a zip of the data), or its
unzipped folder.

The data are CSV files whose names end in ``analysis-data/...-overall-estimates-and-settings.csv``,
``...-data-rows.csv``, ``...-subgroup-estimates.csv``, ``study-data/...-study-information.csv`` and
``...-risk-of-bias.csv``; they are found wherever they are in the tree or in zips inside it. Numeric cells
a row does not use are written as 0.0, so each row's data type says which cells count.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from pathlib import Path

from erh_report.errors import InputError, Problem
from erh_report.importers import names
from erh_report.importers.model import Outcome, Review, RiskOfBias, Row, Stored, Study, Subgroup

PARTS = {
    "overall": "overall-estimates-and-settings.csv",
    "rows": "data-rows.csv",
    "subgroups": "subgroup-estimates.csv",
    "studies": "study-information.csv",
    "rob": "risk-of-bias.csv",
}
_STORED = {
    "Mean": "effect_size",
    "CI start": "ci_start",
    "CI end": "ci_end",
    "Heterogeneity Tau²": "tau2",
    "Heterogeneity Chi²": "chi2",
    "Heterogeneity df": "df",
    "Heterogeneity P": "p_chi2",
    "Heterogeneity I²": "i2",
    "Effect Z": "z",
    "Effect P": "p_z",
    "Subgroup Chi²": "q",
    "Subgroup P": "p_q",
    "Subgroup I²": "i2_q",
}


def _collect_zip(data: bytes, source: str, found: dict[str, str], depth: int = 0) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile:
        raise InputError([Problem(source, "is a broken zip file", expected="a Cochrane data package (zip)")]) from None
    for info in members:
        name = info.filename
        try:
            if name.lower().endswith(".zip") and depth < 3:
                _collect_zip(archive.read(info), f"{source}:{name}", found, depth + 1)
            else:
                _take(name, lambda info=info: archive.read(info).decode("utf-8-sig"), found)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
            raise InputError(
                [Problem(f"{source}:{name}", f"cannot be read from the zip ({exc})", expected="an intact zip file")]
            ) from None


def _take(name: str, read, found: dict[str, str]) -> None:
    for part, suffix in PARTS.items():
        if name.endswith(suffix) and part not in found:
            found[part] = read()


def collect(path: Path) -> dict[str, str]:
    """The package's CSV texts by part, from a zip or a folder (zips inside it are opened too)."""
    found: dict[str, str] = {}
    if path.is_dir():
        for f in sorted(path.rglob("*")):
            if f.suffix.lower() == ".zip":
                _collect_zip(f.read_bytes(), str(f), found)
            elif f.is_file():
                _take(f.name, lambda f=f: f.read_text(encoding="utf-8-sig"), found)
    else:
        _collect_zip(path.read_bytes(), path.name, found)
    return found


def looks_like(path: Path) -> bool:
    try:
        parts = collect(path)
    except InputError:
        return False
    return "overall" in parts and "rows" in parts


def _records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _stored(cells: dict[str, str]) -> Stored:
    values = {key: v for col, key in _STORED.items() if (v := names.number(cells.get(col))) is not None}
    calculated = values.get("ci_start") is not None and values.get("ci_start") != values.get("ci_end")
    return Stored(values, calculated)


def _true(cell: str | None) -> bool:
    return (cell or "").strip().lower() in ("true", "yes", "1")


def _row(cells: dict[str, str], data_type: str, subgroup: int | None, sid: str, ratio: bool) -> Row:
    n = names.number
    if data_type == "DICH":
        return Row(
            sid,
            subgroup,
            events_1=n(cells.get("Experimental cases")),
            total_1=n(cells.get("Experimental N")),
            events_2=n(cells.get("Control cases")),
            total_2=n(cells.get("Control N")),
            footnote=cells.get("Footnotes", ""),
        )
    if data_type == "CONT":
        return Row(
            sid,
            subgroup,
            mean_1=n(cells.get("Experimental mean")),
            sd_1=n(cells.get("Experimental SD")),
            total_1=n(cells.get("Experimental N")),
            mean_2=n(cells.get("Control mean")),
            sd_2=n(cells.get("Control SD")),
            total_2=n(cells.get("Control N")),
            footnote=cells.get("Footnotes", ""),
        )
    return Row(
        sid,
        subgroup,
        total_1=n(cells.get("Experimental N")),
        total_2=n(cells.get("Control N")),
        estimate=n(cells.get("GIV Mean")),
        se=n(cells.get("GIV SE")),
        footnote=cells.get("Footnotes", ""),
    )


def read(path: Path) -> Review:
    source = Path(path).name
    parts = collect(Path(path))
    missing = [PARTS[p] for p in ("overall", "rows") if p not in parts]
    if missing:
        raise InputError([Problem(source, f"no {m} found", expected="a Cochrane data package v1") for m in missing])
    subgroup_rows: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for cells in _records(parts.get("subgroups", "")):
        subgroup_rows[(cells["Analysis group"], cells["Analysis number"])].append(cells)
    data_rows: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for cells in _records(parts["rows"]):
        data_rows[(cells["Analysis group"], cells["Analysis number"])].append(cells)
    studies: dict[str, Study] = {}
    for line, cells in enumerate(_records(parts.get("studies", "")), start=2):
        sid = names.study_id(cells.get("Study", ""))
        if sid in studies:
            raise InputError(
                [
                    Problem(
                        f"{source}: {PARTS['studies']}",
                        "duplicate study id",
                        row=line,
                        column="Study",
                        value=cells.get("Study"),
                        expected="each study once",
                    )
                ]
            )
        studies[sid] = Study(sid, cells.get("Study", "").strip(), (cells.get("Year") or "").strip())
    outcomes = []
    for cells in _records(parts["overall"]):
        group, number = cells["Analysis group"], cells["Analysis number"]
        where = f"analysis {group}.{number}"
        data_type = names.data_type(cells.get("Data type", ""), source, where)
        measure = names.measure_code(cells.get("Effect measure", ""), source, where)
        method = names.method(cells.get("Statistical method") or "IV", source, where)
        log_data = _true(cells.get("Log-scale data")) and data_type == "IV"
        subs: list[Subgroup] = []
        for sc in subgroup_rows.get((group, number), []):
            subs.append(
                Subgroup(int(float(sc.get("Subgroup number") or len(subs) + 1)), sc.get("Subgroup", ""), _stored(sc))
            )
        by_name = {s.name: s.number for s in subs}
        rows = []
        for rc in data_rows.get((group, number), []):
            sid = names.study_id(rc.get("Study", ""))
            studies.setdefault(sid, Study(sid, rc.get("Study", "").strip(), (rc.get("Study year") or "").strip()))
            sub_name = (rc.get("Subgroup") or "").strip()
            if sub_name and sub_name not in by_name:
                by_name[sub_name] = len(by_name) + 1
                subs.append(Subgroup(by_name[sub_name], sub_name, None))
            rows.append(_row(rc, data_type, by_name.get(sub_name) if sub_name else None, sid, log_data))
        overall_on, sub_on = _true(cells.get("Overall estimates")), _true(cells.get("Subgroup estimates"))
        totals = "YES" if overall_on else ("SUB" if sub_on and subs else "NO")
        outcomes.append(
            Outcome(
                comparison=int(float(group)),
                number=int(float(number)),
                comparison_name=cells.get("Analysis group name", ""),
                name=cells.get("Analysis name", ""),
                data_type=data_type,
                measure=measure,
                method="PETO" if measure == "PETO_OR" else method,
                random=(cells.get("Analysis model") or "").lower().startswith("random"),
                totals=totals,
                has_subgroups=bool(subs),
                subgroup_test=_true(cells.get("Test for subgroup differences")),
                log_data=log_data,
                generic_measure=cells.get("Effect measure", "") if data_type == "IV" else "",
                level_study=names.number(cells.get("Study CI")) or 95.0,
                level_total=names.number(cells.get("Estimate CI")) or 95.0,
                group_labels=(
                    cells.get("Experimental group label") or "Experimental",
                    cells.get("Control group label") or "Control",
                ),
                swap_events=_true(cells.get("Swap event and non-event")),
                rows=tuple(rows),
                subgroups=tuple(subs),
                stored=_stored(cells),
            )
        )
    rob = []
    for cells in _records(parts.get("rob", "")):
        sid = names.study_id(cells.get("Study", ""))
        for col, value in cells.items():
            if col and col.startswith("Domain (judgement): "):
                word = names.ROB_WORDS.get((value or "").strip().lower())
                if word:
                    domain = col.split(": ", 1)[1]
                    rob.append(RiskOfBias(sid, domain, word, cells.get(f"Domain (support): {domain}", "")))
    title = outcomes[0].comparison_name if outcomes else source
    return Review(
        title=title,
        source=source,
        source_format="Cochrane data package v1",
        studies=tuple(studies.values()),
        outcomes=tuple(outcomes),
        risk_of_bias=tuple(rob),
    )
