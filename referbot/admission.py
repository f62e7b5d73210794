"""Admission control: how many turns run at once, in what order, and what a referrer sees meanwhile.

Without it a burst (a thousand referrers at once) asks the connection pool for a thousand
connections; the pool hands each freed connection to whoever asks first, so some turns lose
again and again until the pool's timeout fails them. Here a turn first waits its user's turn
(one user's messages run in the order they arrived), then for one of `limit` slots, and only
then touches the database — so the pool is never asked for more than it has.

A turn that has waited `patience` seconds without a slot is not abandoned: it keeps its place
and runs later, and its caller is told so at once (the referrer reads "one moment") and gets
the real answer through `late` when the turn has run. Nothing the referrer sent is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Receives the result of a turn that outlived its caller's patience.
Late = Callable[[T], Awaitable[None]]


@dataclass(frozen=True)
class Deferred:
    """The turn is queued and will answer through `late`; the caller shows a holding reply."""


DEFERRED = Deferred()


class _UserLine:
    """One user's queue: a FIFO lock and how many turns are in it (to drop it when empty)."""

    __slots__ = ("lock", "waiting")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.waiting = 0


class Admission(Generic[T]):
    """Bounded in-flight turns per process, one queue per user in front of a shared set of slots."""

    def __init__(self, limit: int, patience: float | None) -> None:
        if limit < 1:
            raise ValueError("at least one turn must be allowed in flight")
        self.limit = limit
        self.patience = patience
        self._slots = asyncio.Semaphore(limit)
        self._lines: dict[Hashable, _UserLine] = {}
        self._late_tasks: set[asyncio.Task[None]] = set()

    @property
    def queued_users(self) -> int:
        """Users with a turn running or waiting (their queues are dropped once empty)."""
        return len(self._lines)

    async def run(self, user: Hashable, turn: Callable[[], Awaitable[T]],
                  late: Late[T] | None = None) -> T | Deferred:
        """Run `turn` in `user`'s order within the in-flight limit.

        With `late` and a patience, a turn still waiting after `patience` seconds returns
        DEFERRED and finishes in the background, handing its result to `late`.
        """
        queued = asyncio.ensure_future(self._in_line(user, turn))
        if late is None or self.patience is None:
            return await queued
        done, _ = await asyncio.wait({queued}, timeout=self.patience)
        if done:
            return queued.result()
        task = asyncio.ensure_future(self._answer_late(queued, late))
        self._late_tasks.add(task)
        task.add_done_callback(self._late_tasks.discard)
        return DEFERRED

    async def _in_line(self, user: Hashable, turn: Callable[[], Awaitable[T]]) -> T:
        line = self._lines.get(user)
        if line is None:
            line = self._lines[user] = _UserLine()
        line.waiting += 1
        try:
            async with line.lock, self._slots:
                return await turn()
        finally:
            line.waiting -= 1
            if line.waiting == 0:
                del self._lines[user]

    @staticmethod
    async def _answer_late(queued: Awaitable[T], late: Late[T]) -> None:
        try:
            await late(await queued)
        except Exception:  # the turn's own failure was already rolled back; log, never crash the loop
            log.exception("a queued turn or its late answer failed")

    async def drain(self) -> None:
        """Wait for deferred turns to finish and be answered (on shutdown, and in tests)."""
        while self._late_tasks:
            await asyncio.gather(*self._late_tasks, return_exceptions=True)
