"""What practice staff see in Slack: `/referbot` answers, a referral's full record, the App Home.

Only called for staff (the listeners check `profile.staff` first). Everything returned is mrkdwn
with every stored string escaped, because referral data is typed by referrers.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.alerts import status_lines, when
from adapters.slack.blocks import Block, escape, sections
from adapters.slack.nudges import nudge_blocks
from referbot.domain import ReferralStatus
from referbot.nudger import due_nudges, render_nudges
from referbot.profile import Profile
from referbot.service import Clock
from referbot.store import Database, UnitOfWork
from referbot.stats import PERIODS, UnknownPeriod, chart_png, compute_stats, render_stats
from referbot.store.models import Referral
from referbot.views import referral_view, source_view, words

HELP = """*`/referbot` commands* (answers are only visible to you)
• `/referbot stats [30d|90d|365d]`: referrals, sources and outcomes over a period
• `/referbot chart [months]`: referrals per month as a chart, sent to you in a direct message
• `/referbot sources`: who refers to the practice
• `/referbot nudges`: stay-in-touch reminders that are due
• `/referbot referral ID`: one referral in full
• `/referbot help`: this list"""

NOT_PERMITTED = "Sorry, you are not permitted to use this: it is for the practice's staff only."
#: Open statuses shown on the App Home besides the ones still waiting for a first contact.
IN_PROGRESS = (ReferralStatus.CONTACTED, ReferralStatus.CONSULT_BOOKED)
HOME_LIMIT = 20

_DETAIL_FIELDS = (("status", "Status"), ("verdict", "Fit"), ("channel", "Came via"), ("source", "Source"),
                  ("client_name", "Client"), ("client_age", "Age"), ("client_contact", "Client contact"),
                  ("presenting_issues", "Presenting issues"), ("therapy_format", "Format"),
                  ("modality", "In person or online"), ("urgency", "Urgency"), ("payment", "Payment"),
                  ("consent_to_contact", "Client agreed to be contacted"),
                  ("consent_to_update", "Client agreed to updates"), ("crisis_evidence", "Crisis language"))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape(value)


def referral_details(referral: Referral, profile: Profile) -> str:
    """The whole record, including what alerts leave out (client contact, free text, all answers)."""
    view = referral_view(referral, full=True)
    lines = [f"*Referral #{view['id']}*, received {when(view['created_at'], profile)}"]
    lines += [f"*{name}:* {_value(view[key])}" for key, name in _DETAIL_FIELDS if view.get(key) not in (None, "")]
    reasons = (view["fit"] or {}).get("reasons") or []
    lines += [f"• {escape(reason)}" for reason in reasons]
    lines.append("*All answers:*")
    lines += [f"• {escape(key)}: {_value(value)}" for key, value in (view["answers"] or {}).items()]
    lines += status_lines(view, profile)
    return "\n".join(lines)


def _referral_line(referral: Referral, profile: Profile) -> str:
    view = referral_view(referral, full=False)
    flag = "🚨 " if view["crisis"] else ""
    return (f"{flag}*#{view['id']}* {escape(view['client_name'] or 'client')}, "
            f"age {escape(view['client_age'] if view['client_age'] is not None else '?')}: "
            f"{escape(words(view['verdict']))}, {escape(words(view['status']))} · "
            f"from {escape(view['source'] or 'unknown')} · {when(view['created_at'], profile)}")


class StaffDesk:
    """Answers staff questions from the database; the channel decides who may ask."""

    def __init__(self, database: Database, profile: Profile, clock: Clock) -> None:
        self.database = database
        self.profile = profile
        self.clock = clock

    async def command(self, text: str) -> str:
        """The answer to `/referbot <text>`, as mrkdwn."""
        name, _, argument = text.strip().partition(" ")
        name, argument = name.lower(), argument.strip()
        if name == "stats":
            return await self._stats(argument or "30d")
        if name == "sources":
            return await self._sources()
        if name == "nudges":
            return await self._nudges()
        if name == "referral":
            return await self._referral(argument.lstrip("#"))
        return HELP

    async def send_chart(self, client: AsyncWebClient, user_id: str, months: str) -> None:
        """The stats chart as an image in the staff member's DM: files cannot be ephemeral, and a
        DM keeps the practice's figures out of whatever channel the command was typed in."""
        count = int(months) if months.isdigit() and 1 <= int(months) <= 60 else 12
        png = await chart_png(self.database, now=self.clock(), months=count,
                              zone=self.profile.practice.office_hours.zone)
        opened = await client.conversations_open(users=user_id)
        await client.files_upload_v2(channel=opened["channel"]["id"], file=png, filename="referrals.png",
                                     title=f"Referrals per month, last {count} months")

    async def details(self, referral_id: int) -> str | None:
        async with UnitOfWork(self.database) as uow:
            referral = await uow.referrals.get(referral_id)
            return referral_details(referral, self.profile) if referral else None

    async def _referral(self, argument: str) -> str:
        if not argument.isdigit():
            return "Usage: `/referbot referral ID`, e.g. `/referbot referral 12`."
        return await self.details(int(argument)) or f"No referral #{int(argument)}."

    async def _sources(self) -> str:
        async with UnitOfWork(self.database) as uow:
            views = [source_view(s) for s in await uow.sources.list()]
        if not views:
            return "No referral sources yet."
        lines = [f"*Referral sources ({len(views)})*"]
        lines += [f"• {escape(v['name'])} ({escape(words(v['type']))}"
                  f"{', ' + escape(v['organisation']) if v['organisation'] else ''}), code `{escape(v['code'])}`"
                  for v in views]
        return "\n".join(lines)

    async def _stats(self, period: str) -> str:
        try:
            stats = await compute_stats(self.database, period=period, now=self.clock())
        except UnknownPeriod:
            return f"Usage: `/referbot stats [{'|'.join(PERIODS)}]`."
        return escape(render_stats(stats))

    async def _nudges(self) -> str:
        return escape(render_nudges(await due_nudges(self.database, self.profile, self.clock())))

    async def home(self, staff: bool) -> dict[str, Any]:
        """The App Home view: the practice's open work for staff, a short explanation for anyone else."""
        if not staff:
            return {"type": "home", "blocks": sections(
                f"I'm the referral assistant for *{escape(self.profile.practice.name)}*. To refer someone, "
                "open the *Messages* tab and say hello; I'll ask a few short questions and tell you right "
                "away whether the practice looks like a good fit.")}
        async with UnitOfWork(self.database) as uow:
            waiting = [_referral_line(r, self.profile)
                       for r in await uow.referrals.list(status=ReferralStatus.NEW, limit=HOME_LIMIT)]
            open_ = [_referral_line(r, self.profile) for status in IN_PROGRESS
                     for r in await uow.referrals.list(status=status, limit=HOME_LIMIT)]
        blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Referrals"}}]
        blocks += sections("*Waiting for first contact*\n" + ("\n".join(waiting) or "None: everyone has been contacted."))
        blocks += sections("*Open*\n" + ("\n".join(open_) or "None in progress."))
        nudges = await due_nudges(self.database, self.profile, self.clock())
        blocks += sections("*Due nudges*" + ("" if nudges else "\nNone: every referrer is looked after."))
        for nudge in nudges[:HOME_LIMIT]:
            blocks += nudge_blocks(nudge.payload())
        return {"type": "home", "blocks": blocks}
