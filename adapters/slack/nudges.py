"""Nudges in Slack: a reminder with its draft note and Done / Snooze / Skip buttons.

Rendered from the nudger's outbox payload (one nudge, or a daily digest of several) and from
`due_nudges` on the App Home; the buttons call `referbot.nudger.act_on_nudge`. Nudge text names
referral sources, which referrers typed, so it is escaped like everything else.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.alerts import actor, when
from adapters.slack.blocks import Block, actions, button, context, escape, fallback, sections
from referbot.domain import NudgeState
from referbot.nudger import Nudge
from referbot.profile import Profile

NUDGE_ACTION_PREFIX = "nudge:"
#: (act_on_nudge action, snooze days, label); the action id is `nudge:<action>:<days>`.
NUDGE_BUTTONS: tuple[tuple[str, int, str], ...] = (
    ("done", 0, "Done"), ("snooze", 1, "Snooze 1 day"), ("snooze", 7, "Snooze 1 week"), ("skip", 0, "Skip"))


def nudge_block_id(nudge_id: int) -> str:
    return f"nudge-{nudge_id}"


def parse_nudge_action(action_id: str) -> tuple[str, int | None]:
    """`nudge:snooze:7` → ("snooze", 7); `nudge:done:0` → ("done", None)."""
    _, action, days = action_id.split(":")
    return action, int(days) or None


def nudge_blocks(payload: dict[str, Any]) -> list[Block]:
    """One nudge (an outbox payload or `Nudge.payload()`): title, context, draft, buttons."""
    draft = "\n".join(f">{escape(line)}" for line in str(payload.get("draft") or "").splitlines())
    text = f"*🔔 {escape(payload['title'])}: {escape(payload['source'])}*\n{escape(payload['text'])}"
    blocks = sections(text + (f"\n*Draft:*\n{draft}" if draft else ""))
    value = str(payload["nudge_id"])
    return blocks + actions((button(label, f"{NUDGE_ACTION_PREFIX}{action}:{days}", value)
                             for action, days, label in NUDGE_BUTTONS), nudge_block_id(payload["nudge_id"]))


def nudge_message(payload: dict[str, Any]) -> tuple[str, list[Block]]:
    """A NUDGE outbox row as (notification text, blocks); a digest lists every nudge it covers."""
    if payload.get("digest"):
        count = len(payload["nudges"])
        blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text",
                                                           "text": f"{count} nudge{'s' * (count != 1)} due today"}}]
        for item in payload["nudges"]:
            blocks += [{"type": "divider"}, *nudge_blocks(item)]
        return fallback(f"{count} referral-source nudges due today"), blocks
    return fallback(f"Nudge: {payload['title']} ({payload['source']})"), nudge_blocks(payload)


def outcome_line(nudge: Nudge, by: str, profile: Profile) -> str:
    """What became of a nudge after a button, for the message it was pressed on."""
    who = actor(by, profile)
    if nudge.state is NudgeState.SNOOZED and nudge.snoozed_until is not None:
        return f"💤 Snoozed until {when(nudge.snoozed_until, profile)} by {who}"
    marks = {NudgeState.DONE: "✅ Done", NudgeState.SKIPPED: "⏭ Skipped", NudgeState.PENDING: "Pending"}
    return f"{marks.get(nudge.state, escape(nudge.state.value))} by {who}"


def acted_on(message: dict[str, Any], nudge_id: int, line: str) -> list[Block]:
    """The message's blocks with that nudge's buttons replaced by what was done (others keep theirs)."""
    target = f"{nudge_block_id(nudge_id)}-0"
    return [context(line) if block.get("block_id") == target else block for block in message.get("blocks", [])]
