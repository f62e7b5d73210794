"""A practice's desk seeded through the real intake (service, matcher, flow) at chosen moments, for the
CLI tests that then read and correct it in a subprocess, on SQLite and PostgreSQL.

Referrals straddle the US daylight-saving change of 8 March 2026, so a time shown in the practice's
zone (America/Chicago in the example profile) must read 09:00 on both sides of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from referbot.domain import Inbound
from referbot.engine import load_flow
from referbot.matching import Matcher
from referbot.profile import Profile
from referbot.service import IntakeService
from referbot.store import Database, UnitOfWork
from tests.conftest import FakeClock

#: 09:00 in Chicago: CST (UTC-6) before 8 March 2026, CDT (UTC-5) after.
BEFORE_DST = datetime(2026, 3, 6, 15, 0, tzinfo=timezone.utc)
AFTER_DST = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)


def intake(name: str, role: str, organisation: str, contact: str, client: str, age: str, issues: str, *,
           consent: bool = True, update: bool = True) -> list[str]:
    """The answers of one whole intake, step by step, in the order the flow asks."""
    answers = [name, role, organisation, contact, client, age, issues, "no", "skip", "individual", "either", "skip",
               "soon", "private pay"]
    answers += ["yes", f"{client.split()[0].lower()}@client.example", "yes" if update else "no"] if consent else ["no"]
    return [*answers, "evenings only", "send"]


@dataclass
class Seeded:
    before_dst: int  # Dr. Sam Ortiz's referral, 09:00 CST
    after_dst: int  # the same source's second referral, 09:00 CDT
    teen: int  # a school counsellor's referral of a 15-year-old (not a fit for adults-only)
    duplicate: int  # a referral from "Dr Sam Ortiz" typed again on another channel: a second source


async def seed(url: str, profile: Profile) -> Seeded:
    database = Database(url)
    clock = FakeClock(BEFORE_DST)
    service = IntakeService(database, profile, load_flow(), Matcher(profile), clock)

    async def referral(channel: str, user: str, answers: list[str]) -> int:
        outcome = await service.handle(Inbound(channel, user))
        for text in answers:
            outcome = await service.handle(Inbound(channel, user, text=text))
        assert outcome.referral_id is not None, outcome
        return outcome.referral_id

    try:
        await database.upgrade()
        first = await referral("telegram", "501", intake(
            "Dr. Sam Ortiz", "physician", "Lakeview Family Medicine", "sam.ortiz@lakeview.org", "Jamie Rivera",
            "34", "panic attacks and trouble sleeping"))
        clock.now = AFTER_DST
        second = await referral("telegram", "501", ["Morgan Ellis", "41", "low mood and tearful most days", "no", "skip",
                                                    "individual", "either", "skip", "routine", "private pay", "no",
                                                    "skip", "send"])
        clock.advance(hours=2)
        teen = await referral("slack", "U0TEACHER", intake(
            "Pat Kim", "school", "Lincoln High School", "pkim@lincoln.edu", "Alex Moreno", "15",
            "anxiety at school", update=False))
        clock.advance(hours=1)
        duplicate = await referral("console", "front-desk", intake(
            "Dr Sam Ortiz", "physician", "skip", "(555) 010-2233", "Riley Chen", "29", "grief after a loss"))
        async with UnitOfWork(database) as uow:
            assert len(await uow.sources.list()) == 3
        return Seeded(first, second, teen, duplicate)
    finally:
        await database.dispose()
