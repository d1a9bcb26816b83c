"""Checks of a BibTeX file that the reader would otherwise pass over in silence: a brace never closed
(it swallows the fields after it) and a key given twice (the second silently wins). Each problem names
the entry and its line."""

from __future__ import annotations

import re

from erh_report.errors import Problem

_ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]*)\s*,?", re.MULTILINE)
_SKIP = {"comment", "preamble", "string"}


def _unbalanced(body: str) -> str | None:
    """Why the braces of one entry (``body`` starts at its opening brace) do not balance, or None. Text
    after the entry's closing brace, up to the next entry, is a comment to BibTeX."""
    depth = 0
    escaped = False
    for i, ch in enumerate(body):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                rest = body[i + 1 :]
                return "fields after the entry's closing brace (a '}' too many?)" if "=" in rest else None
    return "a brace '{' is never closed (it swallows the fields and entries after it)"


def bibtex_problems(text: str, source: str) -> list[Problem]:
    """Unbalanced braces and duplicate keys (BibTeX compares keys without regard to case)."""
    problems: list[Problem] = []
    starts = [m for m in _ENTRY.finditer(text) if m.group(1).lower() not in _SKIP]
    seen: dict[str, tuple[str, int]] = {}
    for i, match in enumerate(starts):
        key = match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.start() + match.group(0).index("{") : end]
        reason = _unbalanced(body)
        if reason:
            problems.append(
                Problem(
                    source, f"entry '{key}': {reason}", row=line, expected="every '{' closed by a '}' within its entry"
                )
            )
        if not key:
            problems.append(Problem(source, "an entry without a key", row=line, expected="@article{key, ...}"))
            continue
        first = seen.get(key.lower())
        if first is not None:
            same = "the same key" if first[0] == key else f"the key '{first[0]}', differing only by case,"
            problems.append(
                Problem(
                    source,
                    f"entry '{key}': {same} is already used at line {first[1]}",
                    row=line,
                    expected="each key once",
                )
            )
        else:
            seen[key.lower()] = (key, line)
    return problems
