"""`referbot stats`, `referbot export` and `referbot referrals set-status`: tracking outcomes.

The CLI is the therapist's own tool on their own machine, so it needs no staff check (the chat
surfaces check `profile.staff` before calling the same functions).
"""

from __future__ import annotations

import getpass
import sys
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, Optional

import typer

from referbot.errors import BadRequest
from referbot.cli.common import fail, print_json, run
from referbot.cli.records import referrals_app
from referbot.files import open_private, write_private_bytes


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


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment or the password database
        return "unknown"


def stats(period: str = typer.Option("30d", "--period", help="30d, 90d, 365d or all."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON with stable keys."),
          chart: Optional[Path] = typer.Option(None, "--chart", help="Also draw the monthly chart to this PNG file."),
          months: int = typer.Option(12, "--months", min=1, max=120, help="Months the chart shows."),
          as_of: Optional[str] = typer.Option(None, "--as-of", help="Count up to this date or time instead of now.")
          ) -> None:
    """Referrals, sources, fit and outcomes over a period, compared with the period before."""
    from referbot.app import open_runtime
    from referbot.service import utcnow
    from referbot.stats import PERIODS, chart_png, compute_stats, render_stats

    if period not in PERIODS:
        fail(f"Unknown period {period!r}; one of: {', '.join(PERIODS)}", 1)

    async def _stats() -> tuple[dict[str, Any], bytes | None]:
        async with open_runtime() as runtime:
            zone = runtime.profile.practice.office_hours.zone
            now = parse_moment(as_of, zone) if as_of else utcnow()
            report = await compute_stats(runtime.database, period=period, now=now)
            png = await chart_png(runtime.database, now=now, months=months, zone=zone) if chart else None
            return report, png

    report, png = run(_stats())  # an unreadable --as-of is a BadRequest: one line, exit 1
    if chart is not None and png is not None:
        try:
            write_private_bytes(chart, png)
        except OSError as problem:
            fail(f"Cannot write the chart to {chart}: {problem.strerror or problem}", 1)
        typer.echo(f"Chart saved to {chart}", err=True)
    if as_json:
        print_json(report)
    else:
        typer.echo(render_stats(report))


def export(kind: str = typer.Argument(..., help="referrals, sources or touchpoints."),
           fmt: str = typer.Option("csv", "--format", help="csv or json."),
           since: Optional[str] = typer.Option(None, "--since", help="Only rows from this date on (YYYY-MM-DD)."),
           output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file, not stdout."),
           include_contact: bool = typer.Option(False, "--include-contact",
                                                help="Referrals: add client contact details and free text.")) -> None:
    """Export records for a spreadsheet (CSV with a header row, or JSON)."""
    from referbot.app import open_runtime
    from referbot.audit import AuditAction, recorded
    from referbot.export import FORMATS, UnknownExport, columns_for, export_rows, write_export

    try:
        columns = columns_for(kind, include_contact=include_contact)
    except UnknownExport as problem:
        fail(str(problem), 1)
    if fmt not in FORMATS:
        fail(f"Unknown format {fmt!r}; one of: {', '.join(FORMATS)}", 1)
    if include_contact and kind == "referrals":
        typer.echo("Warning: this export holds clients' contact details and what referrers wrote about them. "
                   "Keep the file private and delete it when done.", err=True)

    async def _rows() -> list[dict[str, Any]]:
        async with open_runtime() as runtime:
            start = parse_moment(since, runtime.profile.practice.office_hours.zone) if since else None
            rows = await export_rows(runtime.database, kind, since=start, include_contact=include_contact)
            await recorded(runtime.database, AuditAction.EXPORT, f"cli:{getpass.getuser()}",
                           f"export:{kind}{'+contact' if include_contact else ''}:{len(rows)}", "cli")
            return rows

    rows = run(_rows())
    if output is None:
        write_export(rows, columns, fmt, sys.stdout)
        return
    try:
        with open_private(output, "w", newline="", encoding="utf-8") as stream:
            write_export(rows, columns, fmt, stream)
    except OSError as problem:
        fail(f"Cannot write {output}: {problem.strerror or problem}", 1)
    typer.echo(f"Wrote {len(rows)} {kind} to {output}", err=True)


def set_status(referral_id: int = typer.Argument(..., help="The referral's number."),
               status: str = typer.Argument(..., help="new, contacted, consult_booked, became_client, not_a_fit, "
                                                      "referred_out, no_response or declined_by_client."),
               note: Optional[str] = typer.Option(None, "--note", help="Why, for the record."),
               to: Optional[str] = typer.Option(None, "--to", help="With referred_out: the source or trusted "
                                                                    "colleague the client was referred to.")) -> None:
    """Move a referral along (recorded with your login name and the time), as the chat buttons do."""
    from referbot.app import open_runtime
    from referbot.domain import ReferralStatus
    from referbot.referrals import refer_out, set_referral_status
    from referbot.service import utcnow

    try:
        wanted = ReferralStatus(status)
    except ValueError:
        fail(f"Unknown status {status!r}; one of: {', '.join(s.value for s in ReferralStatus)}", 1)
    if to is not None and wanted is not ReferralStatus.REFERRED_OUT:
        fail("--to goes with the status referred_out (whom the client was referred to).", 1)
    by = f"cli:{_login()}"

    async def _set() -> tuple[str, str]:
        async with open_runtime() as runtime:
            if to is not None:
                referral = await refer_out(runtime.database, runtime.profile, referral_id, to, by=by, now=utcnow(),
                                           note=note)
            else:
                referral = await set_referral_status(runtime.database, referral_id, wanted, by=by, now=utcnow(),
                                                     note=note)
            previous = referral.events[-2].status if len(referral.events) > 1 else ReferralStatus.NEW.value
            return previous, referral.status

    previous, current = run(_set())  # an unknown referral or source: NotFound, one line, exit 1
    typer.echo(f"Referral #{referral_id}: {previous} → {current} (by {by}).")


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("export")(export)
    referrals_app.command("set-status")(set_status)
