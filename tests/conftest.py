"""Shared fixtures: databases on SQLite and on a real PostgreSQL, the example profile, a clock.

Every test that asks for `database_url` runs twice, once per backend, on a fresh migrated
database cloned from a template migrated once per session.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from referbot.profile import Profile, load_profile
from referbot.store import Database
from tests.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PROFILE = ROOT / "examples" / "practice.yaml"
_counter = itertools.count()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


def _migrate(url: str) -> None:
    async def upgrade() -> None:
        database = Database(url)
        try:
            await database.upgrade()
        finally:
            await database.dispose()

    asyncio.run(upgrade())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    pg_server_psql(pg_server, "CREATE DATABASE referbot_template")
    _migrate(pg_server.url("referbot_template"))
    return "referbot_template"


def pg_server_psql(server: PostgresServer, sql: str) -> None:
    psql = str(server.bindir / "psql")
    subprocess.run([psql, "-h", "127.0.0.1", "-p", str(server.port), "-U", "referbot", "-d", "postgres",
                    "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True, capture_output=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "referbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"test_{next(_counter)}"
    pg_server_psql(server, f"CREATE DATABASE {name} TEMPLATE {template}")
    return server.url(name)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def profile() -> Profile:
    return load_profile(EXAMPLE_PROFILE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
