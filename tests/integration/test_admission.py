"""Bursts on SQLite and PostgreSQL: turns queue ahead of a small pool instead of failing, each
referrer's messages run in order, and a turn that waits too long answers "one moment" first and
its real answer later, with the message kept."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from referbot.admission import Admission
from referbot.domain import ConversationStatus, Inbound
from referbot.engine import load_flow
from referbot.service import HOLDING_REPLY, IntakeService, Outcome
from referbot.store import Database, UnitOfWork
from referbot.store.models import Conversation, Referral
from tests.fakes import KeywordAssessor
from tests.integration.test_service import ANSWERS

REFERRERS = 60


async def test_a_burst_larger_than_the_pool_fails_no_turn(database_url: str, profile, clock) -> None:
    """Every referrer sends a whole intake at once through a pool of two connections that gives up
    after two seconds: without admission most turns would time out waiting for a connection."""
    database = Database(database_url, pool_size=2, max_overflow=0, pool_timeout=2)
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    try:
        async def intake(user: str) -> Outcome:
            await service.handle(Inbound("console", user))
            outcome = None
            for text in [*ANSWERS, "send"]:
                outcome = await service.handle(Inbound("console", user, text=text))
            assert outcome is not None
            return outcome

        outcomes = await asyncio.gather(*(intake(f"user{i}") for i in range(REFERRERS)))
        assert all(o.state is ConversationStatus.DONE and o.referral_id for o in outcomes)
        async with UnitOfWork(database) as uow:
            referrals = await uow.session.scalar(select(func.count()).select_from(Referral))
        assert referrals == REFERRERS
        assert service.admission.queued_users == 0  # queues of idle users are not kept
    finally:
        await database.dispose()


async def test_one_referrers_messages_sent_at_once_run_in_order(database, profile, clock) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    outcomes = await asyncio.gather(service.handle(Inbound("console", "ann")),
                                    *(service.handle(Inbound("console", "ann", text=t)) for t in ANSWERS))
    assert [o.step for o in outcomes][:3] == ["referrer_name", "referrer_role", "referrer_organisation"]
    async with UnitOfWork(database) as uow:
        conversation = await uow.conversations.get_for_update("console", "ann")
    assert conversation is not None
    assert conversation.answers["referrer_name"] == "Dr. Ann Lee" and conversation.answers["client_age"] == 34


async def test_a_turn_that_waits_too_long_holds_then_answers_without_losing_the_message(database, profile,
                                                                                      clock) -> None:
    admission: Admission[Outcome] = Admission(limit=1, patience=0.05)
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock, admission=admission)
    await service.handle(Inbound("console", "ann"))
    late: list[Outcome] = []

    async def answer_later(outcome: Outcome) -> None:
        late.append(outcome)

    release = asyncio.Event()
    blocker = asyncio.ensure_future(admission.run("someone else", release.wait))
    await asyncio.sleep(0)  # the blocker takes the only slot
    held = await service.handle(Inbound("console", "ann", text="Dr. Ann Lee"), late=answer_later)
    assert held.deferred and [r.text for r in held.replies] == [HOLDING_REPLY] and late == []

    release.set()
    await blocker
    await admission.drain()
    assert [o.step for o in late] == ["referrer_role"]  # the queued turn ran and answered
    async with UnitOfWork(database) as uow:
        saved = await uow.session.scalar(select(Conversation.answers).where(Conversation.user_id == "ann"))
    assert saved["referrer_name"] == "Dr. Ann Lee"


async def test_the_benchmarks_intake_is_a_whole_referral(database: Database, profile, clock) -> None:
    """`python -m bench` prices intake turns with bench.turns.INTAKE: if the intake gains a step, the
    benchmark must not go on measuring 'please pick one of the options' re-asks."""
    from bench.turns import INTAKE, TURNS_PER_INTAKE, intake_turn

    turn = intake_turn(IntakeService(database, profile, load_flow(), KeywordAssessor(), clock))
    outcomes = [await turn("bench-referrer", step) for step in range(TURNS_PER_INTAKE)]
    assert all(not o.replies[0].text.startswith("Please pick") for o in outcomes), [o.step for o in outcomes]
    assert outcomes[-1].state is ConversationStatus.DONE and outcomes[-1].referral_id
    assert outcomes[-2].step != outcomes[-1].step and INTAKE[-1] == "send"
