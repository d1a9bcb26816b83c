"""GRADE certainty of evidence for every analysis, summary-of-findings tables and evidence profiles, as data.

``assess_review(results)`` is the one entry point; see docs/grade.md for every rule and its source.
"""

from erh_report.grade.assess import Assessment, DomainRating, Override
from erh_report.grade.report import GradeReport, assess_review
from erh_report.grade.rules import GradeSettings

__all__ = ["Assessment", "DomainRating", "GradeReport", "GradeSettings", "Override", "assess_review"]
