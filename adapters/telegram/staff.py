"""Staff commands in Telegram: the same figures and reminders as the CLI, as chat text.

The stats and nudger modules are imported when a command is used, so a referrer's chat never
pays for loading them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from referbot.service import IntakeService


async def stats_text(service: IntakeService, period: str | None) -> str:
    """`/stats [30d|90d|365d|all]`: the stats report for the period ending now."""
    from referbot.stats import PERIODS, UnknownPeriod, compute_stats, render_stats

    wanted = period or "30d"
    try:
        report = await compute_stats(service.database, period=wanted, now=service.clock())
    except UnknownPeriod:
        return f"Unknown period {wanted!r}. Try /stats with one of: {', '.join(PERIODS)}."
    return render_stats(report)


async def nudges_text(service: IntakeService, _argument: str | None) -> str:
    """`/nudges`: the reminders due now (thank a source, follow up a referral, …)."""
    from referbot.nudger import due_nudges, render_nudges

    return render_nudges(await due_nudges(service.database, service.profile, service.clock()))


@dataclass(frozen=True)
class StaffCommand:
    description: str
    run: Callable[[IntakeService, str | None], Awaitable[str]]


#: Commands only practice staff may use, shown in their own command menu.
STAFF_COMMANDS: dict[str, StaffCommand] = {
    "stats": StaffCommand("Referral figures (30d, 90d, 365d or all)", stats_text),
    "nudges": StaffCommand("Reminders due now", nudges_text),
}
