"""Half a year of a small practice, stepped day by day: exactly which nudges are due on chosen days.

Four sources of different types (the example profile: physicians every 60 days, others 90; the
school is a "key" tier source, every 45 days), referrals with and without consent, status changes,
contacts logged by hand and through nudge buttons. Each day, things happen at 10:00 and the
practice looks at its nudges at noon (Chicago time, across the March daylight-saving change).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Awaitable, Callable

import pytest

from referbot.domain import ReferralStatus as S
from referbot.domain import SourceType, TouchpointKind as T
from referbot.profile import Profile
from tests.conftest import FakeClock
from tests.integration.nudge_practice import Practice, local

ANN, BEN, SCHOOL, MAPLE = "Dr. Ann Lee", "Ben Ortiz", "Lincoln High School", "Maple Community Center"

Event = Callable[[Practice, dict[str, int]], Awaitable[object]]


async def refer(p: Practice, ids: dict[str, int], label: str, name: str, **consent: bool) -> None:
    ids[label] = await p.referral(name, **consent)


#: What happens at 10:00 on a day.
EVENTS: dict[date, list[Event]] = {
    date(2026, 1, 7): [lambda p, ids: p.act("lapsed_source", MAPLE, "done")],
    date(2026, 1, 8): [lambda p, ids: refer(p, ids, "r1", ANN, contact=True, update=True)],
    date(2026, 1, 12): [lambda p, ids: p.touch(ANN, T.THANKED, note="card")],
    date(2026, 1, 13): [lambda p, ids: p.status(ids["r1"], S.CONTACTED)],
    date(2026, 1, 20): [lambda p, ids: p.status(ids["r1"], S.CONSULT_BOOKED)],
    date(2026, 1, 27): [lambda p, ids: p.status(ids["r1"], S.BECAME_CLIENT)],
    date(2026, 1, 28): [lambda p, ids: p.act("close_loop", ANN, "snooze", days=7)],
    date(2026, 2, 2): [lambda p, ids: refer(p, ids, "r2", BEN, contact=True, update=False)],
    date(2026, 2, 5): [lambda p, ids: p.act("close_loop", ANN, "done"),
                       lambda p, ids: p.status(ids["r2"], S.NOT_A_FIT),
                       lambda p, ids: p.act("thank_source", BEN, "skip")],
    date(2026, 2, 16): [lambda p, ids: p.touch(SCHOOL, T.EVENT, note="career fair")],
    date(2026, 3, 2): [lambda p, ids: refer(p, ids, "r3", BEN, contact=False)],
    date(2026, 3, 4): [lambda p, ids: p.act("thank_source", BEN, "done")],
    date(2026, 3, 16): [lambda p, ids: refer(p, ids, "r4", BEN, contact=False)],
    date(2026, 3, 18): [lambda p, ids: p.touch(BEN, T.THANKED),
                        lambda p, ids: p.touch(BEN, T.REFERRED_BACK, note="couple needing EFT")],
    date(2026, 4, 8): [lambda p, ids: p.act("stay_in_touch", ANN, "done"),
                       lambda p, ids: p.act("stay_in_touch", MAPLE, "skip"),
                       lambda p, ids: p.act("stay_in_touch", SCHOOL, "snooze", days=1)],
    date(2026, 4, 10): [lambda p, ids: p.act("stay_in_touch", SCHOOL, "done")],
    date(2026, 5, 26): [lambda p, ids: p.act("stay_in_touch", SCHOOL, "done")],
}

#: (kind, source) of every nudge due at noon on these days — exactly.
EXPECTED: dict[date, set[tuple[str, str]]] = {
    date(2026, 1, 5): set(),
    date(2026, 1, 6): {("lapsed_source", MAPLE)},  # 180 days after its last referral
    date(2026, 1, 8): set(),
    date(2026, 1, 9): {("thank_source", ANN)},  # one business day after Thursday's referral
    date(2026, 1, 12): {("first_contact", ANN)},  # thanked by hand; two business days, over the weekend
    date(2026, 1, 13): set(),
    date(2026, 1, 27): {("close_loop", ANN)},  # became a client, consented to updates
    date(2026, 1, 28): set(),  # snoozed a week
    date(2026, 1, 30): set(),  # Ann's 60-day clock was reset by the referral and the thank-you
    date(2026, 2, 3): {("thank_source", BEN)},
    date(2026, 2, 4): {("close_loop", ANN), ("thank_source", BEN), ("first_contact", BEN)},
    date(2026, 2, 5): set(),  # not a fit without consent: no update nudge
    date(2026, 2, 12): {("stay_in_touch", SCHOOL)},  # key tier: 45 days after 29 Dec
    date(2026, 2, 13): {("stay_in_touch", SCHOOL)},
    date(2026, 2, 16): set(),
    date(2026, 2, 18): set(),  # Ben's 90 days would have ended here without the 2 Feb referral
    date(2026, 3, 3): {("thank_source", BEN)},
    date(2026, 3, 4): set(),
    date(2026, 3, 16): {("reciprocity", BEN)},  # third referral, none sent back
    date(2026, 3, 17): {("reciprocity", BEN), ("thank_source", BEN)},
    date(2026, 3, 18): set(),
    date(2026, 4, 2): {("stay_in_touch", SCHOOL)},
    date(2026, 4, 6): {("stay_in_touch", SCHOOL), ("stay_in_touch", ANN)},
    date(2026, 4, 7): {("stay_in_touch", SCHOOL), ("stay_in_touch", ANN), ("stay_in_touch", MAPLE)},
    date(2026, 4, 8): set(),
    date(2026, 4, 9): {("stay_in_touch", SCHOOL)},  # the snooze ended
    date(2026, 4, 10): set(),
    date(2026, 5, 25): {("stay_in_touch", SCHOOL)},
    date(2026, 5, 26): set(),
    date(2026, 6, 8): {("stay_in_touch", ANN)},
    date(2026, 6, 16): {("stay_in_touch", ANN), ("stay_in_touch", BEN)},
    date(2026, 7, 3): {("stay_in_touch", ANN), ("stay_in_touch", BEN)},
}


async def seed(practice: Practice) -> None:
    created = local(2025, 6, 1, 9, 0)
    for name, kind, tier in ((ANN, SourceType.PHYSICIAN, None), (BEN, SourceType.THERAPIST, None),
                             (SCHOOL, SourceType.SCHOOL, "key"), (MAPLE, SourceType.COMMUNITY_ORG, None)):
        await practice.source(name, kind, created=created, tier=tier)
    await practice.touch(ANN, T.CHECK_IN, local(2025, 12, 1, 10, 0), "lunch at the clinic")
    await practice.touch(BEN, T.EVENT, local(2025, 11, 20, 10, 0), "consultation group")
    await practice.touch(SCHOOL, T.CHECK_IN, local(2025, 12, 29, 10, 0), "counsellor call")
    old = await practice.referral(MAPLE, at=local(2025, 7, 10, 10, 0), contact=True, update=False)
    await practice.status(old, S.BECAME_CLIENT, at=local(2025, 7, 20, 10, 0))
    await practice.touch(MAPLE, T.THANKED, local(2025, 7, 11, 10, 0))
    await practice.touch(MAPLE, T.CHECK_IN, local(2025, 12, 15, 10, 0), "newsletter")


@pytest.fixture
def key_tier_profile(profile: Profile) -> Profile:
    stay = profile.nudges.stay_in_touch.model_copy(update={"by_tier": {"key": 45}})
    return profile.model_copy(update={"nudges": profile.nudges.model_copy(update={"stay_in_touch": stay})})


async def test_half_a_year_of_nudges(database, key_tier_profile: Profile) -> None:
    clock = FakeClock(local(2025, 12, 31, 12, 0))
    practice = Practice(database, key_tier_profile, clock)
    await seed(practice)
    ids: dict[str, int] = {}
    seen: dict[date, set[tuple[str, str]]] = {}
    day = date(2026, 1, 5)
    while day <= date(2026, 7, 3):
        clock.now = local(day.year, day.month, day.day, 10, 0)
        for event in EVENTS.get(day, []):
            await event(practice, ids)
        clock.now = local(day.year, day.month, day.day, 12, 0)
        due = {(n.kind.value, n.source) for n in await practice.due()}
        if day in EXPECTED:
            seen[day] = due
        day += timedelta(days=1)
    assert seen == EXPECTED
