"""Stats and tracking: which sources send clients who fit, as figures and as a chart.

`compute_stats` / `render_stats` give the report (a dict for --json, plain text for a terminal or a
chat), `chart_png` the monthly chart as PNG bytes. Every chat surface and the CLI call these.
"""

from referbot.stats.chart import MonthlySeries, chart_png, monthly_series, render_chart
from referbot.stats.periods import PERIODS, UnknownPeriod
from referbot.stats.report import compute_stats, render_stats

__all__ = ["PERIODS", "MonthlySeries", "UnknownPeriod", "chart_png", "compute_stats", "monthly_series",
           "render_chart", "render_stats"]
