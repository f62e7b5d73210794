"""Persistence: SQLAlchemy models, repositories and the unit of work, over SQLite or PostgreSQL."""

from referbot.store.database import Database, DatabaseError
from referbot.store.unit_of_work import UnitOfWork, uninterrupted

__all__ = ["Database", "DatabaseError", "UnitOfWork", "uninterrupted"]
