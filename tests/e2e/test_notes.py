"""Sending a nudge's note to the referrer, end to end through the real libraries: python-telegram-bot
against the fake Bot API, slack-sdk against the fake Slack API, aiosmtplib against an aiosmtpd server
on 127.0.0.1 — with the contact recorded, the nudge closed, and the close-the-loop note refused
without the client's consent."""

from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from adapters.email import EmailSettings
from adapters.email.sender import EmailSender
from adapters.telegram import CHANNEL as TELEGRAM
from referbot.domain import Inbound, NudgeKind, ReferralStatus
from referbot.engine import load_flow
from referbot.nudger import due_nudges
from referbot.outbox import OutboxWorker
from referbot.referrals import edit_referral, set_referral_status
from referbot.runner import note_notifier
from referbot.sending import CannotSend, NoteNotifier, send_note
from referbot.service import IntakeService
from referbot.store import UnitOfWork
from referbot.store.models import NudgeRecord, OutboxMessage, Touchpoint
from tests.e2e.cli import referbot
from tests.e2e.fake_telegram import running_bot
from tests.e2e.test_slack import ANSWERS
from tests.fakes import KeywordAssessor


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    try:
        yield inbox, port
    finally:
        await asyncio.to_thread(controller.stop)


def smtp_settings(port: int) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
            "SMTP_FROM": "Harbor Light <intake@harborlight.org>"}


def email_sender(port: int) -> EmailSender:
    return EmailSender(EmailSettings(_env_file=None, host="127.0.0.1", port=port, security="none",
                                     from_="Harbor Light <intake@harborlight.org>"))


async def intake(service: IntakeService, channel: str, user: str, answers: list[str] = ANSWERS) -> int:
    outcome = await service.handle(Inbound(channel, user))
    for text in answers:
        outcome = await service.handle(Inbound(channel, user, text=text))
    assert outcome.referral_id is not None
    return outcome.referral_id


async def due(database, profile, clock, kind: NudgeKind) -> int:
    return next(n.id for n in await due_nudges(database, profile, clock()) if n.kind is kind)


async def touchpoints(database) -> list[tuple[str, str | None]]:
    async with UnitOfWork(database) as uow:
        rows = (await uow.session.execute(select(Touchpoint).order_by(Touchpoint.id))).scalars().all()
        return [(t.kind, t.note) for t in rows]


async def test_a_thank_you_goes_by_email_once_and_is_recorded(database, profile, clock, smtp) -> None:
    inbox, port = smtp
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    await intake(service, "console", "front-desk")
    clock.advance(days=2)  # the thank-you is due, and first contact with the client too
    client_note = await due(database, profile, clock, NudgeKind.FIRST_CONTACT)
    with pytest.raises(CannotSend, match="is for the waiting client, not the referrer"):
        await send_note(database, profile, client_note, available={"email"}, by="cli:dana", now=clock())
    nudge = await due(database, profile, clock, NudgeKind.THANK_SOURCE)
    nobody = await asyncio.gather(send_note(database, profile, nudge, available=set(), by="cli:dana", now=clock()),
                                  return_exceptions=True)
    assert isinstance(nobody[0], CannotSend) and "No way to reach Dr. Ann Lee" in str(nobody[0])

    edited = "Dear Dr. Lee,\n\nThank you — and for the kind words on the phone.\n\nDana"
    sent = await send_note(database, profile, nudge, available={"email"}, by="cli:dana", now=clock(), text=edited)
    assert sent.route.describe() == "by email to ann.lee@lakeview.example"
    with pytest.raises(CannotSend, match="already done"):
        await send_note(database, profile, nudge, available={"email"}, by="cli:dana", now=clock())
    assert ("thanked", "thank the referrer: note sent by email to ann.lee@lakeview.example") in await touchpoints(database)
    assert NudgeKind.THANK_SOURCE not in [n.kind for n in await due_nudges(database, profile, clock())]

    sender = email_sender(port)
    worker = OutboxWorker(database, [NoteNotifier({"email": sender})], clock=clock)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0  # delivered once
    [(to, message)] = inbox.messages
    assert to == ["ann.lee@lakeview.example"]
    assert message["Subject"] == "Thank you for your referral — Riverbend Counseling Collective"
    assert message.get_content().replace("\r\n", "\n").strip() == edited.strip()
    async with UnitOfWork(database) as uow:
        [row] = (await uow.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "source_note"))).scalars()
        assert row.sent_at is not None and row.delivered_to["notes"]["to"] == "ann.lee@lakeview.example"


