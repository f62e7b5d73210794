"""Where a nudge can be due: the sources and referrals the rules need to look at, found in SQL.

The rules (`referbot.nudges.rules`) are a pure function over a source's whole story, and running
them over every source and referral of ten years made each tick grow with history. This module
narrows the story first to the sources and source-less referrals where a nudge that has not ended
(done or skipped) can be due by the horizon. It reads the activity each source row keeps
(`Source.last_touch_at` and the others: the latest contact, thank-you, referral back, update sent
and referral) and what the nudger remembers there, and looks into history only where those let a
source through:

- thank_source: of a source whose last referral came after both its last thank-you and the
  instant up to which its thank-yous are settled, the referrals after both;
- close_loop: of a source whose last referral came after the instant up to which its updates are
  settled, the referrals after it that have closed, with consent to updates, and no update sent to
  the source since the outcome;
- first_contact: the referrals still `new`, with consent to contact (the status index finds them);
- stay_in_touch: a source whose last contact (else its creation) is older than its period;
- reciprocity: a source sent a referral since it was last referred to, and then (one lookup) the
  rule's number of referrals since;
- lapsed_source: a source whose last referral is older than the period, and then (one lookup)
  that sent the rule's minimum;

each leaving out, as below, what the nudger remembers as ended. SQL compares instants and leaves
a day of slack for calendar days, since date arithmetic is not portable; the exact due time of what
it finds is then taken with the rules' own functions, so a reminder that is only due tomorrow
does not load its source's story every tick today. The rules then run, unchanged, on the whole
story of just those sources (and of the source-less referrals), so what they find due is exactly
what they would find due on all of history.

What the nudger remembers (`Source.stay_in_touch_ended_anchor` and the others):
- Ended anchors. A periodic nudge's key names its anchor (the last contact, referral back or
  referral). When the rules yield one whose row is done or skipped, the nudger writes that anchor on
  the source (`NudgeRecords.add_missing`). While the anchor computed here from the columns, exactly
  as the rules compute it, equals the remembered one, the rule can only yield that same ended
  nudge again (done and skipped are final), so the source is left out for that rule. An anchor
  that moved, or none remembered (NULL after the upgrade), keeps it in until the next tick writes it.
- Settled instants. Per source, for thank_source and close_loop: every referral of the source that
  arrived up to this instant has that nudge behind it (thanked or updated, or its nudge done or
  skipped), until a referral changes. Each tick moves it forward here, to just before the earliest
  referral this scope still found open, or to the last referral. Whatever can bring such a nudge
  back goes through `Sources.referral_changed`, which moves the instant back to before the referral
  concerned: a new referral, any recorded change (an outcome, consent to updates, a move to the
  source: `referrals.record_change`), an erased nudge; a merge or move resets it.
- Both are erased with the nudges they speak of (`erasure`). Each is written only where the
  source's `story_revision`, counted up by those same changes, is still the one read before what it
  is based on, so a tick that raced a change writes nothing (and the next tick writes it).

Why the activity columns can be trusted. Each is written in the transaction that writes its
history: `Touchpoints.add` and `Referrals.add` raise them (never lower them, so a back-dated contact
leaves a later one standing) with one UPDATE under the source's row lock, so concurrent writers end
with the latest instant in whatever order they commit; a referral moved to another source and a
merge of two sources read the columns of the sources involved again from their history, after
locking them; and touchpoints and referrals are never deleted (erasure blanks their notes and client
details, a merge moves them). So every column equals the latest instant of its history. How much
each relies on that:
- `last_thanked_at` and `last_update_sent_at` are only asked "did something come after it": a value
  older than the truth (NULL included) would only let more referrals through.
- `last_touch_at`, `last_referred_back_at` and `last_referral_at` are anchors: older ones would make
  stay-in-touch and lapsed-source nudges look due sooner, but an anchor is also compared with the
  remembered one, and a stale column equal to an old remembered anchor would hide the new period.
  `last_referral_at` is also asked both "came after the last thank-you, referral back or settled
  instant" (a late value lets more through) and "older than the lapsed period" (an early one does).
  So these three must be exact, not merely behind, and they are, by the writes above. History
  written around the repositories (an import, `bench.history`) must run migration 0008's `BACKFILL`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import NEVER, NudgeKind, NudgeState, ReferralStatus
from referbot.nudges.rules import (CLOSING_STATUSES, first_contact_due, lapsed_source_due, stay_in_touch_due,
                                   thank_due)
from referbot.profile import Profile, StayInTouchRule
from referbot.store.batches import batches
from referbot.store.models import ENDED_ANCHOR, SETTLED_THROUGH, NudgeRecord, Referral, ReferralEvent, Source

#: States after which the same nudge (same key) never comes back.
ENDED = (NudgeState.DONE.value, NudgeState.SKIPPED.value)
#: Calendar days land on the local wall clock: daylight saving moves a due time by an hour or so.
CALENDAR_SLACK = timedelta(days=1)
@dataclass(frozen=True)
class Remember:
    """An instant for the nudger to write on a source (see above): `column` becomes `value`, if the
    source's `story_revision` is still `revision`."""

    column: Any
    source_id: int
    revision: int
    value: datetime


