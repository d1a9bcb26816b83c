"""PDF from the document's HTML with WeasyPrint; fixed identifier and dates make the bytes reproducible."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path


def write_pdf(html: str, base_dir: Path, out_path: Path) -> None:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    HTML(string=html, base_url=str(base_dir)).write_pdf(
        out_path, pdf_identifier=identifier, uncompressed_pdf=False, optimize_images=False)
