"""erh_report: regenerate a systematic review and meta-analysis paper from its extracted data."""

__version__ = "0.1.0"
