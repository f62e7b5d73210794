"""What the bot says that depends on the practice: crisis resources, the fit answer, the guidelines.

Plain text only; each adapter escapes it for its channel.
"""

from __future__ import annotations

from referbot.domain import CrisisKind, FitAssessment, FitVerdict
from referbot.profile import Availability, Profile


_DANGER_HEADLINES = {
    None: "It sounds like someone may be in danger. Please don't wait for us:",
    CrisisKind.SELF: "It sounds like the client may be at risk of harming themselves. Please don't wait for us:",
    CrisisKind.OTHERS: "It sounds like someone may be at risk of being harmed by the client. Please don't wait for us:",
    CrisisKind.FROM_OTHERS: "It sounds like the client may be in danger from someone. Please don't wait for us:",
    CrisisKind.MEDICAL: "It sounds like the client may be in medical danger. Please don't wait for us:",
}


def crisis_message(profile: Profile, kind: CrisisKind | None, alerting: bool) -> str:
    """Shown the moment danger is seen: the resources for that kind first, then what the practice
    will do. It says the team was alerted only when a channel can actually deliver the alert."""
    lines = [_DANGER_HEADLINES[kind]]
    lines += [f"• {r.name}: {r.contact}" + (f" ({r.description})" if r.description else "")
              for r in profile.crisis.for_kind(kind)]
    follow_up = ("We have alerted the practice team urgently, and they will follow up during office hours."
                 if alerting else
                 f"Please also contact the practice directly: {_reach(profile)}.")
    lines.append(f"{profile.practice.name} is not an emergency service and cannot respond right away. {follow_up}")
    return "\n".join(lines)


_HEADLINES = {
    FitVerdict.GOOD_FIT: "This looks like a good fit for {practice}.",
    FitVerdict.POSSIBLE_FIT: "This may be a fit for {practice}; the team will review it and confirm.",
    FitVerdict.NOT_A_FIT: "Honestly, {practice} is probably not the right fit for this client.",
}
_UNRECOGNISED = ("I couldn't tell from the description what the client needs, so a clinician will read it "
                 "and reply.")


def verdict_message(profile: Profile, assessment: FitAssessment, referral_id: int) -> str:
    """The one closing message a referrer gets after confirming: receipt, the honest answer with
    its reasons (grouped per clinician), where else to turn when it is not a fit, and how to
    reach the practice. Nothing recognised is never a "good fit"."""
    practice = profile.practice
    lines = [f"Thank you: referral #{referral_id} has been received."]
    unclear = not assessment.issues_recognised and assessment.verdict is not FitVerdict.NOT_A_FIT
    lines.append(_UNRECOGNISED if unclear else _HEADLINES[assessment.verdict].format(practice=practice.name))
    lines += [f"• {reason}" for reason in assessment.reasons]
    if assessment.verdict is FitVerdict.NOT_A_FIT and assessment.refer_out:
        lines.append("Colleagues we trust who may be able to help:")
        lines += [f"• {c.name}: {c.contact}" for c in assessment.refer_out]
    elif assessment.verdict is not FitVerdict.NOT_A_FIT:
        days = practice.response_time_business_days
        lines.append(f"Someone from the practice will reach out within {days} business day{'s' * (days != 1)}.")
    lines.append(f"Questions: {_reach(profile)}")
    return "\n".join(lines)


def _reach(profile: Profile) -> str:
    """How a referrer reaches the practice: phone and email, not the street address or website."""
    contact = profile.practice.contact
    return " · ".join(v for v in (contact.phone, contact.email) if v) or contact.one_line()


def guidelines_message(profile: Profile) -> str:
    """Who the practice sees, how to refer, and how to reach it: the /guidelines answer."""
    practice = profile.practice
    out = [f"{practice.name} — referral guidelines"]
    if profile.guidelines.steps:
        out += ["", "How to refer:"] + [f"{i}. {s}" for i, s in enumerate(profile.guidelines.steps, 1)]
    if profile.guidelines.documentation:
        out += ["", "Documentation:"] + [f"• {d}" for d in profile.guidelines.documentation]
    out += ["", "Clinicians:"]
    for c in profile.clinicians:
        status = {Availability.ACCEPTING: "accepting new clients",
                  Availability.WAITLIST: f"waitlist{f' (~{c.waitlist_weeks} weeks)' if c.waitlist_weeks else ''}",
                  Availability.CLOSED: "not accepting new clients"}[c.availability]
        out.append(f"• {c.name}{', ' + c.credentials if c.credentials else ''}: ages {c.ages.describe()}, "
                   f"{', '.join(f.value for f in c.formats)}; {status}")
    if profile.guidelines.limitations:
        out += ["", "We do not / cannot:"] + [f"• {x}" for x in profile.guidelines.limitations]
    out += ["", f"Contact: {practice.contact.one_line()}", f"Office hours: {practice.office_hours.describe()}"]
    return "\n".join(out)
