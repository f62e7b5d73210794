"""The core's replies as Telegram messages: escaped HTML within Telegram's limits, inline keyboards.

Replies are plain text that may quote what a referrer typed, so every piece is `html.escape`d for
the HTML parse mode and split below Telegram's 4,096-character limit; callback data is kept under
its 64-byte limit whatever the flow's choice ids look like.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from typing import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from referbot.domain import Choice, Reply

#: Telegram's limit on a message's text, counted after entity parsing, in UTF-16 code units.
MAX_TEXT = 4096
#: Telegram's limit on a button's callback data, in bytes.
MAX_CALLBACK_DATA = 64
SELECTED_MARK = "✅ "


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (emoji outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """The number of characters of `text` whose UTF-16 length is at most `limit`."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Plain text in pieces Telegram accepts: broken at a line end, else a space, else anywhere."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        end = _fitting_prefix(rest, limit)
        cut = max(rest.rfind("\n", 0, end), rest.rfind(" ", 0, end))
        cut = cut if cut > end // 2 else end
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()] or ["…"]


@dataclass(frozen=True)
class Pressed:
    """What a button press means: the choice id (None when the button is unknown) and whether it
    toggles an option of a multi-choice question (so the keyboard is redrawn in place)."""

    choice: str | None
    toggle: bool


class CallbackCodec:
    """Choice ids to callback data and back. Ids that fit travel as themselves (`c:id`, `t:id`);
    longer ones as a digest resolved from the ids this process rendered or the flow declares, so a
    keyboard sent before a restart still works."""

    def __init__(self, known_ids: Iterable[str] = ()) -> None:
        self._by_digest: dict[str, str] = {}
        for choice_id in known_ids:
            self.encode(choice_id, toggle=False)

    def encode(self, choice_id: str, *, toggle: bool) -> str:
        prefix = "t" if toggle else "c"
        data = f"{prefix}:{choice_id}"
        if len(data.encode()) <= MAX_CALLBACK_DATA:
            return data
        digest = hashlib.sha256(choice_id.encode()).hexdigest()[:32]
        self._by_digest[digest] = choice_id
        return f"{prefix}#{digest}"

    def decode(self, data: str) -> Pressed:
        kind, separator, rest = data[:1], data[1:2], data[2:]
        toggle = kind == "t"
        if kind not in ("c", "t") or not rest:
            return Pressed(None, False)
        if separator == ":":
            return Pressed(rest, toggle)
        return Pressed(self._by_digest.get(rest) if separator == "#" else None, toggle)


def is_toggle(reply: Reply, choice: Choice) -> bool:
    """Options of a multi-choice question toggle; its Done and Skip buttons (ids `__…`) do not."""
    return reply.multi and not choice.id.startswith("__")


def keyboard(reply: Reply, codec: CallbackCodec) -> InlineKeyboardMarkup | None:
    """One button per row (labels can be long); selected options of a multi-choice are ticked."""
    if not reply.choices:
        return None
    rows = [[InlineKeyboardButton((SELECTED_MARK if choice.selected else "") + choice.label,
                                  callback_data=codec.encode(choice.id, toggle=is_toggle(reply, choice)))]
            for choice in reply.choices]
    return InlineKeyboardMarkup(rows)


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message: HTML text and an optional keyboard."""

    html: str
    markup: InlineKeyboardMarkup | None = None


def render(reply: Reply, codec: CallbackCodec) -> list[Outgoing]:
    """A reply as one or more messages; the keyboard goes under the last piece."""
    pieces = [html.escape(piece, quote=False) for piece in split_text(reply.text)]
    markup = keyboard(reply, codec)
    return [Outgoing(text, markup if index == len(pieces) - 1 else None) for index, text in enumerate(pieces)]
