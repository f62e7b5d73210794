"""The outbox worker on SQLite and PostgreSQL: once, retried, never lost, never sent twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from referbot.domain import OutboxKind
from referbot.outbox import OutboxWorker, backoff
from referbot.ports import Envelope, RetryLater
from referbot.store import UnitOfWork


class RecordingNotifier:
    name = "recorder"

    def __init__(self, failures: list[Exception] | None = None, kinds=(OutboxKind.REFERRAL_ALERT,)) -> None:
        self.failures = list(failures or [])
        self.kinds = set(kinds)
        self.delivered: list[str] = []
        self.attempts = 0

    def accepts(self, kind: OutboxKind) -> bool:
        return kind in self.kinds

    async def deliver(self, envelope: Envelope) -> dict:
        self.attempts += 1
        await asyncio.sleep(0)  # let a concurrent worker interleave
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(envelope.key)
        return {"ts": f"{len(self.delivered)}"}


async def enqueue(database, clock, *keys: str, kind: OutboxKind = OutboxKind.REFERRAL_ALERT) -> None:
    async with UnitOfWork(database) as uow:
        for key in keys:
            await uow.outbox.enqueue(kind, key, {"referral_id": 1}, clock())
            await uow.outbox.enqueue(kind, key, {"referral_id": 1}, clock())  # same fact twice: one row
        await uow.commit()


async def test_each_message_is_delivered_once_and_recorded(database, clock) -> None:
    await enqueue(database, clock, "a", "b")
    notifier = RecordingNotifier()
    worker = OutboxWorker(database, [notifier], clock=clock)
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0
    assert notifier.delivered == ["a", "b"]
    async with UnitOfWork(database) as uow:
        assert await uow.outbox.pending() == []
        sent = await uow.outbox.by_key("a")
        assert sent.delivered_to == {"recorder": {"ts": "1"}} and sent.attempts == 1


async def test_outage_then_rate_limit_then_success(database, clock) -> None:
    await enqueue(database, clock, "alert")
    notifier = RecordingNotifier([ConnectionError("slack is down"), RetryLater("429", after=30)])
    worker = OutboxWorker(database, [notifier], clock=clock)
    await worker.run_once()
    clock.advance(seconds=backoff(1) - 1)
    assert await worker.run_once() == 0  # not due yet
    clock.advance(seconds=1)
    await worker.run_once()  # 429 with Retry-After: 30
    clock.advance(seconds=29)
    assert await worker.run_once() == 0
    clock.advance(seconds=1)
    await worker.run_once()
    assert notifier.delivered == ["alert"] and notifier.attempts == 3


async def test_an_hour_long_outage_loses_nothing(database, clock) -> None:
    await enqueue(database, clock, "alert")
    notifier = RecordingNotifier([ConnectionError("down")] * 12)
    worker = OutboxWorker(database, [notifier], clock=clock)
    for _ in range(120):
        await worker.run_once()
        clock.advance(minutes=1)
    assert notifier.delivered == ["alert"]


async def test_two_workers_never_send_the_same_row(database, clock) -> None:
    await enqueue(database, clock, *[f"m{i}" for i in range(12)])
    notifier = RecordingNotifier()
    workers = [OutboxWorker(database, [notifier], clock=clock, worker_id=f"w{i}") for i in range(2)]

    async def drain(worker: OutboxWorker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    assert sorted(notifier.delivered) == sorted(f"m{i}" for i in range(12))


async def test_a_crashed_workers_claim_expires_and_the_row_comes_back(database, clock) -> None:
    await enqueue(database, clock, "orphan")
    async with UnitOfWork(database) as uow:
        claimed = await uow.outbox.claim("dead-worker", clock(), timedelta(minutes=2),
                                         kinds=[OutboxKind.REFERRAL_ALERT.value])
        await uow.commit()
    assert [m.key for m in claimed] == ["orphan"]
    notifier = RecordingNotifier()
    worker = OutboxWorker(database, [notifier], clock=clock)
    assert await worker.run_once() == 0  # still leased
    clock.advance(minutes=3)
    assert await worker.run_once() == 1 and notifier.delivered == ["orphan"]


class SlowNotifier(RecordingNotifier):
    """Each send takes most of the lease (an upstream answering just inside its timeout), so a batch
    outlasts the lease of its last rows; during the second send another worker takes what expired."""

    def __init__(self, clock, lease: timedelta) -> None:
        super().__init__()
        self.clock, self.lease, self.meanwhile = clock, lease, None

    async def deliver(self, envelope: Envelope) -> dict:
        self.clock.advance(seconds=self.lease.total_seconds() * 0.6)
        if self.meanwhile is not None and self.delivered:
            other, self.meanwhile = self.meanwhile, None
            await other.run_once()
        return await super().deliver(envelope)


async def test_a_slow_batch_never_sends_a_row_whose_lease_another_worker_took_over(database, clock) -> None:
    await enqueue(database, clock, "first", "second", "third")
    lease = timedelta(seconds=30)
    notifier = SlowNotifier(clock, lease)
    slow = OutboxWorker(database, [notifier], clock=clock, lease=lease, worker_id="slow")
    notifier.meanwhile = OutboxWorker(database, [notifier], clock=clock, lease=lease, worker_id="other")
    await slow.run_once()
    assert sorted(notifier.delivered) == ["first", "second", "third"]  # each exactly once
    async with UnitOfWork(database) as uow:
        assert await uow.outbox.pending() == []


async def test_kinds_nobody_delivers_wait_for_a_notifier(database, clock) -> None:
    await enqueue(database, clock, "nudge", kind=OutboxKind.NUDGE)
    assert await OutboxWorker(database, [RecordingNotifier()], clock=clock).run_once() == 0
    async with UnitOfWork(database) as uow:
        assert [m.key for m in await uow.outbox.pending()] == ["nudge"]


@pytest.mark.parametrize("attempts, seconds", [(1, 5), (2, 10), (3, 20), (20, 900)])
def test_backoff_grows_and_is_capped(attempts: int, seconds: float) -> None:
    assert backoff(attempts) == seconds