@dataclass(frozen=True)
class Scope:
    """Sources whose whole story the rules need, referrals that came without a source, and the
    settled instants the scope moved forward, for the nudger to write."""

    sources: list[int]
    sourceless_referrals: list[int]
    remember: list[Remember]


async def due_scope(session: AsyncSession, profile: Profile, horizon: datetime) -> Scope:
    """A superset of the sources and source-less referrals with a nudge due by `horizon` that has not
    ended (see above), with the settled instants of the sources it looked at moved forward."""
    rules = profile.nudges
    sources: set[int] = set()
    sourceless: list[int] = []
    settled: list[Remember] = []
    for enabled, rule in ((rules.thank_source.enabled, _THANK_SOURCE), (rules.close_loop.enabled, _CLOSE_LOOP)):
        if enabled:
            due, moved = await _settled_by_source(session, rule, profile, horizon)
            sources |= due
            settled += moved
    if rules.first_contact.enabled:
        waiting = select(Referral.id, Referral.source_id, Referral.created_at).where(
            Referral.status == ReferralStatus.NEW.value, Referral.consent_to_contact.is_(True),
            ~_referral_nudge_ended(NudgeKind.FIRST_CONTACT))
        for referral_id, source_id, arrived in await session.execute(waiting):
            if first_contact_due(arrived, profile) <= horizon:
                if source_id is None:
                    sourceless.append(referral_id)
                else:
                    sources.add(source_id)
    sources |= await _periodic_sources(session, profile, horizon)
    return Scope(sorted(sources), sorted(sourceless), settled)


async def remember(session: AsyncSession, writes: Sequence[Remember]) -> None:
    """Write these instants, one UPDATE per source (however many it gets), each only where the
    source's revision is the one read before what it is based on (see above). The nudger writes
    them last in its tick, after the nudge rows: a button press locks its nudge row, then the
    source's (its contact), and taking them in the same order means neither ever waits for the
    other in a circle."""
    by_source: dict[tuple[int, int], dict[str, datetime]] = defaultdict(dict)
    for write in writes:
        by_source[write.source_id, write.revision][write.column.key] = write.value
    alike: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)  # an executemany per set of columns
    for (source_id, revision), values in by_source.items():
        alike[tuple(sorted(values))].append({"source": source_id, "revision": revision, **values})
    connection = await session.connection()  # an executemany, not the ORM's bulk update by primary key
    for names, rows in alike.items():
        await connection.execute(
            update(Source).where(Source.id == bindparam("source"), Source.story_revision == bindparam("revision"))
            .values({name: bindparam(name, type_=Source.__table__.c[name].type) for name in names}), rows)


