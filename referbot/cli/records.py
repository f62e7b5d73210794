"""`referbot referrals …` and `referbot sources …`: what came in, and who sent it.

Other command modules add subcommands to `referrals_app` and `sources_app`.
"""

from __future__ import annotations

import getpass
from typing import Any

import typer

from referbot.cli.common import fail, print_json, run

referrals_app = typer.Typer(no_args_is_help=True, help="Referrals received.")
sources_app = typer.Typer(no_args_is_help=True, help="Referral sources.")


def register(app: typer.Typer) -> None:
    app.add_typer(referrals_app, name="referrals")
    app.add_typer(sources_app, name="sources")


@referrals_app.command("list")
def list_referrals(as_json: bool = typer.Option(False, "--json", help="Print JSON."),
                   status: str = typer.Option(None, help="Only referrals with this status."),
                   limit: int = typer.Option(100, help="At most this many, newest first.")) -> None:
    """List referrals, newest first."""
    from referbot.app import open_runtime
    from referbot.domain import ReferralStatus
    from referbot.store import UnitOfWork
    from referbot.views import referral_view, words

    try:
        wanted = ReferralStatus(status) if status else None
    except ValueError:
        fail(f"Unknown status {status!r}; one of: {', '.join(s.value for s in ReferralStatus)}", 1)

    async def _list() -> list[dict[str, Any]]:
        async with open_runtime() as runtime, UnitOfWork(runtime.database) as uow:
            return [referral_view(r, full=False) for r in await uow.referrals.list(status=wanted, limit=limit)]

    rows = run(_list())
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No referrals yet.")
    for row in rows:
        flag = ("  CRISIS" + (f" ({words(row['crisis_kind'])})" if row["crisis_kind"] else "") if row["crisis"] else "") \
            + ("  URGENT REVIEW" if row["urgent_review"] else "")
        typer.echo(f"#{row['id']:<4} {row['created_at'][:16]}  {row['status']:<15} {row['verdict']:<13} "
                   f"{row['client_name'] or '?'} ({row['client_age'] or '?'}) from {row['source'] or 'unknown'}{flag}")


@referrals_app.command("show")
def show_referral(referral_id: int, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show one referral in full."""
    from referbot.app import open_runtime
    from referbot.store import UnitOfWork
    from referbot.audit import AuditAction, record
    from referbot.views import referral_view

    async def _show() -> dict[str, Any] | None:
        async with open_runtime() as runtime, UnitOfWork(runtime.database) as uow:
            referral = await uow.referrals.get(referral_id)
            if referral is None:
                return None
            record(uow, f"cli:{getpass.getuser()}", AuditAction.VIEW, f"referral:{referral_id}", "cli")
            await uow.commit()
            return referral_view(referral)

    view = run(_show())
    if view is None:
        fail(f"No referral #{referral_id}.", 1)
    if as_json:
        print_json(view)
        return
    for key, value in view.items():
        typer.echo(f"{key}: {value}")


@sources_app.command("list")
def list_sources(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List referral sources."""
    from referbot.app import open_runtime
    from referbot.store import UnitOfWork
    from referbot.views import source_view

    async def _list() -> list[dict[str, Any]]:
        async with open_runtime() as runtime, UnitOfWork(runtime.database) as uow:
            return [source_view(s) for s in await uow.sources.list()]

    rows = run(_list())
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No sources yet.")
    for row in rows:
        typer.echo(f"{row['name']:<30} {row['type']:<16} {row['contact'] or ''}  code: {row['code']}")
