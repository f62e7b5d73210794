"""The referral lifecycle: status changes from any surface (CLI, Slack buttons, Telegram) go here."""

from __future__ import annotations

from datetime import datetime

from referbot.domain import ReferralStatus
from referbot.store import Database, UnitOfWork
from referbot.store.models import Referral


class UnknownReferral(LookupError):
    """No referral has that id."""


async def set_referral_status(database: Database, referral_id: int, status: ReferralStatus, *, by: str,
                              now: datetime, note: str | None = None) -> Referral:
    """Move a referral to `status`, recording who did it and when; returns the updated referral."""
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(referral_id)
        if referral is None:
            raise UnknownReferral(f"No referral #{referral_id}.")
        await uow.referrals.set_status(referral, status, by=by, now=now, note=note)
        await uow.commit()
        await uow.session.refresh(referral, ["events", "source"])
        return referral
