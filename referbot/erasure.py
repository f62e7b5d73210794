"""Erasure and retention: removing a client's (or a referrer's) personal data everywhere it lives.

A referral's personal data is spread over the referral row, the conversation that produced it,
status and touchpoint notes, nudges and their outbox messages. `forget_referral` clears all of it
and keeps the de-identified row (status, verdict, issue ids, source, dates), so stats stay right
after erasure; `forget_source` does the same for a referrer. Both record the erasure in the audit
log. Retention rules in the profile are applied by `purge`, which `referbot run` calls daily.
Exports already written are the practice's own files and are not reachable from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update

from referbot.audit import AuditAction, record
from referbot.domain import ConversationStatus, OutboxKind, ReferralStatus
from referbot.profile import Retention
from referbot.store import Database, UnitOfWork
from referbot.store.models import (Conversation, NudgeRecord, OutboxMessage, Referral, ReferralEvent, Source,
                                   SourceIdentity, Touchpoint)

#: What stays of a referrer's answers about themselves once the source is forgotten.
REFERRER_ANSWERS = ("referrer_name", "referrer_contact", "referrer_organisation")


class NothingToForget(LookupError):
    """No referral or source by that id or name."""


async def _erase_nudge_messages(uow: UnitOfWork, names: list[str], now: datetime) -> None:
    """Nudge messages quote names in their drafts: any that mention one lose their payload, and an
    unsent one is dropped (the nudger recomputes reminders that still apply, without the name)."""
    names = [name for name in names if name]
    if not names:
        return
    rows = (await uow.session.execute(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.NUDGE.value))).scalars()
    for row in rows:
        text = json.dumps(row.payload, ensure_ascii=False)
        if any(name in text for name in names):
            row.payload = {"erased": True}
            row.sent_at = row.sent_at or now


async def _delete_nudges(uow: UnitOfWork, where: ColumnElement[bool]) -> None:
    """Delete the nudges `where` says. One that was done or skipped comes back without its row (if
    its fact still holds), so what the nudger remembers of them goes first: the settled instants of
    the sources whose referrals lose a nudge, the ended anchors of those that lose a periodic one."""
    lost = (select(Referral.source_id, func.min(Referral.created_at))
            .join(NudgeRecord, NudgeRecord.referral_id == Referral.id)
            .where(where, Referral.source_id.is_not(None)).group_by(Referral.source_id))
    for source_id, arrived in (await uow.session.execute(lost)).all():
        await uow.sources.referral_changed(source_id, arrived)
    periodic = select(NudgeRecord.source_id).where(where, NudgeRecord.referral_id.is_(None),
                                                   NudgeRecord.source_id.is_not(None)).distinct()
    for source_id in (await uow.session.execute(periodic)).scalars().all():
        await uow.sources.forget_ended(source_id)
    await uow.session.execute(delete(NudgeRecord).where(where))


async def forget_referral(uow: UnitOfWork, referral: Referral, *, actor: str, channel: str, now: datetime) -> None:
    """Erase a referral's client details everywhere; its de-identified row stays for stats."""
    name = referral.client_name
    referral.client_name = referral.client_contact = referral.presenting_issues = referral.crisis_evidence = None
    referral.client_age = None
    referral.answers = {}
    referral.risk = []  # screening answers and the words that raised a question; crisis_kind stays
    referral.fit = {"reasons": list((referral.fit or {}).get("reasons") or [])}
    referral.erased_at = referral.updated_at = now
    await uow.session.execute(delete(Conversation).where(Conversation.referral_id == referral.id))
    await uow.session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id).values(note=None))
    await uow.session.execute(update(Touchpoint).where(Touchpoint.referral_id == referral.id).values(note=None))
    await _delete_nudges(uow, NudgeRecord.referral_id == referral.id)
    await _erase_nudge_messages(uow, [name] if name else [], now)
    record(uow, actor, AuditAction.ERASE, f"referral:{referral.id}", channel, now)


