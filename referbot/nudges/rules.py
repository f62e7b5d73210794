"""The nudge rules as one pure function: facts about the practice in, due reminders out.

No database, no clock: `candidates(facts, profile, horizon)` says which nudges are due by
`horizon`, each with a key naming the fact it is about. A key only exists while its fact holds —
a logged thank-you, a first contact or a new touchpoint makes the matching candidate disappear, so
a reminder never nags about contact already made. Periodic rules put their anchor in the key
(`stay_in_touch:source:4:2026-03-02`), so the next period is a new nudge rather than a resurrected one;
the candidate carries that anchor too, so the nudger can remember on the source which period's
nudge ended (`referbot.nudges.scope`).

When each rule is due:
- thank_source: the opening of the `after_business_days`-th working day after the referral arrived,
  until a `thanked` touchpoint is logged for that source at or after its arrival.
- first_contact: the opening of the day the promised response time (practice.response_time_business_days)
  runs out — still time to keep the promise — while the referral is `new`, and only if the client
  agreed to be contacted (otherwise there is no one to call).
- close_loop: when the referral reaches a final outcome (CLOSING_STATUSES; a booked consult is not
  final) and only if the client consented to an update, until an `update_sent` touchpoint.
- stay_in_touch: N local calendar days after the source's last touchpoint of any kind (or its
  creation), N by tier, else by type, else the default.
- reciprocity: when the K-th referral since you last referred someone to them arrives.
- lapsed_source: N days after the last referral of a source with at least `min_referrals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Iterator

from referbot.domain import NEVER, NudgeKind, ReferralStatus, TouchpointKind
from referbot.nudges.office_hours import business_days_after, calendar_days_after, local_date
from referbot.profile import Profile

#: Statuses that end a referral: the referrer can be told how it went.
CLOSING_STATUSES = frozenset({ReferralStatus.BECAME_CLIENT, ReferralStatus.NOT_A_FIT, ReferralStatus.REFERRED_OUT,
                              ReferralStatus.DECLINED_BY_CLIENT, ReferralStatus.NO_RESPONSE})


@dataclass(frozen=True)
class TouchFacts:
    kind: TouchpointKind
    at: datetime
    note: str | None = None
    referral_id: int | None = None


@dataclass(frozen=True)
class ReferralFacts:
    id: int
    source_id: int | None
    created_at: datetime
    status: ReferralStatus
    consent_to_contact: bool
    consent_to_update: bool
    outcome_at: datetime | None = None
    client_name: str | None = None
    issues: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceFacts:
    id: int
    name: str
    type: str
    created_at: datetime
    tier: str | None = None
    referrals: tuple[ReferralFacts, ...] = ()  # oldest first
    touchpoints: tuple[TouchFacts, ...] = ()  # oldest first

    def last_touch(self, kind: TouchpointKind | None = None) -> TouchFacts | None:
        return next((t for t in reversed(self.touchpoints) if kind is None or t.kind is kind), None)

    def touched(self, kind: TouchpointKind, *, since: datetime, referral_id: int) -> bool:
        """Whether a `kind` contact was logged for this referral or at/after `since`."""
        latest, referrals = self._touch_index.get(kind, (None, frozenset()))
        return referral_id in referrals or (latest is not None and latest >= since)

    @cached_property
    def _touch_index(self) -> dict[TouchpointKind, tuple[datetime, frozenset[int]]]:
        """Per kind, the latest contact and the referrals named by one: `touched` asks this once
        per referral, and scanning every touchpoint each time made a tick quadratic in history."""
        latest: dict[TouchpointKind, datetime] = {}
        named: dict[TouchpointKind, set[int]] = {}
        for touch in self.touchpoints:
            latest[touch.kind] = max(latest.get(touch.kind, touch.at), touch.at)
            if touch.referral_id is not None:
                named.setdefault(touch.kind, set()).add(touch.referral_id)
        return {kind: (at, frozenset(named.get(kind, ()))) for kind, at in latest.items()}


@dataclass(frozen=True)
class PracticeFacts:
    sources: dict[int, SourceFacts]
    referrals: tuple[ReferralFacts, ...]  # every referral, with or without a known source


@dataclass(frozen=True)
class Candidate:
    key: str
    kind: NudgeKind
    due_at: datetime
    source_id: int | None
    referral_id: int | None = None
    #: A periodic nudge's anchor, the instant its key names by date; None for a referral's nudge.
    anchor: datetime | None = None


def candidates(facts: PracticeFacts, profile: Profile, horizon: datetime) -> list[Candidate]:
    """Every nudge whose fact holds and which is due at or before `horizon`, soonest first."""
    found = [c for r in facts.referrals for c in _for_referral(r, facts.sources.get(r.source_id or -1), profile)]
    found += [c for s in facts.sources.values() for c in _for_source(s, profile)]
    return sorted((c for c in found if c.due_at <= horizon), key=lambda c: (c.due_at, c.key))


def thank_due(arrived: datetime, profile: Profile) -> datetime:
    """When the thank-you for a referral that arrived at `arrived` is due."""
    return business_days_after(arrived, profile.nudges.thank_source.after_business_days, profile.practice.office_hours)


def first_contact_due(arrived: datetime, profile: Profile) -> datetime:
    """When first contact with the client of a referral that arrived at `arrived` is due."""
    return business_days_after(arrived, profile.practice.response_time_business_days, profile.practice.office_hours)


def stay_in_touch_due(anchor: datetime, source_type: str, tier: str | None, profile: Profile) -> datetime:
    """When staying in touch with a source of this type and tier, last in contact at `anchor`, is due."""
    days = profile.nudges.stay_in_touch.days_for(source_type, tier)
    return calendar_days_after(anchor, days, profile.practice.office_hours)


def lapsed_source_due(last_referral: datetime, profile: Profile) -> datetime:
    """When a source whose last referral arrived at `last_referral` counts as lapsed."""
    return calendar_days_after(last_referral, profile.nudges.lapsed_source.days, profile.practice.office_hours)


def _for_referral(referral: ReferralFacts, source: SourceFacts | None, profile: Profile) -> Iterator[Candidate]:
    rules = profile.nudges
    key = f"referral:{referral.id}"
    source_id = source.id if source else None
    if (source is not None and rules.thank_source.enabled
            and not source.touched(TouchpointKind.THANKED, since=referral.created_at, referral_id=referral.id)):
        yield Candidate(f"thank_source:{key}", NudgeKind.THANK_SOURCE, thank_due(referral.created_at, profile),
                        source_id, referral.id)
    if rules.first_contact.enabled and referral.consent_to_contact and referral.status is ReferralStatus.NEW:
        yield Candidate(f"first_contact:{key}", NudgeKind.FIRST_CONTACT,
                        first_contact_due(referral.created_at, profile), source_id, referral.id)
    if (source is not None and rules.close_loop.enabled and referral.consent_to_update
            and referral.outcome_at is not None
            and not source.touched(TouchpointKind.UPDATE_SENT, since=referral.outcome_at, referral_id=referral.id)):
        yield Candidate(f"close_loop:{key}", NudgeKind.CLOSE_LOOP, referral.outcome_at, source_id, referral.id)


def _for_source(source: SourceFacts, profile: Profile) -> Iterator[Candidate]:
    rules, hours = profile.nudges, profile.practice.office_hours
    key = f"source:{source.id}"
    if rules.stay_in_touch.enabled:
        last = source.last_touch()
        anchor = last.at if last is not None else source.created_at
        yield Candidate(f"stay_in_touch:{key}:{local_date(anchor, hours)}", NudgeKind.STAY_IN_TOUCH,
                        stay_in_touch_due(anchor, source.type, source.tier, profile), source.id, anchor=anchor)
    if rules.reciprocity.enabled:
        back = source.last_touch(TouchpointKind.REFERRED_BACK)
        since = [r for r in source.referrals if back is None or r.created_at > back.at]
        if len(since) >= rules.reciprocity.referrals:
            period = local_date(back.at, hours) if back is not None else "never"
            yield Candidate(f"reciprocity:{key}:{period}", NudgeKind.RECIPROCITY,
                            since[rules.reciprocity.referrals - 1].created_at, source.id,
                            anchor=back.at if back is not None else NEVER)
    if rules.lapsed_source.enabled and len(source.referrals) >= rules.lapsed_source.min_referrals:
        last_referral = source.referrals[-1].created_at
        yield Candidate(f"lapsed_source:{key}:{local_date(last_referral, hours)}", NudgeKind.LAPSED_SOURCE,
                        lapsed_source_due(last_referral, profile), source.id, anchor=last_referral)
