"""`referbot sources link NAME`: a source's own links into the practice's channels, and a QR code.

Every referral that arrives through a source's link is credited to the source without asking, so
the practice can hand each source its own link (or print the QR code on a business card). Each
channel that can make such a link says how (`Channel.source_link`): a Telegram deep link, the
web page's `/refer?source=CODE`, …
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
                channel: str = typer.Option(None, "--channel", help="Only this channel's link (telegram, web …)."),
                output: Path = typer.Option(None, "--qr", help="Where to write the QR code PNG of the first link "
                                            "(default: <source code>.png).")) -> None:
    """Print a source's links (one per channel that has them) and write a QR code PNG of the first."""
    import segno

    from referbot.files import open_private

    if output is not None and not output.resolve().parent.is_dir():  # before a source is created for nothing
        fail(f"referbot: cannot write the QR code to {output}: the folder {output.resolve().parent} does not exist.", 1)
    links, code = run(_source_links(name, source_type, channel))
    path = output or Path(f"{code}.png")
    with open_private(path, "wb") as stream:
        segno.make(links[0][1], error="m").save(stream, kind="png", scale=10, border=4)
    for _name, link in links:
        typer.echo(link)
    typer.echo(f"QR code: {path} ({links[0][0]})")


async def _source_links(name: str, source_type: SourceType | None,
                        only: str | None) -> tuple[list[tuple[str, str]], str]:
    """(channel, link) pairs and the source code. The source is only created once a link can be made."""
    from referbot.app import open_runtime
    from referbot.channels import configure
    from referbot.errors import ConfigError
    from referbot.service import utcnow
    from referbot.sources import UnknownSource, find_source
    from referbot.store import UnitOfWork

    candidates = [c for c in configure([only] if only else None) if c.channel.source_link is not None]
    if not candidates:
        fail(f"The {only} channel has no links to hand out." if only else "No installed channel makes links.", 1)
    async with open_runtime() as runtime, UnitOfWork(runtime.database) as uow:
        try:
            source = await find_source(uow, name)
        except UnknownSource as missing:
            if source_type is None:
                fail(f"{missing} To create it, add --type ({'|'.join(t.value for t in SourceType)}).", 1)
            source = await uow.sources.create(name=name, type=source_type, now=utcnow())
        links: list[tuple[str, str]] = []
        problems: list[str] = []
        for configured in candidates:
            try:
                links.append((configured.name, await configured.channel.source_link(configured.settings, source.code)))
            except ConfigError as problem:
                problems.append(f"{configured.name}: {problem}")
        if not links:
            fail("No link can be made yet:\n" + "\n".join(problems), 1)
        await uow.commit()
        return links, source.code
