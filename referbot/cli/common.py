"""What every command shares: turning configuration errors into messages, and running async code."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import date, datetime, time, tzinfo
from typing import Any, Coroutine, NoReturn, TypeVar

import typer

from referbot.errors import BadRequest

T = TypeVar("T")


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def file_problem(problem: OSError) -> str:
    """An unreadable or unwritable file as one line: which file and why, in the system's words."""
    where = problem.filename if problem.filename is not None else "a file"
    reason = problem.strerror or str(problem)
    if isinstance(problem, FileNotFoundError) and problem.filename is not None:
        parent = os.path.dirname(os.path.abspath(problem.filename))
        if not os.path.isdir(parent):
            reason = f"the folder {parent} does not exist"
    return f"referbot: cannot use {where}: {reason}."


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine. Errors are caught by category (`referbot.errors`): configuration
    and storage problems mean referbot cannot start (exit 2); an unknown record or unusable input
    is a one-line answer (exit 1). Never a traceback for something a therapist can fix.
    asyncio is imported here, not at the top: `referbot --help` need not pay for it."""
    import asyncio

    from referbot.errors import BadRequest, ConfigError, NotFound, StorageError

    try:
        return asyncio.run(coroutine)
    except (ConfigError, StorageError) as problem:
        fail(f"referbot: {problem}")
    except (NotFound, BadRequest) as problem:
        fail(str(problem), 1)


def example_notice(settings: Any) -> str | None:
    """What to say when the example practice stands in for a missing practice.yaml."""
    if not settings.uses_example_profile:
        return None
    return "Using the example practice (examples/practice.yaml). Run `referbot init` to make your own practice.yaml."


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=None, default=str)
    sys.stdout.write("\n")


def actor() -> str:
    """Who a change made from this terminal is recorded as: `cli:<login name>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in the environment or the password database
        return "cli:unknown"


class InvalidMoment(BadRequest):
    """A date or time on the command line that cannot be read."""


def parse_moment(text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date or date-time as an aware datetime. Without an offset it is read in `zone`
    (the practice's), and a date alone means midnight at its start: `--as-of 2026-01-01` ends 2025."""
    try:
        moment = datetime.fromisoformat(text) if "T" in text or " " in text else datetime.combine(
            date.fromisoformat(text), time())
    except ValueError:
        raise InvalidMoment(f"Cannot read {text!r} as a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[+HH:MM].") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
