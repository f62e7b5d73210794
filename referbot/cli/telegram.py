"""`referbot sources link NAME`: a source's Telegram deep link and a QR code for it.

Every referral that arrives through the link is credited to the source without asking, so the
practice can hand each source its own link (or print the QR code on a business card).
"""

from __future__ import annotations

from pathlib import Path

import typer

from referbot.cli.common import fail, run
from referbot.cli.records import sources_app
from referbot.domain import SourceType


def register(_app: typer.Typer) -> None:
    sources_app.command("link")(link_source)


def link_source(name: str = typer.Argument(..., help="The source's name or code."),
                source_type: SourceType = typer.Option(None, "--type", help="Create the source with this type "
                                                       "if there is none by that name."),
                output: Path = typer.Option(None, "--qr", help="Where to write the QR code PNG "
                                            "(default: <source code>.png).")) -> None:
    """Print a source's Telegram deep link and write its QR code as a PNG."""
    import segno

    link, code = run(_source_link(name, source_type))
    path = output or Path(f"{code}.png")
    segno.make(link, error="m").save(str(path), kind="png", scale=10, border=4)
    typer.echo(link)
    typer.echo(f"QR code: {path}")


async def _source_link(name: str, source_type: SourceType | None) -> tuple[str, str]:
    """The deep link and source code; the bot's username is resolved before anything is created."""
    from adapters.telegram.links import bot_username, deep_link
    from referbot.app import open_runtime
    from referbot.service import utcnow
    from referbot.store import UnitOfWork

    async with open_runtime() as runtime:
        username = await bot_username(runtime.settings)
        async with UnitOfWork(runtime.database) as uow:
            source = await uow.sources.by_name(name)
            if source is None:
                if source_type is None:
                    fail(f"No source named {name!r}. To create it, add --type "
                         f"({'|'.join(t.value for t in SourceType)}).", 1)
                source = await uow.sources.create(name=name, type=source_type, now=utcnow())
                await uow.commit()
            return deep_link(username, source.code), source.code
