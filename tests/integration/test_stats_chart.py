"""The monthly chart: its figures per month and source type (UTC and a practice zone across a year
boundary), and the PNG it draws, on SQLite and PostgreSQL."""

from __future__ import annotations

import struct
from zoneinfo import ZoneInfo

from referbot.stats import chart_png, monthly_series
from referbot.stats.chart import HEIGHT, WIDTH
from tests.integration.stats_history import NOW, seed_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a valid PNG has first, right after the signature."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


async def test_months_in_utc(database) -> None:
    await seed_history(database)
    series = await monthly_series(database, now=NOW, months=3)
    assert series.months == ["2025-11", "2025-12", "2026-01"]
    # r13 (2026-01-20) lies after now and is left out of January.
    assert series.by_type == {"physician": [1, 0, 2], "therapist": [0, 2, 0], "former_client": [0, 1, 0],
                              "school": [0, 1, 0], "unknown": [0, 1, 0]}
    assert series.good_fit == [1, 2, 2]
    assert series.totals == [1, 5, 2]


async def test_months_in_the_practice_zone_cross_the_year(database) -> None:
    """r3 arrived 2025-12-31 23:30 UTC: already 1 January in Tokyo."""
    await seed_history(database)
    series = await monthly_series(database, now=NOW, months=3, zone=ZoneInfo("Asia/Tokyo"))
    assert series.months == ["2025-11", "2025-12", "2026-01"]
    assert series.by_type == {"physician": [1, 0, 2], "therapist": [0, 1, 1], "former_client": [0, 1, 0],
                              "school": [0, 1, 0], "unknown": [0, 1, 0]}
    assert series.good_fit == [1, 2, 2]


async def test_a_year_of_months_reaches_back_across_the_year(database) -> None:
    await seed_history(database)
    series = await monthly_series(database, now=NOW)
    assert series.months == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09",
                             "2025-10", "2025-11", "2025-12", "2026-01"]
    assert series.totals == [0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 5, 2]
    assert series.good_fit == [0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 2]


async def test_chart_is_a_png_of_the_fixed_size(database) -> None:
    await seed_history(database)
    assert png_size(await chart_png(database, now=NOW)) == (WIDTH, HEIGHT) == (1200, 700)


async def test_empty_database_still_draws_a_chart(database) -> None:
    series = await monthly_series(database, now=NOW, months=6)
    assert series.by_type == {} and series.totals == [0] * 6
    assert png_size(await chart_png(database, now=NOW, months=6)) == (1200, 700)


async def test_the_chart_follows_the_period_weeks_for_short_ones(database) -> None:
    """30d and 90d are charted by week (Mondays in the practice zone), a year by month; the figures
    add up to the period's referrals."""
    from referbot.stats.chart import period_series

    await seed_history(database)
    chicago = ZoneInfo("America/Chicago")
    weeks = await period_series(database, now=NOW, period="30d", zone=chicago)
    assert weeks.unit == "week" and weeks.months == ["2025-12-15", "2025-12-22", "2025-12-29", "2026-01-05",
                                                      "2026-01-12"]
    assert weeks.tick_labels()[0] == "15 Dec" and weeks.title.endswith("the last 30 days")
    assert sum(weeks.totals) == 6  # the whole weeks shown hold the 30 days' six referrals and no others
    quarter = await period_series(database, now=NOW, period="90d", zone=chicago)
    assert quarter.unit == "week" and len(quarter.months) == 14
    year = await period_series(database, now=NOW, period="365d", zone=chicago)
    assert year.unit == "month" and len(year.months) == 12 and year.tick_labels()[-1] == "Jan 2026"
    assert png_size(await chart_png(database, now=NOW, zone=chicago, period="90d")) == (1200, 700)


async def test_one_month_of_data_is_charted_by_week_not_as_one_bar(database) -> None:
    from datetime import datetime, timezone

    from referbot.stats.chart import period_series

    await seed_history(database)
    # Asked on 20 March 2024, "all" is three weeks of history: r12 of 1 March 2024.
    series = await period_series(database, now=datetime(2024, 3, 20, tzinfo=timezone.utc), period="all")
    assert series.unit == "week" and 4 <= len(series.months) <= 5  # r12 (1 March 2024), the only one by then
    assert sum(series.totals) == 1
