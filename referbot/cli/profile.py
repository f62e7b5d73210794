"""`referbot init` and `referbot check`: start a profile from the template, and validate everything."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from typing import TYPE_CHECKING

import typer

from referbot.cli.common import fail

if TYPE_CHECKING:
    from referbot.channels import Configured


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(check)


def init(path: Path = typer.Argument(Path("practice.yaml"), help="Where to write the profile."),
         force: bool = typer.Option(False, "--force", help="Overwrite an existing file.")) -> None:
    """Write a commented practice profile to edit."""
    if path.exists() and not force:
        fail(f"{path} already exists; use --force to overwrite it.", 1)
    template = resources.files("referbot").joinpath("templates/practice.yaml").read_text(encoding="utf-8")
    path.write_text(template, encoding="utf-8")
    typer.echo(f"Wrote {path}. Edit it, then run `referbot check`.")


def check() -> None:
    """Validate the settings, the practice profile and the conversation flows."""
    from referbot.engine import FlowError, load_flow
    from referbot.profile import ProfileError, load_profile
    from referbot.settings import SettingsError, load_settings
    from referbot.store import Database, DatabaseError

    problems: list[str] = []
    try:
        settings = load_settings()
    except SettingsError as problem:
        fail(f"Settings are not valid:\n{problem}")
    try:
        profile = load_profile(settings.profile)
        typer.echo(f"✓ profile {settings.profile}: {profile.practice.name}, {len(profile.clinicians)} clinician(s)")
    except ProfileError as problem:
        problems.append(str(problem))
    try:
        flow = load_flow()
        typer.echo(f"✓ flow {flow.id}: {len(flow.steps)} steps")
    except FlowError as problem:
        problems.append(str(problem))
    try:
        Database(settings.database_url)
        typer.echo(f"✓ database URL {settings.database_url.split('@')[-1]}")
    except DatabaseError as problem:
        problems.append(str(problem))
    channels = _channels(problems)
    if not problems:
        from referbot.channels import delivery_warnings

        for warning in delivery_warnings(profile, channels):
            typer.echo(f"! {warning}")
    if problems:
        fail("\n".join(problems), 1)


def _channels(problems: list[str]) -> list[Configured]:
    """Every installed channel's settings; the enabled ones are listed, unusable settings are problems."""
    from referbot.channels import configure, installed
    from referbot.errors import ConfigError

    configured: list[Configured] = []
    for name in installed():
        try:
            configured += configure([name])
        except ConfigError as problem:
            problems.append(str(problem))
    on = [c.name for c in configured if c.enabled]
    typer.echo(f"✓ channels: console{''.join(', ' + name for name in on)}")
    return configured
