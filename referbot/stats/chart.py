"""The stats chart: referrals per week or month, stacked by source type, with the good-fit share below.

It follows the stats period: weeks for 30 and 90 days, months for a year (and for "all" once the
history is long), so a practice with one month of data sees a few weekly bars rather than one bar
at the edge. The good-fit share has a panel of its own (never a dot inside a bar), each bar carries
its total, and the legend sits outside the plot.

Drawn with matplotlib's object API on the Agg canvas (`Figure` + `savefig`), never pyplot: no global
figure state and no GUI backend, so it works headless, inside the bot's event loop (in a worker
thread) and in several threads at once.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo

from sqlalchemy import func, select

from referbot.stats import queries
from referbot.stats.periods import Month, chart_spans, recent_months
from referbot.store import Database
from referbot.store.models import Referral

#: Pixel size of the PNG: WIDTH x HEIGHT at DPI.
WIDTH, HEIGHT, DPI = 1200, 700, 100
UNKNOWN = "unknown"
_PERIOD_WORDS = {"30d": "the last 30 days", "90d": "the last 90 days", "365d": "the last 12 months", "all": "all time"}


@dataclass(frozen=True)
class MonthlySeries:
    """What the chart shows: per bar (oldest first; a month `2026-03` or a week's Monday
    `2026-03-02`), referrals per source type and good fits."""

    months: list[str]
    by_type: dict[str, list[int]]  # source type -> referrals per bar, largest type first
    good_fit: list[int]
    unit: str = "month"  # or "week"
    title: str = "Referrals per month by source type"

    @property
    def totals(self) -> list[int]:
        return [sum(column) for column in zip(*self.by_type.values())] if self.by_type else [0] * len(self.months)

    def tick_labels(self) -> list[str]:
        """`Mar 2026` for months, `2 Mar` for weeks (their Monday)."""
        if self.unit == "week":
            return [f"{date.fromisoformat(d).day} {date.fromisoformat(d):%b}" for d in self.months]
        return [f"{date.fromisoformat(m + '-01'):%b %Y}" for m in self.months]


async def _series(database: Database, spans: list[Month], now: datetime, unit: str, title: str) -> MonthlySeries:
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
    return MonthlySeries(labels, ordered, good_fit, unit, title)


async def monthly_series(database: Database, *, now: datetime, months: int = 12,
                         zone: tzinfo = timezone.utc) -> MonthlySeries:
    """Referrals of the last `months` calendar months in `zone` (the current one included)."""
    return await _series(database, recent_months(now, months, zone), now, "month",
                         f"Referrals per month by source type, last {months} months")


async def period_series(database: Database, *, now: datetime, period: str,
                        zone: tzinfo = timezone.utc) -> MonthlySeries:
    """Referrals over a stats period ("30d", "90d", "365d", "all"), by week or month (see the module)."""
    async with database.sessions() as session:
        first = (await session.execute(select(func.min(Referral.created_at)))).scalar_one()
    unit, spans = chart_spans(period, now, zone, first)
    return await _series(database, spans, now, unit, f"Referrals per {unit} by source type, {_PERIOD_WORDS[period]}")


def render_chart(series: MonthlySeries) -> bytes:
    """The chart as PNG bytes (WIDTH x HEIGHT pixels); an empty series still gives a readable chart."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    bars, share = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    positions = list(range(len(series.months)))
    bottom = [0] * len(positions)
    for kind, counts in series.by_type.items():
        bars.bar(positions, counts, bottom=bottom, label=kind.replace("_", " "), width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts)]
    totals = series.totals
    for x, total in zip(positions, totals):
        if total:
            bars.annotate(str(total), (x, total), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom")
    bars.set_xlim(-0.5, len(positions) - 0.5)
    bars.set_ylabel("Referrals")
    bars.set_title(series.title)
    bars.set_ylim(0, max(max(bottom, default=0), 1) * 1.2)
    bars.yaxis.get_major_locator().set_params(integer=True)
    if sum(totals):
        bars.legend(title="Source type", loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
        rates = [100 * g / t if t else float("nan") for g, t in zip(series.good_fit, totals)]
        share.plot(positions, rates, color="black", marker="o")
        for x, (good, total) in enumerate(zip(series.good_fit, totals)):
            if total:
                share.annotate(f"{good}/{total}", (x, 100 * good / total), xytext=(0, 6), textcoords="offset points",
                               ha="center", fontsize=8)
    else:
        bars.text(0.5, 0.5, "No referrals yet", transform=bars.transAxes, ha="center", va="center", fontsize=24,
                  color="gray")
    share.set_ylim(-15, 130)  # room for the n/m labels above 100% and below 0%
    share.set_yticks([0, 50, 100], ["0%", "50%", "100%"])
    share.set_ylabel("Good fit")
    share.grid(axis="y", alpha=0.3)
    share.set_xticks(positions, series.tick_labels(), rotation=45 if len(positions) > 8 else 0,
                     ha="right" if len(positions) > 8 else "center")
    share.set_xlabel("Week starting" if series.unit == "week" else "Month")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


async def chart_png(database: Database, *, now: datetime, months: int = 12, zone: tzinfo = timezone.utc,
                    period: str | None = None) -> bytes:
    """The chart as PNG bytes, for the CLI and the chat adapters: over a stats `period` when given,
    else over the last `months` months.

    Weeks and months are calendar ones in `zone`: pass the practice's
    (`profile.practice.office_hours.zone`) so a referral late on the 31st counts in the month the
    therapist saw it; the default is UTC.
    """
    series = (await period_series(database, now=now, period=period, zone=zone) if period is not None
              else await monthly_series(database, now=now, months=months, zone=zone))
    return await asyncio.to_thread(render_chart, series)
