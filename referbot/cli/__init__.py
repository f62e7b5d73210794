"""The `referbot` command. Each feature registers its commands from its own module in this package.

Modules import their heavy dependencies inside the commands, so `referbot match` on 300 texts
starts in a fraction of a second.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="referbot: the referral assistant of a therapy practice.")

#: Command modules in `referbot.cli`, each with `register(app)`.
COMMAND_MODULES = ("profile", "database", "chat", "records", "serve", "match", "nudges", "stats", "links", "privacy")

for _name in COMMAND_MODULES:
    importlib.import_module(f"referbot.cli.{_name}").register(app)


def main() -> None:
    app()
