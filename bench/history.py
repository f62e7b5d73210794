"""The nudger and the stats against years of history on PostgreSQL: 10k, 100k and 1M referrals.

History is generated inside PostgreSQL (`INSERT … SELECT generate_series`), so 1M referrals take
seconds rather than an hour of ORM inserts. Its shape: ten years of referrals; sources 5% as many
(some referrals anonymous); a `new` event and, for all but the last days' referrals, an outcome;
a `referral_received` touchpoint per referral with a source, a `thanked` one for most, an
`update_sent` for most closed referrals whose client agreed to updates, check-ins and referrals
back in proportion; thank-you and close-the-loop nudges already acted on where no such contact was
logged; and what the writes keep beside the rows, computed from all that as the migrations that
added it do: each source's latest activity (0008), each referral's furthest funnel stage (0009)
and the stats' running tallies (0010).

Timed (median of the runs after a first one, which materialises what is due and remembers what
ended): `due_nudges` — what the nudger
computes every tick — on this history, where no periodic nudge was ever acted on so nearly every
source has one due, and again once the practice has dealt with everything due (the steady tick);
and `compute_stats` for all time (summed from the running tallies), the last 365 and the last 30
days. Growth per 10x is
the time at the largest size over the time at a tenth of it (linear would be 10).
"""

from __future__ import annotations

import importlib
import statistics
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable

from sqlalchemy import text

from bench.report import Result
from bench.servers import Databases
from referbot.nudger import due_nudges
from referbot.profile import Profile
from referbot.stats.report import compute_stats
from referbot.store import Database

NOW = datetime(2026, 3, 4, 16, 0, tzinfo=timezone.utc)
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
QUICK_SIZES = {"1k": 1_000, "10k": 10_000}

GENERATE = [
    """INSERT INTO sources (id, name, type, code, tier, created_at)
       SELECT g, 'Source ' || g, (ARRAY['physician','therapist','school','former_client','community_org',
                                        'online_platform','other'])[1 + g % 7],
              'source-' || g, CASE WHEN g % 10 = 0 THEN 'a' END, :now - interval '3660 days'
       FROM generate_series(1, :sources) g""",
    """INSERT INTO referrals (id, source_id, channel, referrer_user_id, client_name, client_age, presenting_issues,
                            issues, consent_to_contact, consent_to_update, answers, verdict, fit, crisis, status,
                            created_at, updated_at, first_contact_at)
       SELECT g, CASE WHEN g % 33 = 0 THEN NULL ELSE 1 + ((g::bigint * 7919) % :sources)::int END,
              (ARRAY['telegram','slack','web','console'])[1 + g % 4], 'u' || g, 'Client ' || g, 18 + g % 60,
              'low mood and panic at work', '[{"id": "anxiety", "score": 90.0, "evidence": "panic"}]'::json,
              g % 3 <> 0, g % 5 = 0, '{}'::json,
              (ARRAY['good_fit','possible_fit','not_a_fit'])[1 + g % 3], '{}'::json, false,
              CASE WHEN created > :now - interval '3 days' THEN 'new'
                   ELSE (ARRAY['contacted','consult_booked','became_client','not_a_fit','referred_out',
                               'no_response','declined_by_client'])[1 + g % 7] END,
              created, created, CASE WHEN created > :now - interval '3 days' THEN NULL
                                     ELSE created + interval '20 hours' END
       FROM generate_series(1, :referrals) g,
            LATERAL (SELECT :now - (:referrals - g) * (interval '3650 days' / :referrals) AS created) c""",
    """INSERT INTO referral_events (referral_id, status, by, at)
       SELECT id, 'new', 'bench', created_at FROM referrals
       UNION ALL
       SELECT id, status, 'bench', first_contact_at FROM referrals WHERE status <> 'new'""",
    """INSERT INTO touchpoints (source_id, kind, referral_id, by, at)
       SELECT source_id, 'referral_received', id, 'bench', created_at FROM referrals WHERE source_id IS NOT NULL
       UNION ALL
       SELECT source_id, 'thanked', id, 'bench', created_at + interval '2 days'
       FROM referrals WHERE source_id IS NOT NULL AND id % 10 <> 0 AND created_at < :now - interval '3 days'
       UNION ALL
       SELECT source_id, 'update_sent', id, 'bench', first_contact_at + interval '30 days'
       FROM referrals WHERE source_id IS NOT NULL AND consent_to_update AND id % 10 <> 5
                        AND status IN ('became_client','not_a_fit','referred_out','no_response','declined_by_client')
       UNION ALL
       SELECT 1 + ((g::bigint * 104729) % :sources)::int, (ARRAY['check_in','referred_back','event'])[1 + g % 3], NULL, 'bench',
              :now - (g % 3650) * interval '1 day'
       FROM generate_series(1, :referrals / 10) g""",
    """INSERT INTO nudges (key, kind, source_id, referral_id, due_at, state, snoozes, notified_at, text, draft,
                          acted_by, acted_at, created_at)
       SELECT 'thank_source:referral:' || id, 'thank_source', source_id, id, created_at + interval '2 days',
              CASE WHEN id % 20 = 0 THEN 'skipped' ELSE 'done' END, 0, created_at + interval '2 days', '', '',
              'bench', created_at + interval '3 days', created_at + interval '2 days'
       FROM referrals WHERE source_id IS NOT NULL AND id % 10 = 0 AND created_at < :now - interval '3 days'
       UNION ALL
       SELECT 'close_loop:referral:' || id, 'close_loop', source_id, id, first_contact_at, 'done', 0,
              first_contact_at, '', '', 'bench', first_contact_at + interval '1 day', first_contact_at
       FROM referrals WHERE source_id IS NOT NULL AND consent_to_update AND id % 10 = 5
                        AND status IN ('became_client','not_a_fit','referred_out','no_response','declined_by_client')""",
]
#: History written straight into the tables bypasses the writes that keep each source's latest
#: activity, each referral's furthest funnel stage and the stats' running tallies, so they are
#: computed afterwards as the migrations that added them do.
BACKFILL = [*(importlib.import_module(f"referbot.migrations.versions.{name}").BACKFILL
              for name in ("0008_source_activity", "0009_referral_reached")),
            *importlib.import_module("referbot.migrations.versions.0010_stats_tallies").backfill("postgresql")]
