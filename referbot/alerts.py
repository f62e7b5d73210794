"""What an alert about a referral says, decided once for every channel.

The privacy rule lives here: an alert carries the minimum needed to decide (source, client first
name or initials, age, issues, fit and why, urgency, channel) and never the client's contact
details; a crisis alert adds whom to call back (the referrer, never the client) and the words
that raised it. Channels only format these plain-text facts and escape them their own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from referbot.store.models import Referral
from referbot.matching import issue_label
from referbot.views import referral_view, short_name, words

AlertDetail = Literal["minimal", "full"]

VERDICT_LABELS = {"good_fit": "Good fit", "possible_fit": "Possible fit", "not_a_fit": "Not a fit",
                  "crisis": "Crisis"}
CRISIS_KIND_LABELS = {"self": "risk to self", "others": "risk to others", "from_others": "danger from others",
                      "medical": "medical danger"}
_SAFETY_ANSWERS = {"no": "said no", "unsure": "was not sure", "yes": "said yes"}


@dataclass(frozen=True)
class CallBack:
    """In a crisis: the referrer to call now, and where they wrote from."""

    name: str
    contact: str
    channel: str
    user_id: str


@dataclass(frozen=True)
class Alert:
    referral_id: int
    crisis: bool
    title: str
    facts: tuple[tuple[str, str], ...]
    reasons: tuple[str, ...]
    call_back: CallBack | None = None
    crisis_evidence: str | None = None


def initials(name: str | None) -> str:
    """`Jane Quinn Doe` → `J. Q. D.`: enough to tell two referrals apart, nothing to look up."""
    parts = [part for part in (name or "").split() if part[0].isalpha()]
    return " ".join(f"{part[0].upper()}." for part in parts) or "not given"


def age_band(age: int | None) -> str:
    """An age as a band (`34` → `30s`, `19` → `18-19`); under 18 stays exact, since fit often hinges on it."""
    if age is None:
        return "not given"
    if age < 18:
        return f"age {age}"
    return "18-19" if age < 20 else f"{age // 10 * 10}s"


def build_alert(referral: Referral, detail: AlertDetail = "minimal") -> Alert:
    """The alert for a referral, from its staff-safe view (plus the referrer's contact in a crisis).

    `minimal` (the default) carries initials, an age band, issue categories, fit and urgency, and
    leaves crisis words out; `full` (a practice with a business associate agreement with its chat
    provider) shows the first name, exact age and crisis words. The rest is on request, audited."""
    view = referral_view(referral, full=False)
    source = view["source"] or "unknown"
    if view["source_type"]:
        source += f" ({words(view['source_type'])})"
    if detail == "full":
        age = view["client_age"] if view["client_age"] is not None else "not given"
        client = f"{short_name(view['client_name'])}, age {age}"
    else:
        client = f"{initials(view['client_name'])}, {age_band(view['client_age'])}"
    facts = (("Source", source),
             ("Client", client),
             ("Issues", ", ".join(issue_label(issue["id"]) for issue in view["issues"]) or "none recognised"),
             ("Fit", VERDICT_LABELS.get(view["verdict"], words(view["verdict"]))),
             ("Urgency", words(view["urgency"])),
             ("Came via", view["channel"]),
             *risk_facts(referral, detail))
    reasons = tuple((view["fit"] or {}).get("reasons") or ())
    kind = CRISIS_KIND_LABELS.get(referral.crisis_kind or "", "")
    if not referral.crisis:
        marker = "URGENT REVIEW: " if referral.urgent_review else ""
        title = f"{marker}New referral #{referral.id}: {VERDICT_LABELS.get(referral.verdict, words(referral.verdict)).lower()}"
        return Alert(referral.id, False, title, facts, reasons)
    answers = referral.answers or {}
    source_record = referral.source
    call_back = CallBack(
        name=answers.get("referrer_name") or (source_record.name if source_record else None) or "name not given",
        contact=answers.get("referrer_contact") or (source_record.contact if source_record else None)
        or "no contact given",
        channel=referral.channel, user_id=referral.referrer_user_id)
    title = f"URGENT: possible crisis ({kind or 'kind not recorded'}) in referral #{referral.id}"
    if any(entry.get("event") == "not_an_emergency" for entry in referral.risk or []):
        title += "; the referrer later said it was not an emergency"
    return Alert(referral.id, True, title, facts, reasons, call_back,
                 referral.crisis_evidence if detail == "full" else None)


def risk_facts(referral: Referral, detail: AlertDetail = "full") -> tuple[tuple[str, str], ...]:
    """What the intake learnt about danger, for staff: the screening answer, safety questions and
    how they were answered, a crisis stop the referrer called a false alarm, and past risk.
    `minimal` leaves out the referrer's words (they are the client's story), keeping what happened."""
    quoted = detail == "full"
    facts: list[tuple[str, str]] = []
    for entry in referral.risk or []:
        event = entry.get("event")
        if event == "screening":
            facts.append(("Risk now", f"referrer answered \"{entry.get('answer')}\": review urgently"))
        elif event == "safety_question":
            said = _SAFETY_ANSWERS.get(entry.get("answer"), entry.get("answer"))
            about = f"asked about \"{entry.get('evidence')}\"" if quoted else "asked (words in the details)"
            facts.append(("Safety check", f"{about}; the referrer {said}"))
        elif event == "not_an_emergency":
            facts.append(("After the crisis stop", "the referrer said it was not an emergency and went on"))
        elif event == "history":
            facts.append(("Past risk", str(entry.get("evidence")) if quoted else "noted (see the details)"))
    return tuple(facts)
