"""The unit of work: one transaction, with every repository bound to it.

`async with db_uow(database) as uow: ...; await uow.commit()` — anything not committed is rolled
back on exit, so a failure halfway through a turn leaves no half-saved referral behind.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Awaitable, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.errors import StorageError
from referbot.store.conversations import Conversations
from referbot.store.database import Database
from referbot.store.repositories import Outbox, ProcessedEvents, Referrals, Sources, Touchpoints

T = TypeVar("T")


class CommitInDoubt(StorageError):
    """The connection was lost while committing: unlike a failure before the commit, whether the
    transaction was committed is unknown, so the work must not simply be done again."""


class UnitOfWork:
    session: AsyncSession

    def __init__(self, database: Database) -> None:
        self.database = database

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self.database.sessions()
        self.events = ProcessedEvents(self.session)
        self.conversations = Conversations(self.session)
        self.sources = Sources(self.session)
        self.referrals = Referrals(self.session)
        self.touchpoints = Touchpoints(self.session)
        self.outbox = Outbox(self.session)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.session.close()  # rolls back anything uncommitted; loaded objects stay readable

    async def commit(self) -> None:
        """Commit; CommitInDoubt if the connection was lost meanwhile (the server may have committed)."""
        try:
            await self.session.commit()
        except DBAPIError as error:
            if error.connection_invalidated:
                raise CommitInDoubt("The database connection was lost while committing; the change may or may "
                                    "not have been saved.") from error
            raise


async def uninterrupted(work: Awaitable[T]) -> T:
    """Await `work` to its end even if the caller is cancelled meanwhile, then pass the cancellation on.

    Background loops wrap each database round in this. A transaction cancelled halfway (on shutdown,
    or when a test stops a loop) can leave SQLite's write lock held by a connection nobody closes any
    more, and every later transaction then fails with "database is locked".
    """
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result
