"""The nudger looks only where a nudge can be due, and finds exactly what the rules find on all of
history: a randomised practice lives for months (referrals with and without a source and consent,
some recorded late, status changes and corrections, consent withdrawn and given, referrals moved
to another source, sources merged, contacts of every kind, some back-dated, client details and a
source erased, nudges done, snoozed and skipped, upgrades that leave what the nudger remembers
empty), and every day the due nudges from the narrowed story equal those from the whole story, on
SQLite and PostgreSQL. Once everything has been dealt with, a tick looks at no source at all, and
each change that can bring a nudge back brings its source back."""

from __future__ import annotations

import contextlib
import importlib
import random
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update

from referbot.domain import NudgeKind, ReferralStatus, SourceType, TouchpointKind
from referbot.erasure import forget_referral_by_id, forget_source_named
from referbot.errors import BadRequest
from referbot.nudger import act_on_nudge, due_nudges
from referbot.nudges.records import NudgeRecords
from referbot.nudges.rules import candidates
from referbot.nudges.scope import ENDED, Scope, due_scope
from referbot.profile import Profile
from referbot.referrals import edit_referral, set_referral_status
from referbot.source_records import merge_sources
from referbot.store import Database, UnitOfWork
from referbot.store.models import ENDED_ANCHOR, SETTLED_THROUGH, NudgeRecord, Source
from tests.conftest import FakeClock
from tests.fakes import KeywordAssessor
from tests.integration.nudge_practice import Practice, local

DAYS = 90
#: The ways a referral goes on: each step is a move the lifecycle allows.
PATHS = [[ReferralStatus.CONTACTED, ReferralStatus.CONSULT_BOOKED, ReferralStatus.BECAME_CLIENT],
         [ReferralStatus.CONTACTED, ReferralStatus.NOT_A_FIT], [ReferralStatus.NO_RESPONSE]]
TOUCHES = [TouchpointKind.THANKED, TouchpointKind.UPDATE_SENT, TouchpointKind.CHECK_IN, TouchpointKind.REFERRED_BACK,
           TouchpointKind.EVENT]
PERIODIC = {NudgeKind.STAY_IN_TOUCH, NudgeKind.RECIPROCITY, NudgeKind.LAPSED_SOURCE}
BACKFILL = importlib.import_module("referbot.migrations.versions.0008_source_activity").BACKFILL


async def due_keys(database: Database, profile: Profile, now: datetime, *, narrowed: bool) -> set[str]:
    """The keys of the nudges due at `now` that have not ended, from the narrowed or the whole story."""
    async with UnitOfWork(database) as uow:
        records = NudgeRecords(uow.session)
        facts = await records.facts(await due_scope(uow.session, profile, now) if narrowed else None)
        ended = set((await uow.session.execute(select(NudgeRecord.key).where(NudgeRecord.state.in_(ENDED))))
                    .scalars())
    return {c.key for c in candidates(facts, profile, now)} - ended


def busy(names: list[str]) -> list[str]:
    """The sources most referrals and contacts come from; the others fall quiet, so stay-in-touch and
    lapsed-source nudges come and go too."""
    return names[:4]


def with_periods(profile: Profile) -> Profile:
    """Stay-in-touch periods by tier and by type besides the default, so each way of choosing one is seen."""
    stay = profile.nudges.stay_in_touch.model_copy(update={
        "days": 50, "by_type": {SourceType.PHYSICIAN: 40, SourceType.SCHOOL: 30}, "by_tier": {"key": 20}})
    return profile.model_copy(update={"nudges": profile.nudges.model_copy(update={"stay_in_touch": stay})})


