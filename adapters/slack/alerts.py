"""Referral and crisis alerts for the practice's Slack channel, as Block Kit.

An alert carries the minimum needed to decide (who sent it, client first name or initials, age,
issues, fit and why, urgency, channel) and never the client's contact details; those are behind
the staff-only Details button. A crisis alert is loud (header, staff mentions) and carries the
referrer's contact so someone can call them back now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.slack.blocks import Block, actions, button, context, escape, fallback, plain, sections
from referbot.alerts import Alert, CallBack
from referbot.desk import Card
from referbot.domain import ReferralStatus
from referbot.profile import Profile
from referbot.views import words

STATUS_ACTION_PREFIX = "status:"
DETAILS_ACTION = "details"

#: The alert's status buttons. "Not a fit / referred out" records REFERRED_OUT: it is what the
#: practice did (sent the client elsewhere), while NOT_A_FIT stays the matcher's verdict vocabulary.
STATUS_BUTTONS: tuple[tuple[ReferralStatus, str], ...] = (
    (ReferralStatus.CONTACTED, "Contacted"),
    (ReferralStatus.CONSULT_BOOKED, "Consult booked"),
    (ReferralStatus.BECAME_CLIENT, "Became client"),
    (ReferralStatus.REFERRED_OUT, "Not a fit / referred out"),
)

_VERDICT_ICONS = {"good_fit": "✅", "possible_fit": "🤔", "not_a_fit": "⛔", "crisis": "🚨"}


def when(at: str | datetime, profile: Profile) -> str:
    """A timestamp in the practice's own time zone, as staff read it."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(profile.practice.office_hours.zone).strftime("%a %d %b %H:%M %Z")


def actor(by: str, profile: Profile) -> str:
    """Who changed a status: a staff member's Slack mention (ids from the profile only), else the
    recorded actor escaped, so nothing a referrer chose as an id can become a mention."""
    channel, _, user_id = by.partition(":")
    if channel == "slack" and profile.staff.includes("slack", user_id):
        return f"<@{user_id}>"
    return escape(by)


def staff_mentions(profile: Profile) -> str:
    return " ".join(f"<@{user_id}>" for user_id in profile.staff.ids("slack"))


def status_lines(view: dict[str, Any], profile: Profile) -> list[str]:
    """Who did what and when, from the referral's recorded history (not from the message)."""
    return [f"*{escape(words(event['status'])).capitalize()}* — by {actor(event['by'], profile)}, "
            f"{when(event['at'], profile)}" for event in view["history"] if event["status"] != "new"]


def call_back_line(call_back: CallBack) -> str:
    return (f"*Referrer:* {escape(call_back.name)} — {escape(call_back.contact)} "
            f"(via {escape(call_back.channel)} user {escape(call_back.user_id)})")


def _facts(alert: Alert, verdict: str) -> Block:
    fields = [(name, f"{_VERDICT_ICONS.get(verdict, '')} {value}".strip() if name == "Fit" else value)
              for name, value in alert.facts]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{escape(value)}"}
                                          for name, value in fields]}


def alert_buttons(view: dict[str, Any]) -> list[Block]:
    value = str(view["id"])
    buttons = [button(text, f"{STATUS_ACTION_PREFIX}{status.value}", value,
                      "primary" if view["status"] == status.value else None) for status, text in STATUS_BUTTONS]
    buttons.append(button("Details", DETAILS_ACTION, value))
    return actions(buttons, f"referral-{value}")


def alert_message(card: Card, profile: Profile) -> tuple[str, list[Block]]:
    """The alert as (notification text, blocks); rebuilt from the database after every button."""
    alert, view = card.alert, card.view
    blocks: list[Block] = [{"type": "header", "text": plain(("🚨 " if alert.crisis else "") + alert.title, 150)}]
    if alert.call_back is not None:
        blocks += sections(f"{staff_mentions(profile)} crisis language was seen in a referral. "
                           "The intake stopped there; please call the referrer now.\n" + call_back_line(alert.call_back))
    blocks.append(_facts(alert, view["verdict"]))
    if alert.reasons:
        blocks += sections("*Why:*\n" + "\n".join(f"• {escape(reason)}" for reason in alert.reasons))
    history = status_lines(view, profile)
    blocks.append(context("\n".join(history) if history else
                          f"Status: new · received {when(view['created_at'], profile)}"))
    blocks += alert_buttons(view)
    return fallback(alert.title), blocks
