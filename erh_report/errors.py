"""User-facing problems: each names where it is (file, row, column), the value, and what was expected.

A user mistake must end in a clear message and exit code 2, never a traceback; the CLI catches
``InputError`` and prints its problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_INPUT_ERROR = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. ``row`` is the 1-based data row as a spreadsheet shows it
    (the header is row 1, so the first data row is row 2); None when the problem is file-wide."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    expected: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (found {self.value!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


@dataclass
class InputError(Exception):
    """Raised with every problem found, so that the user can fix them all in one pass."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found in the input:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
