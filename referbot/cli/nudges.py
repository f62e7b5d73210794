"""`referbot nudges …` (what to follow up on, and acting on it) and `referbot sources touch` (log a contact)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

from referbot.cli.common import actor, fail, print_json, run
from referbot.cli.records import sources_app

if TYPE_CHECKING:
    from referbot.nudger import Nudge
    from referbot.store.models import Source, Touchpoint

nudges_app = typer.Typer(help="Who to thank, update, or get back in touch with.")

NUDGE_HELP = "The nudge's number (see `referbot nudges`)."
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
    from referbot.views import when

    async def _do() -> tuple[Nudge, str]:
        async with open_runtime() as runtime:
            nudge = await act_on_nudge(runtime.database, nudge_id, action, by=actor(), now=utcnow(), days=days)
            zone = runtime.profile.practice.office_hours.zone
            until = f" until {when(nudge.snoozed_until, zone)}" if nudge.snoozed_until and action == "snooze" else ""
            return nudge, until

    nudge, until = run(_do())  # an unknown nudge (NotFound) or action (BadRequest): one line, exit 1
    typer.echo(f"#{nudge.id} {nudge.title} — {nudge.source}: {nudge.state.value}{until}")


@nudges_app.command("done")
def done(nudge_id: int = typer.Argument(..., help=NUDGE_HELP)) -> None:
    """Mark a nudge done (records the thank-you, update or check-in with the source)."""
    _act(nudge_id, "done")


@nudges_app.command("snooze")
def snooze(nudge_id: int = typer.Argument(..., help=NUDGE_HELP),
           days: int = typer.Option(1, "--days", min=1, help="Bring it back after this many days.")) -> None:
    """Snooze a nudge; it comes back after the given days."""
    _act(nudge_id, "snooze", days)


@nudges_app.command("skip")
def skip(nudge_id: int = typer.Argument(..., help=NUDGE_HELP)) -> None:
    """Skip a nudge for good."""
    _act(nudge_id, "skip")


@nudges_app.command("send")
def send(nudge_id: int = typer.Argument(..., help=NUDGE_HELP),
         text: Optional[str] = typer.Option(None, "--text", help="Send this instead of the drafted note."),
         edit: bool = typer.Option(False, "--edit", help="Edit the drafted note in your editor ($EDITOR) first."),
         via: Optional[str] = typer.Option(None, "--via", help="telegram, slack or email (default: the chat they "
                                                               "referred through, else email)."),
         yes: bool = typer.Option(False, "--yes", "-y", help="Send without asking for confirmation.")) -> None:
    """Send a nudge's note to the referrer (chat or email), record it as a contact and close the nudge."""
    from referbot.app import open_runtime
    from referbot.channels import configure, note_channels
    from referbot.sending import note_routes, send_note
    from referbot.service import utcnow

    async def _prepare() -> tuple[str, str]:
        async with open_runtime() as runtime:
            draft, options = await note_routes(runtime.database, nudge_id, note_channels(configure()))
            chosen = [r for r in options if via is None or r.channel == via]
            return draft, chosen[0].describe() if chosen else ""

    async def _send(note: str) -> str:
        async with open_runtime() as runtime:
            sent = await send_note(runtime.database, runtime.profile, nudge_id, text=note, via=via, by=actor(),
                                   now=utcnow(), available=note_channels(configure()))
            return f"Queued the note to {sent.source} {sent.route.describe()}; logged as a contact, nudge #{nudge_id} done."

    draft, where = run(_prepare())  # a note that may not or cannot be sent (CannotSend): one line, exit 1
    note = text if text is not None else draft
    if edit:
        note = typer.edit(note) or ""
    if where:
        typer.echo(f"To {where}:\n\n{note.strip()}\n")
    if where and not yes and not typer.confirm("Send it?", default=False):
        fail("Nothing sent.", 1)
    typer.echo(run(_send(note)))


@sources_app.command("touch")
def touch(name: str = typer.Argument(..., help="The source's name (or part of it), or a colleague from the profile."),
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
