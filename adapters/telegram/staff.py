"""Staff commands in Telegram (`/stats`, `/chart`, `/sources`, `/nudges`, `/referral`): the desk's
answers as Telegram messages. What the answers hold is decided by `referbot.desk`; this module
only turns them into text or a photo (the sender escapes the text for Telegram's HTML mode).
"""

from __future__ import annotations

from dataclasses import dataclass

from referbot.desk import COMMANDS, DETAIL_FIELDS, Desk, referral_number
from referbot.errors import BadRequest, NotFound
from referbot.stats import PERIODS
from referbot.views import words

#: Commands only practice staff may use, shown in their own command menu.
STAFF_COMMANDS: dict[str, str] = {c.name: c.description for c in COMMANDS}


@dataclass(frozen=True)
class StaffAnswer:
    """What a staff command answers: plain text, or a PNG image with the text as its caption."""

    text: str
    png: bytes | None = None


async def staff_answer(desk: Desk, name: str, argument: str | None, *, by: str) -> StaffAnswer:
    """The answer to `/<name> [argument]` for staff member `by` (`telegram:42`, the name a look at
    a referral's record is audited under)."""
    try:
        if name == "stats":
            return StaffAnswer(await desk.stats(argument))
        if name == "chart":
            chart = await desk.chart(argument)
            return StaffAnswer(chart.caption, chart.png)
        if name == "nudges":
            return StaffAnswer(await desk.nudges_text())
        if name == "sources":
            views = await desk.sources()
            return StaffAnswer("\n".join([f"Referral sources ({len(views)})"] + [
                f"• {v['name']} ({words(v['type'])}), code {v['code']}" for v in views]) if views
                else "No referral sources yet.")
        view = await desk.referral(referral_number(argument), by=by)
    except NotFound as problem:
        return StaffAnswer(str(problem))
    except BadRequest:
        if name == "stats":
            return StaffAnswer(f"Unknown period {argument!r}. Try /stats with one of: {', '.join(PERIODS)}.")
        return StaffAnswer("Usage: /referral 12 (the referral's number).")
    lines = [f"Referral #{view['id']}"]
    lines += [f"{label}: {view[key]}" for key, label in DETAIL_FIELDS if view.get(key) not in (None, "")]
    lines += [f"• {reason}" for reason in (view["fit"] or {}).get("reasons") or []]
    lines += [f"{words(e['status'])} — by {e['by']}, {e['at'][:16]}" for e in view["history"] if e["status"] != "new"]
    return StaffAnswer("\n".join(lines))
