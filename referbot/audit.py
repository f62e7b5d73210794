"""The audit log: who looked at, exported, changed, erased or re-keyed client data, when and how.

A practice must be able to answer "who saw this client's details?". Every surface that shows full
details, exports, changes a status, erases or rotates keys calls `record` in the same unit of work
as what it did, so an action and its trace commit together. Entries name records (`referral:17`),
never their contents, and are kept when the data itself is erased.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import select

from referbot.store import Database, UnitOfWork
from referbot.store.models import AuditEntry


class AuditAction(str, enum.Enum):
    VIEW = "view"
    EXPORT = "export"
    STATUS_CHANGE = "status_change"
    CORRECTION = "correction"
    ERASE = "erase"
    ROTATE_KEYS = "rotate_keys"


def record(uow: UnitOfWork, actor: str, action: AuditAction, target: str, channel: str,
           now: datetime | None = None) -> None:
    """Add an entry to the unit of work; it is written when the caller commits."""
    uow.session.add(AuditEntry(at=now or datetime.now(timezone.utc), actor=actor[:128], action=action.value,
                               target=target[:128], channel=channel[:32]))


async def recorded(database: Database, action: AuditAction, actor: str, target: str, channel: str,
                   now: datetime | None = None) -> None:
    """Record one entry in its own transaction (for views and exports, which change nothing else)."""
    async with UnitOfWork(database) as uow:
        record(uow, actor, action, target, channel, now)
        await uow.commit()


async def entries(database: Database, *, since: datetime | None = None) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    async with database.sessions() as session:
        return (await session.execute(query)).scalars().all()


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action, "target": entry.target,
            "channel": entry.channel}
