"""A small practice seeded through the repositories, for nudge tests: sources, referrals, contacts."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from referbot.domain import FitVerdict, ReferralStatus, SourceType, TouchpointKind
from referbot.nudger import Nudge, act_on_nudge, due_nudges, log_touchpoint
from referbot.profile import Profile
from referbot.referrals import set_referral_status
from referbot.store import Database, UnitOfWork
from referbot.store.models import Referral
from tests.conftest import FakeClock

CHICAGO = ZoneInfo("America/Chicago")


def local(*args: int) -> datetime:
    """A wall-clock time at the example practice (Chicago), as aware UTC."""
    return datetime(*args, tzinfo=CHICAGO).astimezone(timezone.utc)


class Practice:
    """Drives a practice's life through the same entry points the bot and the CLI use."""

    def __init__(self, database: Database, profile: Profile, clock: FakeClock) -> None:
        self.database, self.profile, self.clock = database, profile, clock
        self.sources: dict[str, int] = {}

    async def source(self, name: str, type: SourceType, *, created: datetime, tier: str | None = None) -> int:
        async with UnitOfWork(self.database) as uow:
            source = await uow.sources.create(name=name, type=type, now=created, tier=tier)
            await uow.commit()
        self.sources[name] = source.id
        return source.id

    async def touch(self, name: str, kind: TouchpointKind, at: datetime | None = None, note: str | None = None) -> None:
        if at is None:
            await log_touchpoint(self.database, self.profile, name, kind, by="test", now=self.clock(), note=note)
            return
        async with UnitOfWork(self.database) as uow:
            source = await uow.sources.get(self.sources[name])
            await uow.touchpoints.add(source, kind, at=at, note=note, by="test")
            await uow.commit()

    async def referral(self, name: str | None, *, at: datetime | None = None, contact: bool = True,
                       update: bool = False, client: str = "Jamie Rivera", issues: tuple[str, ...] = ("anxiety",),
                       channel: str = "console", verdict: FitVerdict = FitVerdict.GOOD_FIT) -> int:
        """A referral as the intake service stores it: the row, its `new` event, a referral_received touchpoint."""
        at = at or self.clock()
        async with UnitOfWork(self.database) as uow:
            source = await uow.sources.get(self.sources[name]) if name else None
            referral = Referral(source_id=source.id if source else None, channel=channel, referrer_user_id="ref",
                                client_name=client, client_age=30, presenting_issues="worried all the time",
                                issues=[{"id": i, "score": 100.0, "evidence": i} for i in issues],
                                consent_to_contact=contact, consent_to_update=contact and update, answers={},
                                verdict=verdict.value, crisis=verdict is FitVerdict.CRISIS, fit={},
                                status=ReferralStatus.NEW.value, created_at=at, updated_at=at)
            await uow.referrals.add(referral, by="console:ref")
            if source is not None:
                await uow.touchpoints.add(source, TouchpointKind.REFERRAL_RECEIVED, at=at, referral_id=referral.id)
            await uow.commit()
        return referral.id

    async def status(self, referral_id: int, status: ReferralStatus, at: datetime | None = None) -> None:
        await set_referral_status(self.database, referral_id, status, by="test", now=at or self.clock())

    async def due(self) -> list[Nudge]:
        return await due_nudges(self.database, self.profile, self.clock())

    async def act(self, kind: str, name: str, action: str, days: int | None = None) -> Nudge:
        """Act on the one due nudge of `kind` about source `name`, as a button press would."""
        [nudge] = [n for n in await self.due() if n.kind.value == kind and n.source == name]
        return await act_on_nudge(self.database, nudge.id, action, by="test", now=self.clock(), days=days)
