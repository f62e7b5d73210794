"""Referrals as a therapist reads them: one card per referral, one row per referral in a list.

Plain text, times in the practice's zone, enum ids as words, the fit as its reasons — no Python
dicts, no UTC microseconds. The CLI prints these; chat desks can send them as they are (each
adapter escapes text its own way).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from referbot.alerts import CRISIS_KIND_LABELS, risk_facts
from referbot.domain import ReferralStatus
from referbot.matching import issue_label
from referbot.nudges.office_hours import business_days_after
from referbot.profile import Profile
from referbot.store.models import Referral
from referbot.views import referrer_of, short_when, when, words

VERDICTS = {"good_fit": "good fit", "possible_fit": "possible fit", "not_a_fit": "not a fit", "crisis": "CRISIS"}
YES_NO = {True: "yes", False: "no"}


def first_contact_due(referral: Referral, profile: Profile) -> datetime:
    """When the referrer was promised first contact: the practice's response time in business days."""
    return business_days_after(referral.created_at, profile.practice.response_time_business_days,
                               profile.practice.office_hours)


def issues_text(issues: Sequence[Any]) -> str:
    return ", ".join(issue_label(str(i.get("id"))) for i in issues if isinstance(i, dict)) or "none recognised"


def _first_contact(referral: Referral, profile: Profile) -> str:
    zone = profile.practice.office_hours.zone
    if referral.first_contact_at is not None:
        return f"made {when(referral.first_contact_at, zone)}"
    if not referral.consent_to_contact:
        return "the client did not agree to be contacted"
    due = first_contact_due(referral, profile)
    return f"due by {when(due, zone)}"


def flags(referral: Referral) -> str:
    """`  ⚠ CRISIS (self)`, `  URGENT REVIEW`: what must catch the eye first, in a card or a row."""
    kind = CRISIS_KIND_LABELS.get(referral.crisis_kind or "", words(referral.crisis_kind))
    crisis = f"  ⚠ CRISIS{f' ({kind})' if referral.crisis_kind else ''}" if referral.crisis else ""
    return crisis + ("  URGENT REVIEW" if referral.urgent_review else "")


def _referrer(referral: Referral) -> str:
    who = referrer_of(referral)
    parts = [who["name"] or "name not given"]
    if referral.source is not None:
        parts[0] += f" ({words(referral.source.type)}{', ' + who['organisation'] if who['organisation'] else ''})"
    parts.append(who["contact"] or "no contact given")
    parts.append(f"wrote via {who['channel']} (user {who['user_id']})")
    return " — ".join(parts)


def _client(referral: Referral) -> list[str]:
    age = f", {referral.client_age}" if referral.client_age is not None else ", age not given"
    lines = [f"{referral.client_name or 'name not given'}{age}"]
    if referral.consent_to_contact:
        lines.append(f"contact: {referral.client_contact or 'not given'} (agreed to be contacted; "
                     f"{'agreed' if referral.consent_to_update else 'did not agree'} to updates to the referrer)")
    else:
        lines.append("did not agree to be contacted (reach them through the referrer)")
    return lines


def _fit(referral: Referral) -> list[str]:
    fit = referral.fit or {}
    lines = [VERDICTS.get(referral.verdict, words(referral.verdict))]
    lines += [f"  · {reason}" for reason in fit.get("reasons") or ()]
    clinicians = [f"{c['name']} ({words(c['verdict'])})" for c in fit.get("clinicians") or ()]
    if clinicians:
        lines.append(f"  clinicians: {', '.join(clinicians)}")
    out = [f"{c['name']} ({c['contact']})" if c.get("contact") else c["name"] for c in fit.get("refer_out") or ()]
    if out:
        lines.append(f"  refer out to: {'; '.join(out)}")
    return lines


def _history(referral: Referral, profile: Profile) -> list[str]:
    zone = profile.practice.office_hours.zone
    lines = []
    for event in referral.events:
        if event.field is not None:
            what = f"{words(event.field)}: {event.old_value or '—'} → {event.new_value or '—'}"
        else:
            what = words(event.status) + (" (correction)" if event.forced else "")
        note = f" — {event.note}" if event.note else ""
        lines.append(f"  {when(event.at, zone)}  {what}  by {event.by}{note}")
    return lines


def referral_card(referral: Referral, profile: Profile, *, full: bool = True) -> str:
    """One referral in full, for the therapist: who, how to reach them, what, fit and why, history.

    `full=False` leaves out the client's contact and the referrer's own words (for a shared view).
    """
    zone = profile.practice.office_hours.zone
    rows: list[tuple[str, list[str]]] = [
        ("Received", [f"{when(referral.created_at, zone)}, via {referral.channel}"]),
        ("Referrer", [_referrer(referral)]),
        ("Client", _client(referral) if full else [f"{referral.client_name or 'name not given'}"]),
        ("Issues", [issues_text(referral.issues or [])]),
    ]
    if full and referral.presenting_issues:
        rows.append(("In their words", [f"“{referral.presenting_issues}”"]))
    if full and referral.crisis_evidence:
        rows.append(("Crisis language", [f"“{referral.crisis_evidence}”"]))
    rows += [(label, [text]) for label, text in risk_facts(referral)]
    wants = [words(v) for v in (referral.therapy_format, referral.modality, referral.payment) if v]
    rows += [("Looking for", [", ".join(wants) or "not said"]),
             ("Urgency", [words(referral.urgency)]),
             ("Fit", _fit(referral)),
             ("First contact", [_first_contact(referral, profile)])]
    lines = [f"Referral #{referral.id} — {words(referral.status)}{flags(referral)}"]
    for label, values in rows:
        lines.append(f"{label + ':':<16}{values[0]}")
        lines += [f"{'':<16}{value}" for value in values[1:]]
    lines.append("History:")
    lines += _history(referral, profile)
    return "\n".join(lines)


def referral_rows(referrals: Sequence[Referral], profile: Profile) -> str:
    """A table: number, received, status, fit, urgency, first contact due, client, source."""
    if not referrals:
        return "No referrals match."
    zone = profile.practice.office_hours.zone
    header = f"{'#':>5}  {'received':<13} {'status':<15} {'fit':<13} {'urgency':<14} {'contact due':<13} client, source"
    lines = [header]
    for r in referrals:
        due = "done" if r.first_contact_at else (
            short_when(first_contact_due(r, profile), zone) if r.status == ReferralStatus.NEW.value
            and r.consent_to_contact else "—")
        age = f" ({r.client_age})" if r.client_age is not None else ""
        lines.append(f"{r.id:>5}  {short_when(r.created_at, zone):<13} {words(r.status):<15} "
                     f"{VERDICTS.get(r.verdict, words(r.verdict)):<13} {words(r.urgency):<14} {due:<13} "
                     f"{r.client_name or '?'}{age}, from {r.source.name if r.source else 'unknown'}{flags(r)}")
    return "\n".join(lines)
