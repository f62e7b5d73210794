"""Time in the practice's own calendar: business days, opening times, daylight saving.

Everything is computed in the practice's time zone with zoneinfo and handed back as aware UTC, so a
reminder due "the next business morning" lands at 09:00 local in winter and in summer alike.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from referbot.profile import OfficeHours


def local_date(at: datetime, hours: OfficeHours) -> date:
    return at.astimezone(hours.zone).date()


def opening(day: date, hours: OfficeHours) -> datetime:
    return datetime.combine(day, hours.opens(), tzinfo=hours.zone).astimezone(timezone.utc)


def closing(day: date, hours: OfficeHours) -> datetime:
    return datetime.combine(day, hours.closes(), tzinfo=hours.zone).astimezone(timezone.utc)


def next_open(at: datetime, hours: OfficeHours) -> datetime:
    """The first moment at or after `at` when the office is open (`at` itself if open now).

    A profile listing no working days has no office hours to wait for: `at` is returned.
    """
    day = local_date(at, hours)
    for offset in range(8):
        candidate = day + timedelta(days=offset)
        if not hours.is_workday(candidate):
            continue
        if at < opening(candidate, hours):
            return opening(candidate, hours)
        if at < closing(candidate, hours):
            return at
    return at


def is_open(at: datetime, hours: OfficeHours) -> bool:
    return next_open(at, hours) == at


def business_days_after(at: datetime, days: int, hours: OfficeHours) -> datetime:
    """Opening time of the `days`-th working day after the local date of `at`; 0 means the next opening."""
    if days == 0 or not hours.days:
        return next_open(at, hours) if days == 0 else at + timedelta(days=days)
    day, counted = local_date(at, hours), 0
    while counted < days:
        day += timedelta(days=1)
        counted += hours.is_workday(day)
    return opening(day, hours)


def calendar_days_after(at: datetime, days: int, hours: OfficeHours) -> datetime:
    """The same local wall-clock time `days` later (so 90 days after 08:00 is 08:00 across DST)."""
    return (at.astimezone(hours.zone) + timedelta(days=days)).astimezone(timezone.utc)
