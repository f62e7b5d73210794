"""The stats chart: referrals per month, stacked by source type, with the good-fit share as a line.

Drawn with matplotlib's object API on the Agg canvas (`Figure` + `savefig`), never pyplot: no global
figure state and no GUI backend, so it works headless, inside the bot's event loop (in a worker
thread) and in several threads at once.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from referbot.stats import queries
from referbot.stats.periods import recent_months
from referbot.store import Database

#: Pixel size of the PNG: WIDTH x HEIGHT at DPI.
WIDTH, HEIGHT, DPI = 1200, 700, 100
UNKNOWN = "unknown"


@dataclass(frozen=True)
class MonthlySeries:
    """What the chart shows: per month (oldest first), referrals per source type and good fits."""

    months: list[str]
    by_type: dict[str, list[int]]  # source type -> referrals per month, largest type first
    good_fit: list[int]

    @property
    def totals(self) -> list[int]:
        return [sum(column) for column in zip(*self.by_type.values())] if self.by_type else [0] * len(self.months)


async def monthly_series(database: Database, *, now: datetime, months: int = 12,
                         zone: tzinfo = timezone.utc) -> MonthlySeries:
    """Referrals of the last `months` calendar months in `zone` (the current one included)."""
    spans = recent_months(now, months, zone)
    async with database.sessions() as session:
        rows = await queries.per_month(session, spans, now)
    labels = [m.label for m in spans]
    index = {label: i for i, label in enumerate(labels)}
    by_type: dict[str, list[int]] = {}
    good_fit = [0] * len(labels)
    for row in rows:
        by_type.setdefault(row.source_type or UNKNOWN, [0] * len(labels))[index[row.month]] += row.referrals
        good_fit[index[row.month]] += row.good_fit
    ordered = dict(sorted(by_type.items(), key=lambda item: (-sum(item[1]), item[0])))
    return MonthlySeries(labels, ordered, good_fit)


def render_chart(series: MonthlySeries) -> bytes:
    """The chart as PNG bytes (WIDTH x HEIGHT pixels); an empty series still gives a readable chart."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(series.months)))
    bottom = [0] * len(positions)
    for kind, counts in series.by_type.items():
        axes.bar(positions, counts, bottom=bottom, label=kind.replace("_", " "), width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts)]
    axes.set_xticks(positions, series.months, rotation=45, ha="right")
    axes.set_xlim(-0.5, len(positions) - 0.5)
    axes.set_ylabel("Referrals")
    axes.set_title("Referrals per month by source type, with the good-fit share")
    axes.set_ylim(0, max(max(bottom, default=0), 1) * 1.15)
    axes.yaxis.get_major_locator().set_params(integer=True)
    totals = series.totals
    if sum(totals):
        share = axes.twinx()
        share.plot(positions, [100 * g / t if t else float("nan") for g, t in zip(series.good_fit, totals)],
                   color="black", marker="o", label="good fit %")
        share.set_ylim(0, 105)
        share.set_ylabel("Good fit (% of the month's referrals)")
        handles, labels = axes.get_legend_handles_labels()
        line_handles, line_labels = share.get_legend_handles_labels()
        axes.legend(handles + line_handles, labels + line_labels, loc="upper left")
    else:
        axes.text(0.5, 0.5, "No referrals yet", transform=axes.transAxes, ha="center", va="center", fontsize=24,
                  color="gray")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


async def chart_png(database: Database, *, now: datetime, months: int = 12, zone: tzinfo = timezone.utc) -> bytes:
    """The chart of the last `months` months as PNG bytes, for the CLI and the chat adapters.

    Months are calendar months in `zone`: pass the practice's
    (`profile.practice.office_hours.zone`) so a referral late
    on the 31st counts in the month the therapist saw it; the default is UTC.
    """
    series = await monthly_series(database, now=now, months=months, zone=zone)
    return await asyncio.to_thread(render_chart, series)
