"""Databases to measure on: a fresh SQLite file or a fresh database on a throwaway PostgreSQL.

The PostgreSQL server is the one the test suite starts (`tests/postgres_server.py`), from the
installed binaries, on 127.0.0.1; each measurement gets its own database so none sees another's rows.
Databases are encrypted as a practice runs them (`referbot run` refuses to store client details
without a key), with a cipher that adds up the time it spends, so encryption is priced per turn.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Callable

import asyncpg

from referbot.store import Database
from referbot.store.encryption import Cipher
from tests.postgres_server import PostgresServer

BACKENDS = ("sqlite", "postgresql")
_names = itertools.count()


@dataclass(frozen=True)
class TimedCipher(Cipher):
    """A practice's key that also adds up the seconds spent encrypting and decrypting."""

    spent: list[float] = field(default_factory=lambda: [0.0], compare=False)

    @classmethod
    def fresh(cls) -> "TimedCipher":
        return cls((Cipher.generate_key(),))

    @property
    def seconds(self) -> float:
        return self.spent[0]

    def encrypt(self, plaintext: str) -> str:
        return self._timed(super().encrypt, plaintext)

    def decrypt(self, stored: str) -> str:
        return self._timed(super().decrypt, stored)

    def _timed(self, work: Callable[[str], str], value: str) -> str:
        started = time.perf_counter()
        try:
            return work(value)
        finally:
            self.spent[0] += time.perf_counter() - started


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
    async def fresh(self, backend: str, *, encrypted: bool = True, **pool: float) -> AsyncIterator[Database]:
        """A migrated, empty database on `backend` (pool options as `Database` takes them), with a
        fresh `TimedCipher` as `database.cipher` unless `encrypted` is false."""
        cipher = TimedCipher.fresh() if encrypted else None
        database = Database(await self.fresh_url(backend), cipher, **pool)  # type: ignore[arg-type]
        try:
            await database.upgrade()
            yield database
        finally:
            await database.dispose()

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.stop()
