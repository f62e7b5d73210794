"""The `referbot` command. Each feature registers its commands from its own module in this package.

Modules import their heavy dependencies inside the commands, so `referbot match` on 300 texts
starts in a fraction of a second.
"""

from __future__ import annotations

import importlib

from typing import Any

import typer

#: How values read in help, by parameter name (else the name in capitals).
METAVARS = {"since": "DATE", "as_of": "DATE", "limit": "N", "days": "N", "months": "N", "chart": "FILE.png",
            "output": "FILE", "period": "PERIOD", "kind": "KIND"}
#: Commands for developers and operators, kept out of the therapist's `referbot --help`.
DEVELOPER_COMMANDS = ("match", "eval-matcher", "train-matcher", "protect-words", "db")

# Plain help (rich_markup_mode=None): flags read `--json`, not `--json <bool>`.
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="referbot: the referral assistant of a therapy practice.",
                  epilog="Developer commands (not listed above): " + ", ".join(DEVELOPER_COMMANDS)
                         + ". See `referbot COMMAND --help`.")

#: Command modules in `referbot.cli`, each with `register(app)`.
COMMAND_MODULES = ("profile", "database", "chat", "records", "serve", "match", "nudges", "stats", "links", "privacy",
                   "doctor", "backup")

for _name in COMMAND_MODULES:
    importlib.import_module(f"referbot.cli.{_name}").register(app)


def _readable(command: Any) -> None:
    """Name every value in help the way a person would (`--since DATE`, `ID`), never `<str>`, and
    hide the developer commands from the main list."""
    for param in command.params:
        if param.metavar is None and not getattr(param, "is_flag", False):
            name = param.name or "value"
            param.metavar = "ID" if name.endswith("_id") else METAVARS.get(name, name.upper().replace("_", "-"))
    for name, sub in getattr(command, "commands", {}).items():
        sub.hidden = sub.hidden or name in DEVELOPER_COMMANDS
        _readable(sub)


def main() -> None:
    """The command; a file that cannot be read or written is one line and exit 1, never a traceback."""
    from referbot.cli.common import file_problem

    command = typer.main.get_command(app)
    _readable(command)
    try:
        command()
    except OSError as problem:
        if problem.filename is None:
            raise
        typer.echo(file_problem(problem), err=True)
        raise SystemExit(1) from None
