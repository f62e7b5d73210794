"""The SQL behind the stats: every count is a GROUP BY / COUNT / SUM(CASE …) in the database.

A read model, not a repository: these queries answer reporting questions and never load ORM
objects. They run unchanged on SQLite and PostgreSQL. Two portability rules shape them:
- time windows and month boundaries arrive as bound instants (see `periods`), so neither database
  converts time zones or formats dates;
- nothing is grouped by an expression that carries a bound parameter (PostgreSQL treats `$1` in
  the SELECT list and `$5` in GROUP BY as different expressions); such expressions are computed in
  a subquery and grouped outside it, and NULL source types are named in Python instead.

Indexes used: referrals(created_at) for every window (the funnel reads `Referral.reached`),
touchpoints(source_id, kind, at) and referrals(source_id, created_at) for thank-yous owed,
touchpoints(kind, at) for referrals back. `python -m bench.explain` prints the plans.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import FUNNEL, NEVER, FitVerdict, TouchpointKind
from referbot.stats.periods import Month, Window
from referbot.store.models import Referral, Source, Touchpoint

BECAME_CLIENT_RANK = len(FUNNEL)
GOOD_FIT = FitVerdict.GOOD_FIT.value


def in_window(column: Any, window: Window) -> ColumnElement[bool]:
    if window.start is None:
        return column <= window.end
    return and_(column > window.start, column <= window.end)


def _count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def window_referrals(window: Window) -> Subquery:
    """Referrals created in `window`, each with `reached`: the furthest funnel stage its status
    history touched since its last forced correction (0 = still only a referral, 3 = became a
    client), kept on the referral's row by `record_change` (migration 0009 computed it for the
    history before), so a report reads the referrals of its window and nothing else."""
    return (select(Referral.id, Referral.source_id, Referral.channel, Referral.verdict, Referral.reached)
            .where(in_window(Referral.created_at, window))
            .subquery("window_referrals"))


async def count_referrals(session: AsyncSession, window: Window) -> int:
    query = select(func.count()).select_from(Referral).where(in_window(Referral.created_at, window))
    return int((await session.execute(query)).scalar_one())


def _most_first(rows: Any) -> dict[str | None, int]:
    """(key, count) rows as a dict, most first, ties by key and None last. Sorted here because the
    two databases disagree on where NULL sorts."""
    pairs = [(key, int(n)) for key, n in rows]
    return dict(sorted(pairs, key=lambda pair: (-pair[1], pair[0] is None, pair[0] or "")))


async def count_by_channel_and_verdict(session: AsyncSession,
                                      window: Window) -> tuple[dict[str | None, int], dict[str | None, int]]:
    """Referrals in `window` per channel and per verdict, from one GROUP BY over referrals alone
    (neither needs the status history)."""
    query = (select(Referral.channel, Referral.verdict, func.count())
             .where(in_window(Referral.created_at, window)).group_by(Referral.channel, Referral.verdict))
    channels: dict[str | None, int] = {}
    verdicts: dict[str | None, int] = {}
    for channel, verdict, n in (await session.execute(query)).all():
        channels[channel] = channels.get(channel, 0) + int(n)
        verdicts[verdict] = verdicts.get(verdict, 0) + int(n)
    return _most_first(channels.items()), _most_first(verdicts.items())


@dataclass(frozen=True)
class SourceRow:
    """One source's referrals in the window, with how far down the funnel they went."""

    source_id: int | None
    name: str | None
    type: str | None
    referrals: int
    good_fit: int
    became_client: int
    good_fit_clients: int  # good fit AND became a client: what "top sources" are ranked by
    contacted: int = 0  # reached contacted or a later stage
    consult_booked: int = 0  # reached consult_booked or a later stage
    organisation: str | None = None  # to roll the figures up per organisation (a school, a clinic)


async def per_source(session: AsyncSession, base: Subquery) -> list[SourceRow]:
    """Every figure that needs a referral's furthest funnel stage, per source, in one pass over
    `base`: the funnel and per-type counts are summed from these rows. The referrals are counted per
    source id first and only the counts meet the sources (name, type, organisation): grouping a
    million referrals by four columns of text spilled to disk where one integer key does not."""
    good = base.c.verdict == GOOD_FIT
    client = base.c.reached >= BECAME_CLIENT_RANK
    counted = (select(base.c.source_id, func.count().label("referrals"), _count_when(good).label("good"),
                      _count_when(client).label("client"), _count_when(and_(good, client)).label("good_client"),
                      _count_when(base.c.reached >= 1).label("contacted"),
                      _count_when(base.c.reached >= 2).label("booked"))
               .group_by(base.c.source_id).subquery("per_source"))
    query = (select(counted.c.source_id, Source.name, Source.type, Source.organisation, counted.c.referrals,
                    counted.c.good, counted.c.client, counted.c.good_client, counted.c.contacted, counted.c.booked)
             .select_from(counted).outerjoin(Source, Source.id == counted.c.source_id))
    rows = [SourceRow(sid, name, kind, *(int(n) for n in counts), organisation=organisation)
            for sid, name, kind, organisation, *counts in (await session.execute(query)).all()]
    return sorted(rows, key=lambda r: (-r.referrals, r.name is None, r.name or "", r.source_id or 0))


def funnel_counts(rows: list[SourceRow]) -> list[int]:
    """[referrals, contacted, consult_booked, became_client] summed over the per-source rows."""
    return [sum(r.referrals for r in rows), sum(r.contacted for r in rows), sum(r.consult_booked for r in rows),
            sum(r.became_client for r in rows)]


