"""The staff desk: everything practice staff ask of referbot in a chat, decided once for every channel.

Stats, the monthly chart, sources, due nudges, a referral's record and status changes, each as
plain data (views, `Alert`s, `Nudge`s, text). Slack and Telegram only decide who is staff, parse
their own buttons, and render what the desk returns in their own markup (escaped their own way);
they never open a unit of work or see an ORM model. The stats and nudger modules are imported on
first use, so a referrer's chat never pays for loading them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from referbot.alerts import Alert, build_alert
from referbot.audit import AuditAction, record
from referbot.domain import ReferralStatus
from referbot.errors import BadRequest
from referbot.profile import Profile
from referbot.referrals import UnknownReferral, set_referral_status
from referbot.service import Clock
from referbot.store import Database, UnitOfWork
from referbot.store.models import Referral
from referbot.views import referral_view, source_view

#: Months the chart shows unless asked otherwise, and the most it will draw.
CHART_MONTHS, MAX_CHART_MONTHS = 12, 60
#: A referral's record field by field, as staff read it (`referral()` returns these keys and more).
DETAIL_FIELDS: tuple[tuple[str, str], ...] = (
    ("status", "Status"), ("verdict", "Fit"), ("channel", "Came via"), ("source", "Source"),
    ("client_name", "Client"), ("client_age", "Age"), ("client_contact", "Client contact"),
    ("presenting_issues", "Presenting issues"), ("therapy_format", "Format"), ("modality", "In person or online"),
    ("urgency", "Urgency"), ("payment", "Payment"), ("consent_to_contact", "Client agreed to be contacted"),
    ("consent_to_update", "Client agreed to updates"), ("crisis_evidence", "Crisis language"))
#: Open statuses listed with the ones still waiting for a first contact.
IN_PROGRESS = (ReferralStatus.CONTACTED, ReferralStatus.CONSULT_BOOKED)


@dataclass(frozen=True)
class Command:
    """A staff command every chat channel offers (`/stats` in Telegram, `/referbot stats` in Slack)."""

    name: str
    usage: str
    description: str


COMMANDS: tuple[Command, ...] = (
    Command("stats", "stats [30d|90d|365d|all]", "Referral figures over a period"),
    Command("chart", "chart [months]", "Referrals per month as a chart"),
    Command("sources", "sources", "Who refers to the practice"),
    Command("nudges", "nudges", "Stay-in-touch reminders due now"),
    Command("referral", "referral ID", "One referral in full"),
)


@dataclass(frozen=True)
class Chart:
    png: bytes
    caption: str


@dataclass(frozen=True)
class Card:
    """A referral as an alert shows it: the alert's facts and the staff-safe view (status history)."""

    alert: Alert
    view: dict[str, Any]


@dataclass(frozen=True)
class OpenWork:
    """What staff have to do: referrals waiting for a first contact, ones in progress, due nudges."""

    waiting: list[dict[str, Any]]
    in_progress: list[dict[str, Any]]
    nudges: list[Any]


def chart_months(argument: str | None) -> int:
    """`/chart 6` → 6; anything else (nothing, words, 0, 500) → the default of 12."""
    text = (argument or "").strip()
    return int(text) if text.isdecimal() and 1 <= int(text) <= MAX_CHART_MONTHS else CHART_MONTHS


def referral_number(argument: str | None) -> int:
    """`12` or `#12` → 12; BadRequest otherwise."""
    text = (argument or "").strip().lstrip("#")
    if not text.isdecimal():
        raise BadRequest("Give the referral's number, e.g. referral 12.")
    return int(text)


class Desk:
    """Answers staff questions from the database; the channel decides who may ask."""

    def __init__(self, database: Database, profile: Profile, clock: Clock) -> None:
        self.database = database
        self.profile = profile
        self.clock = clock
        #: Every time staff read in a chat is in the practice's time zone, as in the CLI.
        self.zone = profile.practice.office_hours.zone

    async def stats(self, period: str | None) -> str:
        """The stats report as plain text; UnknownPeriod (a BadRequest) for a period not in PERIODS."""
        from referbot.stats import compute_stats, render_stats

        return render_stats(await compute_stats(self.database, period=period or "30d", now=self.clock(),
                                                zone=self.zone))

    async def chart(self, months: str | None) -> Chart:
        from referbot.stats import chart_png

        count = chart_months(months)
        png = await chart_png(self.database, now=self.clock(), months=count, zone=self.zone)
        return Chart(png, f"Referrals per month, last {count} months")

    async def sources(self) -> list[dict[str, Any]]:
        async with UnitOfWork(self.database) as uow:
            return [source_view(s, self.zone) for s in await uow.sources.list()]

    async def nudges(self) -> list[Any]:
        """The nudges due now (`referbot.nudger.Nudge`), soonest first."""
        from referbot.nudger import due_nudges

        return await due_nudges(self.database, self.profile, self.clock())

    async def nudges_text(self) -> str:
        from referbot.nudger import render_nudges

        return render_nudges(await self.nudges())

    async def referral(self, referral_id: int, *, by: str) -> dict[str, Any]:
        """The whole record (client contact, free text, all answers) for staff member `by`
        (`slack:U…`, `telegram:42`): every look is audited under that name. NotFound if purged."""
        async with UnitOfWork(self.database) as uow:
            referral = await uow.referrals.get(referral_id)
            if referral is None:
                raise UnknownReferral(f"No referral #{referral_id}.")
            record(uow, by, AuditAction.VIEW, f"referral:{referral_id}", by.partition(":")[0], self.clock())
            await uow.commit()
            return referral_view(referral, full=True, zone=self.zone)

    async def card(self, referral_id: int) -> Card | None:
        """A referral's alert, or None when it was purged before it could be announced."""
        async with UnitOfWork(self.database) as uow:
            referral = await uow.referrals.get(referral_id)
            return self._card(referral) if referral else None

    async def set_status(self, referral_id: int, status: ReferralStatus, *, by: str) -> Card:
        """Record a status change (who and when) and return the card to show instead of the old one."""
        referral = await set_referral_status(self.database, referral_id, status, by=by, now=self.clock())
        return self._card(referral)

    def _card(self, referral: Referral) -> Card:
        """The alert carries what the profile's `privacy: alerts:` allows (minimal or full)."""
        return Card(build_alert(referral, self.profile.privacy.alerts),
                    referral_view(referral, full=False, zone=self.zone))

    async def act_on_nudge(self, nudge_id: int, action: str, *, by: str, days: int | None = None) -> Any:
        """Done / snooze / skip; returns the nudge as it now stands. UnknownNudge, or BadRequest."""
        from referbot.nudger import act_on_nudge

        return await act_on_nudge(self.database, nudge_id, action, by=by, now=self.clock(), days=days)

    async def open_work(self, limit: int = 20) -> OpenWork:
        async with UnitOfWork(self.database) as uow:
            waiting = [referral_view(r, full=False, zone=self.zone)
                       for r in await uow.referrals.list(status=ReferralStatus.NEW, limit=limit)]
            in_progress = [referral_view(r, full=False, zone=self.zone) for status in IN_PROGRESS
                           for r in await uow.referrals.list(status=status, limit=limit)]
        return OpenWork(waiting, in_progress, (await self.nudges())[:limit])
