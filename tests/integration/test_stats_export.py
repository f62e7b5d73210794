"""Exports on SQLite and PostgreSQL: what each row holds, `since`, and CSV / JSON round-trips."""

from __future__ import annotations

import csv
import io
import json

import pytest

from referbot.export import UnknownExport, columns_for, export_rows, write_export
from tests.integration.stats_history import ANN, BEN, HOPE, KIM, REFERRALS, SCHOOL, at, seed_history


def as_csv_cells(row: dict) -> dict:
    """What a CSV reader gives back for a row: every value as text, None as an empty cell."""
    return {key: "" if value is None else str(value) for key, value in row.items()}


def round_trip_csv(rows: list[dict], columns: tuple[str, ...]) -> tuple[list[str], list[dict]]:
    buffer = io.StringIO()
    write_export(rows, columns, "csv", buffer)
    reader = csv.DictReader(io.StringIO(buffer.getvalue()))
    return list(reader.fieldnames or []), list(reader)


@pytest.mark.parametrize("kind", ["referrals", "sources", "touchpoints"])
async def test_csv_and_json_round_trip(database, kind: str) -> None:
    await seed_history(database)
    rows = await export_rows(database, kind)
    header, read_back = round_trip_csv(rows, columns_for(kind))
    assert header == list(columns_for(kind))
    assert read_back == [as_csv_cells(row) for row in rows]
    buffer = io.StringIO()
    write_export(rows, columns_for(kind), "json", buffer)
    assert json.loads(buffer.getvalue()) == rows


async def test_referral_rows_are_flat_and_leave_out_client_contact(database) -> None:
    ids = await seed_history(database)
    rows = await export_rows(database, "referrals")
    assert [row["id"] for row in rows] == [ids[label] for label, *_ in sorted(REFERRALS, key=lambda r: r[1])]
    r1 = next(row for row in rows if row["id"] == ids["r1"])
    assert r1 == {
        "id": ids["r1"], "created_at": "2026-01-14T09:00:00+00:00", "status": "consult_booked", "verdict": "good_fit",
        "crisis": False, "crisis_kind": None, "urgent_review": False, "channel": "telegram", "source": ANN,
        "source_type": "physician", "client_name": "Client r1",
        "client_age": 30, "issues": "anxiety;depression", "therapy_format": None, "modality": None, "urgency": None,
        "payment": None, "consent_to_contact": True, "consent_to_update": False, "fit_reasons": "reason for r1",
        "first_contact_at": "2026-01-14T12:00:00+00:00",
        "history": "new 2026-01-14T09:00:00+00:00 telegram:u-r1;contacted 2026-01-14T12:00:00+00:00 slack:UTHERAPIST;"
                   "consult_booked 2026-01-14T15:00:00+00:00 slack:UTHERAPIST"}
    assert not any("r1@client.example" in str(value) for row in rows for value in row.values())


async def test_contact_details_only_when_asked(database) -> None:
    ids = await seed_history(database)
    rows = await export_rows(database, "referrals", include_contact=True)
    r5 = next(row for row in rows if row["id"] == ids["r5"])
    assert list(r5) == list(columns_for("referrals", include_contact=True))
    assert (r5["client_contact"], r5["presenting_issues"], r5["answers"], r5["crisis"]) == (
        "r5@client.example", "story of r5", '{"note": "r5"}', True)
    _, read_back = round_trip_csv(rows, columns_for("referrals", include_contact=True))
    assert read_back == [as_csv_cells(row) for row in rows]


async def test_since_filters_by_creation_or_contact_time(database) -> None:
    ids = await seed_history(database)
    since = at(2025, 12, 31, 23, 30)
    referrals = await export_rows(database, "referrals", since=since)
    assert [row["id"] for row in referrals] == [ids["r3"], ids["r2"], ids["r1"], ids["r13"]]
    touchpoints = await export_rows(database, "touchpoints", since=since)
    assert [(t["source"], t["kind"], t["at"]) for t in touchpoints] == [
        (BEN, "thanked", "2025-12-31T23:30:00+00:00"), (ANN, "thanked", "2026-01-03T12:00:00+00:00"),
        (ANN, "referred_back", "2026-01-05T12:00:00+00:00"), (BEN, "check_in", "2026-01-05T12:00:00+00:00"),
        (HOPE, "referred_back", "2026-01-10T12:00:00+00:00"), (ANN, "thanked", "2026-01-18T12:00:00+00:00")]
    assert [s["name"] for s in await export_rows(database, "sources")] == [ANN, BEN, SCHOOL, HOPE, KIM]
    assert await export_rows(database, "sources", since=since) == []


async def test_sources_rows(database) -> None:
    await seed_history(database)
    ann = (await export_rows(database, "sources"))[0]
    assert list(ann) == list(columns_for("sources"))
    assert (ann["name"], ann["type"], ann["contact"], ann["identities"]) == (ANN, "physician", "0@example.org", "")
    assert ann["code"].startswith("dr-ann-lee-")


async def test_unknown_kind_or_format(database) -> None:
    with pytest.raises(UnknownExport, match="referrals, sources, touchpoints"):
        await export_rows(database, "clients")
    with pytest.raises(UnknownExport, match="csv, json"):
        write_export([], (), "xlsx", io.StringIO())
