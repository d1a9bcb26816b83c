"""The review's figures: forest, funnel, risk of bias, dose (meta-regression) and the PRISMA 2020 flow.

``render_figures(results, out_dir)`` writes every figure as SVG (text kept as text) and 300 dpi PNG,
byte-identical for the same results, and returns their ``Figure`` records (captions and alt text
included) for the documents.
"""

from erh_report.figures.output import Figure
from erh_report.figures.render import render_figures

__all__ = ["Figure", "render_figures"]
