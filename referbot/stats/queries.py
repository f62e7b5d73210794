"""The SQL behind the stats: every count is a GROUP BY / COUNT / SUM(CASE …) in the database.

A read model, not a repository: these queries answer reporting questions and never load ORM
objects. They run unchanged on SQLite and PostgreSQL. Two portability rules shape them:
- time windows and month boundaries arrive as bound instants (see `periods`), so neither database
  converts time zones or formats dates;
- nothing is grouped by an expression that carries a bound parameter (PostgreSQL treats `$1` in
  the SELECT list and `$5` in GROUP BY as different expressions); such expressions are computed in
  a subquery and grouped outside it, and NULL source types are named in Python instead.

A rolling window reads its referrals (`counted_in`); all time reads the running tallies the writes
keep (`referbot.store.tallies`: one row per source) and takes off what came after the report's end
(`counted_until`), so it does not read all of history.

Indexes used: referrals(created_at) for every window (the funnel reads `Referral.reached`) and for
what came after an all-time report's end, touchpoints(source_id, kind, at) and
referrals(source_id, created_at) for thank-yous owed, touchpoints(kind, at) for referrals back.
`python -m bench.explain` prints the plans.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from sqlalchemy import ColumnElement, Integer, Row, Select, Subquery, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import FUNNEL, NEVER, FitVerdict, TouchpointKind
from referbot.stats.periods import Month, Window
from referbot.store.models import NO_SOURCE, ChannelTally, Referral, Source, SourceTally, Touchpoint, WaitTally
from referbot.store.tallies import wait_minutes

BECAME_CLIENT_RANK = len(FUNNEL)
GOOD_FIT = FitVerdict.GOOD_FIT.value


def in_window(column: Any, window: Window) -> ColumnElement[bool]:
    bounds = ([] if window.start is None else [column > window.start]) + ([] if window.end is None
                                                                          else [column <= window.end])
    return and_(*bounds)


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
    return _channels_and_verdicts((await session.execute(query)).all())


def _channels_and_verdicts(rows: Any) -> tuple[dict[str | None, int], dict[str | None, int]]:
    """(channel, verdict, count) rows as referrals per channel and per verdict, most first."""
    channels: Counter[str | None] = Counter()
    verdicts: Counter[str | None] = Counter()
    for channel, verdict, n in rows:
        channels[channel] += int(n)
        verdicts[verdict] += int(n)
    return _most_first(channels.items()), _most_first(verdicts.items())


class SourceRow(NamedTuple):
    """One source's referrals in the window, with how far down the funnel they went. A tuple, as
    the query returns it: an all-time report has one per source, tens of thousands of them."""

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
    query = (select(counted.c.source_id, Source.name, Source.type, counted.c.referrals, counted.c.good,
                    counted.c.client, counted.c.good_client, counted.c.contacted, counted.c.booked, Source.organisation)
             .select_from(counted).outerjoin(Source, Source.id == counted.c.source_id))
    return await _source_rows(session, query)


async def _source_rows(session: AsyncSession, query: Select[Any]) -> list[SourceRow]:
    """The rows of `query` (SourceRow's columns, in its order) as SourceRows, most referrals first."""
    return _ranked(SourceRow(*row) for row in await _rows(session, query))


async def _rows(session: AsyncSession, query: Select[Any]) -> Sequence[Row[Any]]:
    """The rows of a query that returns one per source, run on the session's connection without
    the ORM's processing of each row (an all-time report has tens of thousands)."""
    return (await (await session.connection()).execute(query)).all()


def _rank(row: SourceRow) -> tuple[int, bool, str, int]:
    return -row.referrals, row.name is None, row.name or "", row.source_id or 0


def _ranked(rows: Iterable[SourceRow]) -> list[SourceRow]:
    return sorted(rows, key=_rank)


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


async def wait_counts(session: AsyncSession, window: Window) -> Counter[int]:
    """Contacted referrals in `window` per whole minutes from arrival to first contact (the unit
    of the median, `referbot.store.tallies.wait_minutes`). PostgreSQL counts them; SQLite cannot
    subtract times exactly, and a practice on SQLite is small, so there they are counted here."""
    contacted = and_(in_window(Referral.created_at, window), Referral.first_contact_at.is_not(None))
    if session.bind.dialect.name == "postgresql":
        seconds = func.extract("epoch", Referral.first_contact_at - Referral.created_at)
        waits = select(cast(func.floor(seconds / 60), Integer).label("minutes")).where(contacted).subquery("waits")
        query = select(waits.c.minutes, func.count()).group_by(waits.c.minutes)
        return Counter({int(minutes): int(n) for minutes, n in (await session.execute(query)).all()})
    rows = (await session.execute(select(Referral.created_at, Referral.first_contact_at).where(contacted))).all()
    return Counter(wait_minutes(created, contact) for created, contact in rows)


def median_hours(waits: Mapping[int, int]) -> float | None:
    """The median of waits counted per whole minute, in hours (None without any)."""
    total = sum(waits.values())
    if total <= 0:
        return None
    lower, upper, seen, low = (total - 1) // 2, total // 2, 0, None
    for minutes in sorted(m for m, n in waits.items() if n > 0):
        seen += waits[minutes]
        if low is None and seen > lower:
            low = minutes
        if seen > upper:
            return (low + minutes) / 2 / 60
    raise AssertionError("unreachable: the counts add up to `total`")


#: Per source id: (name, type, clients we referred to it).
Sent = dict[int, tuple[str, str, int]]


@dataclass(frozen=True)
class Counts:
    """The figures of a report that count what happened in its window: its referrals per source
    (with how far down the funnel), per channel, per verdict, their waits for first contact per
    whole minute, and the clients referred back per source."""

    sources: list[SourceRow]
    channels: dict[str | None, int]
    verdicts: dict[str | None, int]
    waits: Counter[int]
    sent: Sent

    def minus(self, other: "Counts") -> "Counts":
        """These counts without `other`'s (a part of the same history)."""
        if not other.sources and not other.sent:  # nothing to take off
            return self
        taken = {row.source_id: row for row in other.sources}
        sources = [_less(row, taken[row.source_id]) if row.source_id in taken else row for row in self.sources]
        sent = {sid: (name, kind, n - other.sent.get(sid, ("", "", 0))[2]) for sid, (name, kind, n) in self.sent.items()}
        return Counts(_ranked(row for row in sources if row.referrals > 0), _without(self.channels, other.channels),
                      _without(self.verdicts, other.verdicts), Counter(self.waits) - other.waits,
                      {sid: entry for sid, entry in sent.items() if entry[2] > 0})


def _less(row: SourceRow, other: SourceRow) -> SourceRow:
    return row._replace(**{name: getattr(row, name) - getattr(other, name) for name in _SOURCE_COUNTS})


def _without(counts: dict[str | None, int], other: dict[str | None, int]) -> dict[str | None, int]:
    return _most_first((key, n - other.get(key, 0)) for key, n in counts.items() if n - other.get(key, 0) > 0)


_SOURCE_COUNTS = ("referrals", "good_fit", "became_client", "good_fit_clients", "contacted", "consult_booked")


async def counted_in(session: AsyncSession, window: Window) -> Counts:
    """What happened in `window`, counted from the referral and touchpoint rows."""
    channels, verdicts = await count_by_channel_and_verdict(session, window)
    return Counts(await per_source(session, window_referrals(window)), channels, verdicts,
                  await wait_counts(session, window), await referred_back(session, window))


def source_tallies_query() -> Select[Any]:
    """Each source's tallies with its name, type and organisation: SourceRow's columns, then the
    clients referred back. One pass over the tallies (a row per source) and the sources."""
    tally = SourceTally
    return (select(func.nullif(tally.source_key, NO_SOURCE), Source.name, Source.type,
                   *(getattr(tally, name) for name in _SOURCE_COUNTS), Source.organisation, tally.referred_back)
            .select_from(tally).outerjoin(Source, Source.id == tally.source_key)
            .where(or_(tally.referrals > 0, tally.referred_back > 0)))


async def counted_until(session: AsyncSession, end: datetime) -> Counts:
    """What happened up to `end`: the running tallies of all history (`referbot.store.tallies`, a
    few rows per source), less what came after `end`, read from the rows (nothing, for a report as
    of now). So an all-time report costs what the practice's sources number, not what its history
    holds. One pass over the source tallies gives both the referrals and the referrals back."""
    rows = await _rows(session, source_tallies_query())
    channels = select(ChannelTally.channel, ChannelTally.verdict, ChannelTally.referrals).where(
        ChannelTally.referrals > 0)
    waits = select(WaitTally.minutes, WaitTally.referrals).where(WaitTally.referrals > 0)
    tallied = Counts(_ranked(SourceRow(*row[:-1]) for row in rows if row[3] > 0),
                     *_channels_and_verdicts(await _rows(session, channels)),
                     Counter(dict(await _rows(session, waits))),
                     {row[0]: (row[1], row[2], row[-1]) for row in rows if row[-1] > 0})
    return tallied.minus(await counted_in(session, Window(end, None)))


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


async def referred_back(session: AsyncSession, window: Window) -> Sent:
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
