"""A database server that drops its connections (a restart, a failover, an idle timeout) costs no
turn: pooled connections are not pinged before every turn, so the first statement on a dropped
one fails, and the turn runs again on a fresh connection before anything of it was committed."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import ConversationStatus, Inbound
from referbot.engine import load_flow
from referbot.service import IntakeService
from referbot.store import Database, UnitOfWork
from referbot.store.unit_of_work import CommitInDoubt
from tests.fakes import KeywordAssessor


async def _drop_connections(database: Database) -> int:
    """What a server restart does to the pool: every other connection to the database is ended."""
    url = make_url(database.url)
    admin = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    try:
        return await admin.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await admin.close()


async def test_turns_after_the_server_dropped_every_connection_all_succeed(database_url: str, profile, clock) -> None:
    database = Database(database_url, pool_size=3)
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    try:
        users = [f"u{i}" for i in range(3)]
        for user in users:  # three pooled connections, each used
            await service.handle(Inbound("console", user))
        if not database.is_sqlite:
            assert await _drop_connections(database) >= 1
        for user in users:
            outcome = await service.handle(Inbound("console", user, text="Dr. Ann Lee"))
            assert outcome.state is ConversationStatus.ASKING and outcome.step == "referrer_role"
        async with UnitOfWork(database) as uow:
            for user in users:
                conversation = await uow.conversations.get_for_update("console", user)
                assert conversation is not None and conversation.answers["referrer_name"] == "Dr. Ann Lee"
                assert conversation.version == 2  # each answer written exactly once
    finally:
        await database.dispose()


async def test_a_connection_lost_while_committing_is_not_retried(database, profile, clock, monkeypatch) -> None:
    """The server may have committed before the connection went: running the turn again could take
    the referrer's answer as the answer to the next question, so the turn fails instead (a channel
    redelivers it, and the delivery id then says whether it was done)."""
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    await service.handle(Inbound("console", "ann"))
    commits = []

    async def lost(_session: AsyncSession) -> None:
        commits.append(1)
        raise DBAPIError("COMMIT", None, ConnectionResetError("gone"), connection_invalidated=True)

    monkeypatch.setattr(AsyncSession, "commit", lost)
    with pytest.raises(CommitInDoubt):
        await service.handle(Inbound("console", "ann", text="Dr. Ann Lee", event_id="e1"))
    assert len(commits) == 1
