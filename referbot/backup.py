"""Backing up and restoring a SQLite database while referbot may be running.

SQLite's online backup API copies a consistent snapshot page by page, in one step: in WAL mode a
reader never blocks `run`'s writers, so a backup taken mid-intake holds every transaction that had
committed and none that had not. Pages are copied as they are, so fields encrypted at rest stay
encrypted in the file, readable only with the practice's REFERBOT_ENCRYPTION_KEY (an old backup
needs the key it was written with: keep retired keys after the new one until no backup needs them). PostgreSQL has pg_dump for this (see the README); these functions refuse it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from referbot.errors import ReferbotError
from referbot.store import DatabaseError
from referbot.store.database import database_url

PG_DUMP_ADVICE = ("REFERBOT_DATABASE_URL is PostgreSQL: back it up with pg_dump (`pg_dump --format=custom "
                  "--file=referbot.dump DBNAME`) and restore with pg_restore (see the README, Backups).")


class BackupError(ReferbotError):
    """A backup or restore that cannot be done; the message says why and what to do."""


def sqlite_path(url: str) -> Path:
    """The database file behind REFERBOT_DATABASE_URL, or BackupError for anything but a SQLite file."""
    try:
        parsed = database_url(url)
    except DatabaseError as problem:
        raise BackupError(str(problem)) from None
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(PG_DUMP_ADVICE)
    database = parsed.database
    if not database or database == ":memory:":
        raise BackupError("REFERBOT_DATABASE_URL is an in-memory database: there is nothing to back up.")
    return Path(database)


def backup(source: Path, target: Path, *, overwrite: bool = False) -> str:
    """Copy `source` to `target` (owner-only permissions, written beside it then renamed, so a crash
    never leaves half a backup under the real name). Returns the migration the copy is at."""
    if not source.exists():
        raise BackupError(f"{source} does not exist: there is nothing to back up yet.")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another name or add --force.")
    if not target.resolve().parent.is_dir():
        raise BackupError(f"cannot write {target}: the folder {target.resolve().parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial)
    revision = check_copy(partial)
    os.replace(partial, target)
    return revision


def restore(backup_file: Path, target: Path, head: str) -> tuple[str, Path | None]:
    """Replace `target`'s contents with `backup_file`'s, keeping the current data beside it first.

    Refuses a file that is not an intact referbot database or was made by a newer referbot (`head` is
    the newest migration this one knows). Returns the backup's migration and where the old data went.
    """
    if not backup_file.exists():
        raise BackupError(f"{backup_file} does not exist.")
    if target.exists() and backup_file.resolve() == target.resolve():
        raise BackupError(f"{backup_file} is the database itself; name a backup file.")
    revision = check_copy(backup_file)
    if revision > head:
        raise BackupError(f"{backup_file} was made by a newer referbot (migration {revision}; this one knows up to "
                          f"{head}): upgrade referbot first.")
    kept = None
    if target.exists():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        kept = target.with_name(f"{target.name}.before-restore-{stamp}")
        _copy(target, kept)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(mode=0o600)
    _copy(backup_file, target)
    return revision, kept


def check_copy(path: Path) -> str:
    """The migration an intact referbot database is at; BackupError for a damaged or foreign file."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if integrity != "ok":
                raise BackupError(f"{path} is damaged ({integrity}).")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as problem:
        raise BackupError(f"{path} is not a referbot database ({problem}).") from None
    if row is None:
        raise BackupError(f"{path} is not a referbot database (no schema version).")
    return str(row[0])


def _copy(source: Path, target: Path) -> None:
    """One-step online backup (a consistent snapshot; writers carry on) into an owner-only file."""
    if not target.exists():
        target.touch(mode=0o600)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout=30000")
        dst.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
