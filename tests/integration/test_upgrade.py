"""The documented upgrade path: a database made by the first release and filled with its data is
upgraded by `referbot db upgrade` to the newest schema, on SQLite and PostgreSQL, and everything in it
is still there and usable; what a migration computes from the history is what the writes keep."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from referbot.domain import ReferralStatus, SourceType, TouchpointKind
from referbot.profile import Profile
from referbot.referrals import edit_referral, set_referral_status
from referbot.source_records import merge_sources
from referbot.store import Database, UnitOfWork
from referbot.store.database import alembic_config, head_revision
from referbot.store.models import Referral, Source
from tests.conftest import FakeClock, pg_server_psql
from tests.e2e.cli import referbot
from tests.fakes import KeywordAssessor
from tests.integration.nudge_practice import Practice, local

FIRST = "0001"
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc)


def rows_at_first_release() -> dict[str, list[dict]]:
    """What a practice had after a few weeks on the first schema: sources, referrals (one a crisis),
    their history, a conversation in progress, delivered and waiting alerts."""
    answers = {"referrer_name": "Dr. Ann Lee", "client_name": "J.", "client_age": 34,
               "presenting_issues": "panic attacks"}
    referral = dict(channel="telegram", referrer_user_id="42", issues=[{"id": "anxiety", "score": 100.0}],
                    consent_to_contact=True, consent_to_update=False, answers=answers, fit={"reasons": ["fits"]},
                    created_at=T0, updated_at=T0)
    return {
        "sources": [dict(id=1, name="Dr. Ann Lee", type="physician", code="ann-lee", created_at=T0,
                         organisation="Lakeview Family Medicine", contact="ann@lakeview.example"),
                    dict(id=2, name="Northside High", type="school", code="northside", created_at=T0)],
        "source_identities": [dict(id=1, source_id=1, channel="telegram", user_id="42")],
        "referrals": [dict(id=1, source_id=1, client_name="J.", client_age=34, presenting_issues="panic attacks",
                           client_contact="(312) 555-0100", verdict="good_fit", crisis=False, status="contacted",
                           **referral),
                      dict(id=2, source_id=2, client_name="K.", client_age=16, presenting_issues="says he wants to end it all",
                           verdict="crisis", crisis=True, crisis_evidence="end it all", status="new",
                           **{**referral, "consent_to_contact": False})],
        "referral_events": [dict(id=1, referral_id=1, status="new", by="telegram:42", at=T0),
                            dict(id=2, referral_id=1, status="contacted", by="slack:U1", at=T0)],
        "touchpoints": [dict(id=1, source_id=1, kind="referral_received", referral_id=1, at=T0)],
        "conversations": [dict(id=1, channel="console", user_id="pat", flow="referral_intake", step="referrer_role",
                               status="asking", answers={"referrer_name": "Pat Doe"},
                               state={"flow_id": "referral_intake", "step": "referrer_role",
                                      "answers": {"referrer_name": "Pat Doe"},
                                      "status": "asking", "history": ["referrer_name"]},
                               version=1, created_at=T0, updated_at=T0)],
        "outbox": [dict(id=1, key="referral_alert:1", kind="referral_alert", payload={"referral_id": 1}, attempts=1,
                        next_attempt_at=T0, delivered_to={"slack": {"ts": "1.2"}}, created_at=T0, sent_at=T0),
                   dict(id=2, key="crisis_alert:2", kind="crisis_alert", payload={"referral_id": 2}, attempts=0,
                        next_attempt_at=T0, delivered_to={}, created_at=T0)],
        "processed_events": [dict(channel="telegram", event_id="1001", at=T0)],
    }


async def fill_first_release(url: str) -> dict[str, int]:
    """Create the first schema and fill it through its own tables (reflected, not today's models)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), FIRST)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            metadata = MetaData()
            await connection.run_sync(metadata.reflect)
            for table, rows in rows_at_first_release().items():
                for row in rows:
                    await connection.execute(insert(metadata.tables[table]).values(**row))
        return {table: len(rows) for table, rows in rows_at_first_release().items()}
    finally:
        await engine.dispose()


async def counts(url: str, names: list[str]) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            metadata = MetaData()
            await connection.run_sync(metadata.reflect)
            return {name: await connection.scalar(select(func.count()).select_from(metadata.tables[name]))
                    for name in names}
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'referbot.db'}"
    server = request.getfixturevalue("pg_server")
    name = f"upgrade_{tmp_path.name.lower().replace('-', '_')}"[:60]
    pg_server_psql(server, f"CREATE DATABASE {name}")
    return server.url(name)


