"""A known referral history for the stats and export tests, written through the repositories.

"Now" is 2026-01-15 12:00 UTC, so the 30-day window crosses a year boundary and the 90- and
365-day windows each have a referral exactly on their (excluded) start. Every expected figure in
the tests is worked out by hand from the table below.

  ref  created (UTC)       source  channel   verdict       status history (hours to first contact)
  r1   2026-01-14 09:00    Ann     telegram  good_fit      contacted +3h, consult_booked
  r2   2026-01-02 10:00    Ann     slack     good_fit      contacted +5h
  r3   2025-12-31 23:30    Ben     telegram  possible_fit  became_client +25h (straight from new)
  r4   2025-12-20 08:00    School  console   not_a_fit     not_a_fit +1h
  r5   2025-12-17 12:00    —       telegram  crisis        new
  r14  2025-12-28 12:00    Kim     slack     good_fit      contacted +2h, consult_booked, became_client
  r6   2025-12-10 12:00    Ben     slack     good_fit      contacted +10h, consult_booked, became_client
  r7   2025-11-20 12:00    Ann     telegram  good_fit      new
  r8   2025-10-20 12:00    School  telegram  good_fit      contacted +24h, no_response
  r9   2025-10-17 12:00    Ben     console   possible_fit  contacted +2h, declined_by_client
  r10  2025-06-01 12:00    Ann     slack     good_fit      contacted +6h, consult_booked, became_client
  r11  2025-01-15 12:00    School  telegram  not_a_fit     referred_out +1h
  r12  2024-03-01 12:00    Ben     console   good_fit      contacted +1h, consult_booked, became_client
  r13  2026-01-20 12:00    Ann     telegram  good_fit      new (after "now": never counted)

Touchpoints: Ann thanked 2026-01-03 and (after now) 2026-01-18; Ben thanked 2025-12-31 23:30 (the
instant r3 arrived); Kim thanked 2025-12-29; Ann referred back 2025-12-01 and 2026-01-05; Hope
Center (no referrals) referred back 2026-01-10; Ben checked in 2026-01-05.
"""

from __future__ import annotations

from datetime import datetime, timezone

from referbot.domain import FitVerdict, ReferralStatus, SourceType, TouchpointKind
from referbot.referrals import record_change
from referbot.store import Database, UnitOfWork
from referbot.store.models import Referral

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)

ANN, BEN, SCHOOL, HOPE, KIM = "Dr. Ann Lee", "Ben Ortiz", "Northside School", "Hope Center", "Kim Park"
SOURCES = {ANN: SourceType.PHYSICIAN, BEN: SourceType.THERAPIST, SCHOOL: SourceType.SCHOOL,
           HOPE: SourceType.COMMUNITY_ORG, KIM: SourceType.FORMER_CLIENT}

#: Ann and Ben work at the same clinic (spelt differently by each): stats roll them up together.
ORGANISATIONS = {ANN: "Lakeview Health", BEN: "Lakeview health."}

S = ReferralStatus


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


