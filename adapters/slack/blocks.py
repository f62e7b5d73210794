"""Block Kit building blocks: the one mrkdwn escape and the size limits Slack enforces.

Every piece of text that came from a person (a referrer's answers, a source's name) passes through
`escape` before it is put into mrkdwn, so `<!channel>`, `<@U123>` or `<https://evil.example|x>`
typed by a referrer shows up literally and pings or links nothing.
"""

from __future__ import annotations

from typing import Any, Iterable

from referbot.domain import Choice, Reply

Block = dict[str, Any]

SECTION_LIMIT = 3000  # characters of text in a section block
BUTTON_LABEL_LIMIT = 75
ACTIONS_LIMIT = 25  # elements in one actions block
FALLBACK_LIMIT = 3000  # the notification text; Slack allows more, but nobody reads it there


def escape(text: object) -> str:
    """Text safe inside mrkdwn: only literal `<`, `>` make links and mentions, so neutralise them."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, size: int) -> list[str]:
    """Split escaped text on line breaks where possible so no section exceeds Slack's limit."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > size:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def sections(mrkdwn: str) -> list[Block]:
    """Already-escaped mrkdwn as one or more section blocks."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk or " "}}
            for chunk in _chunks(mrkdwn, SECTION_LIMIT)]


def plain(text: str, limit: int = BUTTON_LABEL_LIMIT) -> dict[str, Any]:
    """A plain_text object: Slack never parses it, so user text is safe here unescaped."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {"type": "button", "text": plain(label), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def actions(buttons: Iterable[Block], block_id: str) -> list[Block]:
    """Buttons in as many actions blocks as Slack's 25-element limit needs."""
    elements = list(buttons)
    return [{"type": "actions", "block_id": f"{block_id}-{i // ACTIONS_LIMIT}",
             "elements": elements[i:i + ACTIONS_LIMIT]} for i in range(0, len(elements), ACTIONS_LIMIT)]


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn[:SECTION_LIMIT]}]}


def fallback(text: str) -> str:
    """The `text` of a message that has blocks: shown in notifications, so escaped and short."""
    return escape(text)[:FALLBACK_LIMIT]


#: Buttons for choices carry the choice id as their value; the action id only has to be unique.
CHOICE_ACTION_PREFIX = "choice:"


def choice_button(index: int, choice: Choice, multi: bool) -> Block:
    selected = multi and choice.selected
    return button(("✓ " if selected else "") + choice.label, f"{CHOICE_ACTION_PREFIX}{index}", choice.id,
                  "primary" if selected else None)


def reply_blocks(reply: Reply, index: int) -> list[Block]:
    """One referrer-facing reply: the escaped text, then its choices as buttons."""
    blocks = sections(("🚨 " if reply.crisis else "") + escape(reply.text))
    buttons = [choice_button(n, choice, reply.multi) for n, choice in enumerate(reply.choices)]
    return blocks + actions(buttons, f"choices-{index}")
