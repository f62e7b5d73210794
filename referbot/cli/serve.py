"""`referbot run`: the bot with every configured channel, or the console when none is configured."""

from __future__ import annotations

import getpass
import logging
import sys

import typer

from referbot.cli.common import run


def register(app: typer.Typer) -> None:
    app.command("run")(run_bot)


def run_bot(user: str = typer.Option(None, "--as", help="Console referrer identity (default: login name)."),
            verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more.")) -> None:
    """Run referbot: Telegram, Slack, the HTTP server and the delivery workers that are configured.

    With no channel configured and a terminal attached, chat in the console instead.
    """
    from adapters.runner import serve
    from referbot.app import delivery_warnings, open_runtime

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def _run() -> None:
        async with open_runtime() as runtime:
            settings = runtime.settings
            for warning in delivery_warnings(settings, runtime.profile):
                logging.getLogger("referbot").warning(warning)
            console = None if settings.telegram_enabled or settings.slack_enabled else (user or getpass.getuser())
            if console is not None:
                typer.echo(f"referbot for {runtime.profile.practice.name} — console channel "
                           "(no Telegram or Slack token set). Ctrl-D to leave.\n")
            await serve(runtime, console_user=console)

    run(_run())
