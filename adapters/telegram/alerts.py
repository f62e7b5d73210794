"""Alerts and nudges to the practice staff's own Telegram chats, when Slack is not set up.

An alert carries the minimum needed to decide (source, client first name or initials, age, issues,
fit and why, urgency, channel), never the client's contact details. A crisis alert is marked
URGENT and carries the referrer's contact and the words that raised it, so someone calls back now.
Delivery is at least once per staff member: the outbox retries the whole alert if any send fails
for a reason worth retrying, and a retry may repeat it to someone who already got it.
"""

from __future__ import annotations

import html
import logging
from typing import Any, Callable, Sequence

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from adapters.telegram.nudges import nudge_messages
from adapters.telegram.reach import flood_wait
from adapters.telegram.render import Outgoing
from referbot.alerts import Alert
from referbot.desk import Desk
from referbot.domain import OutboxKind
from referbot.ports import Envelope, RetryLater

log = logging.getLogger(__name__)


def alert_html(alert: Alert) -> str:
    """The alert as Telegram HTML: the channel-neutral alert, escaped."""
    lines = [f"{'🚨' if alert.crisis else '📥'} <b>{html.escape(alert.title)}</b>"]
    if alert.call_back is not None:
        call_back = alert.call_back
        via = html.escape(f"{call_back.channel} user {call_back.user_id}")
        if call_back.channel == "telegram" and call_back.user_id.isdecimal():
            via = f'<a href="tg://user?id={call_back.user_id}">{via}</a>'
        lines += ["Crisis language was seen; the referrer was shown crisis resources and the intake stopped.",
                  f"<b>Call the referrer now:</b> {html.escape(call_back.name)} — {html.escape(call_back.contact)} "
                  f"(via {via})",
                  f"<b>What was said:</b> “{html.escape(alert.crisis_evidence)}”" if alert.crisis_evidence
                  else "<b>What was said:</b> see the details below (kept out of chat)."]
    lines += [f"<b>{name}:</b> {html.escape(value)}" for name, value in alert.facts]
    if alert.reasons:
        lines += ["<b>Why:</b>", *(f"• {html.escape(reason)}" for reason in alert.reasons)]
    lines.append(f"Details: <code>referbot referrals show {alert.referral_id}</code>")
    return "\n".join(lines)


class TelegramAlerts:
    """The Telegram notifier: referral and crisis alerts and nudges, to every staff Telegram id."""

    name = "telegram"
    KINDS = frozenset({OutboxKind.REFERRAL_ALERT, OutboxKind.CRISIS_ALERT, OutboxKind.NUDGE})

    def __init__(self, bot: Bot, desk: Desk, staff_ids: Sequence[int], ready: Callable[[], bool]) -> None:
        self.bot = bot
        self.desk = desk
        self.staff_ids = list(staff_ids)
        self.ready = ready

    def accepts(self, kind: OutboxKind) -> bool:
        return kind in self.KINDS

    async def deliver(self, envelope: Envelope) -> dict[str, Any]:
        if not self.ready():
            raise RetryLater("the Telegram channel is still starting", after=2)
        if envelope.kind is OutboxKind.NUDGE:
            return await self._send_to_staff(nudge_messages(envelope.payload))
        referral_id = int(envelope.payload["referral_id"])
        card = await self.desk.card(referral_id)
        if card is None:  # purged before it could be announced: nothing left to say
            return {"skipped": f"referral #{referral_id} no longer exists"}
        return await self._send_to_staff([Outgoing(alert_html(card.alert))])

    async def _send_to_staff(self, messages: list[Outgoing]) -> dict[str, Any]:
        """Every message to every staff chat. A staff member who blocked the bot (or never opened a
        chat with it) is skipped and reported; if nobody could be reached, the outbox retries."""
        sent: list[dict[str, int]] = []
        unreachable: dict[str, str] = {}
        for chat_id in self.staff_ids:
            try:
                for message in messages:
                    reply = await self.bot.send_message(chat_id, message.html, parse_mode=ParseMode.HTML,
                                                        reply_markup=message.markup)
                    sent.append({"chat_id": chat_id, "message_id": reply.message_id})
            except RetryAfter as problem:  # the rate limiter already waited and retried; the outbox takes over
                raise RetryLater(f"Telegram flood control: {problem}", after=flood_wait(problem)) from problem
            except (Forbidden, BadRequest) as problem:
                log.warning("telegram: staff chat %s unreachable: %s", chat_id, problem)
                unreachable[str(chat_id)] = str(problem)
        if not sent:
            raise RetryLater(f"no staff chat reachable: {unreachable}")
        return {"messages": sent, "unreachable": unreachable}

