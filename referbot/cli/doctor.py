"""`referbot doctor`: connect to everything the settings name and say what to fix.

The core checks the profile, the encryption key, the database and the clock; each enabled channel
checks its own upstream (Telegram, Slack, the mail server) through its `Channel.check` hook.
"""

from __future__ import annotations

import typer

from referbot.cli.common import fail, run


def register(app: typer.Typer) -> None:
    app.command()(doctor)


def doctor() -> None:
    """Check the encryption key, the database (and its migration), each channel's upstream (Telegram,
    Slack and its alert channel, the mail server), the webhook and the clock for real; exit 1 when
    something must be fixed."""
    from referbot.doctor import Status, examine
    from referbot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as problem:
        fail(f"Settings are not valid:\n{problem}", 1)
    findings = run(examine(settings))
    for finding in findings:
        typer.echo(finding.line())
    failed = sum(f.status is Status.FAIL for f in findings)
    warned = sum(f.status is Status.WARN for f in findings)
    if failed:
        fail(f"{failed} problem(s) to fix, {warned} warning(s).", 1)
    typer.echo(f"All good{f', with {warned} warning(s)' if warned else ''}.")
