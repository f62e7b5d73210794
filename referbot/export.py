"""Exports for spreadsheets: referrals, sources and touchpoints as CSV or JSON.

One flat row shape per kind, the same in both formats, so a CSV and a JSON export of the same data
agree and every cell is a single value (lists are joined with ";", e.g. issues "anxiety;depression").
Referrals are exported at the level of `referral_view(full=False)` — no client contact details or
free text — unless the caller asks for contact details explicitly.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone, tzinfo
from typing import Any, Iterable, TextIO

from sqlalchemy import Select, select

from referbot.errors import BadRequest
from referbot.store import Database
from referbot.store.models import Referral, Source, Touchpoint
from referbot.views import iso_local, referral_view, source_view

KINDS = ("referrals", "sources", "touchpoints")
FORMATS = ("csv", "json")
LIST_SEPARATOR = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

REFERRAL_COLUMNS = ("id", "created_at", "status", "verdict", "crisis", "crisis_kind", "urgent_review", "channel",
                    "source", "source_type",
                    "client_name", "client_age", "issues", "therapy_format", "modality", "urgency", "payment",
                    "consent_to_contact", "consent_to_update", "fit_reasons", "first_contact_at", "history")
#: Added by `include_contact=True`: what only practice staff may see.
CONTACT_COLUMNS = ("client_contact", "presenting_issues", "crisis_evidence", "answers")
SOURCE_COLUMNS = ("id", "name", "type", "organisation", "contact", "code", "tier", "created_at", "identities")
TOUCHPOINT_COLUMNS = ("id", "at", "source_id", "source", "kind", "referral_id", "by", "note")


class UnknownExport(BadRequest):
    """An export kind or format that does not exist."""


def inert_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a referrer named `=HYPERLINK(…)` must not become a
    formula, so text starting with = + - @ (or a tab or carriage return) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _joined(items: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(items)


def referral_row(referral: Referral, *, include_contact: bool = False, zone: tzinfo = timezone.utc) -> dict[str, Any]:
    view = referral_view(referral, full=include_contact, zone=zone)
    view["issues"] = _joined(issue["id"] for issue in view["issues"])
    view["fit_reasons"] = _joined(view["fit"].get("reasons", []))
    view["history"] = _joined(f"{e['status']} {e['at']} {e['by']}" for e in view["history"])
    if include_contact:
        view["answers"] = json.dumps(view["answers"], ensure_ascii=False, sort_keys=True, default=str)
    return {column: view[column] for column in columns_for("referrals", include_contact=include_contact)}


def source_row(source: Source, zone: tzinfo = timezone.utc) -> dict[str, Any]:
    view = source_view(source, zone)
    view["identities"] = _joined(view["identities"])
    return {column: view[column] for column in SOURCE_COLUMNS}


def touchpoint_row(touchpoint: Touchpoint, source_name: str, zone: tzinfo = timezone.utc) -> dict[str, Any]:
    return {"id": touchpoint.id, "at": iso_local(touchpoint.at, zone), "source_id": touchpoint.source_id,
            "source": source_name, "kind": touchpoint.kind, "referral_id": touchpoint.referral_id,
            "by": touchpoint.by, "note": touchpoint.note}


def columns_for(kind: str, *, include_contact: bool = False) -> tuple[str, ...]:
    if kind == "referrals":
        return REFERRAL_COLUMNS + (CONTACT_COLUMNS if include_contact else ())
    if kind == "sources":
        return SOURCE_COLUMNS
    if kind == "touchpoints":
        return TOUCHPOINT_COLUMNS
    raise UnknownExport(f"Unknown export {kind!r}; one of: {', '.join(KINDS)}")


def _selection(kind: str) -> tuple[Select[Any], Any, Any]:
    """The query for `kind`, its timestamp column (for `since` and order) and its id column."""
    if kind == "referrals":
        return select(Referral), Referral.created_at, Referral.id
    if kind == "sources":
        return select(Source), Source.created_at, Source.id
    return select(Touchpoint, Source.name).join(Source, Source.id == Touchpoint.source_id), Touchpoint.at, Touchpoint.id


async def export_rows(database: Database, kind: str, *, since: datetime | None = None,
                      include_contact: bool = False, zone: tzinfo = timezone.utc) -> list[dict[str, Any]]:
    """Rows of `kind` (oldest first), only those created (touchpoints: happened) at or after `since`;
    times as ISO 8601 in `zone` (the practice's) with its offset."""
    columns_for(kind)  # refuse an unknown kind before touching the database
    query, stamp, key = _selection(kind)
    query = query.order_by(stamp, key)
    if since is not None:
        query = query.where(stamp >= since)
    async with database.sessions() as session:
        rows = (await session.execute(query)).all()
    if kind == "referrals":
        return [referral_row(referral, include_contact=include_contact, zone=zone) for referral, in rows]
    if kind == "sources":
        return [source_row(source, zone) for source, in rows]
    return [touchpoint_row(touchpoint, name, zone) for touchpoint, name in rows]


def write_export(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, stream: TextIO) -> None:
    """Write rows as CSV (a header row, then one line per row) or as a JSON array."""
    if fmt == "csv":
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows({key: inert_cell(value) for key, value in row.items()} for row in rows)
    elif fmt == "json":
        json.dump(rows, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    else:
        raise UnknownExport(f"Unknown format {fmt!r}; one of: {', '.join(FORMATS)}")
