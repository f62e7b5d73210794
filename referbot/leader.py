"""Leadership: which of several `referbot run` workers runs the periodic jobs (nudger, housekeeping, retention).

Several workers may share one database: each delivers the outbox (claims never overlap), answers
webhooks, and takes turns; but periodic jobs run on one of them, the leader, so a tick's work is
done once. On PostgreSQL the leader holds a session advisory lock on a dedicated connection: if
the process dies or its connection drops, PostgreSQL releases the lock and another worker takes it
at its next tick. On SQLite (one machine) an exclusive lock on a file beside the database does the
same; the kernel releases it when the process dies.

Leadership is re-checked at every tick (`holds()`), never assumed from the last one.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from referbot.store import Database, uninterrupted

log = logging.getLogger(__name__)

#: The advisory lock's key: any fixed 64-bit number other applications on the server do not use.
ADVISORY_KEY = 0x7265666572626F74  # "referbot"
_HOLDS_ADVISORY = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                       "AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :key")


class Leadership:
    """Asks, at every tick, whether this process is the leader, taking the lead when it is free."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._connection: AsyncConnection | None = None
        self._lock_file: int | None = None
        self._was_leader = False

    async def holds(self) -> bool:
        """True if this process leads now (acquiring leadership if nobody holds it). The check runs
        to its end even if the loop asking is cancelled meanwhile, like every background round."""
        return await uninterrupted(self._check())

    async def _check(self) -> bool:
        try:
            leading = await (self._holds_file() if self.database.is_sqlite else self._holds_advisory())
        except Exception as problem:  # noqa: BLE001 — a lost connection means lost leadership, not a crash
            log.warning("leadership check failed (%s); not leading until it succeeds", problem)
            await self._drop_connection()
            leading = False
        if leading != self._was_leader:
            log.info("this worker %s the periodic jobs", "now runs" if leading else "no longer runs")
            self._was_leader = leading
        return leading

    async def _holds_advisory(self) -> bool:
        if self._connection is not None:
            if (await self._connection.execute(_HOLDS_ADVISORY, {"key": ADVISORY_KEY})).scalar_one():
                return True
            await self._drop_connection()
        connection = await self.database.engine.connect()
        acquired = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})).scalar_one()
        await connection.commit()  # the session lock outlives the transaction; the connection stays open
        if acquired:
            self._connection = connection
        else:
            await connection.close()
        return bool(acquired)

    async def _holds_file(self) -> bool:
        if self._lock_file is not None:
            return True
        path = _lock_path(self.database.url)
        if path is None:  # an in-memory database belongs to this process alone
            return True
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._lock_file = descriptor
        return True

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()  # never back to the pool: its session may hold the lock
            except Exception:  # noqa: BLE001 — it is being thrown away
                pass

    async def release(self) -> None:
        """Step down (at shutdown), so another worker leads at its next tick."""
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT pg_advisory_unlock_all()"))
                await self._connection.close()
            except Exception:  # noqa: BLE001 — a dead connection has released the lock already
                self._connection = None
            self._connection = None
        if self._lock_file is not None:
            os.close(self._lock_file)  # closing the descriptor releases the flock
            self._lock_file = None
        self._was_leader = False


def _lock_path(url: str) -> Path | None:
    database: Any = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.leader")
