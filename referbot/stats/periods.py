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
    back-to-back windows never count the same moment twice. No lower bound when `start` is None."""

    start: datetime | None
    end: datetime


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
