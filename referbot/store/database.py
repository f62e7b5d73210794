"""Connecting to the database and keeping its schema current.

SQLite is the zero-setup default, PostgreSQL the choice for scale; the differences that matter
(SQLite's write lock, time zones) are handled here once so the rest of the code ignores them.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from referbot.errors import StorageError

from referbot.store.encryption import Cipher, attach_cipher


class DatabaseError(StorageError):
    """The database cannot be used; the message says what to check."""


#: The async driver for each supported backend; a URL naming the backend alone gets this one.
DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
SUPPORTED = "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"
#: A pooled PostgreSQL connection older than this is replaced instead of reused.
POOL_RECYCLE_SECONDS = 300


def database_url(url: str) -> URL:
    """The URL with its async driver, or DatabaseError naming the supported kinds.

    `sqlite:///x.db` and `postgresql://…` (as pasted from a hosting panel) get the driver referbot
    ships; MySQL, another driver or a typo is one line saying what is supported, never an import error.
    """
    try:
        parsed = make_url(url)
    except Exception:
        raise DatabaseError(f"REFERBOT_DATABASE_URL {url!r} is not a database URL; use {SUPPORTED}") from None
    backend = "postgresql" if parsed.get_backend_name() == "postgres" else parsed.get_backend_name()
    if backend not in DRIVERS:
        raise DatabaseError(f"REFERBOT_DATABASE_URL: {backend!r} databases are not supported; use {SUPPORTED}")
    if "+" in parsed.drivername and parsed.get_driver_name() != DRIVERS[backend]:
        raise DatabaseError(f"REFERBOT_DATABASE_URL: driver {parsed.drivername!r} is not available; use {SUPPORTED}")
    return parsed.set(drivername=f"{backend}+{DRIVERS[backend]}")


def alembic_config(url: str) -> "Config":
    """Alembic configured from code, so migrations run from an installed package without an ini file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("referbot") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration this version of referbot ships: the highest numbered file in
    `migrations/versions`. Each file is named after its revision id (a test holds every file to it),
    so the head is known without importing alembic, which costs 10 MB and a tenth of a second at
    every start although the schema is almost always current already."""
    versions = resources.files("referbot") / "migrations" / "versions"
    return max(entry.name.split("_", 1)[0] for entry in versions.iterdir()
               if entry.name[:4].isdigit() and entry.name.endswith(".py"))


def prepare_sqlite(engine: AsyncEngine, *, foreign_keys: bool = True) -> None:
    """Make SQLite safe for several writers: WAL, and `BEGIN IMMEDIATE` so that a read-then-write
    transaction takes the write lock up front instead of failing halfway. The driver's own
    transaction handling is off, so DDL runs inside the transaction too: a migration killed halfway
    leaves nothing behind. Migrations run with `foreign_keys=False` (SQLite's own default), since
    rebuilding a referenced table would otherwise trip the checks."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only: it holds clients' mental-health details.
    SQLite gives its -wal and -shm files the same permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)


class Database:
    """One engine and session factory per process.

    The pool holds `pool_size` connections and opens up to `max_overflow` more under load; a
    caller waits at most `pool_timeout` seconds for one. Turns are admitted ahead of the pool
    (`referbot.admission`), so these bound background work and staff commands too.
    """

    def __init__(self, url: str, cipher: Cipher | None = None, *, pool_size: int = 5, max_overflow: int = 10,
                 pool_timeout: float = 30.0) -> None:
        parsed = database_url(url)
        self.url = parsed.render_as_string(hide_password=False)
        self.cipher = cipher
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        on_disk = not self.is_sqlite or bool(parsed.database and parsed.database != ":memory:")
        if self.is_sqlite and on_disk:
            _create_private(Path(parsed.database))
        self.pool_size = pool_size
        # An in-memory SQLite database lives in one connection, which SQLAlchemy pools statically.
        pool: dict[str, float] = (dict(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
                                  if on_disk else {})
        if not self.is_sqlite:
            # No ping before each checkout: on PostgreSQL it cost three round trips per turn
            # (BEGIN; SELECT 1; ROLLBACK), as many as the turn's own work. A connection the server
            # dropped (restart, failover) fails at its first statement instead; SQLAlchemy then
            # discards it with every pooled connection as old, and a turn runs again on a fresh one
            # (`IntakeService._handle_retrying`). Connections are renewed before idle timeouts of
            # servers and firewalls would end them.
            pool["pool_recycle"] = POOL_RECYCLE_SECONDS
        # hide_parameters: a database error must never write a client's answers into the log.
        self.engine = create_async_engine(parsed, hide_parameters=True, **pool)
        if self.is_sqlite:
            prepare_sqlite(self.engine)
        attach_cipher(self.engine, cipher)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    @property
    def where(self) -> str:
        """The database as a person would name it, without the password."""
        parsed = make_url(self.url)
        return (parsed.database or "") if self.is_sqlite else f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"

    @property
    def concurrent_writers(self) -> int:
        """How many write transactions usefully run at once: SQLite has one write lock (more
        writers only retry `BEGIN IMMEDIATE` and lengthen the tail); PostgreSQL one per pooled
        connection."""
        return 1 if self.is_sqlite else self.pool_size

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration; alembic is imported only when there is one to run.
        `revision` connects first, so an unreachable database is its one-line DatabaseError."""
        try:
            if await self.revision() == head_revision():
                return
            from alembic import command

            await asyncio.to_thread(command.upgrade, alembic_config(self.url), "head")
        except (OSError, DBAPIError) as problem:  # unreadable file, the server gone since `reach`
            reason = getattr(problem, "orig", None) or problem
            raise DatabaseError(f"Cannot reach the database ({type(reason).__name__}: {reason}). "
                                "Check REFERBOT_DATABASE_URL and that the server is running.") from problem

    async def reach(self) -> None:
        """Connect once; DatabaseError in one line (refused, wrong password, no such database) if not."""
        try:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except Exception as problem:  # noqa: BLE001 — every driver has its own error types
            reason = getattr(problem, "orig", None) or problem
            raise DatabaseError(f"cannot connect to the database {self.where}: {str(reason).strip() or type(reason).__name__}. "
                                "Check REFERBOT_DATABASE_URL.") from None

    async def revision(self) -> str | None:
        """The migration the database is at (None when it has no schema yet), read from the table
        alembic keeps it in."""
        await self.reach()
        async with self.engine.connect() as connection:
            if not await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
                return None
            return (await connection.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()

    async def ping(self) -> bool:
        try:
            await self.reach()
            return True
        except DatabaseError:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
