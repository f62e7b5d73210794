"""Staff commands in Telegram: the same figures, chart and reminders as the CLI.

The stats and nudger modules are imported when a command is used, so a referrer's chat never
pays for loading them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from referbot.service import IntakeService


@dataclass(frozen=True)
class StaffAnswer:
    """What a staff command answers: text, or a PNG image with the text as its caption."""

    text: str
    png: bytes | None = None


async def stats_text(service: IntakeService, period: str | None) -> StaffAnswer:
    """`/stats [30d|90d|365d|all]`: the stats report for the period ending now."""
    from referbot.stats import PERIODS, UnknownPeriod, compute_stats, render_stats

    wanted = period or "30d"
    try:
        report = await compute_stats(service.database, period=wanted, now=service.clock())
    except UnknownPeriod:
        return StaffAnswer(f"Unknown period {wanted!r}. Try /stats with one of: {', '.join(PERIODS)}.")
    return StaffAnswer(render_stats(report))


async def chart_image(service: IntakeService, months: str | None) -> StaffAnswer:
    """`/chart [months]`: referrals per month by source type, with the good-fit share, as an image."""
    from referbot.stats import chart_png

    count = int(months) if months and months.isdigit() and 1 <= int(months) <= 60 else 12
    png = await chart_png(service.database, now=service.clock(), months=count,
                          zone=service.profile.practice.office_hours.zone)
    return StaffAnswer(f"Referrals per month, last {count} months", png)


async def nudges_text(service: IntakeService, _argument: str | None) -> StaffAnswer:
    """`/nudges`: the reminders due now (thank a source, follow up a referral, …)."""
    from referbot.nudger import due_nudges, render_nudges

    return StaffAnswer(render_nudges(await due_nudges(service.database, service.profile, service.clock())))


@dataclass(frozen=True)
class StaffCommand:
    description: str
    run: Callable[[IntakeService, str | None], Awaitable[StaffAnswer]]


#: Commands only practice staff may use, shown in their own command menu.
STAFF_COMMANDS: dict[str, StaffCommand] = {
    "stats": StaffCommand("Referral figures (30d, 90d, 365d or all)", stats_text),
    "chart": StaffCommand("Referrals per month as a chart", chart_image),
    "nudges": StaffCommand("Reminders due now", nudges_text),
}