@dataclass(frozen=True)
class _SettledRule:
    """A referral rule whose nudges are tracked per source by a settled instant (see above)."""

    kind: NudgeKind
    #: Referrals after it may have this nudge open: the source's settled instant, or a later one.
    bound: ColumnElement[datetime]
    #: What else a referral needs to have this nudge open, and the instant its due time is taken from.
    open: tuple[ColumnElement[bool], ...]
    instant: Any
    due: Callable[[datetime, Profile], datetime]

    @property
    def settled(self) -> Any:
        return SETTLED_THROUGH[self.kind]


def _later(first: Any, second: Any) -> Any:
    """The later of two instants that are never NULL (`greatest` is not portable SQL)."""
    return case((first > second, first), else_=second)


#: When a referral first reached a closing status: the rules' outcome time.
_OUTCOME_AT = (select(func.min(ReferralEvent.at))
               .where(ReferralEvent.referral_id == Referral.id,
                      ReferralEvent.status.in_([status.value for status in CLOSING_STATUSES]))
               .correlate_except(ReferralEvent).scalar_subquery())
#: Thank-yous: a referral that arrived before the source's last thank-you is thanked (the rules
#: ask for one at or after its arrival), so the bound is that thank-you or the settled instant.
_THANK_SOURCE = _SettledRule(
    NudgeKind.THANK_SOURCE,
    _later(func.coalesce(Source.last_thanked_at, NEVER), func.coalesce(Source.thank_source_settled_through, NEVER)),
    (), Referral.created_at, thank_due)
#: Updates: closed, with consent to updates, and no update sent to the source since the outcome.
_CLOSE_LOOP = _SettledRule(
    NudgeKind.CLOSE_LOOP, func.coalesce(Source.close_loop_settled_through, NEVER),
    (Referral.consent_to_update.is_(True), Referral.status.in_([status.value for status in CLOSING_STATUSES]),
     _OUTCOME_AT.is_not(None), or_(Source.last_update_sent_at.is_(None), Source.last_update_sent_at < _OUTCOME_AT)),
    _OUTCOME_AT, lambda outcome, _: outcome)


async def _settled_by_source(session: AsyncSession, rule: _SettledRule, profile: Profile,
                             horizon: datetime) -> tuple[set[int], list[Remember]]:
    """The sources with a `rule` nudge due by `horizon` that has not ended, read from the referrals
    after each source's bound; and each source's settled instant moved forward to just before its
    earliest referral found open, else to its last referral.

    The sources come first (their columns, one pass over sources), then their referrals by ids in
    batches: a join would leave PostgreSQL guessing how many sources pass and hashing all referrals."""
    behind = (await session.execute(select(Source.id, Source.last_referral_at, rule.settled, Source.story_revision)
                                    .where(Source.last_referral_at > rule.bound))).all()
    due: set[int] = set()
    earliest: dict[int, datetime] = {}
    for batch in batches([source_id for source_id, *_ in behind]):
        open_referrals = (select(Referral.source_id, Referral.created_at, rule.instant)
                          .join(Source, Source.id == Referral.source_id)
                          .where(Source.id.in_(batch), Referral.created_at > rule.bound, *rule.open,
                                 ~_referral_nudge_ended(rule.kind)))
        for source_id, arrived, instant in await session.execute(open_referrals):
            earliest[source_id] = min(arrived, earliest.get(source_id, arrived))
            if rule.due(instant, profile) <= horizon:
                due.add(source_id)
    moved = []
    for source_id, latest, settled, revision in behind:
        forward = earliest[source_id] - timedelta(microseconds=1) if source_id in earliest else latest
        if settled is None or forward > settled:
            moved.append(Remember(rule.settled, source_id, revision, forward))
    return due, moved


