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
    """Run a command's coroutine. Errors are caught by category (`referbot.errors`): configuration
    and storage problems mean referbot cannot start (exit 2); an unknown record or unusable input
    is a one-line answer (exit 1). Never a traceback for something a therapist can fix."""
    from referbot.errors import BadRequest, ConfigError, NotFound, StorageError

    try:
        return asyncio.run(coroutine)
    except (ConfigError, StorageError) as problem:
        fail(f"referbot: cannot start.\n{problem}")
    except (NotFound, BadRequest) as problem:
        fail(str(problem), 1)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=None, default=str)
    sys.stdout.write("\n")
