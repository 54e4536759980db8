"""Reports: per-run markdown, side-by-side comparison tables, PNG bar charts. Reads run folders only.

>>> from visionr1.report import load_run, comparison_rows   # doctest: +SKIP
"""

from visionr1.report.markdown import render_run_report, write_run_report
from visionr1.report.plots import bar_chart
from visionr1.report.tables import RunSummary, comparison_markdown, comparison_rows, comparison_table, load_run

__all__ = [
    "RunSummary",
    "bar_chart",
    "comparison_markdown",
    "comparison_rows",
    "comparison_table",
    "load_run",
    "render_run_report",
    "write_run_report",
]
