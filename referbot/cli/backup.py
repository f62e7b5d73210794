"""`referbot backup FILE` and `referbot restore FILE` for the SQLite database (pg_dump for PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import typer

from referbot.cli.common import fail


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def backup_command(file: Path = typer.Argument(..., help="Where to write the copy, e.g. backups/referbot-2026-03-02.db."),
                   force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists.")) -> None:
    """Copy the database to FILE, safely while `referbot run` is working (SQLite's online backup)."""
    from referbot.backup import BackupError, backup, sqlite_path
    from referbot.settings import SettingsError, load_settings

    try:
        source = sqlite_path(load_settings().database_url)
        revision = backup(source, file, overwrite=force)
    except (BackupError, SettingsError) as problem:
        fail(f"referbot: {problem}", 1)
    typer.echo(f"Backed up {source} (migration {revision}) to {file}. Keep it as safe as the database: "
               "it holds clients' details.")


def restore_command(file: Path = typer.Argument(..., help="A file written by `referbot backup`."),
                    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Replace the database with FILE's contents; the current data is kept beside it first.
    Stop `referbot run` before restoring."""
    from referbot.backup import BackupError, restore, sqlite_path
    from referbot.settings import SettingsError, load_settings
    from referbot.store.database import head_revision

    try:
        settings = load_settings()
        target = sqlite_path(settings.database_url)
    except (BackupError, SettingsError) as problem:
        fail(f"referbot: {problem}", 1)
    if not yes and not typer.confirm(f"Replace everything in {target} with {file}?", default=False):
        fail("Nothing restored.", 1)
    try:
        revision, kept = restore(file, target, head_revision())
    except BackupError as problem:
        fail(f"referbot: {problem}", 1)
    typer.echo(f"Restored {file} (migration {revision}) into {target}."
               + (f" The data it replaced is in {kept}." if kept else "")
               + " `referbot run` upgrades it to the newest schema on start.")
