"""The nudger looks only where a nudge can still arise, and finds exactly what the rules find on all
of history: a randomised practice lives for months (referrals with and without a source and
consent, status changes, contacts of every kind, nudges done, snoozed and skipped), and every day
the due nudges from the narrowed story equal those from the whole story, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta

from sqlalchemy import select

from referbot.domain import ReferralStatus, SourceType, TouchpointKind
from referbot.nudger import act_on_nudge, due_nudges
from referbot.nudges.records import NudgeRecords
from referbot.nudges.rules import candidates
from referbot.nudges.scope import ENDED, due_scope
from referbot.profile import Profile
from referbot.referrals import StatusNotAllowed
from referbot.store import Database, UnitOfWork
from referbot.store.models import NudgeRecord
from tests.conftest import FakeClock
from tests.integration.nudge_practice import Practice, local

DAYS = 75
#: The ways a referral goes on: each step is a move the lifecycle allows.
PATHS = [[ReferralStatus.CONTACTED, ReferralStatus.CONSULT_BOOKED, ReferralStatus.BECAME_CLIENT],
         [ReferralStatus.CONTACTED, ReferralStatus.NOT_A_FIT], [ReferralStatus.NO_RESPONSE]]
TOUCHES = [TouchpointKind.THANKED, TouchpointKind.UPDATE_SENT, TouchpointKind.CHECK_IN, TouchpointKind.REFERRED_BACK,
           TouchpointKind.EVENT]


async def due_keys(database: Database, profile: Profile, now: datetime, *, narrowed: bool) -> set[str]:
    """The keys of the nudges due at `now` that have not ended, from the narrowed or the whole story."""
    async with UnitOfWork(database) as uow:
        records = NudgeRecords(uow.session)
        facts = await records.facts(await due_scope(uow.session, profile, now) if narrowed else None)
        ended = set((await uow.session.execute(select(NudgeRecord.key).where(NudgeRecord.state.in_(ENDED))))
                    .scalars())
    return {c.key for c in candidates(facts, profile, now)} - ended


def with_periods(profile: Profile) -> Profile:
    """Stay-in-touch periods by tier and by type besides the default, so each way of choosing one is seen."""
    stay = profile.nudges.stay_in_touch.model_copy(update={
        "days": 50, "by_type": {SourceType.PHYSICIAN: 40, SourceType.SCHOOL: 30}, "by_tier": {"key": 20}})
    return profile.model_copy(update={"nudges": profile.nudges.model_copy(update={"stay_in_touch": stay})})


async def test_the_narrowed_story_yields_exactly_the_nudges_of_the_whole_story(database: Database,
                                                                                profile: Profile) -> None:
    profile = with_periods(profile)
    chance = random.Random(12)
    clock = FakeClock(local(2026, 1, 5, 10, 0))
    practice = Practice(database, profile, clock)
    names = [f"Source {i}" for i in range(8)]
    for index, name in enumerate(names):  # a past before the nudger ran: some sources long quiet
        await practice.source(name, chance.choice([SourceType.PHYSICIAN, SourceType.SCHOOL, SourceType.THERAPIST]),
                              created=clock() - timedelta(days=400), tier="key" if index == 0 else None)
        for _ in range(chance.randrange(3)):
            await practice.referral(name, at=clock() - timedelta(days=chance.randrange(150, 390)))
        if chance.random() < 0.5:
            await practice.touch(name, chance.choice(TOUCHES), at=clock() - timedelta(days=chance.randrange(20, 200)))
    ahead: dict[int, list[ReferralStatus]] = {}  # per referral, the statuses it will still move through
    compared = 0
    for _ in range(DAYS):
        clock.advance(days=1)
        if chance.random() < 0.5:
            referral = await practice.referral(chance.choice([*names, None]), contact=chance.random() < 0.7,
                                               update=chance.random() < 0.6)
            ahead[referral] = list(chance.choice(PATHS))
        moving = [referral for referral, statuses in ahead.items() if statuses]
        if moving and chance.random() < 0.4:
            referral = chance.choice(moving)
            with contextlib.suppress(StatusNotAllowed):  # a first-contact nudge done marked it contacted already
                await practice.status(referral, ahead[referral].pop(0))
        if chance.random() < 0.2:
            await practice.touch(chance.choice(names), chance.choice(TOUCHES))
        narrowed = await due_keys(database, profile, clock(), narrowed=True)
        assert narrowed == await due_keys(database, profile, clock(), narrowed=False)
        compared += len(narrowed)
        due = await due_nudges(database, profile, clock())
        for nudge in chance.sample(due, k=min(len(due), 2)):
            action = chance.choice(["done", "snooze", "skip"])
            await act_on_nudge(database, nudge.id, action, by="test", now=clock(), days=3 if action == "snooze" else None)
    assert compared > DAYS  # the comparison saw plenty of due nudges, not empty sets
