"""The referral lifecycle: status changes from any surface (CLI, Slack buttons, Telegram) go here."""

from __future__ import annotations

from datetime import datetime

from referbot.audit import AuditAction, record
from referbot.domain import ReferralStatus, TouchpointKind
from referbot.errors import NotFound
from referbot.profile import Profile
from referbot.sources import source_named
from referbot.store import Database, UnitOfWork
from referbot.store.models import Referral


class UnknownReferral(NotFound):
    """No referral has that id."""


async def set_referral_status(database: Database, referral_id: int, status: ReferralStatus, *, by: str,
                              now: datetime, note: str | None = None) -> Referral:
    """Move a referral to `status`, recording who did it and when; returns the updated referral."""
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(referral_id)
        if referral is None:
            raise UnknownReferral(f"No referral #{referral_id}.")
        await uow.referrals.set_status(referral, status, by=by, now=now, note=note)
        record(uow, by, AuditAction.STATUS_CHANGE, f"referral:{referral_id}:{status.value}", by.partition(":")[0], now)
        await uow.commit()
        await uow.session.refresh(referral, ["events", "source"])
        return referral


async def refer_out(database: Database, profile: Profile, referral_id: int, to: str, *, by: str, now: datetime,
                    note: str | None = None) -> Referral:
    """Mark a referral referred out to a named source or colleague, and record that as a
    `referred_back` contact with them — both in one transaction, so neither stands alone."""
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(referral_id)
        if referral is None:
            raise UnknownReferral(f"No referral #{referral_id}.")
        target = await source_named(uow, profile, to, now)
        await uow.referrals.set_status(referral, ReferralStatus.REFERRED_OUT, by=by, now=now,
                                       note=note or f"referred to {target.name}")
        await uow.touchpoints.add(target, TouchpointKind.REFERRED_BACK, at=now, referral_id=referral.id, by=by,
                                  note=note or f"referral #{referral.id}")
        record(uow, by, AuditAction.STATUS_CHANGE, f"referral:{referral_id}:{ReferralStatus.REFERRED_OUT.value}",
               by.partition(":")[0], now)
        await uow.commit()
        await uow.session.refresh(referral, ["events", "source"])
        return referral
