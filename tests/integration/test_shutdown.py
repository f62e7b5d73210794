"""Stopping the outbox worker: the delivery in hand finishes and is recorded, nothing is cut off
mid-send, and the worker returns promptly (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from referbot.domain import OutboxKind
from referbot.outbox import OutboxWorker
from referbot.ports import Envelope
from referbot.store import UnitOfWork
from referbot.store.models import OutboxMessage


class SlowNotifier:
    """Delivers only when the test lets it, so a stop can arrive mid-send."""

    name = "slow"

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.release = asyncio.Event()

    def accepts(self, kind: OutboxKind) -> bool:
        return kind is OutboxKind.REFERRAL_ALERT

    async def deliver(self, envelope: Envelope) -> dict[str, Any]:
        self.sending.set()
        await self.release.wait()
        return {"ts": "1"}


async def test_stop_mid_send_finishes_the_delivery_then_returns(database, clock) -> None:
    async with UnitOfWork(database) as uow:
        await uow.outbox.enqueue(OutboxKind.REFERRAL_ALERT, "referral_alert:1", {"referral_id": 1}, clock())
        await uow.commit()
    notifier = SlowNotifier()
    worker = OutboxWorker(database, [notifier], clock=clock)
    running = asyncio.create_task(worker.run_forever(interval=0.05))
    await asyncio.wait_for(notifier.sending.wait(), 10)
    worker.stop()
    await asyncio.sleep(0.2)
    assert not running.done()  # still sending: a stop does not cut it off
    notifier.release.set()
    await asyncio.wait_for(running, 10)  # then returns by itself, without being cancelled
    async with UnitOfWork(database) as uow:
        row = (await uow.session.execute(select(OutboxMessage))).scalar_one()
    assert row.sent_at is not None and row.delivered_to == {"slow": {"ts": "1"}}


async def test_an_idle_worker_stops_at_once(database, clock) -> None:
    worker = OutboxWorker(database, [SlowNotifier()], clock=clock)
    running = asyncio.create_task(worker.run_forever(interval=3600))
    await asyncio.sleep(0.1)
    worker.stop()
    await asyncio.wait_for(running, 5)
