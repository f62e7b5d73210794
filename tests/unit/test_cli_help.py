"""Help a therapist can use: no `<bool>` or `<str>` type tags, every argument and option described,
developer commands kept out of the main list."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import typer
from referbot.cli import DEVELOPER_COMMANDS, _readable, app


def command() -> Any:
    built = typer.main.get_command(app)
    _readable(built)
    return built


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, node
    for name, sub in getattr(node, "commands", {}).items():
        yield from walk(sub, (*path, name))


def help_text(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    command().main([*path, "--help"], prog_name="referbot", standalone_mode=False)
    return capsys.readouterr().out


def test_every_argument_and_option_is_described() -> None:
    missing = [f"{' '.join(path)} {param.name}" for path, node in walk(command()) for param in node.params
               if param.name != "help" and not getattr(param, "help", None)]
    assert missing == []


def test_flags_and_options_show_no_type_tags(capsys: pytest.CaptureFixture[str]) -> None:
    for path, _ in walk(command()):
        text = help_text(path, capsys)
        options = text.split("Options:")[-1]
        assert "<bool>" not in text and "<str>" not in options and "<list" not in options, (path, text)


def test_developer_commands_are_apart_from_the_therapists(capsys: pytest.CaptureFixture[str]) -> None:
    main = help_text((), capsys)
    listed = main.split("Commands:")[1].split("Developer commands")[0]
    for name in DEVELOPER_COMMANDS:
        assert f"  {name} " not in listed
    assert "Developer commands (not listed above): match, eval-matcher, train-matcher, protect-words, db" in " ".join(main.split())
    for name in ("init", "check", "referrals", "sources", "nudges", "stats"):
        assert f"  {name} " in listed
    assert "--since DATE" in help_text(("referrals", "list"), capsys)
