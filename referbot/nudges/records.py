"""The nudger's queries: the facts the rules read, and the nudge rows with their claims.

Materialising is `INSERT … ON CONFLICT (key) DO NOTHING` and handing a nudge to the outbox is an
atomic `UPDATE … WHERE notified_at IS NULL RETURNING id`, so any number of schedulers — threads,
processes, a restarted one — agree on which nudge exists and who sends it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Collection, Iterator, Sequence, TypeVar

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import NudgeState, ReferralStatus, TouchpointKind
from referbot.nudges.rules import CLOSING_STATUSES, Candidate, PracticeFacts, ReferralFacts, SourceFacts, TouchFacts
from referbot.store.models import NudgeRecord, Referral, ReferralEvent, Source, Touchpoint

T = TypeVar("T")


class NudgeRecords:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def facts(self) -> PracticeFacts:
        """Every source with its referrals and touchpoints, in four queries (a practice is small)."""
        outcomes = await self._outcome_times()
        columns = (Referral.id, Referral.source_id, Referral.created_at, Referral.status, Referral.consent_to_contact,
                   Referral.consent_to_update, Referral.client_name, Referral.issues)
        referrals = tuple(_referral_facts(*row, outcomes=outcomes) for row in await self.session.execute(
            select(*columns).order_by(Referral.created_at, Referral.id)))
        by_source: dict[int, list[ReferralFacts]] = defaultdict(list)
        for referral in referrals:
            if referral.source_id is not None:
                by_source[referral.source_id].append(referral)
        touches: dict[int, list[TouchFacts]] = defaultdict(list)
        for touch in (await self.session.execute(select(Touchpoint).order_by(Touchpoint.at, Touchpoint.id))).scalars():
            touches[touch.source_id].append(TouchFacts(TouchpointKind(touch.kind), touch.at, touch.note, touch.referral_id))
        sources = {s.id: SourceFacts(s.id, s.name, s.type, s.created_at, s.tier, tuple(by_source[s.id]),
                                     tuple(touches[s.id]))
                   for s in (await self.session.execute(select(Source))).scalars()}
        return PracticeFacts(sources, referrals)

    async def _outcome_times(self) -> dict[int, datetime]:
        """When each referral first reached a closing status."""
        closing = [s.value for s in CLOSING_STATUSES]
        rows = await self.session.execute(select(ReferralEvent.referral_id, func.min(ReferralEvent.at))
                                          .where(ReferralEvent.status.in_(closing)).group_by(ReferralEvent.referral_id))
        return {referral_id: at for referral_id, at in rows}

    async def add_missing(self, found: Sequence[Candidate], now: datetime) -> None:
        """Materialise candidates that have no row yet; a row another scheduler just wrote wins.

        Existing keys are read whole and new rows inserted in batches, so no statement carries a
        parameter list that grows with history (PostgreSQL refuses more than 32,767 arguments)."""
        existing = set((await self.session.execute(select(NudgeRecord.key))).scalars())
        rows = [{"key": c.key, "kind": c.kind.value, "source_id": c.source_id, "referral_id": c.referral_id,
                 "due_at": c.due_at, "state": NudgeState.PENDING.value, "snoozes": 0, "text": "", "draft": "",
                 "created_at": now} for c in found if c.key not in existing]
        insert = pg_insert if self.session.bind.dialect.name == "postgresql" else sqlite_insert
        for batch in _batches(rows):
            await self.session.execute(insert(NudgeRecord).values(batch).on_conflict_do_nothing(index_elements=["key"]))

    async def live(self, keys: Collection[str], horizon: datetime) -> list[NudgeRecord]:
        """Rows of these keys that are waiting: pending, or snoozed until no later than `horizon`.
        The waiting rows come from their index; the keys (whose facts still hold) filter them here."""
        waiting = or_(NudgeRecord.state == NudgeState.PENDING.value,
                      and_(NudgeRecord.state == NudgeState.SNOOZED.value, NudgeRecord.snoozed_until <= horizon))
        query = select(NudgeRecord).where(waiting).order_by(NudgeRecord.due_at, NudgeRecord.id)
        return [row for row in (await self.session.execute(query)).scalars() if row.key in keys]

    async def claim(self, ids: Sequence[int], now: datetime) -> set[int]:
        """Mark these nudges handed to the outbox; returns the ones this caller won. On PostgreSQL
        rows another scheduler holds are skipped (SKIP LOCKED) rather than waited for: it sends them."""
        won: set[int] = set()
        for batch in _batches(list(ids)):
            unsent = (select(NudgeRecord.id).where(NudgeRecord.id.in_(batch), NudgeRecord.notified_at.is_(None))
                      .with_for_update(skip_locked=True).scalar_subquery())
            claimed = await self.session.execute(
                update(NudgeRecord).where(NudgeRecord.id.in_(unsent), NudgeRecord.notified_at.is_(None))
                .values(notified_at=now).returning(NudgeRecord.id))
            won.update(claimed.scalars())
        return won

    async def get_for_update(self, nudge_id: int) -> NudgeRecord | None:
        query = select(NudgeRecord).where(NudgeRecord.id == nudge_id).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()


#: Rows (or ids) per statement: 11 columns x 2,000 rows stays far below PostgreSQL's 32,767 arguments.
BATCH = 2000


def _batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


def _referral_facts(referral_id: int, source_id: int | None, created_at: datetime, status: str,
                    consent_to_contact: bool, consent_to_update: bool, client_name: str | None, issues: list[Any],
                    *, outcomes: dict[int, datetime]) -> ReferralFacts:
    closing = ReferralStatus(status) in CLOSING_STATUSES
    return ReferralFacts(
        id=referral_id, source_id=source_id, created_at=created_at, status=ReferralStatus(status),
        consent_to_contact=consent_to_contact, consent_to_update=consent_to_update,
        outcome_at=outcomes.get(referral_id) if closing else None, client_name=client_name,
        issues=tuple(str(i.get("id")) for i in issues or () if isinstance(i, dict)))
