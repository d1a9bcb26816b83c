"""Byte-identical outputs: the same inputs must give the same files, so that a build can be verified and
a correction shows only what it changed. Zip-based formats (DOCX, XLSX) carry dates; fix them here."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_ISO = "2000-01-01T00:00:00Z"
_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def normalise_zip(path: Path) -> None:
    """Rewrite a DOCX/XLSX with fixed entry times, fixed core-property dates and a fixed entry order."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    first = [e for e in entries if e[0] == "[Content_Types].xml"]
    rest = sorted((e for e in entries if e[0] != "[Content_Types].xml"), key=lambda e: e[0])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in first + rest:
            if name == "docProps/core.xml":
                data = _DATES.sub(rb"\g<1>" + FIXED_ISO.encode() + rb"\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
