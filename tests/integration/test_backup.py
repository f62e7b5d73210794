"""Backups of the SQLite database taken while intakes are being written, and restores compared table
by table; PostgreSQL gets pg_dump advice instead."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from referbot.backup import BackupError, backup, check_copy, restore, sqlite_path
from referbot.domain import Inbound
from referbot.engine import load_flow
from referbot.service import IntakeService
from referbot.store.database import head_revision
from tests.e2e.cli import referbot
from tests.fakes import KeywordAssessor
from tests.integration.test_service import ANSWERS, say


def tables(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with closing(sqlite3.connect(path)) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {name: connection.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall() for name in names}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_backup_while_intakes_are_written_then_restore(database_url, database, profile, clock,
                                                             tmp_path: Path) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    live = sqlite_path(database_url)
    stop = asyncio.Event()

    async def referrer(name: str) -> int:
        done = 0
        while not stop.is_set():
            user = f"{name}{done}"
            await service.handle(Inbound("console", user))
            await say(service, user, *ANSWERS, "send")
            done += 1
        return done

    writers = [asyncio.create_task(referrer(name)) for name in ("a", "b")]
    await say(service, "first", "")  # at least one conversation exists before the first copy
    copies = []
    for n in range(3):
        await asyncio.sleep(0.3)
        copy = tmp_path / f"copy{n}.db"
        assert await asyncio.to_thread(backup, live, copy) == head_revision()
        copies.append(copy)
    stop.set()
    assert sum(await asyncio.gather(*writers)) >= 1

    for copy in copies:  # each copy is a consistent snapshot: whole transactions only
        snapshot = tables(copy)
        referral_ids = {row[0] for row in snapshot["referrals"]}
        alerted = {int(row[1].split(":")[1]) for row in snapshot["outbox"]}
        assert referral_ids == alerted  # a referral and its alert are committed together, or neither
        assert copy.stat().st_mode & 0o777 == 0o600

    restored = tmp_path / "restored.db"
    revision, kept = restore(copies[-1], restored, head_revision())
    assert revision == head_revision() and kept is None
    assert tables(restored) == tables(copies[-1])

    before = tables(live)
    revision, kept = restore(copies[0], live, head_revision())  # over the live database
    assert kept is not None and tables(kept) == before
    await database.dispose()
    assert tables(live) == tables(copies[0])


def test_refusals(tmp_path: Path, sqlite_template: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump --format=custom"):
        sqlite_path("postgresql+asyncpg://u:p@localhost/referbot")
    with pytest.raises(BackupError, match="already exists; choose another name or add --force"):
        backup(sqlite_template, sqlite_template)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    with pytest.raises(BackupError, match="is not a referbot database"):
        check_copy(junk)
    newer = tmp_path / "newer.db"
    backup(sqlite_template, newer)
    with closing(sqlite3.connect(newer)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
        connection.commit()
    with pytest.raises(BackupError, match="made by a newer referbot"):
        restore(newer, tmp_path / "target.db", head_revision())


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    assert referbot(tmp_path, "chat", "--jsonl", "--as", "pat", input='{"text": "Pat Doe"}\n').returncode == 0
    made = referbot(tmp_path, "backup", "copy.db")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"Backed up {tmp_path / 'referbot.db'} (migration {head_revision()}) to copy.db.")
    assert b"Pat Doe" not in (tmp_path / "copy.db").read_bytes()  # client data stays encrypted in the copy
    again = referbot(tmp_path, "backup", "copy.db")
    assert again.returncode == 1 and again.stderr == "referbot: copy.db already exists; choose another name or add --force.\n"
    referbot(tmp_path, "chat", "--jsonl", "--as", "sam", input='{"text": "Sam Roe"}\n')
    refused = referbot(tmp_path, "restore", "copy.db", input="n\n")
    assert refused.returncode == 1 and "Nothing restored." in refused.stderr
    done = referbot(tmp_path, "restore", "copy.db", "--yes")
    assert done.returncode == 0, done.stderr
    assert tables(tmp_path / "referbot.db") == tables(tmp_path / "copy.db")
    resumed = referbot(tmp_path, "chat", "--jsonl", "--as", "pat", input="")  # the key opens the restored data
    assert resumed.returncode == 0 and json.loads(resumed.stdout.splitlines()[0])["step"] == "referrer_role"
    pg = referbot(tmp_path, "backup", "x.db", REFERBOT_DATABASE_URL="postgresql://u@127.0.0.1/referbot")
    assert pg.returncode == 1 and pg.stderr.startswith("referbot: REFERBOT_DATABASE_URL is PostgreSQL: back it up with pg_dump")
