"""Where a nudge can still arise: the sources and referrals the rules need to look at, found in SQL.

The rules (`referbot.nudges.rules`) are a pure function over a source's whole story, and running
them over every source and referral of ten years made each tick grow with history. This module
narrows the story first, with index lookups per source and per open referral, to a superset of
what can yield a nudge due by the horizon that has not ended (done or skipped):

- a referral not yet thanked for (it arrived after its source's last thank-you), still `new` with
  consent to contact, or closed with consent to updates and no update sent since its outcome;
- a source whose last contact is older than the shortest stay-in-touch period, that has sent the
  reciprocity rule's number of referrals since it was last referred to, or whose last referral is
  older than the lapsed-source period.

The rules then run, unchanged, on the whole story of just those sources (and of source-less
referrals), so what they find is exactly what they would find on all of history. Periodic source
nudges name their anchor in their key; one that was ended after the anchor (its row was created
after the last contact, referral or referral back, with a margin for clocks of several workers)
is that same nudge, so its source is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import NudgeKind, NudgeState, ReferralStatus, TouchpointKind
from referbot.nudges.rules import CLOSING_STATUSES
from referbot.profile import Profile, StayInTouchRule
from referbot.store.models import NudgeRecord, Referral, ReferralEvent, Source, Touchpoint

#: States after which the same nudge (same key) never comes back.
ENDED = (NudgeState.DONE.value, NudgeState.SKIPPED.value)
#: Calendar days land on the local wall clock: daylight saving moves a due time by an hour or so.
CALENDAR_SLACK = timedelta(days=1)
#: Clocks of several workers disagree by far less than this.
CLOCK_MARGIN = timedelta(hours=1)
#: Before any record: the "last contact" of a source never contacted.
NEVER = datetime(1900, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Scope:
    """Sources whose whole story the rules need, and referrals that came without a source."""

    sources: list[int]
    sourceless_referrals: list[int]


async def due_scope(session: AsyncSession, profile: Profile, horizon: datetime) -> Scope:
    """A superset of the sources and source-less referrals with a nudge due by `horizon` (see above)."""
    sources: set[int] = set()
    sourceless: list[int] = []
    for query in _open_referrals(profile, horizon):  # one query per rule, each driven by its own index
        for referral_id, source_id in await session.execute(query):
            if source_id is None:
                sourceless.append(referral_id)
            else:
                sources.add(source_id)
    sources.update(await _periodic_sources(session, profile, horizon))
    return Scope(sorted(sources), sorted(sourceless))


def _open_referrals(profile: Profile, horizon: datetime) -> list[Select[Any]]:
    """Per referral rule that is on, (id, source_id) of the referrals where it can still yield a nudge."""
    rules = profile.nudges
    arrived = Referral.created_at <= horizon
    referrals = select(Referral.id, Referral.source_id)
    queries: list[Select[Any]] = []
    if rules.thank_source.enabled:  # per source its last thank-you, then the range of referrals after it
        # OFFSET 0 keeps PostgreSQL from folding the lookup into the join and redoing it per referral.
        thanked = (select(Source.id, func.coalesce(_last_touch(Source.id, TouchpointKind.THANKED), NEVER).label("at"))
                   .offset(0).subquery("thanked"))
        queries.append(referrals.join(thanked, and_(Referral.source_id == thanked.c.id,
                                                    Referral.created_at > thanked.c.at))
                       .where(arrived, ~_referral_nudge_ended(NudgeKind.THANK_SOURCE)))
    if rules.first_contact.enabled:
        queries.append(referrals.where(Referral.status == ReferralStatus.NEW.value,
                                       Referral.consent_to_contact.is_(True), arrived,
                                       ~_referral_nudge_ended(NudgeKind.FIRST_CONTACT)))
    if rules.close_loop.enabled:
        closing = [status.value for status in CLOSING_STATUSES]
        outcome_at = (select(func.min(ReferralEvent.at))
                      .where(ReferralEvent.referral_id == Referral.id, ReferralEvent.status.in_(closing))
                      .correlate_except(ReferralEvent).scalar_subquery())
        update_sent = (select(Touchpoint.id)
                       .where(Touchpoint.source_id == Referral.source_id,
                              Touchpoint.kind == TouchpointKind.UPDATE_SENT.value, Touchpoint.at >= outcome_at)
                       .correlate_except(Touchpoint).exists())
        queries.append(referrals.where(Referral.source_id.is_not(None), Referral.consent_to_update.is_(True),
                                       Referral.status.in_(closing), ~_referral_nudge_ended(NudgeKind.CLOSE_LOOP),
                                       ~update_sent))
    return queries


@dataclass(frozen=True)
class _Periodic:
    """One periodic source rule: its nudge kind, its anchor, and when a nudge from it can be due."""

    kind: NudgeKind
    anchor: Any
    due_by_horizon: ColumnElement[bool]


async def _periodic_sources(session: AsyncSession, profile: Profile, horizon: datetime) -> set[int]:
    """Sources where a periodic rule yields a nudge due by `horizon` that has not ended.

    SQL picks the sources where one is due; whether it ended is decided here, because comparing a
    row's creation with the anchor needs the clock margin, and date arithmetic is not portable SQL."""
    rules = _periodic_rules(profile, horizon)
    if not rules:
        return set()
    columns = []
    for index, rule in enumerate(rules):
        last_ended = (select(func.max(NudgeRecord.created_at))
                      .where(NudgeRecord.source_id == Source.id, NudgeRecord.kind == rule.kind.value,
                             NudgeRecord.state.in_(ENDED)).correlate_except(NudgeRecord).scalar_subquery())
        columns += [rule.due_by_horizon.label(f"due{index}"), rule.anchor.label(f"anchor{index}"),
                    last_ended.label(f"ended{index}")]
    per_source = select(Source.id, *columns).subquery("periodic")  # each subquery once per source
    query = select(per_source).where(or_(*(per_source.c[f"due{index}"] for index in range(len(rules)))))
    found = set()
    for source_id, *values in await session.execute(query):
        for index in range(0, len(values), 3):
            due, anchor, last_ended = values[index:index + 3]
            if due and (last_ended is None or anchor is None or last_ended <= anchor + CLOCK_MARGIN):
                found.add(source_id)
    return found


