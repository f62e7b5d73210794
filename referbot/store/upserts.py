"""An INSERT that can say `ON CONFLICT`, in the dialect of the database a session is bound to.

PostgreSQL and SQLite both have `INSERT … ON CONFLICT`, but SQLAlchemy builds it per dialect; every
upsert and insert-if-absent of the store goes through `insert_for`, so none chooses the dialect itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, target: Any) -> Any:
    """An INSERT into `target` (a model or a table) for the session's database: one round trip where
    a SELECT first and an INSERT after would take two."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    return insert(target)
