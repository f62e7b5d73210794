"""`referbot run`: the bot with every enabled channel, or the console when none reaches referrers."""

from __future__ import annotations

import getpass
import logging

import typer

from referbot.cli.common import example_notice, run


def register(app: typer.Typer) -> None:
    app.command("run")(run_bot)


def run_bot(user: str = typer.Option(None, "--as", help="Console referrer identity (default: login name)."),
            verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more.")) -> None:
    """Run referbot: every configured channel (Telegram, Slack, the web page …), the HTTP server and
    the delivery workers.

    With no channel for referrers configured, chat in the console instead.
    """
    from referbot.app import open_runtime
    from referbot.channels import configure, delivery_warnings, enabled
    from referbot.cli.console import run_interactive
    from referbot.logs import configure_logging
    from referbot.redaction import install_redaction, settings_secrets
    from referbot.runner import serve
    from referbot.settings import load_settings

    async def _run() -> None:
        configure_logging(json_lines=load_settings().log_format == "json", verbose=verbose)
        channels = configure()  # a settings mistake is reported before the database is touched
        async with open_runtime(stores_client_data=True) as runtime:
            install_redaction(settings_secrets(runtime.settings, [c.settings for c in channels]))
            for warning in filter(None, [example_notice(runtime.settings), *delivery_warnings(runtime.profile, channels)]):
                logging.getLogger("referbot").warning(warning)
            if any(c.channel.for_referrers for c in enabled(channels)):
                await serve(runtime, channels)
                return
            identity = user or getpass.getuser()
            typer.echo(f"referbot for {runtime.profile.practice.name} — console channel "
                       "(no channel for referrers is set up). Ctrl-D to leave.\n")
            await serve(runtime, channels, console=lambda: run_interactive(runtime.service.handle, identity))

    run(_run())
