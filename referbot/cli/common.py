"""What every command shares: turning configuration errors into messages, and running async code."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Coroutine, NoReturn, TypeVar

import typer

T = TypeVar("T")


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; configuration problems become a readable message and exit 2."""
    from referbot.engine import FlowError
    from referbot.profile import ProfileError
    from referbot.settings import SettingsError
    from referbot.store import DatabaseError

    try:
        return asyncio.run(coroutine)
    except (ProfileError, SettingsError, DatabaseError, FlowError) as problem:
        fail(f"referbot: cannot start.\n{problem}")
    except OSError as problem:
        if "database" in str(problem).lower() or "connect" in str(problem).lower():
            fail(f"referbot: cannot reach the database ({problem}). Check REFERBOT_DATABASE_URL.")
        raise


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=None, default=str)
    sys.stdout.write("\n")
