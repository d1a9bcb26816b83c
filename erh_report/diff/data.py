"""What changed in the data between two builds: the cause of every number that moved.

A build keeps a copy of its data folder in ``inputs.zip`` (an archive, so that no spreadsheet program opens the
author's own cells, formulas included, as part of the outputs); two such copies (or two data folders) are compared
table by table, rows matched by their ids (never by position): each changed cell with its file, row, study
and column, rows added or removed, and every review.yaml value (settings, plan, catalogue) that changed.
"""

from __future__ import annotations

import atexit
import math
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from erh_report.data.cells import parse_number
from erh_report.data.load import RawData, RawTable, read_folder

INPUTS = "inputs.zip"
#: The columns that identify a row of each table (what an author would call "the same row").
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "studies": ("study_id",),
    "outcome_data": ("study_id", "outcome", "instrument", "followup_months", "arm"),
    "risk_of_bias": ("study_id", "outcome"),
    "prisma": ("box", "label"),
    "excluded_studies": ("study", "reason"),
    "grade": ("analysis_id", "domain"),
}


@dataclass(frozen=True)
class CellChange:
    """One cell an author changed: ``row`` is the spreadsheet row in the new file (header = row 1)."""

    file: str
    row: int
    old_row: int
    study: str
    key: str
    column: str
    old: str
    new: str


@dataclass(frozen=True)
class RowChange:
    """A row present on one side only; ``row`` is its spreadsheet row on that side."""

    file: str
    row: int
    study: str
    key: str
    status: str  # "added" or "removed"


@dataclass(frozen=True)
class SettingChange:
    """A review.yaml value that changed; ``row`` is its line in the new (or, if removed, the old) file."""

    file: str
    row: int | None
    key: str
    old: str
    new: str


@dataclass
class DataChanges:
    """Everything that differs between the data of two builds."""

    cells: list[CellChange] = field(default_factory=list)
    rows: list[RowChange] = field(default_factory=list)
    settings: list[SettingChange] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (file, "changed" / "added" / "removed")
    missing: str = ""  # why the data could not be compared (a build without inputs.zip)

    def __bool__(self) -> bool:
        return bool(self.cells or self.rows or self.settings or self.files)

    def summary(self) -> str:
        files = {c.file for c in self.cells}
        parts = [
            f"{_count(len(self.cells), 'data cell')} changed in {_count(len(files), 'file')}",
            f"{_count(len(self.rows), 'data row')} added or removed",
            f"{_count(len(self.settings), 'review.yaml value')} changed",
        ]
        if self.files:
            parts.append(f"{_count(len(self.files), 'other input file')} changed")
        return "; ".join(parts)


def _count(n: int, one: str) -> str:
    return f"{n} {one}{'' if n == 1 else 's'}"


def copy_inputs(data_dir: Path, out_dir: Path) -> None:
    """Keep the data folder's files, byte for byte, in ``out_dir/inputs.zip`` so a later diff can name what
    changed; fixed entry times and order keep the archive reproducible."""
    from erh_report.reproducible import FIXED_ZIP_TIME

    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_dir / INPUTS, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(data_dir).iterdir()):
            if path.is_file() and not path.name.startswith((".", "~$")):
                info = zipfile.ZipInfo(path.name, date_time=FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())


def inputs_of(folder: Path) -> Path | None:
    """The data of a build folder (its inputs.zip, unpacked into a temporary folder removed at exit) or of a
    data folder (itself); None if it has none."""
    if (folder / "review.yaml").is_file():
        return folder
    archive = folder / INPUTS
    if not archive.is_file():
        return None
    try:
        with zipfile.ZipFile(archive) as source:
            names = [n for n in source.namelist() if "/" not in n and not n.startswith(".")]
            if "review.yaml" not in names:
                return None
            unpacked = Path(tempfile.mkdtemp(prefix="erh-inputs-"))
            atexit.register(shutil.rmtree, unpacked, True)
            for name in names:
                (unpacked / name).write_bytes(source.read(name))
    except (zipfile.BadZipFile, OSError):
        return None
    return unpacked


def _same(old: str, new: str) -> bool:
    """Equal as a spreadsheet means them: '12' and '12.0' are the same number."""
    if old.strip() == new.strip():
        return True
    try:
        a, b = parse_number(old.strip()), parse_number(new.strip())
    except ValueError:
        return False
    return a == b


def _keyed(table: RawTable, keys: tuple[str, ...]) -> dict[tuple[str, ...], tuple[int, dict[str, str]]]:
    """Rows by their ids; a repeated id gets its occurrence number, so no row is lost."""
    found: dict[tuple[str, ...], tuple[int, dict[str, str]]] = {}
    for number, cells in table.rows:
        key = tuple(_normal(cells.get(k, "")) for k in keys)
        occurrence = 0
        while (*key, str(occurrence)) in found:
            occurrence += 1
        found[(*key, str(occurrence))] = (number, cells)
    return found


