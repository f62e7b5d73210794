"""Delivering nudges: office hours across daylight saving, snooze and done, digests, two schedulers
at once, a restart, and the background loop — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from referbot.domain import NudgeState, OutboxKind, ReferralStatus, SourceType, TouchpointKind
from referbot.nudger import (UnknownNudge, UnknownSource, act_on_nudge, due_nudges, enqueue_due, log_touchpoint,
                             run_nudger)
from referbot.profile import Profile
from referbot.store import Database, UnitOfWork
from referbot.store.models import OutboxMessage, Touchpoint
from tests.conftest import FakeClock
from tests.integration.nudge_practice import Practice, local

RULES = ("thank_source", "first_contact", "close_loop", "stay_in_touch", "reciprocity", "lapsed_source")


def tuned(profile: Profile, *, only: tuple[str, ...] = RULES, delivery: str = "each", stay_days: int = 90) -> Profile:
    """The example profile with only the named rules on, and one stay-in-touch period for every source."""
    rules = {name: getattr(profile.nudges, name).model_copy(update={"enabled": name in only}) for name in RULES}
    rules["stay_in_touch"] = rules["stay_in_touch"].model_copy(update={"days": stay_days, "by_type": {}})
    return profile.model_copy(update={"nudges": profile.nudges.model_copy(update={"delivery": delivery, **rules})})


async def outbox(database: Database) -> list[OutboxMessage]:
    async with UnitOfWork(database) as uow:
        return list((await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def touchpoints(database: Database, kind: TouchpointKind) -> list[Touchpoint]:
    async with UnitOfWork(database) as uow:
        return list((await uow.session.execute(select(Touchpoint).where(Touchpoint.kind == kind.value))).scalars())


@pytest.mark.parametrize("touched, days, due_day, delivered", [
    (local(2026, 3, 5, 8, 0), 1, date(2026, 3, 6), datetime(2026, 3, 6, 15, 0, tzinfo=timezone.utc)),  # CST
    (local(2026, 3, 6, 8, 0), 3, date(2026, 3, 9), datetime(2026, 3, 9, 14, 0, tzinfo=timezone.utc)),  # CDT
    (local(2026, 10, 29, 8, 0), 1, date(2026, 10, 30), datetime(2026, 10, 30, 14, 0, tzinfo=timezone.utc)),  # CDT
    (local(2026, 10, 30, 8, 0), 3, date(2026, 11, 2), datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)),  # CST
])
async def test_a_nudge_due_at_eight_is_delivered_at_nine_local_across_daylight_saving(
        database, profile: Profile, touched: datetime, days: int, due_day: date, delivered: datetime) -> None:
    clock = FakeClock(touched)
    practice = Practice(database, tuned(profile, only=("stay_in_touch",), stay_days=days), clock)
    await practice.source("Dr. Ann Lee", SourceType.PHYSICIAN, created=touched - timedelta(days=30))
    await practice.touch("Dr. Ann Lee", TouchpointKind.CHECK_IN, touched, "lunch")
    clock.now = local(due_day.year, due_day.month, due_day.day, 7, 0)
    while not await enqueue_due(database, practice.profile, clock()):
        assert clock.now < delivered + timedelta(days=1), "never delivered"
        clock.advance(minutes=15)
    assert clock.now == delivered
    [nudge] = await practice.due()
    assert nudge.due_at == local(due_day.year, due_day.month, due_day.day, 8, 0)
    [row] = await outbox(database)
    assert row.kind == OutboxKind.NUDGE.value and row.key == f"nudge:{nudge.id}:0"
    assert row.payload == {"nudge_id": nudge.id, "kind": "stay_in_touch", "title": "Stay in touch",
                           "source": "Dr. Ann Lee", "text": nudge.text, "draft": nudge.draft}
    assert "Last contact: " in nudge.text and "lunch" in nudge.text


async def test_snooze_brings_a_nudge_back_once_and_done_ends_it(database, profile: Profile) -> None:
    clock = FakeClock(local(2026, 4, 1, 10, 0))
    practice = Practice(database, tuned(profile, only=("stay_in_touch",), stay_days=30), clock)
    await practice.source("Ben Ortiz", SourceType.THERAPIST, created=local(2026, 1, 1, 9, 0))
    await practice.touch("Ben Ortiz", TouchpointKind.EVENT, local(2026, 3, 1, 10, 0))
    assert await enqueue_due(database, practice.profile, clock()) == 1
    assert await enqueue_due(database, practice.profile, clock()) == 0
    [nudge] = await practice.due()
    snoozed = await act_on_nudge(database, nudge.id, "snooze", by="slack:U012AB3CD", now=clock(), days=1)
    assert snoozed.state is NudgeState.SNOOZED and snoozed.snoozed_until == local(2026, 4, 2, 10, 0)
    clock.advance(hours=23)
    assert await practice.due() == [] and await enqueue_due(database, practice.profile, clock()) == 0
    clock.advance(hours=1)
    assert [n.id for n in await practice.due()] == [nudge.id]
    assert await enqueue_due(database, practice.profile, clock()) == 1
    assert [m.key for m in await outbox(database)] == [f"nudge:{nudge.id}:0", f"nudge:{nudge.id}:1"]
    done = await act_on_nudge(database, nudge.id, "done", by="slack:U012AB3CD", now=clock())
    again = await act_on_nudge(database, nudge.id, "done", by="slack:U012AB3CD", now=clock())
    late_snooze = await act_on_nudge(database, nudge.id, "snooze", by="slack:U012AB3CD", now=clock(), days=7)
    assert done.state is again.state is late_snooze.state is NudgeState.DONE
    [check_in] = await touchpoints(database, TouchpointKind.CHECK_IN)
    assert check_in.by == "slack:U012AB3CD" and check_in.at == clock()
    clock.advance(days=29)
    assert await practice.due() == []  # the check-in restarted the 30-day clock
    clock.advance(days=1)
    assert [n.kind.value for n in await practice.due()] == ["stay_in_touch"]


async def test_skip_ends_a_nudge_and_first_contact_done_marks_the_referral_contacted(database, profile) -> None:
    clock = FakeClock(local(2026, 1, 8, 10, 0))
    practice = Practice(database, tuned(profile, only=("thank_source", "first_contact")), clock)
    await practice.source("Dr. Ann Lee", SourceType.PHYSICIAN, created=clock())
    referral_id = await practice.referral("Dr. Ann Lee", contact=True)
    clock.now = local(2026, 1, 12, 9, 30)
    by_kind = {n.kind.value: n for n in await practice.due()}
    assert set(by_kind) == {"thank_source", "first_contact"}
    await act_on_nudge(database, by_kind["thank_source"].id, "skip", by="cli:me", now=clock())
    await act_on_nudge(database, by_kind["first_contact"].id, "done", by="cli:me", now=clock())
    assert await practice.due() == [] and await touchpoints(database, TouchpointKind.THANKED) == []
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(referral_id)
        assert referral.status == ReferralStatus.CONTACTED.value and referral.first_contact_at == clock()
    with pytest.raises(UnknownNudge):
        await act_on_nudge(database, 999, "done", by="cli:me", now=clock())
    with pytest.raises(ValueError):
        await act_on_nudge(database, by_kind["thank_source"].id, "archive", by="cli:me", now=clock())


async def test_close_the_loop_only_with_consent_and_never_name_a_client_without_it(database, profile) -> None:
    clock = FakeClock(local(2026, 2, 2, 10, 0))
    practice = Practice(database, tuned(profile, only=("thank_source", "close_loop")), clock)
    await practice.source("Dr. Ann Lee", SourceType.PHYSICIAN, created=clock())
    private = await practice.referral("Dr. Ann Lee", contact=True, update=False, client="Jo Private")
    shared = await practice.referral("Dr. Ann Lee", contact=True, update=True, client="Sam Open")
    clock.now = local(2026, 2, 3, 9, 30)
    thanks = {n.referral_id: n for n in await practice.due()}
    assert "Jo Private" not in thanks[private].draft and "anxiety" not in thanks[private].draft
    assert "Sam Open" in thanks[shared].draft and "anxiety" in thanks[shared].draft
    assert all("Jo Private" not in n.text and "Sam Open" not in n.text for n in thanks.values())
    for nudge in thanks.values():
        await act_on_nudge(database, nudge.id, "done", by="cli:me", now=clock())
    for referral_id in (private, shared):
        await practice.status(referral_id, ReferralStatus.BECAME_CLIENT)
    [update] = await practice.due()
    assert (update.kind.value, update.referral_id) == ("close_loop", shared)
    assert "Sam Open" in update.draft and "have started working with us" in update.draft


async def test_two_schedulers_at_once_enqueue_each_nudge_once_and_a_restart_loses_nothing(
        database_url: str, database: Database, profile: Profile) -> None:
    clock = FakeClock(local(2026, 1, 5, 10, 0))
    practice = Practice(database, tuned(profile, only=("thank_source", "first_contact")), clock)
    for name in ("Dr. Ann Lee", "Ben Ortiz", "Lincoln High School"):
        await practice.source(name, SourceType.OTHER, created=clock())
        await practice.referral(name, contact=True, client="Jo Private")
    other = Database(database_url)
    try:
        for hour in (9, 10, 11):  # Tuesday: the thank-yous; Wednesday: the first contacts too
            for day in (6, 7):
                clock.now = local(2026, 1, day, hour, 0)
                await asyncio.gather(*(enqueue_due(db, practice.profile, clock()) for db in (database, other)))
    finally:
        await other.dispose()
    rows = await outbox(database)
    nudge_rows = [r for r in rows if r.kind == OutboxKind.NUDGE.value]
    assert len(nudge_rows) == 6 and len({r.payload["nudge_id"] for r in nudge_rows}) == 6
    assert sorted(r.payload["kind"] for r in nudge_rows) == ["first_contact"] * 3 + ["thank_source"] * 3
    assert not any("Jo Private" in r.payload["draft"] + r.payload["text"] for r in nudge_rows if
                   r.payload["kind"] == "thank_source")
    restarted = Database(database_url)
    try:
        assert await enqueue_due(restarted, practice.profile, clock()) == 0
        assert {n.id for n in await due_nudges(restarted, practice.profile, clock())} == {
            r.payload["nudge_id"] for r in nudge_rows}
    finally:
        await restarted.dispose()


async def test_digest_mode_sends_one_morning_digest_a_day(database_url: str, database: Database, profile) -> None:
    clock = FakeClock(local(2026, 1, 5, 10, 0))
    practice = Practice(database, tuned(profile, only=("thank_source", "first_contact"), delivery="digest"), clock)
    await practice.source("Dr. Ann Lee", SourceType.PHYSICIAN, created=clock())
    await practice.referral("Dr. Ann Lee", contact=True)
    clock.now = local(2026, 1, 6, 8, 0)
    assert await enqueue_due(database, practice.profile, clock()) == 0  # office closed
    clock.now = local(2026, 1, 6, 9, 5)
    other = Database(database_url)
    try:
        sent = await asyncio.gather(*(enqueue_due(db, practice.profile, clock()) for db in (database, other)))
    finally:
        await other.dispose()
    assert sorted(sent) == [0, 1]
    [digest] = await outbox(database)
    [thank] = await practice.due()
    assert digest.key == "digest:2026-01-06" and digest.payload["digest"] is True
    assert digest.payload["nudge_ids"] == [thank.id] and digest.payload["nudges"] == [thank.payload()]
    assert digest.payload["text"].startswith("1 nudge due:") and "Draft:" in digest.payload["text"]
    clock.now = local(2026, 1, 6, 16, 0)
    await act_on_nudge(database, thank.id, "snooze", by="cli:me", now=clock(), days=1)
    assert await enqueue_due(database, practice.profile, clock()) == 0  # one digest a day
    clock.now = local(2026, 1, 7, 9, 0)  # the snooze ends at 16:00, within today: in the morning digest
    assert await enqueue_due(database, practice.profile, clock()) == 2
    assert [m.key for m in await outbox(database)] == ["digest:2026-01-06", "digest:2026-01-07"]
    assert {n["kind"] for n in (await outbox(database))[1].payload["nudges"]} == {"thank_source", "first_contact"}


async def test_the_background_loop_enqueues_once_and_wakes_the_outbox(database, profile: Profile) -> None:
    clock = FakeClock(local(2026, 1, 6, 10, 0))
    practice = Practice(database, tuned(profile, only=("stay_in_touch",), stay_days=30), clock)
    await practice.source("Ben Ortiz", SourceType.THERAPIST, created=local(2025, 12, 1, 10, 0))
    wakes: list[int] = []
    loop = asyncio.create_task(run_nudger(database, practice.profile, clock, interval=0.001,
                                          on_enqueued=lambda: wakes.append(1)))
    try:
        for _ in range(2000):
            if await outbox(database) and len(wakes) == 1:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # more rounds: nothing new
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    assert len(await outbox(database)) == 1 and wakes == [1]


async def test_stopping_the_loop_mid_round_never_leaves_the_database_locked(database, profile: Profile) -> None:
    """Shutdown cancels the loop wherever it is; a round cut off halfway once left SQLite's write lock held
    by a connection nobody closed, and the next transaction failed with "database is locked"."""
    clock = FakeClock(local(2026, 1, 6, 10, 0))
    practice = Practice(database, tuned(profile, only=("stay_in_touch",), stay_days=30), clock)
    await practice.source("Ben Ortiz", SourceType.THERAPIST, created=local(2025, 12, 1, 10, 0))
    for stop_after in (0.0, 0.002, 0.005, 0.01, 0.02, 0.03):
        loop = asyncio.create_task(run_nudger(database, practice.profile, clock, interval=0.0))
        await asyncio.sleep(stop_after)
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        assert loop.cancelled()
        assert len(await asyncio.wait_for(outbox(database), 10)) <= 1


async def test_logging_a_contact_by_hand_and_referring_out_to_a_profile_colleague(database, profile) -> None:
    now = local(2026, 2, 2, 11, 0)
    source, touch = await log_touchpoint(database, profile, "Lakeshore Eating Disorder Center",
                                         TouchpointKind.REFERRED_BACK, by="cli:me", now=now, note="binge eating")
    assert (source.name, touch.kind, touch.note, touch.at) == (
        "Lakeshore Eating Disorder Center", "referred_back", "binge eating", now)
    again, _ = await log_touchpoint(database, profile, "lakeshore", TouchpointKind.CHECK_IN, by="cli:me", now=now)
    assert again.id == source.id
    with pytest.raises(UnknownSource):
        await log_touchpoint(database, profile, "Nobody Known", TouchpointKind.CHECK_IN, by="cli:me", now=now)
