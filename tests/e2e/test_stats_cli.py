"""`referbot stats`, `referbot export` and `referbot referrals set-status` as the therapist runs them."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from referbot.domain import ReferralStatus
from referbot.store import UnitOfWork
from tests.e2e.cli import cli_database, referbot
from tests.integration.stats_history import seed_history
from tests.integration.test_stats import EXPECTED, clinic
from tests.integration.test_stats_chart import png_size

#: 2026-01-15 12:00 UTC written in the example practice's zone (America/Chicago, UTC-6 in winter).
AS_OF = "2026-01-15T06:00"


def in_chicago(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo("America/Chicago")).isoformat()


@pytest.fixture
async def seeded(tmp_path: Path) -> dict[str, int]:
    """The known history in the SQLite database the commands use."""
    database = cli_database(tmp_path)
    try:
        await database.upgrade()
        return await seed_history(database)
    finally:
        await database.dispose()


def test_stats_json_has_every_figure(tmp_path: Path, seeded: dict[str, int]) -> None:
    result = referbot(tmp_path, "stats", "--period", "90d", "--json", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    expected = {**EXPECTED["90d"], "by_organisation": clinic(EXPECTED["90d"]["by_source"]),
                "start": "2025-10-17T07:00:00-05:00", "end": "2026-01-15T06:00:00-06:00",  # the practice's zone
                "thanks_owed": [{**owed, "since": in_chicago(owed["since"])} for owed in EXPECTED["90d"]["thanks_owed"]]}
    assert json.loads(result.stdout) == expected


def test_stats_text_and_chart(tmp_path: Path, seeded: dict[str, int]) -> None:
    result = referbot(tmp_path, "stats", "--period", "all", "--as-of", AS_OF, "--chart", "chart.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Referrals in all time: 13"
    assert "Chart saved to chart.png" in result.stderr
    assert png_size((tmp_path / "chart.png").read_bytes()) == (1200, 700)


def test_stats_on_a_new_database(tmp_path: Path) -> None:
    """The command creates and migrates the database itself, and an empty one is not an error."""
    result = referbot(tmp_path, "stats", "--chart", "empty.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Referrals in the last 30 days: 0 (the 30 days before: 0)\n"
    assert png_size((tmp_path / "empty.png").read_bytes()) == (1200, 700)


def test_bad_period_or_date_is_a_message(tmp_path: Path) -> None:
    for args, message in ((["--period", "7d"], "Unknown period '7d'; one of: 30d, 90d, 365d, all"),
                          (["--as-of", "2026-13-01"], "Cannot read '2026-13-01' as a date")):
        result = referbot(tmp_path, "stats", *args)
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


async def test_set_status_records_who_and_why(tmp_path: Path, seeded: dict[str, int]) -> None:
    referral_id = seeded["r7"]
    result = referbot(tmp_path, "referrals", "set-status", str(referral_id), "contacted", "--note", "left a voicemail",
                      USER="therapist", LOGNAME="therapist")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Referral #{referral_id}: new → contacted (by cli:therapist).\n"
    database = cli_database(tmp_path)
    try:
        async with UnitOfWork(database) as uow:
            referral = await uow.referrals.get(referral_id)
    finally:
        await database.dispose()
    assert referral.status == "contacted" and referral.first_contact_at is not None
    assert [(e.status, e.by, e.note) for e in referral.events] == [
        ("new", "telegram:u-r7", None), ("contacted", "cli:therapist", "left a voicemail")]


def test_set_status_unknown_status_or_id(tmp_path: Path, seeded: dict[str, int]) -> None:
    bad_status = referbot(tmp_path, "referrals", "set-status", str(seeded["r1"]), "hired")
    assert bad_status.returncode == 1 and "Traceback" not in bad_status.stderr
    assert f"Unknown status 'hired'; one of: {', '.join(s.value for s in ReferralStatus)}" in bad_status.stderr
    bad_id = referbot(tmp_path, "referrals", "set-status", "999", "contacted")
    assert bad_id.returncode == 1 and bad_id.stderr == "No referral #999.\n"
    misplaced = referbot(tmp_path, "referrals", "set-status", str(seeded["r1"]), "contacted", "--to", "Northside")
    assert misplaced.returncode == 1 and "--to goes with the status referred_out" in misplaced.stderr
    stranger = referbot(tmp_path, "referrals", "set-status", str(seeded["r1"]), "referred_out", "--to", "Nobody")
    assert stranger.returncode == 1 and "No source or colleague named 'Nobody'" in stranger.stderr


def test_referring_out_to_a_trusted_colleague(tmp_path: Path, seeded: dict[str, int]) -> None:
    result = referbot(tmp_path, "referrals", "set-status", str(seeded["r1"]), "referred_out",
                      "--to", "Northside Recovery Services")
    assert result.returncode == 0, result.stderr
    sources = {s["name"] for s in json.loads(referbot(tmp_path, "sources", "list", "--json").stdout)}
    assert "Northside Recovery Services" in sources  # the colleague is now a source we referred back to


def test_export_csv_since_a_local_date(tmp_path: Path, seeded: dict[str, int]) -> None:
    """2026-01-01 is midnight in Chicago (06:00 UTC): r3, at 23:30 UTC on 31 December, is left out."""
    result = referbot(tmp_path, "export", "referrals", "--since", "2026-01-01")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(row["id"]) for row in rows] == [seeded["r2"], seeded["r1"], seeded["r13"]]
    assert rows[1]["issues"] == "anxiety;depression" and "client_contact" not in rows[1]
