"""Client data at rest on SQLite and PostgreSQL: encrypted, rotatable, erasable, retained no longer
than the profile says, and every look, export, change and erasure audited."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from referbot.audit import AuditAction, entries
from referbot.desk import Desk
from referbot.domain import Inbound, ReferralStatus
from referbot.engine import load_flow
from referbot.erasure import forget_referral_by_id, forget_source_named, purge
from referbot.errors import NotFound
from referbot.referrals import set_referral_status
from referbot.service import IntakeService
from referbot.stats import compute_stats
from referbot.store import Database, UnitOfWork
from referbot.store.encryption import Cipher, rotate_all
from referbot.store.models import Base
from tests.conftest import _migrate
from tests.fakes import KeywordAssessor
from tests.integration.test_service import ANSWERS, say

CLIENT, ISSUES, PHONE, NOTE = "Zebediah Quarrington", "panic attacks since the flood", "(312) 555-0177", "spoke to mum"
MARKERS = (CLIENT, "Quarrington", ISSUES, "555-0177", NOTE)


def _answers() -> list[str]:
    answers = list(ANSWERS)
    answers[4], answers[6], answers[answers.index("(312) 555-0100")] = CLIENT, ISSUES, PHONE
    return answers


async def _raw_dump(database: Database) -> str:
    """Every table's every row as text, read past the ORM (what a stolen file or backup shows)."""
    parts = []
    async with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = (await connection.execute(text(f"SELECT * FROM {table.name}"))).all()
            parts += [repr(tuple(row)) for row in rows]
    if database.is_sqlite:  # and the file itself, WAL included
        await database.dispose()
        path = Path(database.url.split("///", 1)[1])
        for file in (path, Path(f"{path}-wal")):
            if file.exists():
                parts.append(file.read_bytes().decode("latin-1"))
    return "\n".join(parts)


async def _referral(database: Database, profile, clock, user: str = "ann") -> int:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    await service.handle(Inbound("console", user))
    done = await say(service, user, *_answers(), "send")
    await set_referral_status(database, done.referral_id, ReferralStatus.CONTACTED, by="cli:dana", now=clock(),
                              note=NOTE)
    return done.referral_id


@pytest.fixture
async def encrypted(database_url: str):
    database = Database(database_url, Cipher((Cipher.generate_key(),)))
    try:
        yield database
    finally:
        await database.dispose()


async def test_no_client_marker_is_readable_in_the_raw_database(encrypted: Database, profile, clock) -> None:
    referral_id = await _referral(encrypted, profile, clock)
    dump = await _raw_dump(encrypted)
    for marker in MARKERS:
        assert marker not in dump, f"{marker!r} is readable at rest"
    async with UnitOfWork(encrypted) as uow:  # and the practice still reads it all
        referral = await uow.referrals.get(referral_id)
        assert referral.client_name == CLIENT and referral.answers["client_contact"] == PHONE
        assert referral.events[-1].note == NOTE and [i["id"] for i in referral.issues] == ["anxiety"]


async def test_rotation_moves_every_value_to_the_new_key(encrypted: Database, database_url: str, profile,
                                                         clock) -> None:
    referral_id = await _referral(encrypted, profile, clock)
    old = encrypted.cipher
    new = Cipher((Cipher.generate_key(), *old.keys))
    await encrypted.dispose()
    rotating = Database(database_url, new)
    async with UnitOfWork(rotating) as uow:
        assert await rotate_all(uow.session, Base.metadata, new) > 0
        await uow.commit()
    await rotating.dispose()
    only_new = Database(database_url, Cipher(new.keys[:1]))
    try:
        async with UnitOfWork(only_new) as uow:
            assert (await uow.referrals.get(referral_id)).client_name == CLIENT
    finally:
        await only_new.dispose()