async def forget_source(uow: UnitOfWork, source: Source, *, actor: str, channel: str, now: datetime) -> None:
    """Erase a referrer's personal data: name, contact, organisation, notes, chat identities, their
    unsent conversations, and what their referrals recorded about them. Their referrals still
    count, under an anonymous source of the same type."""
    old_name = source.name
    source.name = f"Erased source #{source.id}"
    source.organisation = source.contact = source.notes = source.tier = None
    identities = (await uow.session.execute(select(SourceIdentity).where(SourceIdentity.source_id == source.id))).scalars().all()
    for identity in identities:
        await uow.session.execute(delete(Conversation).where(Conversation.channel == identity.channel,
                                                             Conversation.user_id == identity.user_id))
        await uow.session.delete(identity)
    referrals = (await uow.session.execute(select(Referral).where(Referral.source_id == source.id))).scalars().all()
    for referral in referrals:
        referral.answers = {k: v for k, v in (referral.answers or {}).items() if k not in REFERRER_ANSWERS}
    await uow.session.execute(update(Touchpoint).where(Touchpoint.source_id == source.id).values(note=None))
    await _delete_nudges(uow, NudgeRecord.source_id == source.id)
    await _erase_nudge_messages(uow, [old_name], now)
    record(uow, actor, AuditAction.ERASE, f"source:{source.id}", channel, now)


async def forget_referral_by_id(database: Database, referral_id: int, *, actor: str, channel: str,
                                now: datetime) -> None:
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(referral_id)
        if referral is None:
            raise NothingToForget(f"No referral #{referral_id}.")
        await forget_referral(uow, referral, actor=actor, channel=channel, now=now)
        await uow.commit()


async def forget_source_named(database: Database, name: str, *, actor: str, channel: str, now: datetime) -> str:
    """Forget the source `name` (exact, code, or a unique part of the name); returns its old name."""
    async with UnitOfWork(database) as uow:
        source = await uow.sources.by_name(name)
        if source is None:
            raise NothingToForget(f"No source named {name!r}; see `referbot sources list`.")
        old_name = source.name
        await forget_source(uow, source, actor=actor, channel=channel, now=now)
        await uow.commit()
        return old_name


@dataclass
class PurgePlan:
    """What the retention rules take away now."""

    referral_ids: list[int] = field(default_factory=list)
    abandoned_intakes: int = 0

    @property
    def empty(self) -> bool:
        return not self.referral_ids and not self.abandoned_intakes


async def purge(database: Database, retention: Retention, now: datetime, *, dry_run: bool = False,
                actor: str = "retention") -> PurgePlan:
    """Apply the retention rules (or, with `dry_run`, only say what they would erase)."""
    plan = PurgePlan()
    async with UnitOfWork(database) as uow:
        referrals: list[Referral] = []
        if retention.client_details_days is not None:
            cutoff = now - timedelta(days=retention.client_details_days)
            referrals = list((await uow.session.execute(select(Referral).where(
                Referral.erased_at.is_(None), Referral.created_at < cutoff,
                Referral.status != ReferralStatus.BECAME_CLIENT.value).order_by(Referral.id))).scalars())
            plan.referral_ids = [r.id for r in referrals]
        abandoned = []
        if retention.abandoned_intake_days is not None:
            cutoff = now - timedelta(days=retention.abandoned_intake_days)
            abandoned = list((await uow.session.execute(select(Conversation).where(
                Conversation.status == ConversationStatus.ASKING.value, Conversation.updated_at < cutoff))).scalars())
            plan.abandoned_intakes = len(abandoned)
        if dry_run or plan.empty:
            return plan
        for referral in referrals:
            await forget_referral(uow, referral, actor=actor, channel="retention", now=now)
        for conversation in abandoned:
            await uow.session.delete(conversation)
        await uow.commit()
    return plan
