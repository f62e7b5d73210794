"""Referrals and sources as plain dictionaries: one shape for the CLI's --json, exports and alerts.

`full=False` leaves out what only practice staff may see (client contact, free-text answers), so
a view can be shared more widely without leaking a client's details.
"""

from __future__ import annotations

from typing import Any

from referbot.store.models import Referral, Source



def words(value: object) -> str:
    """An enum value or id as words (`consult_booked` → `consult booked`); a dash for nothing."""
    return str(value).replace("_", " ") if value not in (None, "") else "—"


def short_name(name: str | None) -> str:
    """First name and initials only (`Jane Q. Doe` → `Jane Q. D.`): enough to recognise, little to leak."""
    if not name or not name.strip():
        return "not given"
    first, *rest = name.split()
    return " ".join([first, *(f"{part[0]}." for part in rest if part[0].isalpha())])


def referral_view(referral: Referral, *, full: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": referral.id,
        "created_at": referral.created_at.isoformat(),
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
        "first_contact_at": referral.first_contact_at.isoformat() if referral.first_contact_at else None,
        "history": [{"status": e.status, "by": e.by, "note": e.note, "at": e.at.isoformat()} for e in referral.events],
    }
    if full:
        view.update({
            "presenting_issues": referral.presenting_issues,
            "client_contact": referral.client_contact,
            "crisis_evidence": referral.crisis_evidence,
            "risk": referral.risk,
            "answers": referral.answers,
        })
    return view


def source_view(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "name": source.name,
        "type": source.type,
        "organisation": source.organisation,
        "contact": source.contact,
        "code": source.code,
        "tier": source.tier,
        "created_at": source.created_at.isoformat(),
        "identities": [f"{i.channel}:{i.user_id}" for i in source.identities],
    }