async def test_forget_leaves_no_marker_and_stats_still_count(encrypted: Database, profile, clock) -> None:
    referral_id = await _referral(encrypted, profile, clock)
    before = await compute_stats(encrypted, period="30d", now=clock())
    await forget_referral_by_id(encrypted, referral_id, actor="cli:dana", channel="cli", now=clock())
    await forget_source_named(encrypted, "Dr. Ann Lee", actor="cli:dana", channel="cli", now=clock())
    async with UnitOfWork(encrypted) as uow:
        referral = await uow.referrals.get(referral_id)
        assert referral.erased_at is not None and referral.client_name is None and referral.answers == {}
        assert referral.status == ReferralStatus.CONTACTED.value and referral.source.name.startswith("Erased")
    async with UnitOfWork(encrypted) as uow:
        rows = [repr(r.__dict__) for r in await uow.referrals.list()]
    for marker in (*MARKERS, "Ann Lee", "ann.lee@lakeview"):
        assert not any(marker in row for row in rows)
    after = await compute_stats(encrypted, period="30d", now=clock())
    counts = [{k: v for k, v in figures.items() if isinstance(v, (int, float))} for figures in (before, after)]
    assert counts[0] and counts[0] == counts[1]  # de-identified rows keep every count
    actions = [(e.action, e.target) for e in await entries(encrypted)]
    assert (AuditAction.STATUS_CHANGE.value, f"referral:{referral_id}:contacted") in actions
    assert (AuditAction.ERASE.value, f"referral:{referral_id}") in actions
    assert any(action == AuditAction.ERASE.value and target.startswith("source:") for action, target in actions)


async def test_staff_looks_at_a_record_through_the_desk_are_audited_per_channel(encrypted: Database, profile,
                                                                                clock) -> None:
    """Slack's Details button and `/referbot referral N`, Telegram's `/referral N`: all go through the
    desk, so each look is recorded under the staff member's id and channel (and a miss is not)."""
    referral_id = await _referral(encrypted, profile, clock)
    desk = Desk(encrypted, profile, clock)
    assert (await desk.referral(referral_id, by="slack:U0STAFF"))["client_name"] == CLIENT
    await desk.referral(referral_id, by="telegram:4242")
    with pytest.raises(NotFound):
        await desk.referral(referral_id + 100, by="slack:U0STAFF")
    views = [(e.actor, e.target, e.channel) for e in await entries(encrypted) if e.action == AuditAction.VIEW.value]
    assert views == [("slack:U0STAFF", f"referral:{referral_id}", "slack"),
                     ("telegram:4242", f"referral:{referral_id}", "telegram")]


async def test_retention_erases_old_unconverted_referrals_and_abandoned_intakes(encrypted: Database, profile,
                                                                                clock) -> None:
    kept = await _referral(encrypted, profile, clock, "ann")
    await set_referral_status(encrypted, kept, ReferralStatus.BECAME_CLIENT, by="cli:dana", now=clock())
    old = await _referral(encrypted, profile, clock, "bo")
    service = IntakeService(encrypted, profile, load_flow(), KeywordAssessor(), clock)
    await say(service, "cy", "hello", "Cy")  # an intake never sent
    clock.advance(days=91)
    retention = profile.privacy.retention
    plan = await purge(encrypted, retention, clock(), dry_run=True)
    assert plan.referral_ids == [old] and plan.abandoned_intakes == 1
    async with UnitOfWork(encrypted) as uow:
        assert (await uow.referrals.get(old)).client_name == CLIENT  # a dry run changes nothing
    await purge(encrypted, retention, clock())
    async with UnitOfWork(encrypted) as uow:
        assert (await uow.referrals.get(old)).client_name is None
        assert (await uow.referrals.get(kept)).client_name == CLIENT
        assert await uow.conversations.get_for_update("console", "cy") is None
    assert (await purge(encrypted, retention, clock() + timedelta(days=1))).empty


def test_a_hundred_kills_during_the_first_start_leave_a_database_that_starts(tmp_path: Path) -> None:
    """The first `upgrade` of a new SQLite file, in a forked child killed at 100 moments spread over
    its run (the parent has imported everything, so the child starts migrating at once)."""
    started = time.monotonic()
    _migrate(f"sqlite+aiosqlite:///{tmp_path / 'timing.db'}")
    duration = time.monotonic() - started
    url = f"sqlite+aiosqlite:///{tmp_path / 'first.db'}"
    for attempt in range(100):
        pid = os.fork()
        if pid == 0:  # the child: migrate, then leave without running the parent's cleanup
            try:
                _migrate(url)
            finally:
                os._exit(0)
        time.sleep(duration * attempt / 100)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    _migrate(url)  # starts: either nothing was built or all of it
    _migrate(url)
