"""The therapist's desk from the command line, in a subprocess, on SQLite and PostgreSQL: readable
referrals in the practice's time zone across a DST change, finding and correcting them, the
lifecycle, and sources looked up, merged (nothing lost), renamed, set and shown as a timeline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from referbot.profile import Profile
from referbot.store import Database, UnitOfWork
from referbot.store.models import NudgeRecord, Referral, SourceIdentity, Touchpoint
from tests.e2e.cli import referbot
from tests.e2e.desk_practice import Seeded, seed

#: Each test runs a dozen commands as subprocesses; on a loaded machine that outlasts the default.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
async def desk(database_url: str, profile: Profile) -> Seeded:
    return await seed(database_url, profile)


def run(tmp_path: Path, url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = referbot(tmp_path, *args, REFERBOT_DATABASE_URL=url, input="")
    assert "Traceback" not in result.stderr, result.stderr
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def as_json(tmp_path: Path, url: str, *args: str) -> object:
    return json.loads(run(tmp_path, url, *args, "--json").stdout)


async def counts(url: str) -> dict[str, int]:
    database = Database(url)
    try:
        async with UnitOfWork(database) as uow:
            return {table.__name__: int((await uow.session.execute(select(func.count()).select_from(table))).scalar_one())
                    for table in (Referral, Touchpoint, SourceIdentity, NudgeRecord)}
    finally:
        await database.dispose()


async def test_referrals_read_in_the_practice_zone_across_daylight_saving(tmp_path: Path, database_url: str,
                                                                           desk: Seeded) -> None:
    card = run(tmp_path, database_url, "referrals", "show", str(desk.before_dst)).stdout
    assert card.startswith(f"Referral #{desk.before_dst} — new\n")
    assert "Received:       Fri 6 Mar 2026, 09:00 CST, via telegram" in card
    assert ("Referrer:       Dr. Sam Ortiz (physician, Lakeview Family Medicine) — sam.ortiz@lakeview.org — "
            "wrote via telegram (user 501)") in card
    assert "contact: jamie@client.example (agreed to be contacted; agreed to updates to the referrer)" in card
    assert "Issues:         Anxiety, Sleep / insomnia" in card
    assert "Fit:            good fit\n                  · Dr. Maya Okafor: specialises in anxiety" in card
    assert "First contact:  due by Tue 10 Mar 2026, 09:00 CDT" in card  # two business days, across the change
    assert "{" not in card and "'reasons'" not in card and "+00:00" not in card

    shown = as_json(tmp_path, database_url, "referrals", "show", str(desk.after_dst))
    assert shown["created_at"] == "2026-03-10T09:00:00-05:00"
    assert shown["referrer"]["contact"] == "sam.ortiz@lakeview.org"
    listed = {r["id"]: r for r in as_json(tmp_path, database_url, "referrals", "list")}
    assert listed[desk.before_dst]["created_at"] == "2026-03-06T09:00:00-06:00"
    assert set(listed[desk.before_dst]) >= {"id", "created_at", "status", "verdict", "source", "issues", "fit"}
    assert "client_contact" not in listed[desk.before_dst]  # the list stays the staff-safe view

    table = run(tmp_path, database_url, "referrals", "list").stdout.splitlines()
    assert table[0].split()[:7] == ["#", "received", "status", "fit", "urgency", "contact", "due"]
    row = next(line for line in table if line.strip().startswith(str(desk.before_dst) + " "))
    assert "6 Mar" in row and "09:00" in row and "good fit" in row and "10 Mar" in row


async def test_find_filter_correct_and_move_along_with_everything_recorded(tmp_path: Path, database_url: str,
                                                                            desk: Seeded) -> None:
    def ids(*args: str) -> list[int]:
        return [r["id"] for r in as_json(tmp_path, database_url, "referrals", *args)]

    assert ids("find", "grief") == [desk.duplicate]
    assert ids("find", "lakeview") == [desk.after_dst, desk.before_dst]  # the source's organisation
    assert ids("list", "--source", "Pat Kim") == [desk.teen]
    assert ids("list", "--since", "2026-03-08", "--fit", "good_fit") == [desk.after_dst]
    assert ids("find", "Jamie", "--status", "contacted") == []
    unknown = run(tmp_path, database_url, "referrals", "list", "--source", "Pat Kym", ok=False)
    assert unknown.returncode == 1 and "Did you mean 'Pat Kim'?" in unknown.stderr

    edited = run(tmp_path, database_url, "referrals", "edit", str(desk.teen), "client_age", "19",
                 "--note", "typo in the intake").stdout
    assert edited.strip() == f"Referral #{desk.teen}: client age 15 → 19. Fit judged again: possible fit → good fit."
    bad = run(tmp_path, database_url, "referrals", "edit", str(desk.teen), "client_age", "nineteen", ok=False)
    assert bad.returncode == 1 and "An age is a whole number" in bad.stderr

    booked = run(tmp_path, database_url, "referrals", "set-status", str(desk.before_dst), "became_client")
    assert "new → became_client" in booked.stdout
    refused = run(tmp_path, database_url, "referrals", "set-status", str(desk.before_dst), "new", ok=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("A referral cannot go from became_client to new; from became_client it can go "
                                      "to: referred_out. To correct a mistake, use `referbot referrals set-status` with --force.")
    forced = run(tmp_path, database_url, "referrals", "set-status", str(desk.before_dst), "contacted", "--force",
                 "--note", "pressed the wrong button")
    assert "became_client → contacted" in forced.stdout and "a correction" in forced.stdout
    out = run(tmp_path, database_url, "referrals", "set-status", str(desk.duplicate), "referred_out", "--to", "Dr. Raman")
    assert "new → referred_out" in out.stdout

    teen = as_json(tmp_path, database_url, "referrals", "show", str(desk.teen))
    assert teen["client_age"] == 19 and teen["verdict"] == "good_fit"
    assert [(e.get("field"), e.get("old"), e.get("new")) for e in teen["history"][1:]] == [
        ("client_age", "15", "19"), ("verdict", "possible_fit", "good_fit")]
    assert teen["history"][1]["note"] == "typo in the intake" and teen["history"][1]["by"].startswith("cli:")
    card = run(tmp_path, database_url, "referrals", "show", str(desk.before_dst)).stdout
    assert "became client  by cli:" in card and "contacted (correction)  by cli:" in card
    assert "pressed the wrong button" in card
    sources = as_json(tmp_path, database_url, "sources", "list")
    raman = next(s for s in sources if s["name"] == "Dr. Priya Raman, MD (psychiatry)")
    assert raman["colleague"] is True and raman["last_contact"] is not None


async def test_sources_found_merged_without_loss_renamed_set_and_shown(tmp_path: Path, database_url: str,
                                                                        desk: Seeded) -> None:
    ambiguous = run(tmp_path, database_url, "sources", "touch", "Dr Ortiz", "--kind", "thanked", ok=False)
    assert ambiguous.returncode == 1
    assert "Did you mean 'Dr Sam Ortiz' or 'Dr. Sam Ortiz'?" in ambiguous.stderr
    pairs = as_json(tmp_path, database_url, "sources", "duplicates")
    assert pairs == [{"first": "Dr Sam Ortiz", "second": "Dr. Sam Ortiz", "reasons": ["similar names (100%)"]}]
    stats_before = as_json(tmp_path, database_url, "stats", "--period", "all")
    before = await counts(database_url)
    old_code = next(s["code"] for s in as_json(tmp_path, database_url, "sources", "list") if s["name"] == "Dr Sam Ortiz")

    merged = run(tmp_path, database_url, "sources", "merge", "Dr. Sam Ortiz", "Dr Sam Ortiz", "--yes").stdout
    assert merged.startswith("Merged 'Dr Sam Ortiz' into 'Dr. Sam Ortiz': moved 1 referral, 1 contact, "
                             "1 chat identity")
    assert await counts(database_url) == before  # nothing lost
    stats_after = as_json(tmp_path, database_url, "stats", "--period", "all")
    assert stats_after["referrals"] == stats_before["referrals"] and stats_after["funnel"] == stats_before["funnel"]
    assert [s["referrals"] for s in stats_after["by_source"]] == [3, 1]
    assert as_json(tmp_path, database_url, "sources", "duplicates") == []

    renamed = run(tmp_path, database_url, "sources", "rename", "Dr Sam Ortiz", "Dr. Samuel Ortiz")  # an old name
    assert renamed.stdout.strip() == "Renamed 'Dr. Sam Ortiz' to 'Dr. Samuel Ortiz'."
    changed = run(tmp_path, database_url, "sources", "set", "samuel ortiz", "--tier", "key", "--org", "Lakeview Clinic")
    assert "tier: — → key, organisation: Lakeview Family Medicine → Lakeview Clinic" in changed.stdout
    touched = run(tmp_path, database_url, "sources", "touch", "Dr Sam Ortiz", "--kind", "thanked", "--note", "card")
    assert touched.stdout.strip() == "Logged thanked with Dr. Samuel Ortiz."
    via_code = run(tmp_path, database_url, "sources", "show", old_code).stdout  # the merged one's tracking code
    assert via_code.startswith("Dr. Samuel Ortiz (physician, Lakeview Clinic, sam.ortiz@lakeview.org, tier key)")
    assert "Also known as: Dr Sam Ortiz, Dr. Sam Ortiz" in via_code
    assert "Fri 6 Mar 2026, 09:00 CST  Referral #" in via_code and "Tue 10 Mar 2026, 09:00 CDT  Referral #" in via_code
    assert "Thanked: card — cli:" in via_code and "Next nudge:" in via_code

    listed = run(tmp_path, database_url, "sources", "list").stdout
    assert listed.startswith("Sources (2):\n  Dr. Samuel Ortiz (physician, tier key) — Lakeview Clinic\n"
                             "      3 referrals · last contact ")
    assert "Pat Kim (school) — Lincoln High School\n      1 referral · " in listed
