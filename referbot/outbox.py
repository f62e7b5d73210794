"""The outbox worker: delivers what the service enqueued, at least once and in practice exactly once.

Rows are claimed with an atomic UPDATE and a lease, sent by the notifier that accepts their kind,
then marked sent; a failure schedules a retry with backoff (or the upstream's Retry-After), forever
— an alert about a client must never be dropped because Slack was down for an hour.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta
from typing import Sequence

from referbot.domain import OutboxKind
from referbot.ports import Envelope, Notifier, RetryLater
from referbot.service import Clock, utcnow
from referbot.store import Database, UnitOfWork, uninterrupted
from referbot.store.models import OutboxMessage

log = logging.getLogger(__name__)


def backoff(attempts: int, base: float = 5.0, cap: float = 900.0) -> float:
    """Seconds to wait before attempt `attempts + 1`: 5 s, 10 s, 20 s … capped at 15 minutes."""
    return min(cap, base * 2 ** max(0, attempts - 1))


class OutboxWorker:
    """Claims due outbox rows and hands each to its notifier."""

    def __init__(self, database: Database, notifiers: Sequence[Notifier], *, clock: Clock = utcnow,
                 lease: timedelta = timedelta(minutes=2), worker_id: str | None = None) -> None:
        self.database = database
        self.notifiers = list(notifiers)
        self.clock = clock
        self.lease = lease
        self.worker_id = worker_id or f"worker-{secrets.token_hex(4)}"
        self._wake = asyncio.Event()
        #: Rows this worker claimed and has not yet recorded as sent or rescheduled.
        self._held: set[int] = set()
        self._stopping = False

    def _notifier_for(self, kind: OutboxKind) -> Notifier | None:
        return next((n for n in self.notifiers if n.accepts(kind)), None)

    def wake(self) -> None:
        """Deliver now rather than at the next poll (e.g. right after a crisis is recorded)."""
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver every row due now; returns how many were attempted."""
        kinds = [k.value for k in OutboxKind if self._notifier_for(k) is not None]
        if not kinds:
            return 0
        await uninterrupted(self.release_held())
        claimed = await uninterrupted(self._claim(kinds))
        self._held.update(row.id for row in claimed)
        for row in claimed:
            if await uninterrupted(self._renew(row.id)):
                await self._deliver(row)
            self._held.discard(row.id)
        return len(claimed)

    async def _renew(self, message_id: int) -> bool:
        """The batch was claimed at once, but its rows are sent one after another (each may wait out a
        30 s upstream timeout): the lease restarts for each row, and a row another worker took over
        after the lease ran out is left to it instead of being sent twice."""
        async with UnitOfWork(self.database) as uow:
            renewed = await uow.outbox.renew(message_id, self.worker_id, self.clock(), self.lease)
            await uow.commit()
        return renewed

    async def release_held(self) -> None:
        """Give back claims a failed round left behind (the database went away between claiming and
        recording), so a crisis alert waits for the database, not for the lease to run out."""
        if self._held:
            async with UnitOfWork(self.database) as uow:
                await uow.outbox.release(sorted(self._held), self.worker_id)
                await uow.commit()
            self._held.clear()

    async def _claim(self, kinds: list[str]) -> list[OutboxMessage]:
        async with UnitOfWork(self.database) as uow:
            claimed = await uow.outbox.claim(self.worker_id, self.clock(), self.lease, kinds=kinds)
            await uow.commit()
        return claimed

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run_forever`: a prompt, clean shutdown that
        never leaves a message half-sent by cancelling it mid-request."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self, interval: float = 1.0) -> None:
        try:
            await self._run_forever(interval)
        finally:  # stopping (or crashing) hands unfinished claims back at once
            try:
                await self.release_held()
            except Exception:  # the lease still ends; nothing is lost
                log.warning("outbox worker: could not release %d claim(s) on stop", len(self._held))

    async def _run_forever(self, interval: float) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await self.run_once():
                    pass
            except Exception:  # a database hiccup must not stop deliveries for good
                log.exception("outbox worker: delivery round failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def _deliver(self, row: OutboxMessage) -> None:
        kind = OutboxKind(row.kind)
        notifier = self._notifier_for(kind)
        assert notifier is not None  # only claimable kinds were claimed
        envelope = Envelope(row.id, kind, row.key, dict(row.payload), row.attempts, dict(row.delivered_to or {}))
        try:
            delivered_to = await notifier.deliver(envelope)
        except RetryLater as problem:
            await uninterrupted(self._reschedule(row.id, str(problem), problem.after))
        except Exception as problem:  # noqa: BLE001 — any failure is retried, never dropped
            log.warning("outbox: delivering %s via %s failed: %r", row.key, notifier.name, problem)
            await uninterrupted(self._reschedule(row.id, repr(problem), None))
        else:
            await uninterrupted(self._mark_sent(row.id, notifier.name, delivered_to))

    async def _mark_sent(self, message_id: int, notifier: str, delivered_to: dict) -> None:
        async with UnitOfWork(self.database) as uow:
            message = await uow.outbox.get(message_id)
            assert message is not None
            message.sent_at = self.clock()
            message.attempts += 1
            message.claimed_until = None
            message.last_error = None
            message.delivered_to = {**(message.delivered_to or {}), notifier: delivered_to}
            await uow.commit()

    async def _reschedule(self, message_id: int, error: str, after: float | None) -> None:
        async with UnitOfWork(self.database) as uow:
            message = await uow.outbox.get(message_id)
            assert message is not None
            message.attempts += 1
            wait = after if after is not None else backoff(message.attempts)
            message.next_attempt_at = self.clock() + timedelta(seconds=wait)
            message.claimed_until = None
            message.last_error = error[:2000]
            await uow.commit()
