"""All-time stats are summed from running tallies (`referbot.store.tallies`), not read from every
referral: they must equal what the referral rows say after anything a practice does. A randomised
practice lives for two months — referrals on every channel with every verdict, with and without a
source, some recorded late; statuses moved along the lifecycle (also by the nudger's first-contact
nudge) and corrected by force; fields corrected so the fit is judged again; referrals moved to
another source; clients referred back and out to sources, some logged late; two sources merged; a
referral's client details and a source erased — and every day the tallied counts (and clients
referred back per source) equal those counted from the rows, on SQLite and PostgreSQL; at the end
also as of earlier instants, where what came after them is taken off the tallies. And migration
0010's backfill counts from the rows exactly what the writes kept."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from alembic import command
from sqlalchemy import select

from referbot.domain import FitVerdict, NudgeKind, ReferralStatus, SourceType, TouchpointKind
from referbot.erasure import forget_referral_by_id, forget_source_named
from referbot.errors import BadRequest
from referbot.nudger import act_on_nudge, due_nudges
from referbot.profile import Profile
from referbot.referrals import ALLOWED, edit_referral, refer_out, set_referral_status
from referbot.source_records import merge_sources
from referbot.stats import compute_stats
from referbot.stats.periods import Window
from referbot.stats.queries import Counts, counted_in, counted_until
from referbot.store import Database, UnitOfWork
from referbot.store.database import alembic_config
from referbot.store.models import ChannelTally, SourceTally, WaitTally
from tests.conftest import FakeClock
from tests.fakes import KeywordAssessor
from tests.integration.nudge_practice import Practice, local

DAYS = 60
CHANNELS = ("telegram", "slack", "web", "console")
#: Corrections of fields the fit is judged on (KeywordAssessor: under 18 is not a fit; "panic" a good one).
FIT_EDITS = [("client_age", "15"), ("client_age", "40"), ("presenting_issues", "panic attacks"),
             ("presenting_issues", "feeling low")]


async def counts(database: Database, end: datetime, *, tallied: bool) -> Counts:
    async with database.sessions() as session:
        return await (counted_until(session, end) if tallied else counted_in(session, Window(None, end)))


async def test_the_tallies_count_what_the_referral_rows_say(database: Database, profile: Profile) -> None:
    clock = FakeClock(local(2026, 1, 5, 10, 0))
    practice, seen = Practice(database, profile, clock), Counter[str]()

    async def compare() -> None:
        assert await counts(database, clock(), tallied=True) == await counts(database, clock(), tallied=False), clock()

    referrals = await live(practice, random.Random(3), DAYS, seen, each_day=compare)
    for back in (timedelta(hours=3), timedelta(days=2), timedelta(days=20), timedelta(days=80)):
        then = clock() - back
        assert await counts(database, then, tallied=True) == await counts(database, then, tallied=False), back
    everything = await counts(database, clock(), tallied=True)
    assert sum(n for _, _, n in everything.sent.values()) >= 10
    assert sum(r.referrals for r in everything.sources) == len(referrals) > 80
    assert set(everything.verdicts) == {v.value for v in FitVerdict} and set(everything.channels) == set(CHANNELS)
    assert sum(r.became_client for r in everything.sources) >= 5  # the funnel's far end too
    assert len(everything.waits) > 20 and seen["change"] > 60 and seen["first contact"] >= 3, seen
    stats = await compute_stats(database, period="all", now=clock())
    assert stats["referrals"] == len(referrals) and stats["median_hours_to_first_contact"] is not None


async def test_the_migration_backfill_counts_what_the_writes_keep(database: Database, profile: Profile) -> None:
    """Migration 0010 counts the tallies from the referral rows; from then on the writes keep them.
    Going back to 0009 and up again counts exactly what the writes kept (rows at zero aside)."""
    clock = FakeClock(local(2026, 1, 5, 10, 0))
    await live(Practice(database, profile, clock), random.Random(5), 35, Counter())
    kept = await tallies(database)
    assert all(kept.values())
    await asyncio.to_thread(command.downgrade, alembic_config(database.url), "0009")
    await asyncio.to_thread(command.upgrade, alembic_config(database.url), "head")
    assert await tallies(database) == kept


async def tallies(database: Database) -> dict[str, set[tuple[Any, ...]]]:
    """Each tally table's rows that count something."""
    async with database.sessions() as session:
        return {table.name: set((await session.execute(select(table).where(table.c.referrals != 0))).all())
                for table in (SourceTally.__table__, ChannelTally.__table__, WaitTally.__table__)}


