"""Referrals and sources as plain dictionaries and as readable text, in the practice's time zone.

The dictionaries are one shape for the CLI's --json, exports and alerts; times in them are ISO 8601
with the practice's UTC offset (`2026-03-02T09:00:00-06:00`), so a spreadsheet and a therapist see
the same wall-clock time. The text forms (a referral card, list rows) are what every surface shows:
the CLI prints them and chat desks can send them as they are.

`full=False` leaves out what only practice staff may see (client contact, free-text answers), so
a view can be shared more widely without leaking a client's details.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any

from referbot.store.models import Referral, Source

UTC = timezone.utc


def words(value: object) -> str:
    """An enum value or id as words (`consult_booked` → `consult booked`); a dash for nothing."""
    return str(value).replace("_", " ") if value not in (None, "") else "—"


def short_name(name: str | None) -> str:
    """First name and initials only (`Jane Q. Doe` → `Jane Q. D.`): enough to recognise, little to leak."""
    if not name or not name.strip():
        return "not given"
    first, *rest = name.split()
    return " ".join([first, *(f"{part[0]}." for part in rest if part[0].isalpha())])


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 referral`, `2 referrals`, `0 referrals`; irregular plurals given as `nouns`."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


# --- time, as the practice reads it -------------------------------------------------------------


def iso_local(at: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 in the practice's zone with its offset, to the second (no microseconds)."""
    return at.astimezone(zone).replace(microsecond=0).isoformat() if at is not None else None


def when(at: datetime, zone: tzinfo) -> str:
    """`Mon 2 Mar 2026, 09:00 CST`: a moment as a person in the practice reads it."""
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def day_words(at: datetime, zone: tzinfo) -> str:
    """`2 March 2026`: a date in words, in the practice's calendar."""
    local = at.astimezone(zone)
    return f"{local.day} {local:%B %Y}"


def short_when(at: datetime, zone: tzinfo) -> str:
    """`2 Mar 09:00` (with the year only when it is not this one's): for table columns."""
    local = at.astimezone(zone)
    year = "" if local.year == datetime.now(zone).year else f" {local.year}"
    return f"{local.day:>2} {local:%b}{year} {local:%H:%M}"


# --- dictionaries -------------------------------------------------------------------------------


def referrer_of(referral: Referral) -> dict[str, Any]:
    """Who referred and how to reach them: what they typed, else what the source record holds."""
    answers = referral.answers or {}
    source = referral.source
    return {"name": answers.get("referrer_name") or (source.name if source else None),
            "contact": answers.get("referrer_contact") or (source.contact if source else None),
            "organisation": answers.get("referrer_organisation") or (source.organisation if source else None),
            "channel": referral.channel, "user_id": referral.referrer_user_id}


def referral_view(referral: Referral, *, full: bool = True, zone: tzinfo = UTC) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": referral.id,
        "created_at": iso_local(referral.created_at, zone),
        "status": referral.status,
        "verdict": referral.verdict,
        "crisis": referral.crisis,
        "crisis_kind": referral.crisis_kind,
        "urgent_review": referral.urgent_review,
        "channel": referral.channel,
        "source": referral.source.name if referral.source else None,
        "source_type": referral.source.type if referral.source else None,
        "client_name": referral.client_name,
        "client_age": referral.client_age,
        "issues": referral.issues,
        "therapy_format": referral.therapy_format,
        "modality": referral.modality,
        "urgency": referral.urgency,
        "payment": referral.payment,
        "consent_to_contact": referral.consent_to_contact,
        "consent_to_update": referral.consent_to_update,
        "fit": referral.fit,
        "first_contact_at": iso_local(referral.first_contact_at, zone),
        "history": [_event_view(e, zone) for e in referral.events],
    }
    if full:
        view.update({
            "presenting_issues": referral.presenting_issues,
            "client_contact": referral.client_contact,
            "crisis_evidence": referral.crisis_evidence,
            "risk": referral.risk,
            "answers": referral.answers,
            "referrer": referrer_of(referral),
        })
    return view


def _event_view(event: Any, zone: tzinfo) -> dict[str, Any]:
    view = {"status": event.status, "by": event.by, "note": event.note, "at": iso_local(event.at, zone)}
    if event.field is not None:
        view.update({"field": event.field, "old": event.old_value, "new": event.new_value})
    if event.forced:
        view["forced"] = True
    return view


def source_view(source: Source, zone: tzinfo = UTC) -> dict[str, Any]:
    return {
        "id": source.id,
        "name": source.name,
        "type": source.type,
        "organisation": source.organisation,
        "contact": source.contact,
        "code": source.code,
        "tier": source.tier,
        "colleague": source.colleague,
        "created_at": iso_local(source.created_at, zone),
        "identities": [f"{i.channel}:{i.user_id}" for i in source.identities],
        "aliases": [a.name for a in source.aliases if a.name],
    }