async def test_upgrade_from_the_first_release_keeps_everything(empty_url: str, tmp_path: Path) -> None:
    before = await fill_first_release(empty_url)
    upgraded = await asyncio.to_thread(referbot, tmp_path, "db", "upgrade", REFERBOT_DATABASE_URL=empty_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert await counts(empty_url, list(before)) == before

    env = {"REFERBOT_DATABASE_URL": empty_url}
    shown = await asyncio.to_thread(referbot, tmp_path, "referrals", "show", "1", "--json", **env)
    assert shown.returncode == 0, shown.stderr
    referral = json.loads(shown.stdout)
    assert referral["client_name"] == "J." and referral["client_age"] == 34 and referral["status"] == "contacted"
    listed = json.loads((await asyncio.to_thread(referbot, tmp_path, "referrals", "list", "--json", **env)).stdout)
    assert sorted((r["id"], r["crisis"]) for r in listed) == [(1, False), (2, True)]
    sources = json.loads((await asyncio.to_thread(referbot, tmp_path, "sources", "list", "--json", **env)).stdout)
    assert {s["name"] for s in sources} == {"Dr. Ann Lee", "Northside High"}
    resumed = await asyncio.to_thread(referbot, tmp_path, "chat", "--jsonl", "--as", "pat", input="", **env)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[0])["step"] == "referrer_role"  # the saved conversation goes on
    doctor = await asyncio.to_thread(referbot, tmp_path, "doctor", **env)
    assert f"at migration {head_revision()} (the newest)" in doctor.stdout
    # the first release stored client data in plain text: the doctor says so, and `keys rotate` fixes it
    assert "value(s) of client data are not encrypted (written before the key was set)" in doctor.stdout
    rotated = await asyncio.to_thread(referbot, tmp_path, "keys", "rotate", **env)
    assert rotated.returncode == 0, rotated.stderr
    doctor = await asyncio.to_thread(referbot, tmp_path, "doctor", **env)
    assert "✓ encryption: the key opens the client data stored in the database" in doctor.stdout


def test_each_migration_file_is_named_after_its_revision_so_the_head_is_read_without_alembic() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert all(Path(script.path).name.startswith(f"{script.revision}_") for script in scripts.walk_revisions())
    assert scripts.get_current_head() == head_revision()


