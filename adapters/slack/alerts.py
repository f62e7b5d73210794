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
from referbot.domain import ReferralStatus
from referbot.profile import Profile
from referbot.store.models import Referral
from referbot.views import referral_view

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

_VERDICTS = {"good_fit": "✅ Good fit", "possible_fit": "🤔 Possible fit", "not_a_fit": "⛔ Not a fit",
             "crisis": "🚨 Crisis"}


def label(value: str | None) -> str:
    """An enum value or taxonomy id as words: `consult_booked` → `consult booked`."""
    return value.replace("_", " ") if value else "—"


def short_name(name: str | None) -> str:
    """First name and initials only (`Jane Q. Doe` → `Jane Q. D.`): enough to recognise, little to leak."""
    if not name or not name.strip():
        return "not given"
    first, *rest = name.split()
    return " ".join([first] + [f"{part[0]}." for part in rest if part[0].isalpha()])


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
    return " ".join(f"<@{user_id}>" for user_id in profile.staff.slack)


def status_lines(view: dict[str, Any], profile: Profile) -> list[str]:
    """Who did what and when, from the referral's recorded history (not from the message)."""
    return [f"*{escape(label(event['status'])).capitalize()}* — by {actor(event['by'], profile)}, "
            f"{when(event['at'], profile)}" for event in view["history"] if event["status"] != "new"]


def referrer_line(referral: Referral) -> str:
    """Whom to call back in a crisis: the referrer's name and contact, and where they wrote from."""
    answers = referral.answers or {}
    source = referral.source
    name = answers.get("referrer_name") or (source.name if source else None) or "name not given"
    contact = answers.get("referrer_contact") or (source.contact if source else None) or "no contact given"
    return (f"*Referrer:* {escape(name)} — {escape(contact)} "
            f"(via {escape(referral.channel)} user {escape(referral.referrer_user_id)})")


def _facts(view: dict[str, Any]) -> Block:
    source = view["source"] or "unknown"
    if view["source_type"]:
        source += f" ({label(view['source_type'])})"
    issues = ", ".join(label(issue["id"]) for issue in view["issues"]) or "none recognised"
    age = view["client_age"] if view["client_age"] is not None else "not given"
    fields = [("Source", source), ("Client", f"{short_name(view['client_name'])}, age {age}"),
              ("Issues", issues), ("Fit", _VERDICTS.get(view["verdict"], label(view["verdict"]))),
              ("Urgency", label(view["urgency"])), ("Came via", view["channel"])]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{escape(value)}"}
                                          for name, value in fields]}


def alert_buttons(view: dict[str, Any]) -> list[Block]:
    value = str(view["id"])
    buttons = [button(text, f"{STATUS_ACTION_PREFIX}{status.value}", value,
                      "primary" if view["status"] == status.value else None) for status, text in STATUS_BUTTONS]
    buttons.append(button("Details", DETAILS_ACTION, value))
    return actions(buttons, f"referral-{value}")


def alert_message(referral: Referral, profile: Profile) -> tuple[str, list[Block]]:
    """The alert as (notification text, blocks); rebuilt from the database after every button."""
    view = referral_view(referral, full=False)
    number = view["id"]
    if view["crisis"]:
        title = f"🚨 URGENT: possible crisis in referral #{number}"
        blocks: list[Block] = [{"type": "header", "text": plain(title, 150)}]
        blocks += sections(f"{staff_mentions(profile)} crisis language was seen in a referral. "
                           "The intake stopped there; please call the referrer now.\n" + referrer_line(referral))
    else:
        title = f"New referral #{number}: {label(view['verdict'])}"
        blocks = [{"type": "header", "text": plain(title, 150)}]
    blocks.append(_facts(view))
    reasons = (view["fit"] or {}).get("reasons") or []
    if reasons:
        blocks += sections("*Why:*\n" + "\n".join(f"• {escape(reason)}" for reason in reasons))
    history = status_lines(view, profile)
    blocks.append(context("\n".join(history) if history else
                          f"Status: new · received {when(view['created_at'], profile)}"))
    blocks += alert_buttons(view)
    return fallback(title), blocks