async def _periodic_sources(session: AsyncSession, profile: Profile, horizon: datetime) -> set[int]:
    """The sources where a periodic rule that is on yields a nudge due by `horizon` that has not
    ended.

    The columns pick the sources first, in one pass over sources; the exact due time of
    stay-in-touch and lapsed-source nudges is taken here from the same anchors; the lookups in
    history (how many referrals) follow for just the sources left, by ids in batches. In one
    statement PostgreSQL would price every lookup for every source, and spend more time compiling
    the query (JIT) than running it."""
    rules = profile.nudges
    stay_anchor = func.coalesce(Source.last_touch_at, Source.created_at)
    back = func.coalesce(Source.last_referred_back_at, NEVER)
    picked: dict[str, ColumnElement[bool]] = {}
    looked_up: dict[str, ColumnElement[bool]] = {}
    if rules.stay_in_touch.enabled:
        picked["stay"] = and_(_not_ended(NudgeKind.STAY_IN_TOUCH, stay_anchor),
                              _quiet_too_long(rules.stay_in_touch, stay_anchor, horizon))
    if rules.reciprocity.enabled:
        picked["reciprocity"] = and_(Source.last_referral_at > back, _not_ended(NudgeKind.RECIPROCITY, back))
        looked_up["reciprocity"] = _kth_referral(rules.reciprocity.referrals, Referral.created_at > back) <= horizon
    if rules.lapsed_source.enabled:
        lapsed = rules.lapsed_source
        picked["lapsed"] = and_(Source.last_referral_at <= horizon - timedelta(days=lapsed.days) + CALENDAR_SLACK,
                                _not_ended(NudgeKind.LAPSED_SOURCE, Source.last_referral_at))
        looked_up["lapsed"] = _kth_referral(lapsed.min_referrals).is_not(None)
    if not picked:
        return set()
    found: set[int] = set()
    to_look_up: dict[str, list[int]] = {name: [] for name in looked_up}
    query = select(Source.id, Source.type, Source.tier, stay_anchor.label("stay_anchor"), Source.last_referral_at,
                   *(condition.label(name) for name, condition in picked.items())).where(or_(*picked.values()))
    for row in (await session.execute(query)).mappings():
        if row.get("stay") and stay_in_touch_due(row["stay_anchor"], row["type"], row["tier"], profile) <= horizon:
            found.add(row["id"])
        if row.get("reciprocity"):
            to_look_up["reciprocity"].append(row["id"])
        if row.get("lapsed") and lapsed_source_due(row["last_referral_at"], profile) <= horizon:
            to_look_up["lapsed"].append(row["id"])
    for name, ids in to_look_up.items():
        for batch in batches(sorted(set(ids) - found)):
            found.update((await session.execute(select(Source.id).where(Source.id.in_(batch), looked_up[name])))
                         .scalars())
    return found


def _not_ended(kind: NudgeKind, anchor: Any) -> ColumnElement[bool]:
    """The rule's nudge for the source's current `anchor` is not the one remembered as ended."""
    return ENDED_ANCHOR[kind].is_distinct_from(anchor)


def _quiet_too_long(stay: StayInTouchRule, anchor: Any, horizon: datetime) -> ColumnElement[bool]:
    """The source's stay-in-touch period (`StayInTouchRule.days_for`: its tier's, else its type's,
    else the default) has run out by `horizon`, give or take a day: one comparison per distinct
    period, since date arithmetic on a column is not portable SQL."""
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


def _kth_referral(k: int, *where: ColumnElement[bool]) -> Any:
    """When the source's k-th referral (of those matching `where`) arrived; NULL if it has fewer:
    one range of the index on referrals (source_id, created_at).

    Every subquery here names the one table it reads and correlates to all others: auto-correlation
    only looks one level up and would read all sources instead."""
    return (select(Referral.created_at).where(Referral.source_id == Source.id, *where)
            .order_by(Referral.created_at).offset(k - 1).limit(1).correlate_except(Referral).scalar_subquery())


def _referral_nudge_ended(kind: NudgeKind) -> ColumnElement[bool]:
    return (select(NudgeRecord.id).where(NudgeRecord.referral_id == Referral.id, NudgeRecord.kind == kind.value,
                                         NudgeRecord.state.in_(ENDED)).correlate_except(NudgeRecord).exists())
