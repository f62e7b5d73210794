"""Repositories: the only place that knows how domain questions become SQL.

Each takes the unit of work's session; none commits. The service layer decides what belongs to
one transaction.
"""

from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import Update, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import OutboxKind, ReferralStatus, SourceType, TouchpointKind, funnel_stage
from referbot.store.models import (ENDED_ANCHOR, SETTLED_THROUGH, OutboxMessage, ProcessedEvent, Referral,
                                   ReferralEvent, Source, SourceAlias, SourceIdentity, Touchpoint, UTCDateTime)
from referbot.store.tallies import Counted, count_referred_back, recount
from referbot.store.upserts import insert_for

#: The source's column keeping its latest touchpoint of a kind the nudger or the stats ask about.
LAST_TOUCH_OF_KIND = {TouchpointKind.THANKED: Source.last_thanked_at,
                      TouchpointKind.REFERRED_BACK: Source.last_referred_back_at,
                      TouchpointKind.UPDATE_SENT: Source.last_update_sent_at}


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, model: Any) -> Any:
        return insert_for(self.session, model)


class ProcessedEvents(_Repository):
    async def record_first(self, channel: str, event_id: str, now: datetime) -> bool:
        """Record a delivery id; False if it was recorded before (a redelivery): `INSERT … ON
        CONFLICT DO NOTHING RETURNING`."""
        inserted = await self.session.execute(
            self._insert(ProcessedEvent).values(channel=channel, event_id=event_id, at=now)
            .on_conflict_do_nothing(index_elements=["channel", "event_id"]).returning(ProcessedEvent.at))
        return inserted.first() is not None

    async def forget_before(self, cutoff: datetime) -> None:
        await self.session.execute(ProcessedEvent.__table__.delete().where(ProcessedEvent.at < cutoff))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "source"


class Sources(_Repository):
    async def by_identity(self, channel: str, user_id: str) -> Source | None:
        query = (select(Source).join(SourceIdentity)
                 .where(SourceIdentity.channel == channel, SourceIdentity.user_id == user_id))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_code(self, code: str) -> Source | None:
        """The source with this tracking code, or that took over a merged source's code."""
        alias = select(SourceAlias.source_id).where(SourceAlias.code == code).scalar_subquery()
        query = select(Source).where(or_(Source.code == code, Source.id == alias))
        return (await self.session.execute(query)).scalars().first()

    async def by_name(self, name: str) -> Source | None:
        """A source by exact name (case-insensitive), else by a name it had before a rename or merge.
        Looser lookups ("Dr Sam Ortiz", "Dr. Raman") are `referbot.sources.find_source`'s."""
        wanted = name.strip().lower()
        found = (await self.session.execute(select(Source).where(func.lower(Source.name) == wanted)
                                            .order_by(Source.id))).scalars().first()
        if found is not None:
            return found
        alias = select(SourceAlias.source_id).where(func.lower(SourceAlias.name) == wanted)
        return (await self.session.execute(select(Source).where(Source.id.in_(alias)))).scalars().first()

    async def get(self, source_id: int) -> Source | None:
        return await self.session.get(Source, source_id)

    async def list(self) -> Sequence[Source]:
        return (await self.session.execute(select(Source).order_by(Source.name))).scalars().all()

    async def create(self, *, name: str, type: SourceType, now: datetime, organisation: str | None = None,
                     contact: str | None = None, tier: str | None = None) -> Source:
        source = Source(name=name, type=type.value, organisation=organisation, contact=contact, tier=tier,
                        code=f"{_slug(name)}-{secrets.token_hex(3)}", created_at=now)
        self.session.add(source)
        await self.session.flush()
        return source

    async def link_identity(self, source: Source, channel: str, user_id: str) -> None:
        """This chat identity belongs to `source` from now on (moved from another source if it had
        one): a single upsert on the identity's unique (channel, user)."""
        await self.session.execute(
            self._insert(SourceIdentity).values(source_id=source.id, channel=channel, user_id=user_id)
            .on_conflict_do_update(index_elements=["channel", "user_id"], set_={"source_id": source.id}))

    async def raise_activity(self, source_id: int, at: datetime, *columns: Any) -> None:
        """Move the source's activity `columns` (see `Source.last_touch_at`) up to `at`, never down."""
        await self.session.execute(_activity_update(tuple(column.key for column in columns), reopened=False),
                                   {"source_id": source_id, "at": at})

    async def referral_changed(self, source_id: int, arrived: datetime, *, new: bool = False) -> None:
        """A referral of the source, arrived at `arrived`, is `new`, changed, or lost its nudges: its
        nudges may be due again, so the instants up to which the source's referrals are settled go
        back to before it (the nudger looks at it again) and the change is counted (a tick that read
        the source before it writes nothing). A new one raises the source's latest referral too."""
        raised = (Source.last_referral_at.key,) if new else ()
        await self.session.execute(_activity_update(raised, reopened=True),
                                   {"source_id": source_id, "at": arrived,
                                    "before": arrived - timedelta(microseconds=1)})

    async def forget_ended(self, source_id: int) -> None:
        """The source's periodic nudges were erased: what the nudger remembers of those that ended
        no longer holds (they may come back), and a tick that read them before writes nothing."""
        await self._update(source_id, {**{column: None for column in ENDED_ANCHOR.values()},
                                       Source.story_revision: Source.story_revision + 1})

    async def recompute_activity(self, source_ids: Sequence[int]) -> None:
        """Set the activity columns of these sources from their history, and have the nudger look at
        all their referrals again: after referrals or touchpoints moved between sources, the latest
        activity of one may be older than its column says, and the other has referrals it never saw.

        The rows are locked first (in id order, so two moves never wait on each other in a circle),
        so the history is read after every writer that already raised them has committed; a writer
        that raises them later waits for this transaction and raises on top of it."""
        await self.session.flush()
        ids = sorted(set(source_ids))
        await self.session.execute(select(Source.id).where(Source.id.in_(ids)).order_by(Source.id).with_for_update())
        latest_touch = select(func.max(Touchpoint.at)).where(Touchpoint.source_id == Source.id)
        values: dict[Any, Any] = {
            Source.last_touch_at: latest_touch.scalar_subquery(),
            Source.last_referral_at: select(func.max(Referral.created_at)).where(Referral.source_id == Source.id)
            .scalar_subquery(),
            **{column: latest_touch.where(Touchpoint.kind == kind.value).scalar_subquery()
               for kind, column in LAST_TOUCH_OF_KIND.items()},
            **{column: None for column in SETTLED_THROUGH.values()},
            Source.story_revision: Source.story_revision + 1}
        await self.session.execute(update(Source).where(Source.id.in_(ids)).values(values)
                                   .execution_options(synchronize_session=False))

    async def _update(self, source_id: int, values: dict[Any, Any]) -> None:
        """One UPDATE of the source's row, comparing in SQL under its row lock, so concurrent writers
        of the same source end with the latest instants whatever order they commit in. The ORM
        object is not refreshed: nothing reads these columns through it."""
        await self.session.execute(update(Source).where(Source.id == source_id).values(values)
                                   .execution_options(synchronize_session=False))


