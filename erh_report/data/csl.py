"""Small pieces of CSL-JSON (the item format citeproc-py formats) shared by the reference-file readers."""

from __future__ import annotations

import re
from typing import Any

_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}


def csl_date(text: str, month: str = "") -> dict[str, Any]:
    """ "2021", "2021-03-29", "2021/03/29/", "2021 Mar 29" (with a separate month word or number) -> a CSL
    date; text without a four-digit year is kept as it is written."""
    parts = [p for p in re.split(r"[\s/\-.,]+", text.strip()) if p]
    if not parts or not re.fullmatch(r"\d{4}", parts[0]):
        return {"literal": text.strip()}
    date = [int(parts[0])]
    rest = parts[1:] or ([month] if month else [])
    month_number = _MONTHS.get(rest[0][:3].lower()) if rest else None
    if rest and rest[0].isdigit() and 1 <= int(rest[0]) <= 12:
        month_number = int(rest[0])
    if month_number:
        date.append(month_number)
        if len(rest) > 1 and rest[1].isdigit() and 1 <= int(rest[1]) <= 31:
            date.append(int(rest[1]))  # a day only after a month ("2020 Jan-Feb" is a span of months)
    return {"date-parts": [date]}


def csl_page(text: str) -> str:
    """A page range with a plain hyphen ("924--926", "924–926" -> "924-926"); MEDLINE's shortened end page
    written out ("924-6" -> "924-926"), as styles expect the whole range."""
    text = re.sub(r"\s*(?:--|\u2013|\u2014)\s*", "-", text.strip())
    match = re.fullmatch(r"(\d+)-(\d+)", text)
    if match and len(match.group(2)) < len(match.group(1)):
        start, end = match.groups()
        return f"{start}-{start[: len(start) - len(end)]}{end}"
    return text
