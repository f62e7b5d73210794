"""compute_stats on SQLite and PostgreSQL: every figure of a known history, per period, and an empty
database. Expected values are worked out by hand from the table in `stats_history`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from referbot.domain import TouchpointKind
from referbot.stats import UnknownPeriod, compute_stats, render_stats
from referbot.store import UnitOfWork
from tests.integration.stats_history import ANN, BEN, HOPE, KIM, NOW, ORGANISATIONS, SCHOOL, at, seed_history

OWED = [{"source": SCHOOL, "type": "school", "referrals": 3, "since": "2025-01-15T12:00:00+00:00"},
        {"source": ANN, "type": "physician", "referrals": 1, "since": "2026-01-14T09:00:00+00:00"}]


def src(name: str | None, kind: str | None, referrals: int, good_fit: int, became_client: int) -> dict:
    return {"source": name, "type": kind, "organisation": ORGANISATIONS.get(name), "referrals": referrals,
            "good_fit": good_fit, "became_client": became_client,
            "conversion": round(became_client / referrals, 3)}


def clinic(by_source: list[dict]) -> list[dict]:
    """Ann's and Ben's clinic: their two rows added up."""
    rows = [s for s in by_source if s["source"] in (ANN, BEN)]
    total = {k: sum(r[k] for r in rows) for k in ("referrals", "good_fit", "became_client")}
    return [{"organisation": ORGANISATIONS[rows[0]["source"]], "sources": 2, **total,
             "conversion": round(total["became_client"] / total["referrals"], 3)}]


def top(name: str, kind: str, good_fit_clients: int, good_fit: int, referrals: int) -> dict:
    return {"source": name, "type": kind, "good_fit_clients": good_fit_clients, "good_fit": good_fit,
            "referrals": referrals}


def recip(name: str, kind: str, received: int, referred_back: int) -> dict:
    return {"source": name, "type": kind, "received": received, "referred_back": referred_back}


def funnel(counts: list[int], rates: list[float | None], shares: list[float | None]) -> list[dict]:
    stages = ["referral", "contacted", "consult_booked", "became_client"]
    return [{"stage": s, "count": c, "rate": r, "of_referrals": o} for s, c, r, o in zip(stages, counts, rates, shares)]


EXPECTED = {
    "30d": {
        "period": "30d", "start": "2025-12-16T12:00:00+00:00", "end": "2026-01-15T12:00:00+00:00",
        "referrals": 6, "previous_referrals": 2,
        "by_source": [src(ANN, "physician", 2, 2, 0), src(BEN, "therapist", 1, 0, 1), src(KIM, "former_client", 1, 1, 1),
                      src(SCHOOL, "school", 1, 0, 0), src(None, None, 1, 0, 0)],
        "by_source_type": {"physician": 2, "former_client": 1, "school": 1, "therapist": 1, "unknown": 1},
        "by_channel": {"telegram": 3, "slack": 2, "console": 1},
        "by_verdict": {"good_fit": 3, "possible_fit": 1, "not_a_fit": 1, "crisis": 1},
        "funnel": funnel([6, 4, 3, 2], [None, 0.667, 0.75, 0.667], [1.0, 0.667, 0.5, 0.333]),
        "median_hours_to_first_contact": 3.0,
        # Kim's one good-fit client beats Ann's two good-fit referrals that did not (yet) become clients.
        "top_sources": [top(KIM, "former_client", 1, 1, 1), top(ANN, "physician", 0, 2, 2)],
        "thanks_owed": OWED,
        "reciprocity": [recip(ANN, "physician", 2, 1), recip(BEN, "therapist", 1, 0), recip(HOPE, "community_org", 0, 1),
                        recip(KIM, "former_client", 1, 0), recip(SCHOOL, "school", 1, 0)],
    },
    "90d": {
        "period": "90d", "start": "2025-10-17T12:00:00+00:00", "end": "2026-01-15T12:00:00+00:00",
        "referrals": 9, "previous_referrals": 1,
        "by_source": [src(ANN, "physician", 3, 3, 0), src(BEN, "therapist", 2, 1, 2), src(SCHOOL, "school", 2, 1, 0),
                      src(KIM, "former_client", 1, 1, 1), src(None, None, 1, 0, 0)],
        "by_source_type": {"physician": 3, "school": 2, "therapist": 2, "former_client": 1, "unknown": 1},
        "by_channel": {"telegram": 5, "slack": 3, "console": 1},
        "by_verdict": {"good_fit": 6, "possible_fit": 1, "not_a_fit": 1, "crisis": 1},
        "funnel": funnel([9, 6, 4, 3], [None, 0.667, 0.667, 0.75], [1.0, 0.667, 0.444, 0.333]),
        "median_hours_to_first_contact": 5.0,
        # Ann sent the most referrals but none became a client: third, not first.
        "top_sources": [top(BEN, "therapist", 1, 1, 2), top(KIM, "former_client", 1, 1, 1),
                        top(ANN, "physician", 0, 3, 3), top(SCHOOL, "school", 0, 1, 2)],
        "thanks_owed": OWED,
        "reciprocity": [recip(ANN, "physician", 3, 2), recip(BEN, "therapist", 2, 0), recip(SCHOOL, "school", 2, 0),
                        recip(HOPE, "community_org", 0, 1), recip(KIM, "former_client", 1, 0)],
    },
    "365d": {
        "period": "365d", "start": "2025-01-15T12:00:00+00:00", "end": "2026-01-15T12:00:00+00:00",
        "referrals": 11, "previous_referrals": 2,
        "by_source": [src(ANN, "physician", 4, 4, 1), src(BEN, "therapist", 3, 1, 2), src(SCHOOL, "school", 2, 1, 0),
                      src(KIM, "former_client", 1, 1, 1), src(None, None, 1, 0, 0)],
        "by_source_type": {"physician": 4, "therapist": 3, "school": 2, "former_client": 1, "unknown": 1},
        "by_channel": {"telegram": 5, "slack": 4, "console": 2},
        "by_verdict": {"good_fit": 7, "possible_fit": 2, "not_a_fit": 1, "crisis": 1},
        "funnel": funnel([11, 8, 5, 4], [None, 0.727, 0.625, 0.8], [1.0, 0.727, 0.455, 0.364]),
        "median_hours_to_first_contact": 5.0,
        "top_sources": [top(ANN, "physician", 1, 4, 4), top(BEN, "therapist", 1, 1, 3),
                        top(KIM, "former_client", 1, 1, 1), top(SCHOOL, "school", 0, 1, 2)],
        "thanks_owed": OWED,
        "reciprocity": [recip(ANN, "physician", 4, 2), recip(BEN, "therapist", 3, 0), recip(SCHOOL, "school", 2, 0),
                        recip(HOPE, "community_org", 0, 1), recip(KIM, "former_client", 1, 0)],
    },
    "all": {
        "period": "all", "start": None, "end": "2026-01-15T12:00:00+00:00",
        "referrals": 13, "previous_referrals": None,
        "by_source": [src(BEN, "therapist", 4, 2, 3), src(ANN, "physician", 4, 4, 1), src(SCHOOL, "school", 3, 1, 0),
                      src(KIM, "former_client", 1, 1, 1), src(None, None, 1, 0, 0)],
        "by_source_type": {"physician": 4, "therapist": 4, "school": 3, "former_client": 1, "unknown": 1},
        "by_channel": {"telegram": 6, "slack": 4, "console": 3},
        "by_verdict": {"good_fit": 8, "possible_fit": 2, "not_a_fit": 2, "crisis": 1},
        "funnel": funnel([13, 9, 6, 5], [None, 0.692, 0.667, 0.833], [1.0, 0.692, 0.462, 0.385]),
        "median_hours_to_first_contact": 3.0,
        "top_sources": [top(BEN, "therapist", 2, 2, 4), top(ANN, "physician", 1, 4, 4),
                        top(KIM, "former_client", 1, 1, 1), top(SCHOOL, "school", 0, 1, 3)],
        "thanks_owed": OWED,
        "reciprocity": [recip(ANN, "physician", 4, 2), recip(BEN, "therapist", 4, 0), recip(SCHOOL, "school", 3, 0),
                        recip(HOPE, "community_org", 0, 1), recip(KIM, "former_client", 1, 0)],
    },
}


@pytest.mark.parametrize("period", list(EXPECTED))
async def test_every_figure_of_a_known_history(database, period: str) -> None:
    await seed_history(database)
    expected = {**EXPECTED[period], "by_organisation": clinic(EXPECTED[period]["by_source"])}
    assert await compute_stats(database, period=period, now=NOW) == expected


async def test_a_thank_you_after_now_still_leaves_the_referrals_before_it_owed(database) -> None:
    """The school is thanked after `now`: a report as of `now` still counts its three referrals owed
    (its last thank-you up to `now` decides, not the latest one)."""
    await seed_history(database)
    async with UnitOfWork(database) as uow:
        school = await uow.sources.by_name(SCHOOL)
        assert school is not None
        await uow.touchpoints.add(school, TouchpointKind.THANKED, at=NOW + timedelta(days=5), by="staff")
        await uow.commit()
    assert (await compute_stats(database, period="30d", now=NOW))["thanks_owed"] == OWED
    assert [owed["source"] for owed in (await compute_stats(database, period="30d", now=NOW + timedelta(days=6)))
            ["thanks_owed"]] == [ANN]


async def test_empty_database(database) -> None:
    stats = await compute_stats(database, period="30d", now=NOW)
    assert stats == {
        "period": "30d", "start": "2025-12-16T12:00:00+00:00", "end": "2026-01-15T12:00:00+00:00",
        "referrals": 0, "previous_referrals": 0, "by_source": [], "by_organisation": [], "by_source_type": {},
        "by_channel": {},
        "by_verdict": {"good_fit": 0, "possible_fit": 0, "not_a_fit": 0, "crisis": 0},
        "funnel": funnel([0, 0, 0, 0], [None] * 4, [None] * 4), "median_hours_to_first_contact": None,
        "top_sources": [], "thanks_owed": [], "reciprocity": []}
    assert render_stats(stats) == "Referrals in the last 30 days: 0 (the 30 days before: 0)"
    assert (await compute_stats(database, period="all", now=NOW))["previous_referrals"] is None


async def test_window_edges_move_with_now(database) -> None:
    """A referral counts in the window until exactly 30 days have passed, then in the previous one."""
    await seed_history(database)
    r1_plus_30d = at(2026, 1, 14, 9) + timedelta(days=30)
    on_edge = await compute_stats(database, period="30d", now=r1_plus_30d - timedelta(microseconds=1))
    past_edge = await compute_stats(database, period="30d", now=r1_plus_30d)
    assert (on_edge["referrals"], on_edge["previous_referrals"]) == (2, 5)  # r1, r13 | r2, r3, r14, r4, r5
    assert (past_edge["referrals"], past_edge["previous_referrals"]) == (1, 6)  # r13 | r1, r2, r3, r14, r4, r5


async def test_unknown_period_is_refused(database) -> None:
    with pytest.raises(UnknownPeriod, match="30d, 90d, 365d, all"):
        await compute_stats(database, period="7d", now=NOW)


async def test_text_report_shows_the_figures(database) -> None:
    await seed_history(database)
    text = render_stats(await compute_stats(database, period="90d", now=NOW))
    assert text.splitlines() == [
        "Referrals in the last 90 days: 9 (the 90 days before: 1, +800%)",
        "By source type: physician 3, school 2, therapist 2, former client 1, unknown 1",
        "By channel: telegram 5, slack 3, console 1",
        "Fit: good fit 6, possible fit 1, not a fit 1, crisis 1",
        "Funnel: 9 referred → 6 contacted (67%) → 4 booked a consult (67%) → 3 became clients (75%)",
        "Median time to first contact: 5 hours",
        "Top sources (good-fit referrals who became clients):",
        f"  1. {BEN} (therapist): 1 good-fit client; 1 of 2 referrals a good fit",
        f"  2. {KIM} (former client): 1 good-fit client; 1 of 1 referral a good fit",
        f"  3. {ANN} (physician): 0 good-fit clients; 3 of 3 referrals a good fit",
        f"  4. {SCHOOL} (school): 0 good-fit clients; 1 of 2 referrals a good fit",
        "Conversion by source (referrals → clients):",
        f"  {ANN}: 3 referrals, 0 became clients (0%)",
        f"  {BEN}: 2 referrals, 2 became clients (100%)",
        f"  {SCHOOL}: 2 referrals, 0 became clients (0%)",
        f"  {KIM}: 1 referral, 1 became a client (100%)",
        "By organisation:",
        "  Lakeview Health (2 sources): 5 referrals, 2 became clients (40%)",
        "Owed a thank-you:",
        f"  {SCHOOL}: 3 referrals since 15 Jan 2025",
        f"  {ANN}: 1 referral since 14 Jan 2026",
        "Reciprocity (received / referred back):",
        f"  {ANN}: 3 / 2",
        f"  {BEN}: 2 / 0",
        f"  {SCHOOL}: 2 / 0",
        f"  {HOPE}: 0 / 1",
        f"  {KIM}: 1 / 0",
    ]


async def test_a_forced_correction_takes_a_mistaken_stage_out_of_the_funnel(database) -> None:
    """`became_client` pressed by mistake and corrected back with --force is not a client in the stats;
    an ordinary history keeps every stage it reached."""
    from referbot.domain import ReferralStatus
    from referbot.referrals import set_referral_status

    ids = await seed_history(database)
    before = (await compute_stats(database, period="all", now=NOW))["funnel"]
    await set_referral_status(database, ids["r2"], ReferralStatus.BECAME_CLIENT, by="t", now=NOW)
    mistaken = (await compute_stats(database, period="all", now=NOW))["funnel"]
    assert mistaken[3]["count"] == before[3]["count"] + 1
    await set_referral_status(database, ids["r2"], ReferralStatus.CONTACTED, by="t", now=NOW, force=True)
    corrected = (await compute_stats(database, period="all", now=NOW))["funnel"]
    assert [s["count"] for s in corrected] == [s["count"] for s in before]
