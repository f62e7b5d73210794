"""Nudges in Telegram staff chats: a reminder with its draft note and Done / Snooze / Skip buttons.

Rendered from the nudger's outbox payload (one nudge, or a daily digest of several); the buttons
carry `n:<nudge id>:<action>:<snooze days>` and call `referbot.nudger.act_on_nudge`. Nudge text
names referral sources, which referrers typed, so it is escaped like everything else.
"""

from __future__ import annotations

import html
from datetime import tzinfo
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.render import Outgoing, split_text
from referbot.domain import NudgeState
from referbot.nudger import Nudge

NUDGE_PREFIX = "n:"
#: (act_on_nudge action, snooze days, label), two buttons a row.
NUDGE_BUTTONS: tuple[tuple[str, int, str], ...] = (
    ("done", 0, "Done"), ("skip", 0, "Skip"), ("snooze", 1, "Snooze 1 day"), ("snooze", 7, "Snooze 1 week"))


def nudge_keyboard(nudge_id: int) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(label, callback_data=f"{NUDGE_PREFIX}{nudge_id}:{action}:{days}")
               for action, days, label in NUDGE_BUTTONS]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def parse_nudge_data(data: str) -> tuple[int, str, int | None] | None:
    """`n:7:snooze:7` → (7, "snooze", 7); `n:7:done:0` → (7, "done", None); None if malformed."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] + ":" != NUDGE_PREFIX or not parts[1].isdecimal() or not parts[3].isdecimal():
        return None
    return int(parts[1]), parts[2], int(parts[3]) or None


def _one(item: dict[str, Any]) -> list[Outgoing]:
    text = f"🔔 {item['title']}: {item['source']}\n{item['text']}"
    if item.get("draft"):
        text += f"\n\nDraft:\n{item['draft']}"
    pieces = [html.escape(piece, quote=False) for piece in split_text(text)]
    return [Outgoing(piece) for piece in pieces[:-1]] + [Outgoing(pieces[-1], nudge_keyboard(int(item["nudge_id"])))]


def nudge_messages(payload: dict[str, Any]) -> list[Outgoing]:
    """A NUDGE outbox row as messages: each nudge with its own buttons, a digest under a heading."""
    if not payload.get("digest"):
        return _one(payload)
    count = len(payload["nudges"])
    heading = Outgoing(f"{count} referral-source nudge{'s' * (count != 1)} due today:")
    return [heading] + [message for item in payload["nudges"] for message in _one(item)]


def outcome_line(nudge: Nudge, zone: tzinfo) -> str:
    """What became of a nudge, appended to the message its button was pressed on."""
    if nudge.state is NudgeState.SNOOZED and nudge.snoozed_until is not None:
        return f"💤 Snoozed until {nudge.snoozed_until.astimezone(zone):%a %d %b %H:%M}"
    return {NudgeState.DONE: "✅ Done", NudgeState.SKIPPED: "⏭ Skipped"}.get(nudge.state, nudge.state.value)