async def test_a_current_database_starts_without_importing_alembic(tmp_path: Path) -> None:
    """Alembic costs about 10 MB of every process's memory; a start on a current schema never needs it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'referbot.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    probe = ("import asyncio, sys\n"
             "from referbot.store import Database\n"
             f"asyncio.run(Database({url!r}).upgrade())\n"
             "print(sorted(name for name in sys.modules if name.split('.')[0] == 'alembic'))\n")
    started = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", probe], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "[]"


async def test_the_migration_backfill_gives_what_the_writes_keep(database: Database, profile: Profile) -> None:
    """Migration 0008 computes each source's latest activity from the history; from then on the
    writes keep it (touchpoints of every kind, some back-dated; referrals, one moved; a merge). Going
    back to 0007 and up again computes exactly what the writes kept."""
    clock = FakeClock(local(2026, 3, 2, 10, 0))
    practice = Practice(database, profile, clock)
    for name in ("Dr. Ann Lee", "Northside High", "Dr. Raj Patel", "Ann Lee MD"):
        await practice.source(name, SourceType.PHYSICIAN, created=clock() - timedelta(days=400))
    moved = await practice.referral("Dr. Ann Lee", at=clock() - timedelta(days=3))
    await practice.referral("Dr. Ann Lee", at=clock() - timedelta(days=30))  # recorded late
    await practice.referral("Ann Lee MD", at=clock() - timedelta(days=10))
    for kind in TouchpointKind:
        await practice.touch("Dr. Ann Lee", kind, at=clock() - timedelta(days=20))
        await practice.touch("Northside High", kind)
        await practice.touch("Ann Lee MD", kind, at=clock() - timedelta(days=5))
    await practice.touch("Dr. Ann Lee", TouchpointKind.THANKED, at=clock() - timedelta(days=40))  # back-dated
    await edit_referral(database, profile, KeywordAssessor(), moved, "source", "Dr. Raj Patel", by="test", now=clock())
    async with UnitOfWork(database) as uow:
        await merge_sources(uow, await uow.sources.by_name("Dr. Ann Lee"), await uow.sources.by_name("Ann Lee MD"),
                            clock())
        await uow.commit()
    kept = await activity(database)
    assert kept[await source_id(database, "Dr. Raj Patel")]["last_referral_at"] == clock() - timedelta(days=3)

    await asyncio.to_thread(command.downgrade, alembic_config(database.url), "0007")
    await asyncio.to_thread(command.upgrade, alembic_config(database.url), "head")
    assert await activity(database) == kept


async def test_the_funnel_stage_backfill_gives_what_record_change_keeps(database: Database, profile: Profile) -> None:
    """Migration 0009 computes each referral's furthest funnel stage from its status history; from
    then on `record_change` keeps it: moves forward and back, a forced correction that starts afresh,
    a field edit. Going back to 0008 and up again computes exactly what the writes kept."""
    clock = FakeClock(local(2026, 3, 2, 10, 0))
    practice = Practice(database, profile, clock)
    await practice.source("Dr. Ann Lee", SourceType.PHYSICIAN, created=clock() - timedelta(days=400))
    booked = await practice.referral("Dr. Ann Lee", at=clock() - timedelta(days=3))
    corrected = await practice.referral("Dr. Ann Lee", at=clock() - timedelta(days=2))
    untouched = await practice.referral("Dr. Ann Lee", at=clock() - timedelta(days=1))
    for status in (ReferralStatus.CONTACTED, ReferralStatus.CONSULT_BOOKED, ReferralStatus.NO_RESPONSE):
        await set_referral_status(database, booked, status, by="test", now=clock())
    await set_referral_status(database, corrected, ReferralStatus.BECAME_CLIENT, by="test", now=clock())
    await set_referral_status(database, corrected, ReferralStatus.CONTACTED, by="test", now=clock(), force=True)
    await edit_referral(database, profile, KeywordAssessor(), corrected, "client_name", "Sam", by="test", now=clock())
    kept = await reached(database)
    assert kept == {booked: 2, corrected: 1, untouched: 0}

    await asyncio.to_thread(command.downgrade, alembic_config(database.url), "0008")
    await asyncio.to_thread(command.upgrade, alembic_config(database.url), "head")
    assert await reached(database) == kept


async def reached(database: Database) -> dict[int, int]:
    async with database.sessions() as session:
        return dict((await session.execute(select(Referral.id, Referral.reached))).all())


async def activity(database: Database) -> dict[int, dict[str, datetime | None]]:
    columns = [Source.id, Source.last_touch_at, Source.last_thanked_at, Source.last_referred_back_at,
               Source.last_update_sent_at, Source.last_referral_at]
    async with database.sessions() as session:
        return {row.id: dict(row._mapping) for row in await session.execute(select(*columns))}


async def source_id(database: Database, name: str) -> int:
    async with UnitOfWork(database) as uow:
        source = await uow.sources.by_name(name)
        assert source is not None
        return source.id
