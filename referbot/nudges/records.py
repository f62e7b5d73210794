"""The nudger's queries: the facts the rules read, and the nudge rows with their claims.

Materialising is `INSERT … ON CONFLICT (key) DO NOTHING` and handing a nudge to the outbox is an
atomic `UPDATE … WHERE notified_at IS NULL RETURNING id`, so any number of schedulers — threads,
processes, a restarted one — agree on which nudge exists and who sends it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import NudgeState, ReferralStatus, TouchpointKind
from referbot.nudges.rules import CLOSING_STATUSES, Candidate, PracticeFacts, ReferralFacts, SourceFacts, TouchFacts
from referbot.store.models import NudgeRecord, Referral, ReferralEvent, Source, Touchpoint


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
        """Materialise candidates that have no row yet; a row another scheduler just wrote wins."""
        keys = [c.key for c in found]
        existing = set((await self.session.execute(select(NudgeRecord.key).where(NudgeRecord.key.in_(keys)))).scalars())
        rows = [{"key": c.key, "kind": c.kind.value, "source_id": c.source_id, "referral_id": c.referral_id,
                 "due_at": c.due_at, "state": NudgeState.PENDING.value, "snoozes": 0, "text": "", "draft": "",
                 "created_at": now} for c in found if c.key not in existing]
        if rows:
            insert = pg_insert if self.session.bind.dialect.name == "postgresql" else sqlite_insert
            await self.session.execute(insert(NudgeRecord).values(rows).on_conflict_do_nothing(index_elements=["key"]))

    async def live(self, keys: Sequence[str], horizon: datetime) -> list[NudgeRecord]:
        """Rows of these keys that are waiting: pending, or snoozed until no later than `horizon`."""
        waiting = or_(NudgeRecord.state == NudgeState.PENDING.value,
                      and_(NudgeRecord.state == NudgeState.SNOOZED.value, NudgeRecord.snoozed_until <= horizon))
        query = (select(NudgeRecord).where(NudgeRecord.key.in_(keys), waiting)
                 .order_by(NudgeRecord.due_at, NudgeRecord.id))
        return list((await self.session.execute(query)).scalars())

    async def claim(self, ids: Sequence[int], now: datetime) -> set[int]:
        """Mark these nudges handed to the outbox; returns the ones this caller won."""
        if not ids:
            return set()
        claimed = await self.session.execute(
            update(NudgeRecord).where(NudgeRecord.id.in_(ids), NudgeRecord.notified_at.is_(None))
            .values(notified_at=now).returning(NudgeRecord.id))
        return set(claimed.scalars())

    async def get_for_update(self, nudge_id: int) -> NudgeRecord | None:
        query = select(NudgeRecord).where(NudgeRecord.id == nudge_id).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()


def _referral_facts(referral_id: int, source_id: int | None, created_at: datetime, status: str,
                    consent_to_contact: bool, consent_to_update: bool, client_name: str | None, issues: list[Any],
                    *, outcomes: dict[int, datetime]) -> ReferralFacts:
    closing = ReferralStatus(status) in CLOSING_STATUSES
    return ReferralFacts(
        id=referral_id, source_id=source_id, created_at=created_at, status=ReferralStatus(status),
        consent_to_contact=consent_to_contact, consent_to_update=consent_to_update,
        outcome_at=outcomes.get(referral_id) if closing else None, client_name=client_name,
        issues=tuple(str(i.get("id")) for i in issues or () if isinstance(i, dict)))
