"""The review's input: declared schemas, loading, validation and the analysis plan.

``load_review(data_dir)`` is the one entry point: it reads every file, checks it against its schema and
across files, and returns a :class:`~erh_report.data.validate.Review` or raises
:class:`~erh_report.errors.InputError` listing every problem at once.
"""

from erh_report.data.validate import Review, load_review

__all__ = ["Review", "load_review"]