async def test_a_mail_server_that_is_down_is_retried_not_lost(database, profile, clock) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    await intake(service, "console", "front-desk")
    clock.advance(days=1)
    nudge = await due(database, profile, clock, NudgeKind.THANK_SOURCE)
    await send_note(database, profile, nudge, available={"email"}, by="cli:dana", now=clock())
    sender = email_sender(free_port())  # nothing listens there
    worker = OutboxWorker(database, [NoteNotifier({"email": sender})], clock=clock)
    assert await worker.run_once() == 1
    async with UnitOfWork(database) as uow:
        [row] = (await uow.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "source_note"))).scalars()
        assert row.sent_at is None and row.attempts == 1 and "unreachable" in row.last_error


async def test_close_the_loop_only_with_the_clients_consent(database, profile, clock) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    referral = await intake(service, "console", "front-desk")
    await set_referral_status(database, referral, ReferralStatus.BECAME_CLIENT, by="cli:dana", now=clock())
    nudge = await due(database, profile, clock, NudgeKind.CLOSE_LOOP)
    await edit_referral(database, profile, KeywordAssessor(), referral, "consent_to_update", "no", by="cli:dana",
                        now=clock(), note="the client changed their mind")
    with pytest.raises(CannotSend, match="has not agreed to the referrer being told"):
        await send_note(database, profile, nudge, available={"email"}, by="cli:dana", now=clock())
    async with UnitOfWork(database) as uow:
        row = await uow.session.get(NudgeRecord, nudge)
        assert row.state == "pending"
        assert (await uow.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "source_note"))).first() is None


async def test_a_note_reaches_a_telegram_referrer_in_their_chat(database, profile, clock, api) -> None:
    async with running_bot(database, profile, clock, api) as channel:
        await intake(channel.runtime.service, "telegram", "701")
        clock.advance(days=1)
        nudge = await due(database, profile, clock, NudgeKind.THANK_SOURCE)
        sent = await send_note(database, profile, nudge, available={"telegram", "email"}, by="telegram:123456789",
                               now=clock())
        assert sent.route.describe() == "on Telegram (user 701)"  # the chat they referred through, before email
        worker = OutboxWorker(database, [note_notifier([(TELEGRAM, channel)])], clock=clock)
        assert await worker.run_once() == 1
    note = api.sent_to(701)[-1]
    assert note["text"].startswith("Dear Dr. Lee,\n\nThank you for referring Jane Quinn Doe to us for help with anxiety.")
    assert note["text"].endswith("Warm regards,\nRiverbend Counseling Collective")


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_nudges_send_from_the_command_line(tmp_path: Path, database_url: str, database, profile, clock) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    await intake(service, "console", "front-desk")
    clock.advance(days=1)  # the seed lives in March 2026: the CLI's real clock sees the nudge long due
    nudge = await due(database, profile, clock, NudgeKind.THANK_SOURCE)
    env = {"REFERBOT_DATABASE_URL": database_url, **smtp_settings(free_port())}
    asked = referbot(tmp_path, "nudges", "send", str(nudge), input="n\n", **env)
    assert asked.returncode == 1 and "To by email to ann.lee@lakeview.example" in asked.stdout
    assert "Nothing sent." in asked.stderr
    sent = referbot(tmp_path, "nudges", "send", str(nudge), "--text", "Thank you!", "--yes", **env)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip().endswith(f"Queued the note to Dr. Ann Lee by email to ann.lee@lakeview.example; "
                                        f"logged as a contact, nudge #{nudge} done.")
    again = referbot(tmp_path, "nudges", "send", str(nudge), "--yes", **env)
    assert again.returncode == 1 and f"Nudge #{nudge} is already done; nothing was sent." in again.stderr
    no_email = referbot(tmp_path, "nudges", "send", str(nudge), "--yes", REFERBOT_DATABASE_URL=database_url)
    assert no_email.returncode == 1 and "Traceback" not in no_email.stderr
