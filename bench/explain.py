"""EXPLAIN ANALYZE of every hot query on PostgreSQL over generated history: the plans behind the
indexes of migration 0007 and the ones before it.

    python -m bench.explain [--referrals 100000]

Turn path: the conversation row locked FOR UPDATE, the delivery id recorded once. Background: the
outbox claim (SKIP LOCKED), waiting nudges, the nudge claim. Stats: the per-source funnel
aggregate and channel and verdict counts over a window, the source tallies an all-time report
reads, thanks owed, referrals back.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from bench.history import NOW, generate
from bench.servers import Databases
from referbot.domain import NudgeState
from referbot.stats import queries
from referbot.stats.periods import period_windows
from referbot.store import Database
from referbot.store.models import Conversation, NudgeRecord, ProcessedEvent
from referbot.store.repositories import Outbox


def hot_queries() -> dict[str, Any]:
    month, year = period_windows("30d", NOW).current, period_windows("365d", NOW).current
    waiting = or_(NudgeRecord.state == NudgeState.PENDING.value,
                  and_(NudgeRecord.state == NudgeState.SNOOZED.value, NudgeRecord.snoozed_until <= NOW))
    return {
        "turn: conversation FOR UPDATE": select(Conversation).where(
            Conversation.channel == "telegram", Conversation.user_id == "42").with_for_update(),
        "turn: record delivery id": insert(ProcessedEvent).values(channel="telegram", event_id="1:2", at=NOW)
        .on_conflict_do_nothing(index_elements=["channel", "event_id"]).returning(ProcessedEvent.at),
        "outbox claim (SKIP LOCKED)": Outbox._claimable(NOW, ["referral_alert", "crisis_alert", "nudge"], 10).element,
        "nudges waiting": select(NudgeRecord).where(waiting).order_by(NudgeRecord.due_at, NudgeRecord.id),
        "nudge claim": update(NudgeRecord).where(NudgeRecord.id.in_([1, 2, 3]), NudgeRecord.notified_at.is_(None))
        .values(notified_at=NOW),
        "stats per source, 30 days": _per_source(month),
        "stats per source, 365 days": _per_source(year),
        "stats channel and verdict, 365 days": select(queries.Referral.channel, queries.Referral.verdict)
        .where(queries.in_window(queries.Referral.created_at, year)),
        "stats all time: source tallies": queries.source_tallies_query(),
        "stats thanks owed": queries.thanks_owed_query(NOW),
        "stats referred back, 30 days": _referred_back(month),
    }


def _per_source(window: Any) -> Any:
    base = queries.window_referrals(window)
    return select(base.c.source_id, queries.func.count()).group_by(base.c.source_id)


def _referred_back(window: Any) -> Any:
    return (select(queries.Touchpoint.source_id, queries.func.count())
            .where(queries.Touchpoint.kind == "referred_back", queries.in_window(queries.Touchpoint.at, window))
            .group_by(queries.Touchpoint.source_id))


async def explain(database: Database, statement: Any) -> str:
    async with database.engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        rows = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {compiled}", params)
        plan = "\n".join(f"    {row[0]}" for row in rows)
        await connection.rollback()  # EXPLAIN ANALYZE of an UPDATE runs it
        return plan


async def main(referrals: int) -> None:
    databases = Databases()
    try:
        async with databases.fresh("postgresql") as database:
            await generate(database, referrals)
            for name, statement in hot_queries().items():
                print(f"{name}:\n{await explain(database, statement)}\n")
    finally:
        databases.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().referrals))
