"""`referbot nudges` and `referbot sources touch` in a subprocess, against a temporary SQLite database
seeded relative to the real clock (the CLI's "now" is the real one)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from referbot.domain import SourceType
from referbot.profile import Profile
from referbot.store import Database
from tests.conftest import FakeClock
from tests.e2e.cli import referbot
from tests.integration.nudge_practice import Practice


async def seed(path: Path, profile: Profile) -> int:
    database = Database(f"sqlite+aiosqlite:///{path / 'referbot.db'}")
    try:
        await database.upgrade()
        ten_days_ago = datetime.now(timezone.utc) - timedelta(days=10)
        practice = Practice(database, profile, FakeClock(ten_days_ago))
        await practice.source("Dr. Ann Lee", SourceType.PHYSICIAN, created=ten_days_ago)
        return await practice.referral("Dr. Ann Lee", contact=True, update=False, client="Jo Private")
    finally:
        await database.dispose()


def listed(tmp_path: Path) -> list[dict]:
    result = referbot(tmp_path, "nudges", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_list_act_on_and_log_contacts_from_the_command_line(tmp_path: Path, profile: Profile) -> None:
    referral_id = await seed(tmp_path, profile)
    nudges = {n["kind"]: n for n in listed(tmp_path)}
    assert set(nudges) == {"thank_source", "first_contact"}
    thank = nudges["thank_source"]
    assert {"id", "kind", "source", "due_at", "text"} <= set(thank)
    assert thank["source"] == "Dr. Ann Lee" and f"referral #{referral_id}" in thank["text"]
    assert datetime.fromisoformat(thank["due_at"]) < datetime.now(timezone.utc)
    assert "Jo Private" not in thank["draft"]

    plain = referbot(tmp_path, "nudges")
    assert plain.returncode == 0 and plain.stdout.startswith("2 nudges due:") and "Draft:" in plain.stdout

    done = referbot(tmp_path, "nudges", "done", str(thank["id"]))
    assert done.returncode == 0 and done.stdout.strip() == f"#{thank['id']} Thank the referrer — Dr. Ann Lee: done"
    contact = nudges["first_contact"]["id"]
    snoozed = referbot(tmp_path, "nudges", "snooze", str(contact), "--days", "2")
    assert snoozed.returncode == 0 and ": snoozed until " in snoozed.stdout
    assert listed(tmp_path) == []

    touched = referbot(tmp_path, "sources", "touch", "Dr. Ann Lee", "--kind", "check_in", "--note", "coffee")
    assert touched.returncode == 0 and touched.stdout.strip() == "Logged check in with Dr. Ann Lee."

    missing = referbot(tmp_path, "nudges", "done", "999")
    assert missing.returncode == 1 and "No nudge #999." in missing.stderr
    unknown = referbot(tmp_path, "sources", "touch", "Nobody", "--kind", "check_in")
    assert unknown.returncode == 1 and "No source or colleague named 'Nobody'" in unknown.stderr
    wrong_kind = referbot(tmp_path, "sources", "touch", "Dr. Ann Lee", "--kind", "referral_received")
    assert wrong_kind.returncode == 1 and "Unknown kind" in wrong_kind.stderr