async def upgrade_in_place(database: Database) -> None:
    """What an upgrade to migration 0008 leaves: the activity read from history by its backfill, and
    nothing remembered by the nudger yet."""
    async with database.engine.begin() as connection:
        forgotten = [*ENDED_ANCHOR.values(), *SETTLED_THROUGH.values(), Source.last_touch_at, Source.last_thanked_at,
                     Source.last_referred_back_at, Source.last_update_sent_at, Source.last_referral_at]
        await connection.execute(update(Source).values({column: None for column in forgotten}))
        await connection.execute(text(BACKFILL))


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
    compared, acted, erased_source = 0, Counter[str](), False
    for day in range(DAYS):
        clock.advance(days=1)
        if chance.random() < 0.5:
            referral = await practice.referral(chance.choice([*busy(names), None]), contact=chance.random() < 0.7,
                                               update=chance.random() < 0.6)
            ahead[referral] = list(chance.choice(PATHS))
        if chance.random() < 0.05:  # a referral recorded late, dated when it arrived
            referral = await practice.referral(chance.choice(names), contact=chance.random() < 0.5,
                                               at=clock() - timedelta(days=chance.randrange(1, 60)),
                                               update=chance.random() < 0.5)
            ahead[referral] = list(chance.choice(PATHS))
        moving = [referral for referral, statuses in ahead.items() if statuses]
        if moving and chance.random() < 0.4:
            referral = chance.choice(moving)
            with contextlib.suppress(BadRequest):  # a first-contact nudge done marked it contacted already
                await practice.status(referral, ahead[referral].pop(0))
        await change_something(practice, chance, list(ahead), names, day)
        if chance.random() < 0.2:
            await practice.touch(chance.choice(busy(names)), chance.choice(TOUCHES))
        if chance.random() < 0.05:  # a contact logged late, dated when it happened
            await practice.touch(chance.choice(names), chance.choice(TOUCHES), at=clock() - timedelta(days=10))
        if day in (30, 60):
            await upgrade_in_place(database)
        if day >= 50 and not erased_source:
            erased_source = await erase_a_source_whose_nudge_ended(practice, names)
        narrowed = await due_keys(database, profile, clock(), narrowed=True)
        assert narrowed == await due_keys(database, profile, clock(), narrowed=False), f"day {day}"
        compared += len(narrowed)
        due = await due_nudges(database, profile, clock())
        for nudge in chance.sample(due, k=min(len(due), 3)):
            action = chance.choice(["done", "snooze", "skip"])
            await act_on_nudge(database, nudge.id, action, by="test", now=clock(), days=3 if action == "snooze" else None)
            acted[f"{'periodic' if nudge.kind in PERIODIC else 'referral'} {action}"] += 1
    assert compared > DAYS  # the comparison saw plenty of due nudges, not empty sets
    assert min(acted.values()) >= 5 and len(acted) == 6, acted  # periodic and referral nudges done, snoozed, skipped
    assert erased_source

    await skip_everything(database, profile, clock())
    scope = await scope_at(database, profile, clock())
    assert (scope.sources, scope.sourceless_referrals) == ([], [])


async def change_something(practice: Practice, chance: random.Random, referrals: list[int], names: list[str],
                           day: int) -> None:
    """Now and then, what a practice also does: correct a referral (its source, consent, status),
    erase a referral's client details, merge two sources."""
    database, profile, now = practice.database, practice.profile, practice.clock()
    corrections = [
        (0.1, lambda referral: edit_referral(database, profile, KeywordAssessor(), referral, "source",
                                             chance.choice(names), by="test", now=now)),
        (0.1, lambda referral: edit_referral(database, profile, KeywordAssessor(), referral, "consent_to_update",
                                             chance.choice(["yes", "no"]), by="test", now=now)),
        (0.05, lambda referral: set_referral_status(database, referral, chance.choice(list(ReferralStatus)),
                                                    by="test", now=now, force=True))]
    for probability, correct in corrections:
        if referrals and chance.random() < probability:
            with contextlib.suppress(BadRequest):  # the value it had, or consent to updates without consent to contact
                await correct(chance.choice(referrals))
    if referrals and chance.random() < 0.03:
        await forget_referral_by_id(database, chance.choice(referrals), actor="test", channel="cli", now=now)
    if day == 40:
        gone = names.pop()
        async with UnitOfWork(database) as uow:
            keep, other = await uow.sources.by_name(names[1]), await uow.sources.by_name(gone)
            await merge_sources(uow, keep, other, now)
            await uow.commit()
        del practice.sources[gone]


