"""What practice staff see in Slack: `/referbot` answers, a referral's full record, the App Home.

The desk (`referbot.desk`) decides what the answers hold; this module only renders them as mrkdwn
and Block Kit, with every stored string escaped, because referral data is typed by referrers.
Only called for staff (the listeners' staff-only middleware checks `profile.staff` first).
"""

from __future__ import annotations

from typing import Any

from adapters.slack.alerts import status_lines, when
from adapters.slack.blocks import Block, escape, sections
from adapters.slack.nudges import nudge_blocks
from referbot.alerts import age_band, initials
from referbot.desk import COMMANDS, DETAIL_FIELDS, Desk, OpenWork, referral_number
from referbot.errors import BadRequest, NotFound
from referbot.profile import Profile
from referbot.stats import PERIODS
from referbot.views import words

HELP = "*`/referbot` commands* (answers are only visible to you)\n" + "\n".join(
    f"• `/referbot {c.usage}`: {c.description.lower()}" for c in COMMANDS) + "\n• `/referbot help`: this list"
NOT_PERMITTED = "Sorry, you are not permitted to use this: it is for the practice's staff only."


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape(value)


def referral_details(view: dict[str, Any], profile: Profile) -> str:
    """The whole record, including what alerts leave out (client contact, free text, all answers)."""
    lines = [f"*Referral #{view['id']}*, received {when(view['created_at'], profile)}"]
    lines += [f"*{name}:* {_value(view[key])}" for key, name in DETAIL_FIELDS if view.get(key) not in (None, "")]
    reasons = (view["fit"] or {}).get("reasons") or []
    lines += [f"• {escape(reason)}" for reason in reasons]
    lines.append("*All answers:*")
    lines += [f"• {escape(key)}: {_value(value)}" for key, value in (view["answers"] or {}).items()]
    lines += status_lines(view, profile)
    return "\n".join(lines)


def referral_line(view: dict[str, Any], profile: Profile) -> str:
    flag = "🚨 " if view["crisis"] else ""
    if profile.privacy.alerts == "minimal":  # the App Home is a list, not a look at one client
        client = f"{initials(view['client_name'])}, {age_band(view['client_age'])}"
    else:
        client = f"{view['client_name'] or 'client'}, age {view['client_age'] if view['client_age'] is not None else '?'}"
    return (f"{flag}*#{view['id']}* {escape(client)}: "
            f"{escape(words(view['verdict']))}, {escape(words(view['status']))} · "
            f"from {escape(view['source'] or 'unknown')} · {when(view['created_at'], profile)}")


def sources_text(views: list[dict[str, Any]]) -> str:
    if not views:
        return "No referral sources yet."
    lines = [f"*Referral sources ({len(views)})*"]
    lines += [f"• {escape(v['name'])} ({escape(words(v['type']))}"
              f"{', ' + escape(v['organisation']) if v['organisation'] else ''}), code `{escape(v['code'])}`"
              for v in views]
    return "\n".join(lines)


async def command_answer(desk: Desk, text: str, by: str) -> str:
    """The answer to `/referbot <text>` from staff member `by` (`slack:U…`; a record's look is
    audited under that name), except `chart`, which is a file, as mrkdwn."""
    name, _, argument = text.strip().partition(" ")
    name, argument = name.lower(), argument.strip()
    try:
        if name == "stats":
            return escape(await desk.stats(argument or None))
        if name == "sources":
            return sources_text(await desk.sources())
        if name == "nudges":
            return escape(await desk.nudges_text())
        if name == "referral":
            return referral_details(await desk.referral(referral_number(argument), by=by), desk.profile)
    except NotFound as problem:
        return escape(problem)
    except BadRequest:
        usage = {"stats": f"stats [{'|'.join(PERIODS)}]", "referral": "referral ID"}[name]
        return f"Usage: `/referbot {usage}`, e.g. `/referbot {usage.split()[0]} {'90d' if name == 'stats' else '12'}`."
    return HELP


def home_view(work: OpenWork | None, profile: Profile) -> dict[str, Any]:
    """The App Home: the practice's open work for staff (`work`), a short explanation for anyone else."""
    if work is None:
        return {"type": "home", "blocks": sections(
            f"I'm the referral assistant for *{escape(profile.practice.name)}*. To refer someone, "
            "open the *Messages* tab and say hello; I'll ask a few short questions and tell you right "
            "away whether the practice looks like a good fit.")}
    waiting = [referral_line(v, profile) for v in work.waiting]
    open_ = [referral_line(v, profile) for v in work.in_progress]
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Referrals"}}]
    blocks += sections("*Waiting for first contact*\n" + ("\n".join(waiting) or "None: everyone has been contacted."))
    blocks += sections("*Open*\n" + ("\n".join(open_) or "None in progress."))
    blocks += sections("*Due nudges*" + ("" if work.nudges else "\nNone: every referrer is looked after."))
    for nudge in work.nudges:
        blocks += nudge_blocks(nudge.payload())
    return {"type": "home", "blocks": blocks}
