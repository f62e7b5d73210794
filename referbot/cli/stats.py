"""`referbot stats` and `referbot export`: what came of the referrals, for the practice and its spreadsheets.

The CLI is the therapist's own tool on their own machine, so it needs no staff check (the chat
surfaces check `profile.staff` before calling the same functions).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from referbot.cli.common import actor, fail, parse_moment, print_json, run
from referbot.files import open_private, write_private_bytes


def stats(period: str = typer.Option("30d", "--period", help="30d, 90d, 365d or all."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON with stable keys."),
          chart: Optional[Path] = typer.Option(None, "--chart", help="Also draw the chart to this PNG file (weeks for "
                                                                     "30d and 90d, months for longer)."),
          months: Optional[int] = typer.Option(None, "--months", min=1, max=120,
                                               help="Chart this many months instead of the period."),
          as_of: Optional[str] = typer.Option(None, "--as-of", help="Count up to this date or time instead of now.")
          ) -> None:
    """Referrals, fit and outcomes over a period, and a chart.

    Compared with the period before; conversion per source and per organisation; times in the
    practice's time zone."""
    from referbot.app import open_runtime
    from referbot.service import utcnow
    from referbot.stats import PERIODS, chart_png, compute_stats, render_stats

    if period not in PERIODS:
        fail(f"Unknown period {period!r}; one of: {', '.join(PERIODS)}", 1)

    async def _stats() -> tuple[dict[str, Any], bytes | None]:
        async with open_runtime() as runtime:
            zone = runtime.profile.practice.office_hours.zone
            now = parse_moment(as_of, zone) if as_of else utcnow()
            report = await compute_stats(runtime.database, period=period, now=now, zone=zone)
            png = await chart_png(runtime.database, now=now, zone=zone, months=months or 12,
                                  period=None if months else period) if chart else None
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
    """Export referrals, sources or contacts for a spreadsheet.

    CSV with a header row, or JSON; times in the practice's time zone with their UTC offset."""
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
            zone = runtime.profile.practice.office_hours.zone
            start = parse_moment(since, zone) if since else None
            rows = await export_rows(runtime.database, kind, since=start, include_contact=include_contact, zone=zone)
            await recorded(runtime.database, AuditAction.EXPORT, actor(),
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


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("export")(export)
