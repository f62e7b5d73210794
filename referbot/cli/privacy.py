"""`referbot keys`, `forget`, `purge` and `audit`: the practice's answers about client data."""

from __future__ import annotations

import getpass
from datetime import datetime, time, timezone
from typing import Optional

import typer

from referbot.cli.common import fail, print_json, run

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys for client data at rest.")
forget_app = typer.Typer(no_args_is_help=True, help="Erase personal data (recorded in the audit log).")
CHANNEL = "cli"


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(forget_app, name="forget")
    app.command("purge")(purge)
    app.command("audit")(audit)


def _actor() -> str:
    return f"{CHANNEL}:{getpass.getuser()}"


@keys_app.command("generate")
def generate() -> None:
    """Print a new key. Put it first in REFERBOT_ENCRYPTION_KEY (keep older keys after it, comma-separated)."""
    from referbot.store.encryption import Cipher

    typer.echo(Cipher.generate_key())


@keys_app.command("rotate")
def rotate() -> None:
    """Re-encrypt all client data with the first key in REFERBOT_ENCRYPTION_KEY (old keys may then go)."""
    from referbot.app import open_runtime
    from referbot.audit import AuditAction, record
    from referbot.store import UnitOfWork
    from referbot.store.encryption import KEY_VARIABLE, rotate_all
    from referbot.store.models import Base

    async def _rotate() -> int:
        async with open_runtime() as runtime:
            cipher = runtime.database.cipher
            if cipher is None:
                fail(f"{KEY_VARIABLE} is not set; run `referbot keys generate` first.", 1)
            async with UnitOfWork(runtime.database) as uow:
                count = await rotate_all(uow.session, Base.metadata, cipher)
                record(uow, _actor(), AuditAction.ROTATE_KEYS, f"values:{count}", CHANNEL)
                await uow.commit()
            return count

    count = run(_rotate())
    typer.echo(f"Re-encrypted {count} stored values with the first key. Older keys can now be removed.")


@forget_app.command("referral")
def forget_referral(referral_id: int = typer.Argument(..., help="The referral's number, as `referrals list` shows it.")) -> None:
    """Erase a referral's client details everywhere; its de-identified counts stay in the stats."""
    from referbot.app import open_runtime
    from referbot.erasure import NothingToForget, forget_referral_by_id

    async def _forget() -> None:
        async with open_runtime() as runtime:
            await forget_referral_by_id(runtime.database, referral_id, actor=_actor(), channel=CHANNEL,
                                        now=runtime.service.clock())

    try:
        run(_forget())
    except NothingToForget as problem:
        fail(str(problem), 1)
    typer.echo(f"Referral #{referral_id}: client details erased.")


@forget_app.command("source")
def forget_source(name: str = typer.Argument(..., help="The source's name or code.")) -> None:
    """Erase a referrer's personal data; their referrals still count, under an anonymous source."""
    from referbot.app import open_runtime
    from referbot.erasure import NothingToForget, forget_source_named

    async def _forget() -> str:
        async with open_runtime() as runtime:
            return await forget_source_named(runtime.database, name, actor=_actor(), channel=CHANNEL,
                                             now=runtime.service.clock())

    try:
        old_name = run(_forget())
    except NothingToForget as problem:
        fail(str(problem), 1)
    typer.echo(f"Source {old_name!r}: personal data erased.")


def purge(dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be erased.")) -> None:
    """Apply the profile's retention rules now (`referbot run` applies them daily)."""
    from referbot.app import open_runtime
    from referbot.erasure import purge as apply_retention

    async def _purge():  # type: ignore[no-untyped-def]
        async with open_runtime() as runtime:
            return await apply_retention(runtime.database, runtime.profile.privacy.retention, runtime.service.clock(),
                                         dry_run=dry_run, actor=_actor())

    plan = run(_purge())
    verb = "Would erase" if dry_run else "Erased"
    ids = ", ".join(f"#{i}" for i in plan.referral_ids) or "none"
    typer.echo(f"{verb} the client details of {len(plan.referral_ids)} referral(s): {ids}")
    typer.echo(f"{'Would delete' if dry_run else 'Deleted'} {plan.abandoned_intakes} abandoned intake(s).")


def audit(since: Optional[str] = typer.Option(None, "--since", help="From this date on (YYYY-MM-DD)."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Who viewed, exported, changed or erased client data, and key rotations."""
    from referbot.app import open_runtime
    from referbot.audit import entries, entry_view

    try:
        start = datetime.combine(datetime.strptime(since, "%Y-%m-%d").date(), time(), timezone.utc) if since else None
    except ValueError:
        fail(f"--since {since!r} is not a date like 2026-03-01.", 1)

    async def _entries() -> list[dict]:
        async with open_runtime() as runtime:
            return [entry_view(e) for e in await entries(runtime.database, since=start)]

    rows = run(_entries())
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No audit entries.")
    for row in rows:
        typer.echo(f"{row['at'][:19]}  {row['actor']:<24} {row['action']:<14} {row['target']:<20} via {row['channel']}")
