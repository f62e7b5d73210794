"""What the storage can hold: every limit on what a referrer or a channel sends, in one place.

An answer that the database cannot store is worse than one refused: on PostgreSQL a NUL character
fails every insert (so the referral can never be sent), and a lone surrogate (`\\ud800`) is saved and
then crashes whatever echoes it back. So every `Inbound` is cleaned here as it enters the core,
whatever channel it came from, and flows cannot promise answers longer than the columns hold
(answer columns are unbounded text; identifiers have the lengths below).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from typing import Callable

from referbot.domain import Inbound

#: The longest answer any step of a flow may accept; a step may set a lower `max_length`.
MAX_ANSWER_LENGTH = 2000
#: The default limit of email, phone and contact steps (the longest valid email address is 254).
CONTACT_LENGTH = 254
#: Longer typed text is cut here before the engine sees it, so reading a pasted book for crisis
#: language cannot stall a worker; the engine still tells the referrer it is too long.
INBOUND_TEXT_LENGTH = 10 * MAX_ANSWER_LENGTH
#: Chat user ids (`referral_events.by` holds `channel:user_id` in 128 characters).
USER_ID_LENGTH = 64
#: Channel delivery ids (`processed_events.event_id`).
EVENT_ID_LENGTH = 128
#: Source tracking codes (`sources.code`), which come from links anyone can forge.
CODE_LENGTH = 64

#: NUL and the other C0/C1 control characters except tab, line feed and carriage return.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: UTF-16 surrogate code points: never valid on their own in text that is encoded to UTF-8.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text every database and every channel can hold: NUL, control characters and lone surrogates
    removed, then NFC-normalised so the same words typed on two keyboards compare equal."""
    return unicodedata.normalize("NFC", _SURROGATES.sub("", _CONTROLS.sub("", text)))


def clean_identifier(value: str, limit: int) -> str:
    """An id cleaned like text and kept within `limit`: an over-long id becomes a stable digest,
    so two different long ids never collapse into one truncated id."""
    cleaned = clean_text(value).strip()
    if len(cleaned) <= limit:
        return cleaned
    digest = hashlib.sha256(cleaned.encode("utf-8")).hexdigest()
    return f"{cleaned[: limit - 17]}~{digest[:16]}"


def _optional(value: str | None, clean: Callable[[str], str]) -> str | None:
    return None if value is None else clean(value)


def clean_inbound(inbound: Inbound) -> Inbound:
    """The same event with every string the storage and the channels can hold."""
    return dataclasses.replace(
        inbound,
        channel=clean_identifier(inbound.channel, 32),
        user_id=clean_identifier(inbound.user_id, USER_ID_LENGTH),
        text=_optional(inbound.text, lambda t: clean_text(t[:INBOUND_TEXT_LENGTH])),
        choice=_optional(inbound.choice, lambda c: clean_text(c[:MAX_ANSWER_LENGTH])),
        argument=_optional(inbound.argument, lambda a: clean_text(a[:MAX_ANSWER_LENGTH])),
        event_id=_optional(inbound.event_id, lambda e: clean_identifier(e, EVENT_ID_LENGTH)),
        display_name=_optional(inbound.display_name, lambda n: clean_text(n)[:200]),
        source_code=_optional(inbound.source_code, lambda c: clean_identifier(c, CODE_LENGTH)),
    )
