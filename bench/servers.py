"""Databases to measure on: a fresh SQLite file or a fresh database on a throwaway PostgreSQL.

The PostgreSQL server is the one the test suite starts (`tests/postgres_server.py`), from the
installed binaries, on 127.0.0.1; each measurement gets its own database so none sees another's rows.
"""

from __future__ import annotations

import itertools
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import asyncpg

from referbot.store import Database
from tests.postgres_server import PostgresServer

BACKENDS = ("sqlite", "postgresql")
_names = itertools.count()


class Databases:
    """Hands out fresh migrated databases; starts PostgreSQL on first use and stops it at close."""

    def __init__(self) -> None:
        self._postgres: PostgresServer | None = None
        self._directory = Path(tempfile.mkdtemp(prefix="referbot-bench-"))

    def _server(self) -> PostgresServer:
        if self._postgres is None:
            self._postgres = PostgresServer.start()
        return self._postgres

    async def fresh_url(self, backend: str) -> str:
        name = f"bench_{next(_names)}"
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{self._directory / name}.db"
        server = self._server()
        connection = await asyncpg.connect(host="127.0.0.1", port=server.port, user="referbot", database="postgres")
        try:
            await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()
        return server.url(name)

    @asynccontextmanager
    async def fresh(self, backend: str, **pool: float) -> AsyncIterator[Database]:
        """A migrated, empty database on `backend` (pool options as `Database` takes them)."""
        database = Database(await self.fresh_url(backend), **pool)  # type: ignore[arg-type]
        try:
            await database.upgrade()
            yield database
        finally:
            await database.dispose()

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.stop()