RESEQUENCE = ["SELECT setval(pg_get_serial_sequence('sources', 'id'), (SELECT max(id) FROM sources))",
              "SELECT setval(pg_get_serial_sequence('referrals', 'id'), (SELECT max(id) FROM referrals))",
              "ANALYZE"]


async def generate(database: Database, referrals: int) -> None:
    params = {"now": NOW, "referrals": referrals, "sources": max(1, referrals // 20)}
    async with database.engine.begin() as connection:
        for statement in GENERATE:
            typed = (statement.replace(":now", "CAST(:now AS timestamptz)")
                     .replace(":referrals", "CAST(:referrals AS integer)").replace(":sources", "CAST(:sources AS integer)"))
            await connection.execute(text(typed), params)
        # Statistics first: without them the funnel-stage backfill's lookup of each referral's last
        # forced correction scans every event per referral (quadratic: hours at 1M referrals).
        for statement in ["ANALYZE", *BACKFILL, *RESEQUENCE]:
            await connection.execute(text(statement))


async def _median_seconds(run: Callable[[], Awaitable[object]], repeats: int) -> float:
    await run()  # the first tick materialises what is due; later ticks are the steady state
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _steady_nudger_seconds(database: Database, profile: Profile, repeats: int) -> float:
    """A tick once the practice has dealt with every nudge due so far (here: skipped them all), so
    what is due next is only what arises anew: the tick of a practice that uses the nudger."""
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE nudges SET state = 'skipped', acted_by = 'bench', acted_at = :now "
                                      "WHERE state IN ('pending', 'snoozed')"), {"now": NOW})
    return await _median_seconds(lambda: due_nudges(database, profile, NOW), repeats)


async def measure(databases: Databases, profile: Profile, quick: bool) -> list[Result]:
    sizes = QUICK_SIZES if quick else SIZES
    timings: dict[str, dict[str, float]] = {}
    for label, referrals in sizes.items():
        async with databases.fresh("postgresql") as database:
            await generate(database, referrals)
            repeats = 1 if referrals >= 1_000_000 else 3
            timings[label] = {
                "nudger": await _median_seconds(lambda: due_nudges(database, profile, NOW), repeats),
                "nudger_steady": await _steady_nudger_seconds(database, profile, repeats),
                "stats": await _median_seconds(lambda: compute_stats(database, period="all", now=NOW), repeats),
                "stats_365d": await _median_seconds(lambda: compute_stats(database, period="365d", now=NOW), repeats),
                "stats_30d": await _median_seconds(lambda: compute_stats(database, period="30d", now=NOW), repeats),
            }
    results = [Result(f"{what}_s_postgresql_{label}", seconds, "s")
               for label, measured in timings.items() for what, seconds in measured.items()]
    smaller, larger = list(timings)[-2:]
    for what in ("nudger", "nudger_steady", "stats", "stats_365d", "stats_30d"):
        results.append(Result(f"{what}_growth_per_10x_postgresql", timings[larger][what] / timings[smaller][what],
                              "x", None, f"{larger} over {smaller}"))
    return results
