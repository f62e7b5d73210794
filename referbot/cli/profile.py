"""`referbot init` and `referbot check`: a profile of the practice's own, and whether it is ready.

`init` asks a few questions (or, with --blank, writes a commented template); it never writes the
fictional example practice. `check` refuses to pass anything left from the template or the example.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from referbot.cli.common import fail, file_problem

if TYPE_CHECKING:
    from referbot.channels import Configured
    from referbot.practice_setup import ClinicianAnswers, PracticeAnswers


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(check)


def init(path: Path = typer.Argument(Path("practice.yaml"), help="Where to write the profile."),
         force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
         blank: bool = typer.Option(False, "--blank", help="Write the commented template without asking anything."),
         ask: bool = typer.Option(False, "--ask", help="Ask the questions even when input is not a terminal "
                                                       "(for scripts).")) -> None:
    """Write your practice profile (a few questions, or a template).

    In a terminal it asks for the practice's name, time zone and clinicians; from a script (or with
    --blank) it writes a commented template to fill in. It never writes the example practice."""
    from referbot.practice_setup import profile_from_answers, template_text

    if path.exists() and not force:
        fail(f"{path} already exists; use --force to overwrite it.", 1)
    if blank or not (ask or sys.stdin.isatty()):
        text = template_text()
        done = f"Wrote a template to {path}. Replace each <placeholder>, then run `referbot check`."
    else:
        text = profile_from_answers(_ask())
        done = (f"Wrote {path}. Add colleagues, guidelines and staff chat ids there (and your country's crisis lines "
                "if it asked for them), then run `referbot check`.")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as problem:
        fail(file_problem(problem), 1)
    typer.echo(done)


def _zone(answer: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(answer.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"{answer!r} is not a time zone; use a name like America/Chicago") from None
    return answer.strip()


def _country(answer: str) -> str:
    if len(answer.strip()) != 2 or not answer.strip().isalpha():
        raise typer.BadParameter("write the country's two-letter code, e.g. US, GB or DE")
    return answer.strip().upper()


def _ages(answer: str) -> tuple[int, int]:
    low, _, high = answer.replace("–", "-").partition("-")
    try:
        ages = int(low), int(high or 120)
    except ValueError:
        raise typer.BadParameter("write an age range like 18-65, or 13 for 13 and over") from None
    if not 0 <= ages[0] <= ages[1] <= 120:
        raise typer.BadParameter("ages go from 0 to 120, the lower first")
    return ages


def _ask_clinician(number: int) -> "ClinicianAnswers":
    from referbot.practice_setup import ClinicianAnswers

    name = typer.prompt(f"Clinician {number}: name")
    credentials = typer.prompt("  credentials (e.g. LCSW; Enter to skip)", default="", show_default=False)
    seen = typer.prompt("  what they see, in your words, comma-separated (e.g. PTSD, anxiety, grief)")
    low, high = typer.prompt("  ages (e.g. 18-65, or 13 for 13 and over)", default="18", value_proc=_ages)
    formats = typer.prompt("  formats: individual, couples, family, group", default="individual")
    return ClinicianAnswers(name, credentials, [s.strip() for s in seen.split(",") if s.strip()], low, high,
                            [f.strip() for f in formats.split(",") if f.strip()])


def _ask() -> "PracticeAnswers":
    from referbot.practice_setup import PracticeAnswers

    name = typer.prompt("Practice name")
    zone = typer.prompt("Time zone (e.g. America/Chicago)", value_proc=_zone)
    country = typer.prompt("Country, as two letters (e.g. US, GB, DE): crisis lines depend on it",
                           default="US" if zone.startswith("America/") else "", show_default=zone.startswith("America/"),
                           value_proc=_country)
    phone = typer.prompt("Phone for referrers (Enter to skip)", default="", show_default=False)
    email = typer.prompt("Intake email (Enter to skip)", default="", show_default=False)
    clinicians = [_ask_clinician(1)]
    while typer.confirm("Add another clinician?", default=False):
        clinicians.append(_ask_clinician(len(clinicians) + 1))
    return PracticeAnswers(name, zone, country, phone, email, clinicians)


def check() -> None:
    """Check settings, profile and flows; say what is not ready.

    Fails while anything from the template or the fictional example practice is left, and notes how
    specialty words were read as issue ids."""
    from referbot.doctor import Status, encryption_finding
    from referbot.engine import FlowError, load_flow
    from referbot.practice_setup import example_leftovers, placeholders
    from referbot.profile import ProfileError, load_profile
    from referbot.settings import SettingsError, load_settings
    from referbot.store import Database, DatabaseError

    problems: list[str] = []
    try:
        settings = load_settings()
    except SettingsError as problem:
        fail(f"Settings are not valid:\n{problem}")
    profile = None
    try:
        left = placeholders(settings.profile.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        left = []  # load_profile says why the file cannot be read
    problems += [f"{settings.profile} {line}" for line in left]
    try:
        profile = load_profile(settings.profile)
        typer.echo(f"✓ profile {settings.profile}: {profile.practice.name}, {len(profile.clinicians)} clinician(s)")
        for note in profile.notes:
            typer.echo(f"! {note}")
        problems += [f"{settings.profile}: {line}" for line in example_leftovers(profile)]
    except ProfileError as problem:
        if not left:
            problems.append(str(problem))
    if any("fictional example" in p for p in problems):
        problems.append("This is still the example practice: referrers would be sent to its fictional colleagues "
                        "and numbers. Run `referbot init` to write your own profile.")
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
    key, _cipher = encryption_finding(settings)
    if key.status is Status.FAIL:
        problems.append(key.detail if key.fix is None else f"{key.detail}. {key.fix}")
    else:
        typer.echo(key.line())
    channels = _channels(problems)
    if profile is not None:
        from referbot.channels import delivery_warnings

        for warning in delivery_warnings(profile, channels):
            typer.echo(f"! {warning}")
    if problems:
        fail("\n".join(f"✗ {p}" for p in problems), 1)
    typer.echo("These are the files only; `referbot doctor` connects to the database, the channels and the clock.")


def _channels(problems: list[str]) -> list[Configured]:
    """Every installed channel's settings; the enabled ones are listed, unusable settings are problems."""
    from referbot.channels import configure_each

    configured, unusable = configure_each()
    problems += [str(problem) for problem in unusable.values()]
    on = [c.name for c in configured if c.enabled]
    typer.echo(f"✓ channels: console{''.join(', ' + name for name in on)}")
    return configured
