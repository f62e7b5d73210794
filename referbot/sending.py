"""Relationships that act: send a nudge's note to the referrer, not only remind the therapist to.

`send_note` takes the note the therapist read (and perhaps edited), picks how to reach the referrer
— the chat they referred through when a running channel can reach them there, else their email —
and in one transaction enqueues it in the outbox, records the contact as a touchpoint and closes the
nudge. The outbox then delivers it at least once through `NoteNotifier`, which hands each note to
the sender of its channel (Telegram, Slack, email). The close-the-loop note, which tells the
referrer what became of the client, is only ever sent while the referral records the client's
consent to updates; a note to a waiting client (first contact) is not the referrer's and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Collection, Mapping

from referbot.domain import NudgeKind, NudgeState, OutboxKind
from referbot.errors import BadRequest
from referbot.nudges.model import TITLES
from referbot.nudger import TOUCH_ON_DONE
from referbot.nudges.records import NudgeRecords
from referbot.ports import Envelope, NoteSender, RetryLater
from referbot.profile import Profile
from referbot.source_records import contact_keys
from referbot.store import Database, UnitOfWork
from referbot.store.models import NudgeRecord, Referral, Source

#: The channel (adapters/email) that writes to the email addresses in a source's contact.
EMAIL = "email"
_SUBJECTS = {NudgeKind.THANK_SOURCE: "Thank you for your referral", NudgeKind.CLOSE_LOOP: "An update on your referral"}


class CannotSend(BadRequest):
    """A note that may not or cannot be sent; the message says why and what to do."""


@dataclass(frozen=True)
class Route:
    """Where a note goes: a channel name and the address on it (a chat user id, an email address)."""

    channel: str
    to: str

    def describe(self) -> str:
        return f"by email to {self.to}" if self.channel == EMAIL else f"on {self.channel.capitalize()} (user {self.to})"


def routes(source: Source, referral: Referral | None, available: Collection[str]) -> list[Route]:
    """Every way to reach a source, best first: the chat the referral came through, their other
    chat identities, then each email address in their contact — only on channels `available`."""
    chats = sorted(source.identities, key=lambda i: (referral is None or i.channel != referral.channel, i.id))
    found = [Route(i.channel, i.user_id) for i in chats if i.channel in available and i.channel != "console"]
    if EMAIL in available:
        found += [Route(EMAIL, key) for key in sorted(contact_keys(source.contact)) if "@" in key]
    return found


@dataclass(frozen=True)
class SentNote:
    nudge_id: int
    source: str
    route: Route
    text: str


def _subject(kind: NudgeKind, profile: Profile) -> str:
    return f"{_SUBJECTS.get(kind, 'Hello')} — {profile.practice.name}"


async def _checked(uow: UnitOfWork, row: NudgeRecord | None, nudge_id: int) -> tuple[Source, Referral | None]:
    """The source and referral of a nudge whose note may be sent now, or CannotSend."""
    if row is None:
        raise CannotSend(f"No nudge #{nudge_id}.")
    kind = NudgeKind(row.kind)
    if row.state in (NudgeState.DONE.value, NudgeState.SKIPPED.value):
        raise CannotSend(f"Nudge #{nudge_id} is already {row.state}; nothing was sent.")
    if kind is NudgeKind.FIRST_CONTACT:
        raise CannotSend(f"Nudge #{nudge_id}'s note is for the waiting client, not the referrer: contact the client "
                         "yourself, then mark it done.")
    source = await uow.sources.get(row.source_id) if row.source_id is not None else None
    if source is None:
        raise CannotSend(f"Nudge #{nudge_id} has no referrer to write to.")
    referral = await uow.referrals.get(row.referral_id) if row.referral_id is not None else None
    if kind is NudgeKind.CLOSE_LOOP and (referral is None or not referral.consent_to_update):
        raise CannotSend(f"Referral #{row.referral_id}'s client has not agreed to the referrer being told how it went, "
                         "so this note cannot be sent.")
    return source, referral


async def note_routes(database: Database, nudge_id: int, available: Collection[str]) -> tuple[str, list[Route]]:
    """The draft of a nudge and the ways its note could go (to show before sending); CannotSend if
    it may not be sent at all."""
    async with UnitOfWork(database) as uow:
        row = await NudgeRecords(uow.session).get_for_update(nudge_id)
        source, referral = await _checked(uow, row, nudge_id)
        assert row is not None
        return row.draft, routes(source, referral, available)


async def send_note(database: Database, profile: Profile, nudge_id: int, *, available: Collection[str], by: str,
                    now: datetime, text: str | None = None, via: str | None = None) -> SentNote:
    """Enqueue a nudge's note (`text`, else its draft) to the referrer, record the contact and close
    the nudge, all at once; CannotSend says why not (consent, nobody to reach, already done)."""
    async with UnitOfWork(database) as uow:
        row = await NudgeRecords(uow.session).get_for_update(nudge_id)
        source, referral = await _checked(uow, row, nudge_id)
        assert row is not None
        body = (text if text is not None else row.draft).strip()
        if not body:
            raise CannotSend("The note is empty; nothing was sent.")
        options = [r for r in routes(source, referral, available) if via is None or r.channel == via]
        if not options:
            raise CannotSend(_unreachable(source, via, available))
        route = options[0]
        kind = NudgeKind(row.kind)
        await uow.outbox.enqueue(OutboxKind.SOURCE_NOTE, f"note:nudge:{row.id}", {
            "channel": route.channel, "to": route.to, "subject": _subject(kind, profile), "text": body,
            "source_id": source.id, "nudge_id": row.id}, now)
        await uow.touchpoints.add(source, TOUCH_ON_DONE[kind], at=now, referral_id=row.referral_id, by=by,
                                  note=f"{TITLES[kind].lower()}: note sent {route.describe()}")
        row.state, row.acted_by, row.acted_at = NudgeState.DONE.value, by, now
        await uow.commit()
        return SentNote(row.id, source.name, route, body)


def _unreachable(source: Source, via: str | None, available: Collection[str]) -> str:
    if via is not None and via not in available:
        return f"{via} is not set up here; notes can go by: {', '.join(sorted(available)) or 'nothing yet'}."
    how = "an email address in their contact" + ("" if EMAIL in available else " (and SMTP settings)")
    return (f"No way to reach {source.name}{' by ' + via if via else ''}: they have no chat identity on a channel set "
            f"up here and no email. Add {how}: `referbot sources set {source.name!r} --contact EMAIL`.")


class NoteNotifier:
    """The outbox's notifier for SOURCE_NOTE rows: hands each to its channel's sender."""

    name = "notes"

    def __init__(self, senders: Mapping[str, NoteSender]) -> None:
        self.senders = dict(senders)

    def accepts(self, kind: OutboxKind) -> bool:
        return kind is OutboxKind.SOURCE_NOTE

    async def deliver(self, envelope: Envelope) -> dict[str, Any]:
        payload = envelope.payload
        sender = self.senders.get(payload["channel"])
        if sender is None:  # queued for a channel this process does not run: wait for one that does
            raise RetryLater(f"{payload['channel']} is not running in this process", after=300)
        result = await sender.send_note(payload["to"], payload["subject"], payload["text"])
        return {"channel": payload["channel"], **result}
