"""The review's input: declared schemas, loading, validation and the analysis plan.

``load_review(data_dir)`` is the one entry point: it reads every file (``load``), checks review.yaml
(``config_checks``) and the tables (``table_checks``), pydantic's errors put in the data's words
(``problems``), then applies the analysis plan (``plan``) and returns a :class:`~erh_report.data.review.Review`,
or raises :class:`~erh_report.errors.InputError` listing every problem at once.
"""

from erh_report.data.review import Review
from erh_report.data.validate import load_review

__all__ = ["Review", "load_review"]
