"""`referbot db …`: schema migrations (Alembic)."""

from __future__ import annotations

import typer

from referbot.cli.common import run

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command()
def upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from referbot.settings import load_settings
    from referbot.store import Database

    async def _upgrade() -> None:
        database = Database(load_settings().database_url)
        try:
            await database.upgrade()
        finally:
            await database.dispose()

    run(_upgrade())
    typer.echo("Database is up to date.")