async def live(practice: Practice, chance: random.Random, days: int, seen: Counter[str],
               each_day: Callable[[], Awaitable[None]] | None = None) -> list[int]:
    """A practice's life for `days` (see the module); returns its referrals' ids."""
    database, clock = practice.database, practice.clock
    names = [f"Source {i}" for i in range(6)]
    for name in names:
        await practice.source(name, chance.choice(list(SourceType)), created=clock() - timedelta(days=400))
    referrals: list[int] = []
    for day in range(days):
        clock.advance(days=1, seconds=chance.uniform(0, 3600))  # waits in odd minutes, seconds and microseconds
        for _ in range(chance.randrange(4)):
            late = chance.random() < 0.1  # recorded late, dated when it arrived
            at = clock() - timedelta(days=chance.randrange(1, 30) if late else 0, seconds=chance.uniform(0, 40_000))
            referrals.append(await practice.referral(chance.choice([*names, None]), at=at,
                                                     channel=chance.choice(CHANNELS),
                                                     verdict=chance.choice(list(FitVerdict))))
        seen["change"] += await change_something(practice, chance, referrals, names)
        if day == 30:
            async with UnitOfWork(database) as uow:
                await merge_sources(uow, await uow.sources.by_name(names[0]), await uow.sources.by_name(names[-1]),
                                    clock())
                await uow.commit()
            names.pop()
        if day == 45:
            await forget_source_named(database, names[1], actor="test", channel="cli", now=clock())
            erased = practice.sources.pop(names[1])
            names[1] = f"Erased source #{erased}"
            practice.sources[names[1]] = erased
        if day % 10 == 5:
            seen["first contact"] += await first_contact_by_nudge(practice)
        if chance.random() < 0.3:  # a client referred back to a source, now or logged late
            await practice.touch(chance.choice(names), TouchpointKind.REFERRED_BACK,
                                 at=clock() - timedelta(days=chance.choice([0, 0, 5, 40])))
        if referrals and chance.random() < 0.1:  # a client referred out to a source: a status and a referral back
            with contextlib.suppress(BadRequest):  # already closed
                await refer_out(database, practice.profile, chance.choice(referrals), chance.choice(names), by="test",
                                now=clock())
        if each_day is not None:
            await each_day()
    return referrals


async def change_something(practice: Practice, chance: random.Random, referrals: list[int], names: list[str]) -> int:
    """What a practice does with its referrals in a day; returns how many changes were made."""
    database, profile, now = practice.database, practice.profile, practice.clock()

    async def move_on(referral: int) -> None:
        async with UnitOfWork(database) as uow:
            current = ReferralStatus((await uow.referrals.get(referral)).status)
        if ALLOWED[current]:
            await set_referral_status(database, referral, chance.choice(sorted(ALLOWED[current])), by="test", now=now)

    changes = [
        (0.8, move_on),
        (0.1, lambda referral: set_referral_status(database, referral, chance.choice(list(ReferralStatus)),
                                                   by="test", now=now, force=True)),
        (0.3, lambda referral: edit_referral(database, profile, KeywordAssessor(), referral, *chance.choice(FIT_EDITS),
                                             by="test", now=now)),
        (0.1, lambda referral: edit_referral(database, profile, KeywordAssessor(), referral, "source",
                                             chance.choice(names), by="test", now=now)),
        (0.03, lambda referral: forget_referral_by_id(database, referral, actor="test", channel="cli", now=now)),
    ]
    made = 0
    for probability, change in changes:
        for _ in range(3):
            if referrals and chance.random() < probability:
                with contextlib.suppress(BadRequest):  # the value it had already
                    await change(chance.choice(referrals))
                    made += 1
    return made


async def first_contact_by_nudge(practice: Practice) -> int:
    """Mark the referrals waiting for a first contact done from their nudges, as the staff's button does."""
    due = [n for n in await due_nudges(practice.database, practice.profile, practice.clock())
           if n.kind is NudgeKind.FIRST_CONTACT]
    for nudge in due:
        await act_on_nudge(practice.database, nudge.id, "done", by="test", now=practice.clock())
    return len(due)
