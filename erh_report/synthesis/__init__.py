"""The synthesis: the review's analysis plan run through the analysis core, giving every number of the paper.

- ``effects``: one row per study of an analysis (effect, variance, its own CI, provenance);
- ``run``: pooling each planned analysis and its subgroup, moderator, sensitivity and small-study analyses,
  into the result objects of ``results`` that figures, GRADE and documents read;
- ``tables``: the result objects as the tables written to ``results/`` (each table's columns declared once).
"""

from erh_report.synthesis.effects import study_effects
from erh_report.synthesis.results import AnalysisResult, ReviewResults
from erh_report.synthesis.run import run, run_analysis
from erh_report.synthesis.tables import tables

__all__ = ["AnalysisResult", "ReviewResults", "run", "run_analysis", "study_effects", "tables"]
