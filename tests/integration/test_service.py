"""The service layer on SQLite and PostgreSQL: whole intakes, dedupe, resume, sources, crisis."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from referbot.domain import Command, ConversationStatus, FitVerdict, Inbound, OutboxKind, TouchpointKind
from referbot.engine import load_flow
from referbot.service import IntakeService
from referbot.store import UnitOfWork
from referbot.store.models import OutboxMessage, Touchpoint
from tests.fakes import KeywordAssessor

ANSWERS = ["Dr. Ann Lee", "physician", "Lakeview Family Medicine", "ann.lee@lakeview.example", "J.", "34",
           "panic attacks and not sleeping", "no", "skip", "individual", "either", "skip", "routine", "private pay",
           "yes", "(312) 555-0100", "yes", "evenings only"]


@pytest.fixture
def service(database, profile, clock) -> IntakeService:
    return IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)


async def say(service: IntakeService, user: str, *texts: str, channel: str = "console"):
    outcome = None
    for text in texts:
        outcome = await service.handle(Inbound(channel, user, text=text))
    return outcome


async def test_whole_intake_stores_referral_source_touchpoint_and_alert(service: IntakeService, database) -> None:
    first = await service.handle(Inbound("console", "ann"))
    assert first.step == "referrer_name"
    await say(service, "ann", *ANSWERS)
    done = await say(service, "ann", "send")
    assert done.state is ConversationStatus.DONE and done.verdict is FitVerdict.GOOD_FIT
    assert done.referral_id is not None
    assert "good fit" in done.replies[-1].text and f"#{done.referral_id}" in done.replies[-1].text
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(done.referral_id)
        assert referral.client_name == "J." and referral.client_age == 34
        assert referral.client_contact == "(312) 555-0100" and referral.consent_to_update
        assert [i["id"] for i in referral.issues] == ["anxiety"]
        assert referral.source.name == "Dr. Ann Lee" and referral.source.type == "physician"
        assert [e.status for e in referral.events] == ["new"]
        outbox = (await uow.session.execute(select(OutboxMessage))).scalars().all()
        assert [(m.kind, m.payload) for m in outbox] == [(OutboxKind.REFERRAL_ALERT.value, {"referral_id": referral.id})]
        touch = (await uow.session.execute(select(Touchpoint))).scalars().all()
        assert [t.kind for t in touch] == [TouchpointKind.REFERRAL_RECEIVED.value]


async def test_without_consent_no_client_contact_is_kept(service: IntakeService, database) -> None:
    await service.handle(Inbound("console", "bo"))
    outcome = await say(service, "bo", *ANSWERS[:14], "no", "skip", "send")
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(outcome.referral_id)
    assert referral.client_contact is None and not referral.consent_to_contact
    assert "client_contact" not in referral.answers


async def test_returning_referrer_is_recognised_and_credited_to_the_same_source(service: IntakeService,
                                                                               database) -> None:
    await service.handle(Inbound("console", "ann"))
    first = await say(service, "ann", *ANSWERS, "send")
    again = await service.handle(Inbound("console", "ann", text="hi again"))
    assert "Welcome back, Dr. Ann Lee" in again.replies[0].text and again.step == "client_name"
    second = await say(service, "ann", *ANSWERS[4:], "send")
    async with UnitOfWork(database) as uow:
        a, b = await uow.referrals.get(first.referral_id), await uow.referrals.get(second.referral_id)
        assert a.source_id == b.source_id
        assert len(await uow.sources.list()) == 1


async def test_a_typed_email_never_makes_a_stranger_an_existing_referrer(service: IntakeService, database) -> None:
    await service.handle(Inbound("console", "ann"))
    await say(service, "ann", *ANSWERS, "send")
    await service.handle(Inbound("telegram", "42"))
    impostor = await say(service, "42", "Mallory", *ANSWERS[1:], "send", channel="telegram")
    again = await service.handle(Inbound("telegram", "42", command=Command.RESTART))
    assert not any("Ann Lee" in reply.text for reply in again.replies)  # no "Welcome back, Dr. Ann Lee"
    async with UnitOfWork(database) as uow:
        sources = await uow.sources.list()
        referral = await uow.referrals.get(impostor.referral_id)
    assert sorted(s.name for s in sources) == ["Dr. Ann Lee", "Mallory"]  # kept apart for staff to merge
    assert referral.source.name == "Mallory"
    ann = next(s for s in sources if s.name == "Dr. Ann Lee")
    assert [f"{i.channel}:{i.user_id}" for i in ann.identities] == ["console:ann"]


async def test_tracking_link_credits_the_source(service: IntakeService, database, clock) -> None:
    from referbot.domain import SourceType

    async with UnitOfWork(database) as uow:
        school = await uow.sources.create(name="Lincoln High counselling office", type=SourceType.SCHOOL, now=clock())
        await uow.commit()
    await service.handle(Inbound("telegram", "7", command=Command.START, source_code=school.code))
    done = await say(service, "7", "Ms. Diaz", "school", "skip", "diaz@lincoln.example", *ANSWERS[4:], "send",
                     channel="telegram")
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(done.referral_id)
    assert referral.source_id == school.id


async def test_duplicate_delivery_is_handled_once(service: IntakeService, database) -> None:
    await service.handle(Inbound("telegram", "9", event_id="u1"))
    first = await service.handle(Inbound("telegram", "9", text="Sam", event_id="u2"))
    again = await service.handle(Inbound("telegram", "9", text="Sam", event_id="u2"))
    assert first.step == "referrer_role" and again.duplicate and again.replies == []
    async with UnitOfWork(database) as uow:
        conversation = await uow.conversations.get_for_update("telegram", "9")
    assert conversation.step == "referrer_role"


async def test_concurrent_messages_of_one_user_are_serialised(service: IntakeService, database) -> None:
    await service.handle(Inbound("console", "cc"))
    await asyncio.gather(*(service.handle(Inbound("console", "cc", text=t, event_id=f"e{i}"))
                           for i, t in enumerate(["Casey", "therapist"])))
    async with UnitOfWork(database) as uow:
        conversation = await uow.conversations.get_for_update("console", "cc")
    assert conversation.version == 3  # start + two turns: neither update was lost
    assert conversation.answers.get("referrer_name") in ("Casey", "therapist")


async def test_crisis_mid_intake_records_a_crisis_referral_and_urgent_alert(service: IntakeService,
                                                                           database) -> None:
    await service.handle(Inbound("console", "kim"))
    outcome = await say(service, "kim", "Kim", "other", "kim@example.org", "T", "19",
                        "he says he wants to end it all")
    assert outcome.state is ConversationStatus.CRISIS and outcome.verdict is FitVerdict.CRISIS
    assert outcome.replies[0].crisis and "988" in outcome.replies[0].text
    assert "not an emergency service" in outcome.replies[0].text
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(outcome.referral_id)
        assert referral.crisis and referral.verdict == "crisis" and referral.crisis_evidence == "end it all"
        outbox = (await uow.session.execute(select(OutboxMessage))).scalars().all()
        assert [m.kind for m in outbox] == [OutboxKind.CRISIS_ALERT.value]
    after = await say(service, "kim", "hello?")
    assert after.state is ConversationStatus.CRISIS and after.replies[0].crisis


async def test_conversation_survives_a_new_service_instance(database, profile, clock) -> None:
    first = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    await first.handle(Inbound("console", "r"))
    await say(first, "r", "Robin", "therapist", "skip", "r@x.org", "A")
    second = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    resumed = await second.handle(Inbound("console", "r"))
    assert resumed.step == "client_age" and "pick up where we left off" in resumed.replies[0].text


async def test_cancel_keeps_nothing_about_the_client(service: IntakeService, database) -> None:
    await service.handle(Inbound("console", "x"))
    await say(service, "x", "Xavier", "other", "x@x.org", "Client Z", "40")
    outcome = await service.handle(Inbound("console", "x", command=Command.CANCEL))
    assert outcome.state is ConversationStatus.CANCELLED
    async with UnitOfWork(database) as uow:
        conversation = await uow.conversations.get_for_update("console", "x")
        assert conversation.answers == {} and await uow.referrals.list() == []


async def test_alerts_never_carry_client_contact_and_crisis_alerts_say_whom_to_call(service: IntakeService,
                                                                                   database) -> None:
    from referbot.alerts import build_alert

    await service.handle(Inbound("console", "ann"))
    done = await say(service, "ann", *ANSWERS[:4], "Jane Quinn Doe", *ANSWERS[5:], "send")
    await service.handle(Inbound("console", "kim"))
    crisis = await say(service, "kim", "Kim", "other", "kim@example.org", "T", "19", "he wants to kill myself")
    async with UnitOfWork(database) as uow:
        ordinary = build_alert(await uow.referrals.get(done.referral_id))
        full = build_alert(await uow.referrals.get(done.referral_id), "full")
        urgent = build_alert(await uow.referrals.get(crisis.referral_id))
        urgent_full = build_alert(await uow.referrals.get(crisis.referral_id), "full")
    text = repr(ordinary)
    assert "555-0100" not in text and "panic attacks" not in text and "Quinn" not in text and "Jane" not in text
    assert ("Client", "J. Q. D., 30s") in ordinary.facts and ordinary.call_back is None
    assert ("Client", "Jane Q. D., age 34") in full.facts and "555-0100" not in repr(full)
    assert urgent.crisis and urgent.call_back.contact == "kim@example.org" and urgent.crisis_evidence is None
    assert urgent_full.crisis_evidence == "kill myself"


async def test_referring_out_records_the_status_and_a_referred_back_contact_together(service: IntakeService,
                                                                                     database, profile, clock) -> None:
    from referbot.referrals import refer_out
    from referbot.sources import UnknownSource

    await service.handle(Inbound("console", "ann"))
    done = await say(service, "ann", *ANSWERS, "send")
    with pytest.raises(UnknownSource):
        await refer_out(database, profile, done.referral_id, "Nobody We Know", by="cli:t", now=clock())
    referral = await refer_out(database, profile, done.referral_id, "Lakeshore Eating Disorder Center",
                               by="cli:t", now=clock())
    assert referral.status == "referred_out" and len(referral.events) == 2  # the failed attempt wrote nothing
    assert referral.events[-1].note == "referred to Lakeshore Eating Disorder Center"
    async with UnitOfWork(database) as uow:
        colleague = await uow.sources.by_name("Lakeshore Eating Disorder Center")
        touches = await uow.touchpoints.for_source(colleague.id)
    assert [(t.kind, t.referral_id) for t in touches] == [("referred_back", done.referral_id)]


async def test_a_row_another_worker_moved_on_is_read_afresh_not_answered_from_memory(database, profile, clock) -> None:
    """Two workers share the database; the referrer's messages reach one, then the other, then the
    first again. The first's remembered row is stale: its turn is retried from the database, so
    the answer fits the intake as it really stands and nothing either worker took is lost."""
    first, second = (IntakeService(database, profile, load_flow(), KeywordAssessor(), clock) for _ in range(2))
    await first.handle(Inbound("console", "ann"))
    await say(first, "ann", "Dr. Ann Lee")
    moved = await say(second, "ann", "physician")  # the other worker answers the role step
    assert moved.step == "referrer_organisation"
    assert len(first.recent) == 1  # still holds the row as it wrote it, one version behind
    outcome = await say(first, "ann", "Lakeview Family Medicine")
    assert outcome.step == "referrer_contact"  # answered on the fresh row, not the stale one
    await say(first, "ann", *ANSWERS[3:])
    done = await say(second, "ann", "send")
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(done.referral_id)
    assert referral.answers["referrer_role"] == "physician"
    assert referral.answers["referrer_organisation"] == "Lakeview Family Medicine"


async def test_a_row_erased_since_it_was_written_starts_a_new_intake(service: IntakeService, database, clock) -> None:
    from sqlalchemy import delete

    from referbot.store.models import Conversation

    await service.handle(Inbound("console", "cy"))
    await say(service, "cy", "Dr. Cy Park")
    async with UnitOfWork(database) as uow:  # `forget` or retention, in another process or this one
        await uow.session.execute(delete(Conversation).where(Conversation.user_id == "cy"))
        await uow.commit()
    outcome = await say(service, "cy", "physician")
    assert outcome.state is ConversationStatus.ASKING and outcome.started and outcome.step == "referrer_name"


async def test_a_turn_that_fails_leaves_nothing_remembered(service: IntakeService, monkeypatch) -> None:
    await service.handle(Inbound("console", "di"))
    assert len(service.recent) == 1

    async def broken(*_args, **_kwargs):
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr(service, "_turn", broken)
    with pytest.raises(RuntimeError):
        await say(service, "di", "Dr. Di Moss")
    assert len(service.recent) == 0
    monkeypatch.undo()
    assert (await say(service, "di", "Dr. Di Moss")).step == "referrer_role"  # read afresh, nothing lost


def test_remembered_rows_are_bounded() -> None:
    from referbot.store.conversations import ConversationRow
    from referbot.store.recent import RecentConversations

    now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    recent = RecentConversations(size=3)
    for user in "abcd":
        recent.keep(ConversationRow(channel="web", user_id=user, flow="intake", status="asking", created_at=now,
                                    updated_at=now))
    assert len(recent) == 3 and recent.take("web", "a") is None and recent.take("web", "d") is not None