def _normal(value: str) -> str:
    """An id cell as compared: '12.0' and '12' are one follow-up time."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return f"{number:g}" if math.isfinite(number) else text


def _study(cells: dict[str, str], labels: dict[str, str]) -> str:
    study_id = cells.get("study_id", "").strip()
    if study_id:
        label = labels.get(study_id, "")
        return f"{study_id} ({label})" if label else study_id
    return cells.get("study", "").strip()


def _key_text(key: tuple[str, ...], names: tuple[str, ...]) -> str:
    shown = [f"{name} {value}" for name, value in zip(names, key, strict=False) if value]
    if key[-1] != "0":
        shown.append(f"occurrence {int(key[-1]) + 1}")
    return ", ".join(shown)


def compare_tables(old: RawData, new: RawData) -> tuple[list[CellChange], list[RowChange]]:
    """Every changed cell and every added or removed row, table by table, in the new file's row order."""
    labels = {
        c.get("study_id", ""): c.get("label", "")
        for _, c in (new.tables.get("studies") or old.tables.get("studies") or RawTable("studies", "", [], [])).rows
    }
    cells: list[CellChange] = []
    rows: list[RowChange] = []
    for name, keys in ROW_KEYS.items():
        before, after = old.tables.get(name), new.tables.get(name)
        if before is None and after is None:
            continue
        before = before or RawTable(name, after.source, [], [])
        after = after or RawTable(name, before.source, [], [])
        a, b = _keyed(before, keys), _keyed(after, keys)
        columns = list(dict.fromkeys([*after.columns, *before.columns]))
        for key, (number, new_cells) in b.items():
            if key not in a:
                rows.append(RowChange(after.source, number, _study(new_cells, labels), _key_text(key, keys), "added"))
                continue
            old_number, old_cells = a[key]
            for column in columns:
                old_value, new_value = old_cells.get(column, ""), new_cells.get(column, "")
                if not _same(old_value, new_value):
                    cells.append(
                        CellChange(
                            after.source,
                            number,
                            old_number,
                            _study(new_cells, labels),
                            _key_text(key, keys),
                            column,
                            old_value,
                            new_value,
                        )
                    )
        for key, (number, old_cells) in a.items():
            if key not in b:
                rows.append(
                    RowChange(before.source, number, _study(old_cells, labels), _key_text(key, keys), "removed")
                )
    return cells, rows


def _flatten(value: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], str]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flatten(item, (*path, key)).items()}
    if isinstance(value, list) and value:
        return {k: v for index, item in enumerate(value) for k, v in _flatten(item, (*path, index)).items()}
    return {path: "" if value is None else str(value)}


def compare_config(old: RawData, new: RawData) -> list[SettingChange]:
    """Every review.yaml value that differs, by its key path (e.g. settings.method), in file order."""
    a, b = _flatten(old.config or {}), _flatten(new.config or {})
    found = []
    for path in [*b, *(p for p in a if p not in b)]:
        before, after = a.get(path), b.get(path)
        if before != after:
            row = new.config_lines.get(path) if path in b else old.config_lines.get(path)
            found.append(SettingChange("review.yaml", row, ".".join(str(p) for p in path), before or "", after or ""))
    return found


def _other_files(old: Path, new: Path) -> list[tuple[str, str]]:
    """Input files that are neither tables nor review.yaml (the reference list) and differ."""

    def files(folder: Path) -> dict[str, bytes]:
        return {
            p.name: p.read_bytes()
            for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() not in (".csv", ".tsv", ".xlsx", ".yaml")
        }

    a, b = files(old), files(new)
    return [
        (name, "added" if name not in a else "removed" if name not in b else "changed")
        for name in sorted(set(a) | set(b))
        if a.get(name) != b.get(name)
    ]


def compare_data(old: Path | None, new: Path | None) -> DataChanges:
    """What changed between two data folders (or the copies in builds' inputs.zip)."""
    if old is None or new is None:
        which = "old" if old is None else "new"
        return DataChanges(
            missing=f"the {which} build has no copy of its data (inputs.zip): it was built by an "
            "earlier version; rebuild it, or give the data folders themselves"
        )
    raw_old, raw_new = read_folder(Path(old)), read_folder(Path(new))
    cells, rows = compare_tables(raw_old, raw_new)
    return DataChanges(cells, rows, compare_config(raw_old, raw_new), _other_files(Path(old), Path(new)))
