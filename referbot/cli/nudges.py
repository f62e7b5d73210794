"""`referbot nudges …` (what to follow up on, and acting on it) and `referbot sources touch` (log a contact)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from referbot.cli.common import actor, fail, print_json, run
from referbot.cli.records import sources_app

if TYPE_CHECKING:
    from referbot.nudger import Nudge
    from referbot.store.models import Source, Touchpoint

nudges_app = typer.Typer(help="Relationship reminders: who to thank, update, or get back in touch with.")

#: Contacts a person logs by hand (a received referral is logged by the bot itself).
TOUCH_KINDS = ("thanked", "check_in", "update_sent", "referred_back", "event")


def register(app: typer.Typer) -> None:
    app.add_typer(nudges_app, name="nudges")


@nudges_app.callback(invoke_without_command=True)
def list_nudges(context: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the nudges due now, with context and a drafted note."""
    if context.invoked_subcommand is not None:
        return
    from referbot.app import open_runtime
    from referbot.nudger import due_nudges, render_nudges
    from referbot.service import utcnow

    async def _list() -> list[Nudge]:
        async with open_runtime() as runtime:
            return await due_nudges(runtime.database, runtime.profile, utcnow())

    nudges = run(_list())
    if as_json:
        print_json([n.to_dict() for n in nudges])
    else:
        typer.echo(render_nudges(nudges))


def _act(nudge_id: int, action: str, days: int | None = None) -> None:
    from referbot.app import open_runtime
    from referbot.nudger import act_on_nudge
    from referbot.service import utcnow

    async def _do() -> Nudge:
        async with open_runtime() as runtime:
            return await act_on_nudge(runtime.database, nudge_id, action, by=actor(), now=utcnow(), days=days)

    nudge = run(_do())  # an unknown nudge (NotFound) or action (BadRequest): one line, exit 1
    until = f" until {nudge.snoozed_until:%Y-%m-%d %H:%M} UTC" if nudge.snoozed_until and action == "snooze" else ""
    typer.echo(f"#{nudge.id} {nudge.title} — {nudge.source}: {nudge.state.value}{until}")


@nudges_app.command("done")
def done(nudge_id: int) -> None:
    """Mark a nudge done (records the thank-you, update or check-in with the source)."""
    _act(nudge_id, "done")


@nudges_app.command("snooze")
def snooze(nudge_id: int, days: int = typer.Option(1, "--days", min=1, help="Bring it back after this many days.")) -> None:
    """Snooze a nudge; it comes back after the given days."""
    _act(nudge_id, "snooze", days)


@nudges_app.command("skip")
def skip(nudge_id: int) -> None:
    """Skip a nudge for good."""
    _act(nudge_id, "skip")


@sources_app.command("touch")
def touch(name: str,
          kind: str = typer.Option(..., "--kind", help=f"One of: {', '.join(TOUCH_KINDS)}."),
          note: str = typer.Option(None, "--note", help="What was said or sent.")) -> None:
    """Log a contact with a source (or a colleague from the profile you referred a client to)."""
    from referbot.app import open_runtime
    from referbot.domain import TouchpointKind
    from referbot.nudger import log_touchpoint
    from referbot.service import utcnow

    if kind not in TOUCH_KINDS:
        fail(f"Unknown kind {kind!r}; one of: {', '.join(TOUCH_KINDS)}", 1)

    async def _touch() -> tuple[Source, Touchpoint]:
        async with open_runtime() as runtime:
            return await log_touchpoint(runtime.database, runtime.profile, name, TouchpointKind(kind), by=actor(),
                                        now=utcnow(), note=note)

    source, touchpoint = run(_touch())
    typer.echo(f"Logged {touchpoint.kind.replace('_', ' ')} with {source.name}.")
