"""What the bot says that depends on the practice: crisis resources, the fit answer, the guidelines.

Plain text only; each adapter escapes it for its channel.
"""

from __future__ import annotations

from referbot.domain import FitAssessment, FitVerdict
from referbot.profile import Availability, Profile


def crisis_message(profile: Profile) -> str:
    """Shown the moment crisis language is seen: resources first, then what the practice will do."""
    lines = ["It sounds like someone may be in danger. Please don't wait for us:"]
    lines += [f"• {r.name}: {r.contact}" + (f" — {r.description}" if r.description else "")
              for r in profile.crisis.resources]
    lines.append(f"{profile.practice.name} is not an emergency service and cannot respond right away. "
                 "We have alerted the practice team urgently, and they will follow up during office hours.")
    return "\n".join(lines)


_HEADLINES = {
    FitVerdict.GOOD_FIT: "Good news: this looks like a good fit for {practice}.",
    FitVerdict.POSSIBLE_FIT: "This may be a fit for {practice}; the team will review it and confirm.",
    FitVerdict.NOT_A_FIT: "Thank you. Honestly, {practice} is probably not the right fit for this client.",
}


def verdict_message(profile: Profile, assessment: FitAssessment, referral_id: int) -> str:
    """The honest answer a referrer gets after confirming, with where else to turn when it is not a fit."""
    practice = profile.practice
    lines = [_HEADLINES[assessment.verdict].format(practice=practice.name)]
    lines += [f"• {reason}" for reason in assessment.reasons]
    if assessment.verdict is FitVerdict.NOT_A_FIT and assessment.refer_out:
        lines.append("Colleagues we trust who may be able to help:")
        lines += [f"• {c.name} — {c.contact}" for c in assessment.refer_out]
    elif assessment.verdict is not FitVerdict.NOT_A_FIT:
        days = practice.response_time_business_days
        lines.append(f"Someone from the practice will reach out within {days} business day{'s' * (days != 1)}.")
    lines.append(f"Your referral number is #{referral_id}. Questions: {practice.contact.one_line()}")
    return "\n".join(lines)


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