def _periodic_rules(profile: Profile, horizon: datetime) -> list[_Periodic]:
    rules = profile.nudges
    periodic: list[_Periodic] = []
    if rules.stay_in_touch.enabled:
        anchor = func.coalesce(_last_touch(Source.id), Source.created_at)
        periodic.append(_Periodic(NudgeKind.STAY_IN_TOUCH, anchor, _quiet_too_long(rules.stay_in_touch, anchor,
                                                                                   horizon)))
    if rules.reciprocity.enabled:
        back = func.coalesce(_last_touch(Source.id, TouchpointKind.REFERRED_BACK), NEVER)
        kth_since = _kth_referral(rules.reciprocity.referrals, Referral.created_at > back)
        periodic.append(_Periodic(NudgeKind.RECIPROCITY, back, kth_since <= horizon))
    if rules.lapsed_source.enabled:
        lapsed = rules.lapsed_source
        last_referral = (select(func.max(Referral.created_at)).where(Referral.source_id == Source.id)
                         .correlate_except(Referral).scalar_subquery())
        periodic.append(_Periodic(NudgeKind.LAPSED_SOURCE, last_referral,
                                  and_(_kth_referral(lapsed.min_referrals).is_not(None),
                                       last_referral <= horizon - timedelta(days=lapsed.days) + CALENDAR_SLACK)))
    return periodic


def _quiet_too_long(stay: StayInTouchRule, anchor: Any, horizon: datetime) -> ColumnElement[bool]:
    """The source's stay-in-touch period (`StayInTouchRule.days_for`: its tier's, else its type's,
    else the default) has run out by `horizon`: one comparison per distinct period, since date
    arithmetic on a column is not portable SQL."""
    types = {kind.value: days for kind, days in stay.by_type.items()}
    untiered = or_(Source.tier.is_(None), Source.tier.not_in(list(stay.by_tier)))
    conditions = []
    for days in sorted({stay.days, *types.values(), *stay.by_tier.values()}):
        period_is = [Source.tier.in_([tier for tier, d in stay.by_tier.items() if d == days]),
                     and_(untiered, Source.type.in_([kind for kind, d in types.items() if d == days]))]
        if days == stay.days:
            period_is.append(and_(untiered, Source.type.not_in(list(types))))
        conditions.append(and_(or_(*period_is), anchor <= horizon - timedelta(days=days) + CALENDAR_SLACK))
    return or_(*conditions)


def _last_touch(source_id: Any, kind: TouchpointKind | None = None) -> Any:
    """When the source was last in contact (of `kind`): one lookup in touchpoints (source_id, kind, at).

    Every subquery here names the one table it reads and correlates to all others, however deeply
    it is nested: auto-correlation only looks one level up and would read all sources instead."""
    query = select(func.max(Touchpoint.at)).where(Touchpoint.source_id == source_id)
    if kind is not None:
        query = query.where(Touchpoint.kind == kind.value)
    return query.correlate_except(Touchpoint).scalar_subquery()


def _kth_referral(k: int, *where: ColumnElement[bool]) -> Any:
    """When the source's k-th referral (of those matching `where`) arrived; NULL if it has fewer."""
    return (select(Referral.created_at).where(Referral.source_id == Source.id, *where)
            .order_by(Referral.created_at).offset(k - 1).limit(1).correlate_except(Referral).scalar_subquery())


def _referral_nudge_ended(kind: NudgeKind) -> ColumnElement[bool]:
    return (select(NudgeRecord.id).where(NudgeRecord.referral_id == Referral.id, NudgeRecord.kind == kind.value,
                                         NudgeRecord.state.in_(ENDED)).correlate_except(NudgeRecord).exists())