def count_by_source_type(rows: list[SourceRow]) -> dict[str | None, int]:
    """Referrals per source type (None: referrals whose source is unknown), from the per-source rows."""
    counts: dict[str | None, int] = {}
    for row in rows:
        counts[row.type] = counts.get(row.type, 0) + row.referrals
    return _most_first(counts.items())


async def median_first_contact_hours(session: AsyncSession, window: Window) -> float | None:
    """Median hours from arrival to first contact of the contacted referrals in `window`.

    PostgreSQL computes it (percentile_cont), so a year of history is not shipped to Python;
    SQLite has no median, and a practice on SQLite is small, so it is taken here."""
    contacted = and_(in_window(Referral.created_at, window), Referral.first_contact_at.is_not(None))
    if session.bind.dialect.name == "postgresql":
        seconds = func.extract("epoch", Referral.first_contact_at - Referral.created_at)
        median = select(func.percentile_cont(0.5).within_group(seconds)).where(contacted)
        value = (await session.execute(median)).scalar_one()
        return None if value is None else float(value) / 3600
    rows = (await session.execute(select(Referral.created_at, Referral.first_contact_at).where(contacted))).all()
    hours = [(contact - created).total_seconds() / 3600 for created, contact in rows]
    return statistics.median(hours) if hours else None




@dataclass(frozen=True)
class OwedRow:
    source_id: int
    name: str
    type: str
    referrals: int  # referrals with no thank-you after them
    since: datetime  # the oldest of them


async def thanks_owed(session: AsyncSession, now: datetime) -> list[OwedRow]:
    """Sources with a referral (up to `now`) that no `thanked` touchpoint followed, oldest first."""
    return [OwedRow(sid, name, kind, int(n), since)
            for sid, name, kind, n, since in (await session.execute(thanks_owed_query(now))).all()]


def thanks_owed_query(now: datetime) -> Select[Any]:
    """Sources with a referral (up to `now`) that no `thanked` touchpoint followed, oldest first.

    A referral is owed a thank-you when it arrived after its source's last thank-you (up to `now`).
    The sources that can owe one are picked from the activity each source row keeps
    (`Source.last_referral_at`, `Source.last_thanked_at`): those whose last referral came after
    their last thank-you, and those thanked after `now` (a report for an earlier `now`), whose last
    thank-you up to `now` the column does not tell. For just those, the last thank-you up to `now`
    is one index lookup (touchpoints by source, kind, time) and the owed referrals one range of
    referrals by (source, created_at), counted in one join: the work grows with what is owed, not
    with all history."""
    last_thanked = (select(func.max(Touchpoint.at))
                    .where(Touchpoint.source_id == Source.id, Touchpoint.kind == TouchpointKind.THANKED.value,
                           Touchpoint.at <= now).scalar_subquery())
    may_owe = or_(Source.last_referral_at > func.coalesce(Source.last_thanked_at, NEVER), Source.last_thanked_at > now)
    # OFFSET 0 keeps PostgreSQL from flattening the subquery and looking up the last thank-you per referral.
    sources = (select(Source.id, Source.name, Source.type, func.coalesce(last_thanked, NEVER).label("thanked"))
               .where(may_owe).offset(0).subquery("thanked"))
    since = func.min(Referral.created_at).label("since")
    owed = and_(Referral.source_id == sources.c.id, Referral.created_at > sources.c.thanked, Referral.created_at <= now)
    return (select(sources.c.id, sources.c.name, sources.c.type, func.count().label("referrals"), since)
            .select_from(sources).join(Referral, owed).group_by(sources.c.id, sources.c.name, sources.c.type)
            .order_by(since, sources.c.name, sources.c.id))


async def referred_back(session: AsyncSession, window: Window) -> dict[int, tuple[str, str, int]]:
    """Per source id: (name, type, clients we referred to it in `window`)."""
    query = (select(Source.id, Source.name, Source.type, func.count())
             .select_from(Touchpoint).join(Source, Source.id == Touchpoint.source_id)
             .where(Touchpoint.kind == TouchpointKind.REFERRED_BACK.value, in_window(Touchpoint.at, window))
             .group_by(Source.id, Source.name, Source.type))
    return {sid: (name, kind, int(n)) for sid, name, kind, n in (await session.execute(query)).all()}


@dataclass(frozen=True)
class MonthRow:
    month: str
    source_type: str | None
    referrals: int
    good_fit: int


async def per_month(session: AsyncSession, months: list[Month], now: datetime) -> list[MonthRow]:
    """Referrals and good fits per calendar month and source type over `months`, up to `now`."""
    label = case(*((and_(Referral.created_at >= m.start, Referral.created_at < m.end), m.label) for m in months))
    inner = (select(label.label("month"), Source.type.label("source_type"), Referral.verdict)
             .outerjoin(Source, Source.id == Referral.source_id)
             .where(Referral.created_at >= months[0].start, Referral.created_at < months[-1].end,
                    Referral.created_at <= now)
             .subquery("monthly"))
    query = (select(inner.c.month, inner.c.source_type, func.count(), _count_when(inner.c.verdict == GOOD_FIT))
             .group_by(inner.c.month, inner.c.source_type))
    return [MonthRow(month, kind, int(n), int(good)) for month, kind, n, good in (await session.execute(query)).all()]
