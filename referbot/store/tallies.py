"""Running counts of every referral ever, so an all-time report sums a few rows per source instead
of reading a million referrals (`referbot.stats.queries`).

Three tallies (models `SourceTally`, `ChannelTally`, `WaitTally`): per source, the referrals, good
fits and how far down the funnel they went, and the clients referred back to it; per channel and
verdict, the referrals; per whole minutes from arrival to first contact, the contacted referrals.
What one referral adds to them is its `Counted`: its source, channel, verdict, furthest funnel
stage and wait.

They stay right because whoever changes one of those attributes moves the counts in the same
transaction, from what the referral counted before to what it counts after (`recount`):
`Referrals.add` (a new referral), `record_change` (a status: the stage and the first contact),
the fit judged again after a correction (the verdict), a referral moved to another source, and a
merge of two sources (`merge_sources`); `Touchpoints.add` counts a client referred back
(`count_referred_back`), and touchpoints are never deleted or re-dated. Erasure keeps the
de-identified rows and their counts.
Migration 0010 computed the counts from the rows once (`BACKFILL` there; `bench.history` too).

Rows are changed with one UPSERT each, adding a delta under the row's lock, so concurrent writers
never lose each other's counts; they are taken in one order (sources, channels, waits, each by
key) so two writers never wait on each other in a circle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from referbot.domain import FUNNEL, FitVerdict
from referbot.store.models import NO_SOURCE, ChannelTally, Referral, SourceTally, WaitTally
from referbot.store.upserts import insert_for

#: The counts of a `SourceTally` row, in column order.
SOURCE_COUNTS = ("referrals", "good_fit", "contacted", "consult_booked", "became_client", "good_fit_clients",
                 "referred_back")
BECAME_CLIENT_STAGE = len(FUNNEL)


def wait_minutes(created: datetime, first_contact: datetime) -> int:
    """Whole minutes from arrival to first contact (rounded down): the unit of the median wait."""
    return (first_contact - created) // timedelta(minutes=1)


@dataclass(frozen=True)
class Counted:
    """What one referral adds to the tallies."""

    source_key: int
    channel: str
    verdict: str
    reached: int
    wait: int | None  # whole minutes to first contact; None while not contacted

    @classmethod
    def of(cls, referral: Referral) -> "Counted":
        contact = referral.first_contact_at
        return cls(NO_SOURCE if referral.source_id is None else referral.source_id, referral.channel,
                   referral.verdict, referral.reached or 0,
                   None if contact is None else wait_minutes(referral.created_at, contact))

    def source_counts(self) -> dict[str, int]:
        good = self.verdict == FitVerdict.GOOD_FIT.value
        client = self.reached >= BECAME_CLIENT_STAGE
        return {"referrals": 1, "good_fit": int(good), "contacted": int(self.reached >= 1),
                "consult_booked": int(self.reached >= 2), "became_client": int(client),
                "good_fit_clients": int(good and client)}


async def recount(session: AsyncSession, before: Counted | None, after: Counted | None) -> None:
    """Move the tallies from what a referral counted (`before`; None for a new one) to what it
    counts now (`after`); only the rows whose counts change are written."""
    sources: dict[int, Counter[str]] = {}
    channels: Counter[tuple[str, str]] = Counter()
    waits: Counter[int] = Counter()
    for counted, sign in ((before, -1), (after, 1)):
        if counted is None:
            continue
        row = sources.setdefault(counted.source_key, Counter())
        for name, count in counted.source_counts().items():
            row[name] += sign * count
        channels[(counted.channel, counted.verdict)] += sign
        if counted.wait is not None:
            waits[counted.wait] += sign
    for key, counts in sorted(sources.items()):
        await _add(session, SourceTally.__table__, {"source_key": key}, counts)
    for (channel, verdict), count in sorted(channels.items()):
        await _add(session, ChannelTally.__table__, {"channel": channel, "verdict": verdict}, {"referrals": count})
    for minutes, count in sorted(waits.items()):
        await _add(session, WaitTally.__table__, {"minutes": minutes}, {"referrals": count})


async def count_referred_back(session: AsyncSession, source_id: int) -> None:
    """A client was referred back to source `source_id` (a `referred_back` touchpoint)."""
    await _add(session, SourceTally.__table__, {"source_key": source_id}, {"referred_back": 1})


async def merge_sources(session: AsyncSession, gone: int, kept: int) -> None:
    """A merge moved every referral of source `gone` to `kept`: so do its counts."""
    table = SourceTally.__table__
    row = (await session.execute(select(*(table.c[name] for name in SOURCE_COUNTS))
                                 .where(table.c.source_key == gone))).one_or_none()
    if row is None:
        return
    await session.execute(delete(table).where(table.c.source_key == gone))
    await _add(session, table, {"source_key": kept}, dict(zip(SOURCE_COUNTS, row)))


async def _add(session: AsyncSession, table: Table, key: Mapping[str, Any], deltas: Mapping[str, int]) -> None:
    """Add `deltas` to the counts of the row `key`, creating it if it is not there yet."""
    changed = {name: delta for name, delta in deltas.items() if delta}
    if not changed:
        return
    statement = insert_for(session, table).values({**key, **{name: deltas.get(name, 0) for name in _counts(table)}})
    await session.execute(statement.on_conflict_do_update(
        index_elements=list(key), set_={name: table.c[name] + statement.excluded[name] for name in changed}))


def _counts(table: Table) -> list[str]:
    return [column.name for column in table.columns if not column.primary_key]