@functools.cache
def _activity_update(raised: tuple[str, ...], *, reopened: bool) -> Update:
    """One UPDATE of the source :source_id, comparing in SQL under its row lock (see `_update`): the
    `raised` columns move up to :at, never down (a back-dated contact leaves a later one standing);
    when `reopened`, the instants up to which its referrals are settled move back to :before if
    they had reached :at, and the change is counted. Every turn that stores a referral runs two of
    these, so each shape is built once: building it cost more time than running it."""
    sources = Source.__table__
    at, before = bindparam("at", type_=UTCDateTime()), bindparam("before", type_=UTCDateTime())
    values: dict[Any, Any] = {sources.c[name]: case((or_(sources.c[name].is_(None), sources.c[name] < at), at),
                                                    else_=sources.c[name]) for name in raised}
    if reopened:
        values.update({sources.c[column.key]: case((sources.c[column.key] >= at, before), else_=sources.c[column.key])
                       for column in SETTLED_THROUGH.values()})
        values[sources.c.story_revision] = sources.c.story_revision + 1
    return update(sources).where(sources.c.id == bindparam("source_id")).values(values)


class Referrals(_Repository):
    async def get(self, referral_id: int) -> Referral | None:
        return await self.session.get(Referral, referral_id)

    async def list(self, *, status: ReferralStatus | None = None, limit: int = 100) -> Sequence[Referral]:
        query = select(Referral).order_by(Referral.created_at.desc(), Referral.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Referral.status == status.value)
        return (await self.session.execute(query)).scalars().all()

    async def add(self, referral: Referral, *, by: str) -> Referral:
        """Store a new referral with its first event, and tell its source (`Sources.referral_changed`)."""
        referral.reached = funnel_stage(referral.status or ReferralStatus.NEW.value)
        self.session.add(referral)
        await self.session.flush()
        self.session.add(ReferralEvent(referral_id=referral.id, status=referral.status, by=by,
                                       at=referral.created_at))
        await recount(self.session, None, Counted.of(referral))
        if referral.source_id is not None:
            await Sources(self.session).referral_changed(referral.source_id, referral.created_at, new=True)
        return referral


