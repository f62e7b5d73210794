"""The nudger's queries: the facts the rules read, and the nudge rows with their claims.

Materialising is `INSERT … ON CONFLICT (key) DO NOTHING` and handing a nudge to the outbox is an
atomic `UPDATE … WHERE notified_at IS NULL RETURNING id`, so any number of schedulers — threads,
processes, a restarted one — agree on which nudge exists and who sends it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Collection, Sequence

from sqlalchemy import Row, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import NudgeState, ReferralStatus, TouchpointKind
from referbot.nudges.rules import CLOSING_STATUSES, Candidate, PracticeFacts, ReferralFacts, SourceFacts, TouchFacts
from referbot.nudges.scope import ENDED, Remember, Scope
from referbot.store.batches import batches
from referbot.store.models import ENDED_ANCHOR, NudgeRecord, Referral, ReferralEvent, Source, Touchpoint
from referbot.store.upserts import insert_for


class NudgeRecords:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def facts(self, scope: Scope | None = None) -> PracticeFacts:
        """Sources with their referrals and touchpoints, and the referrals: all of them, or only the
        sources of `scope` (each with its whole story) and its source-less referrals. A scope's ids
        go to the database in batches, so no statement grows with it."""
        columns = (Referral.id, Referral.source_id, Referral.created_at, Referral.status, Referral.consent_to_contact,
                   Referral.consent_to_update, Referral.client_name, Referral.issues)
        source_ids = None if scope is None else scope.sources
        rows = await self._rows(select(*columns), Referral.source_id, source_ids)
        if scope is not None:
            rows += await self._rows(select(*columns).where(Referral.source_id.is_(None)), Referral.id,
                                     scope.sourceless_referrals)
        rows.sort(key=lambda row: (row.created_at, row.id))
        outcomes = await self._outcome_times(None if scope is None else [row.id for row in rows])
        referrals = tuple(_referral_facts(*row, outcomes=outcomes) for row in rows)
        by_source: dict[int, list[ReferralFacts]] = defaultdict(list)
        for referral in referrals:
            if referral.source_id is not None:
                by_source[referral.source_id].append(referral)
        touches: dict[int, list[TouchFacts]] = defaultdict(list)
        touch_columns = (Touchpoint.source_id, Touchpoint.kind, Touchpoint.at, Touchpoint.note, Touchpoint.referral_id,
                         Touchpoint.id)
        for source_id, kind, at, note, referral_id, _ in sorted(
                await self._rows(select(*touch_columns), Touchpoint.source_id, source_ids), key=lambda t: (t.at, t.id)):
            touches[source_id].append(TouchFacts(TouchpointKind(kind), at, note, referral_id))
        source_columns = (Source.id, Source.name, Source.type, Source.created_at, Source.tier)
        sources = {sid: SourceFacts(sid, name, kind, created_at, tier, tuple(by_source[sid]), tuple(touches[sid]))
                   for sid, name, kind, created_at, tier in await self._rows(select(*source_columns), Source.id,
                                                                            source_ids)}
        return PracticeFacts(sources, referrals)

    async def _outcome_times(self, referral_ids: Sequence[int] | None) -> dict[int, datetime]:
        """When each referral (of `referral_ids`, or every one) first reached a closing status."""
        closing = [s.value for s in CLOSING_STATUSES]
        query = (select(ReferralEvent.referral_id, func.min(ReferralEvent.at))
                 .where(ReferralEvent.status.in_(closing)).group_by(ReferralEvent.referral_id))
        return {referral_id: at for referral_id, at in await self._rows(query, ReferralEvent.referral_id, referral_ids)}

    async def _rows(self, query: Select[Any], column: Any, ids: Sequence[int] | None) -> list[Row[Any]]:
        """`query`'s rows: all of them, or those whose `column` is one of `ids` (a statement per batch)."""
        if ids is None:
            return list(await self.session.execute(query))
        rows: list[Row[Any]] = []
        for batch in batches(ids):
            rows += await self.session.execute(query.where(column.in_(batch)))
        return rows

    async def add_missing(self, found: Sequence[Candidate], now: datetime) -> list[Remember]:
        """Materialise candidates that have no row yet; a row another scheduler just wrote wins.
        Returns, for the nudger to write, the anchors of the periodic ones whose row has ended where
        the source does not hold that anchor yet, so the scope leaves their sources out until the
        anchor moves (`referbot.nudges.scope`); each with the source's revision read before the
        rows, since an erasure may take them away.

        Existing rows are looked up and new rows inserted in batches, so no statement carries a
        parameter list that grows with history (PostgreSQL refuses more than 32,767 arguments)."""
        periodic = [c for c in found if c.anchor is not None and c.source_id is not None]
        held = {row.id: row for row in await self._rows(select(Source.id, Source.story_revision,
                                                               *ENDED_ANCHOR.values()),
                                                        Source.id, sorted({c.source_id for c in periodic}))}
        existing = await self.by_keys([c.key for c in found])
        rows = [{"key": c.key, "kind": c.kind.value, "source_id": c.source_id, "referral_id": c.referral_id,
                 "due_at": c.due_at, "state": NudgeState.PENDING.value, "snoozes": 0, "text": "", "draft": "",
                 "created_at": now} for c in found if c.key not in existing]
        for batch in batches(rows):
            await self.session.execute(insert_for(self.session, NudgeRecord).values(batch).on_conflict_do_nothing(index_elements=["key"]))
        return [Remember(ENDED_ANCHOR[c.kind], c.source_id, held[c.source_id].story_revision, c.anchor)
                for c in periodic if c.key in existing and existing[c.key].state in ENDED and c.source_id in held
                and getattr(held[c.source_id], ENDED_ANCHOR[c.kind].key) != c.anchor]

    async def by_keys(self, keys: Sequence[str]) -> dict[str, NudgeRecord]:
        """The rows of these keys, looked up in batches: no statement grows with the number of keys."""
        rows: dict[str, NudgeRecord] = {}
        for batch in batches(keys):
            found = await self.session.execute(select(NudgeRecord).where(NudgeRecord.key.in_(batch)))
            rows.update((row.key, row) for row in found.scalars())
        return rows

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
        for batch in batches(list(ids)):
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


def _referral_facts(referral_id: int, source_id: int | None, created_at: datetime, status: str,
                    consent_to_contact: bool, consent_to_update: bool, client_name: str | None, issues: list[Any],
                    *, outcomes: dict[int, datetime]) -> ReferralFacts:
    closing = ReferralStatus(status) in CLOSING_STATUSES
    return ReferralFacts(
        id=referral_id, source_id=source_id, created_at=created_at, status=ReferralStatus(status),
        consent_to_contact=consent_to_contact, consent_to_update=consent_to_update,
        outcome_at=outcomes.get(referral_id) if closing else None, client_name=client_name,
        issues=tuple(str(i.get("id")) for i in issues or () if isinstance(i, dict)))