async def erase_a_source_whose_nudge_ended(practice: Practice, names: list[str]) -> bool:
    """Erase a source whose stay-in-touch nudge of its current period was done or skipped, if there
    is one: with its nudges gone, that reminder is due again."""
    async with UnitOfWork(practice.database) as uow:
        erased = (await uow.session.execute(select(Source.name).where(
            Source.stay_in_touch_ended_anchor == func.coalesce(Source.last_touch_at, Source.created_at),
            Source.name.in_(names)).order_by(Source.id))).scalars().first()
    if erased is None:
        return False
    await forget_source_named(practice.database, erased, actor="test", channel="cli", now=practice.clock())
    source_id = practice.sources.pop(erased)
    names[names.index(erased)] = f"Erased source #{source_id}"
    practice.sources[f"Erased source #{source_id}"] = source_id
    return True


async def skip_everything(database: Database, profile: Profile, now: datetime) -> None:
    """The practice deals with everything, snoozed nudges too; the tick after that remembers it."""
    await due_nudges(database, profile, now)
    async with UnitOfWork(database) as uow:
        waiting = list((await uow.session.execute(select(NudgeRecord.id).where(NudgeRecord.state.not_in(ENDED))))
                       .scalars())
    for nudge_id in waiting:
        await act_on_nudge(database, nudge_id, "skip", by="test", now=now)
    assert await due_nudges(database, profile, now) == []


async def scope_at(database: Database, profile: Profile, now: datetime) -> Scope:
    async with UnitOfWork(database) as uow:
        return await due_scope(uow.session, profile, now)


async def test_whatever_brings_an_ended_nudge_back_brings_its_source_back(database: Database,
                                                                         profile: Profile) -> None:
    """Once every nudge of a source has ended, a tick leaves the source out; each change that can make
    one of its nudges due again has the nudger look at it again, and find exactly that nudge."""
    clock = FakeClock(local(2026, 3, 2, 10, 0))
    practice, days = Practice(database, profile, clock), lambda n: clock() - timedelta(days=n)
    ann = await practice.source("Dr. Ann Lee", SourceType.PHYSICIAN, created=days(400))
    await practice.source("Dr. Raj Patel", SourceType.THERAPIST, created=days(400))
    closed = await practice.referral("Dr. Ann Lee", at=days(200), contact=True, update=False)
    await practice.status(closed, ReferralStatus.NO_RESPONSE, at=days(190))
    patels = await practice.referral("Dr. Raj Patel", at=days(220), contact=False)
    await practice.touch("Dr. Raj Patel", TouchpointKind.THANKED, at=days(210))

    async def merge_a_source_with_a_thank_you_waiting() -> None:
        await practice.source("Ann Lee MD", SourceType.PHYSICIAN, created=days(400))
        await practice.referral("Ann Lee MD", at=days(300), contact=False)
        await due_nudges(database, profile, clock())  # its thank-you is waiting, not ended
        async with UnitOfWork(database) as uow:
            await merge_sources(uow, await uow.sources.get(ann), await uow.sources.by_name("Ann Lee MD"), clock())
            await uow.commit()

    changes = {
        "a referral recorded late": (lambda: practice.referral("Dr. Ann Lee", at=days(250), contact=False),
                                     "thank_source"),
        "consent to updates given": (lambda: edit_referral(database, profile, KeywordAssessor(), closed,
                                                           "consent_to_update", "yes", by="test", now=clock()),
                                     "close_loop"),
        "a thanked referral moved here": (lambda: edit_referral(database, profile, KeywordAssessor(), patels, "source",
                                                                "Dr. Ann Lee", by="test", now=clock()), "thank_source"),
        "a referral erased": (lambda: forget_referral_by_id(database, patels, actor="test", channel="cli", now=clock()),
                              "thank_source"),
        "a source merged in": (merge_a_source_with_a_thank_you_waiting, "thank_source"),
        "the source erased": (lambda: forget_source_named(database, "Dr. Ann Lee", actor="test", channel="cli",
                                                          now=clock()), "stay_in_touch"),
    }
    for change, (make, kind) in changes.items():
        await skip_everything(database, profile, clock())
        assert (await scope_at(database, profile, clock())).sources == [], change
        await make()
        assert ann in (await scope_at(database, profile, clock())).sources, change
        narrowed = await due_keys(database, profile, clock(), narrowed=True)
        assert narrowed == await due_keys(database, profile, clock(), narrowed=False), change
        assert kind in {nudge.kind.value for nudge in await due_nudges(database, profile, clock())
                        if nudge.source_id == ann}, change
