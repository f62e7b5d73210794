"""The time windows stats are counted over: rolling periods and calendar months.

Rolling periods ("30d" = the 30 days ending now) compare like with like whatever the day of the
month. Months are bucketed in a time zone the caller chooses (the CLI passes the practice's, so a
referral at 11 pm on 31 December counts in December where the therapist lives); the boundaries
are computed here as aware instants, so the database only ever compares timestamps and SQLite and
PostgreSQL agree without either doing time-zone arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from referbot.errors import BadRequest

#: Period names accepted by `compute_stats` and `referbot stats --period`, with their length in days
#: (None: everything up to now).
PERIODS: dict[str, int | None] = {"30d": 30, "90d": 90, "365d": 365, "all": None}


class UnknownPeriod(BadRequest):
    """A period name that is not one of PERIODS."""


@dataclass(frozen=True)
class Window:
    """Timestamps `start < t <= end`: a window ending now includes what happened this instant, and
    back-to-back windows never count the same moment twice. No lower bound when `start` is None, no
    upper bound when `end` is None (what came after a report's end)."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class PeriodWindows:
    name: str
    current: Window
    previous: Window | None  # the equally long window just before `current`; None for "all"


def period_windows(name: str, now: datetime) -> PeriodWindows:
    """The current window for period `name` ending at `now`, and the equally long one before it."""
    if name not in PERIODS:
        raise UnknownPeriod(f"Unknown period {name!r}; one of: {', '.join(PERIODS)}")
    days = PERIODS[name]
    if days is None:
        return PeriodWindows(name, Window(None, now), None)
    start = now - timedelta(days=days)
    return PeriodWindows(name, Window(start, now), Window(start - timedelta(days=days), start))


@dataclass(frozen=True)
class Month:
    label: str  # "2026-03"
    start: datetime  # aware, in UTC
    end: datetime  # exclusive


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + delta
    return index // 12, index % 12 + 1


def recent_months(now: datetime, count: int, zone: tzinfo = timezone.utc) -> list[Month]:
    """The `count` calendar months (in `zone`) ending with the one containing `now`, oldest first."""
    if count < 1:
        raise ValueError("count must be at least 1")
    local = now.astimezone(zone)
    firsts = [_add_months(local.year, local.month, delta) for delta in range(1 - count, 2)]
    bounds = [datetime(year, month, 1, tzinfo=zone).astimezone(timezone.utc) for year, month in firsts]
    return [Month(f"{year:04d}-{month:02d}", bounds[i], bounds[i + 1]) for i, (year, month) in enumerate(firsts[:-1])]


def recent_weeks(now: datetime, start: datetime, zone: tzinfo = timezone.utc) -> list[Month]:
    """Calendar weeks (Monday to Monday in `zone`) from the one containing `start` to the one
    containing `now`, oldest first; each labelled with its Monday's date (`2026-03-02`)."""
    first = start.astimezone(zone).date()
    monday = first - timedelta(days=first.weekday())
    last = now.astimezone(zone).date()
    mondays = []
    while monday <= last:
        mondays.append(monday)
        monday += timedelta(days=7)
    bounds = [datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(timezone.utc) for d in [*mondays, monday]]
    return [Month(day.isoformat(), bounds[i], bounds[i + 1]) for i, day in enumerate(mondays)]


#: Periods up to this many days are charted by week; longer ones by month.
WEEKLY_UP_TO_DAYS = 91


def chart_spans(period: str, now: datetime, zone: tzinfo, first: datetime | None) -> tuple[str, list[Month]]:
    """The bars of the chart for a stats period: ("week", weeks) for 30d and 90d, ("month", months)
    for 365d; for "all", weeks while the history (from `first`, the oldest referral) is short,
    months after that, so one month of data is a few bars, not a lone bar at the edge."""
    if period not in PERIODS:
        raise UnknownPeriod(f"Unknown period {period!r}; one of: {', '.join(PERIODS)}")
    days = PERIODS[period]
    if days is None:
        start = min(first, now) if first is not None else now - timedelta(days=28)
        days = max((now - start).days, 28)
    start = now - timedelta(days=days)
    if days <= WEEKLY_UP_TO_DAYS:
        return "week", recent_weeks(now, start, zone)
    local = now.astimezone(zone)
    months = (local.year - start.astimezone(zone).year) * 12 + local.month - start.astimezone(zone).month + 1
    return "month", recent_months(now, min(months, 12 * 10) if PERIODS[period] is None else 12, zone)