class Touchpoints(_Repository):
    async def add(self, source: Source, kind: TouchpointKind, *, at: datetime, note: str | None = None,
                  referral_id: int | None = None, by: str | None = None) -> Touchpoint:
        """Store a contact with a source, and raise the source's latest contact (of this kind)."""
        touchpoint = Touchpoint(source_id=source.id, kind=kind.value, note=note, referral_id=referral_id,
                                by=by, at=at)
        self.session.add(touchpoint)
        await self.session.flush()
        if kind is TouchpointKind.REFERRED_BACK:
            await count_referred_back(self.session, source.id)
        of_kind = [LAST_TOUCH_OF_KIND[kind]] if kind in LAST_TOUCH_OF_KIND else []
        await Sources(self.session).raise_activity(source.id, at, Source.last_touch_at, *of_kind)
        return touchpoint

    async def for_source(self, source_id: int) -> Sequence[Touchpoint]:
        query = select(Touchpoint).where(Touchpoint.source_id == source_id).order_by(Touchpoint.at.desc())
        return (await self.session.execute(query)).scalars().all()


class Outbox(_Repository):
    async def enqueue(self, kind: OutboxKind, key: str, payload: dict[str, Any], now: datetime) -> None:
        """Add a message unless one with the same key exists: enqueuing the same fact twice is harmless.
        One `INSERT … ON CONFLICT (key) DO NOTHING`, so a concurrent enqueue of the same key in
        another transaction waits for it instead of failing the turn on the unique key."""
        await self.session.execute(
            self._insert(OutboxMessage).values(key=key, kind=kind.value, payload=payload, next_attempt_at=now,
                                               created_at=now, delivered_to={})
            .on_conflict_do_nothing(index_elements=["key"]))

    async def claim(self, worker: str, now: datetime, lease: timedelta, *, kinds: Sequence[str],
                    limit: int = 10) -> list[OutboxMessage]:
        """Atomically take up to `limit` due rows for `worker` until `now + lease`.

        One UPDATE … RETURNING over the due rows, so two workers (or two processes) can never claim
        the same row; a worker that dies mid-send loses its lease and the row comes back.
        """
        claimed = await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(self._claimable(now, kinds, limit)))
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(OutboxMessage.id))
        claimed_ids = list(claimed.scalars())
        if not claimed_ids:
            return []
        rows = await self.session.execute(
            select(OutboxMessage).where(OutboxMessage.id.in_(claimed_ids)).order_by(OutboxMessage.id)
            .execution_options(populate_existing=True))
        return list(rows.scalars())

    async def renew(self, message_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        """Extend `worker`'s claim on one row to `now + lease` just before it is sent; False when the
        row was sent or claimed by another worker meanwhile (this worker's lease on it ran out while
        earlier rows of its batch were being sent), so it must not be sent again."""
        renewed = await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker,
                                        OutboxMessage.sent_at.is_(None))
            .values(claimed_until=now + lease).returning(OutboxMessage.id))
        return renewed.scalar_one_or_none() is not None

    async def release(self, ids: Sequence[int], worker: str) -> None:
        """Give back rows `worker` claimed but did not finish, so they are retried now, not after the
        lease. Each counts as an attempt: it may have been delivered, so the notifier checks first."""
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)), OutboxMessage.claimed_by == worker,
                                        OutboxMessage.sent_at.is_(None))
            .values(claimed_until=None, attempts=OutboxMessage.attempts + 1))

    @staticmethod
    def _claimable(now: datetime, kinds: Sequence[str], limit: int) -> Any:
        """The ids of due, unsent, unleased rows, oldest first. On PostgreSQL the rows are locked
        with SKIP LOCKED, so concurrent workers take different rows instead of queueing on the same
        ones; SQLite ignores the clause and serialises claims on its write lock."""
        return (select(OutboxMessage.id)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now,
                       OutboxMessage.kind.in_(kinds),
                       or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
                .with_for_update(skip_locked=True).scalar_subquery())

    async def pending(self) -> Sequence[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)
        return (await self.session.execute(query)).scalars().all()

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def by_key(self, key: str) -> OutboxMessage | None:
        return (await self.session.execute(select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one_or_none()