# (label, created, source, channel, verdict, issues, [(status, at)])
REFERRALS = [
    ("r12", at(2024, 3, 1, 12), BEN, "console", FitVerdict.GOOD_FIT, ["anxiety"],
     [(S.CONTACTED, at(2024, 3, 1, 13)), (S.CONSULT_BOOKED, at(2024, 3, 2, 12)), (S.BECAME_CLIENT, at(2024, 3, 5, 12))]),
    ("r11", at(2025, 1, 15, 12), SCHOOL, "telegram", FitVerdict.NOT_A_FIT, [],
     [(S.REFERRED_OUT, at(2025, 1, 15, 13))]),
    ("r10", at(2025, 6, 1, 12), ANN, "slack", FitVerdict.GOOD_FIT, ["anxiety", "depression"],
     [(S.CONTACTED, at(2025, 6, 1, 18)), (S.CONSULT_BOOKED, at(2025, 6, 3, 12)), (S.BECAME_CLIENT, at(2025, 6, 10, 12))]),
    ("r9", at(2025, 10, 17, 12), BEN, "console", FitVerdict.POSSIBLE_FIT, ["trauma"],
     [(S.CONTACTED, at(2025, 10, 17, 14)), (S.DECLINED_BY_CLIENT, at(2025, 10, 20, 12))]),
    ("r8", at(2025, 10, 20, 12), SCHOOL, "telegram", FitVerdict.GOOD_FIT, ["anxiety"],
     [(S.CONTACTED, at(2025, 10, 21, 12)), (S.NO_RESPONSE, at(2025, 11, 1, 12))]),
    ("r7", at(2025, 11, 20, 12), ANN, "telegram", FitVerdict.GOOD_FIT, ["depression"], []),
    ("r6", at(2025, 12, 10, 12), BEN, "slack", FitVerdict.GOOD_FIT, ["anxiety"],
     [(S.CONTACTED, at(2025, 12, 10, 22)), (S.CONSULT_BOOKED, at(2025, 12, 12, 12)),
      (S.BECAME_CLIENT, at(2025, 12, 20, 12))]),
    ("r5", at(2025, 12, 17, 12), None, "telegram", FitVerdict.CRISIS, [], []),
    ("r4", at(2025, 12, 20, 8), SCHOOL, "console", FitVerdict.NOT_A_FIT, ["eating_disorders"],
     [(S.NOT_A_FIT, at(2025, 12, 20, 9))]),
    ("r14", at(2025, 12, 28, 12), KIM, "slack", FitVerdict.GOOD_FIT, ["anxiety"],
     [(S.CONTACTED, at(2025, 12, 28, 14)), (S.CONSULT_BOOKED, at(2025, 12, 30, 12)),
      (S.BECAME_CLIENT, at(2026, 1, 6, 12))]),
    ("r3", at(2025, 12, 31, 23, 30), BEN, "telegram", FitVerdict.POSSIBLE_FIT, ["grief"],
     [(S.BECAME_CLIENT, at(2026, 1, 2, 0, 30))]),
    ("r2", at(2026, 1, 2, 10), ANN, "slack", FitVerdict.GOOD_FIT, ["anxiety"], [(S.CONTACTED, at(2026, 1, 2, 15))]),
    ("r1", at(2026, 1, 14, 9), ANN, "telegram", FitVerdict.GOOD_FIT, ["anxiety", "depression"],
     [(S.CONTACTED, at(2026, 1, 14, 12)), (S.CONSULT_BOOKED, at(2026, 1, 14, 15))]),
    ("r13", at(2026, 1, 20, 12), ANN, "telegram", FitVerdict.GOOD_FIT, [], []),
]

TOUCHPOINTS = [
    (ANN, TouchpointKind.THANKED, at(2026, 1, 3, 12)),
    (ANN, TouchpointKind.THANKED, at(2026, 1, 18, 12)),
    (BEN, TouchpointKind.THANKED, at(2025, 12, 31, 23, 30)),
    (KIM, TouchpointKind.THANKED, at(2025, 12, 29, 12)),
    (ANN, TouchpointKind.REFERRED_BACK, at(2025, 12, 1, 12)),
    (ANN, TouchpointKind.REFERRED_BACK, at(2026, 1, 5, 12)),
    (HOPE, TouchpointKind.REFERRED_BACK, at(2026, 1, 10, 12)),
    (BEN, TouchpointKind.CHECK_IN, at(2026, 1, 5, 12)),
]


async def seed_history(database: Database) -> dict[str, int]:
    """Write the table above in one transaction (status changes through the same repository call
    `set_referral_status` makes); returns referral ids by label."""
    ids: dict[str, int] = {}
    async with UnitOfWork(database) as uow:
        sources = {name: await uow.sources.create(name=name, type=kind, now=at(2024, 1, 1), contact=f"{i}@example.org",
                                                  organisation=ORGANISATIONS.get(name))
                   for i, (name, kind) in enumerate(SOURCES.items())}
        for label, created, source, channel, verdict, issues, history in REFERRALS:
            referral = Referral(
                source_id=sources[source].id if source else None, channel=channel, referrer_user_id=f"u-{label}",
                client_name=f"Client {label}", client_age=30, presenting_issues=f"story of {label}",
                issues=[{"id": issue, "score": 90.0, "evidence": issue} for issue in issues],
                consent_to_contact=True, client_contact=f"{label}@client.example", answers={"note": label},
                verdict=verdict.value, fit={"reasons": [f"reason for {label}"]},
                crisis=verdict is FitVerdict.CRISIS, status=S.NEW.value, created_at=created, updated_at=created)
            ids[label] = (await uow.referrals.add(referral, by=f"{channel}:u-{label}")).id
            for status, moment in history:
                await record_change(uow, referral, status=status, by="slack:UTHERAPIST", now=moment)
        for name, kind, moment in TOUCHPOINTS:
            await uow.touchpoints.add(sources[name], kind, at=moment, by="staff")
        await uow.commit()
    return ids
