"""Versions of Python and the packages a build used: printed in the Methods and recorded in the manifest."""

from __future__ import annotations

import platform
from importlib import metadata

PACKAGES = ("erh_report", "numpy", "scipy", "pandas", "statsmodels", "matplotlib", "jinja2", "python-docx",
            "weasyprint", "pikepdf", "openpyxl", "pydantic", "pyyaml")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
