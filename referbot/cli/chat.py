"""`referbot chat`: the intake in the terminal (or as JSON lines with --jsonl)."""

from __future__ import annotations

import getpass
import sys

import typer

from referbot.cli.common import run


def register(app: typer.Typer) -> None:
    app.command()(chat)


def chat(jsonl: bool = typer.Option(False, "--jsonl", help="Read and write JSON lines (for scripts)."),
         user: str = typer.Option(None, "--as", help="The referrer identity (default: your login name).")) -> None:
    """Refer a client from the terminal, as a referrer would on Telegram or Slack."""
    from referbot.cli.console import run_interactive, run_jsonl
    from referbot.app import open_runtime
    from referbot.cli.common import example_notice

    identity = user or getpass.getuser()

    async def _chat() -> None:
        async with open_runtime(stores_client_data=True) as runtime:
            notice = example_notice(runtime.settings)
            if notice:  # on stderr: scripts read stdout
                typer.echo(notice, err=True)
            if jsonl:
                await run_jsonl(runtime.service.handle, identity, sys.stdin, sys.stdout)
            else:
                await run_interactive(runtime.service.handle, identity)

    run(_chat())
