"""What a nudge says: the reminder with its context, and a drafted note to send.

A note to a referrer names the client, or their issues, only when the referral recorded the
client's consent to updates; otherwise it speaks of "the referral you sent on 2 Mar 2026". The
reminder text itself refers to referrals by number, so it can sit in a shared channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from referbot.domain import NudgeKind, ReferralStatus, TouchpointKind
from referbot.nudges.model import Nudge
from referbot.nudges.office_hours import local_date
from referbot.nudges.rules import ReferralFacts, SourceFacts
from referbot.profile import Profile
from referbot.views import plural

#: How a closing status reads in the reminder, and in the note to the referrer ("they …").
OUTCOMES = {
    ReferralStatus.BECAME_CLIENT: ("became a client", "have started working with us"),
    ReferralStatus.NOT_A_FIT: ("was not a fit", "were not the right fit for our practice, and we suggested other options"),
    ReferralStatus.REFERRED_OUT: ("was referred to a colleague", "are being seen by a colleague better suited to what they need"),
    ReferralStatus.DECLINED_BY_CLIENT: ("declined", "decided not to go ahead for now"),
    ReferralStatus.NO_RESPONSE: ("could not be reached", "have not been reachable so far despite our attempts"),
}
RECENT_REFERRALS = 3

DayFormat = Callable[[datetime], str]


def describe(kind: NudgeKind, source: SourceFacts | None, referral: ReferralFacts | None, profile: Profile,
             now: datetime) -> tuple[str, str]:
    """(text, draft) for one nudge, from the facts as they are `now`."""
    day = _day_formatter(profile)
    name = source.name if source else "the referrer"
    if kind is NudgeKind.THANK_SOURCE:
        assert referral is not None
        headline = f"Thank {name} for referral #{referral.id}, received {day(referral.created_at)}."
        draft = _thank_draft(referral, profile, day)
    elif kind is NudgeKind.FIRST_CONTACT:
        assert referral is not None
        days = profile.practice.response_time_business_days
        headline = (f"Referral #{referral.id} from {name} (received {day(referral.created_at)}) is still waiting "
                    f"for first contact; the referrer was told someone would reach out within {days} business "
                    f"day{'s' if days != 1 else ''}.")
        draft = _first_contact_draft(referral, source, profile)
    elif kind is NudgeKind.CLOSE_LOOP:
        assert referral is not None and referral.outcome_at is not None
        short, long = OUTCOMES[referral.status]
        headline = (f"Let {name} know how referral #{referral.id} went: the client {short} on "
                    f"{day(referral.outcome_at)}. The client agreed to an update.")
        draft = (f"A quick update on {_client(referral, day)}, whom you referred on {day(referral.created_at)}: "
                 f"they {long}. Thank you again for thinking of us.")
    else:
        assert source is not None
        headline, draft = _source_note(kind, source, profile, now, day)
    text = "\n".join([headline, *_context(source, day)])
    greeting = "Hello" if kind is NudgeKind.FIRST_CONTACT or source is None else salutation(source.name, source.type)
    return text, _letter(greeting, draft, profile)


def render_nudges(nudges: list[Nudge]) -> str:
    """Plain text for chat (`/nudges`) and the CLI: each nudge with its context and draft."""
    if not nudges:
        return "No nudges due: every referrer is looked after."
    lines = [f"{len(nudges)} nudge{'s' if len(nudges) != 1 else ''} due:"]
    for nudge in nudges:
        lines += ["", f"#{nudge.id} {nudge.title} — {nudge.source}", nudge.text, "Draft:",
                  *(f"  {line}" if line else "" for line in nudge.draft.splitlines())]
    return "\n".join(lines)


#: Organisations and platforms are greeted as such, not by a first name.
_ORGANISATION_TYPES = {"community_org", "online_platform"}
_TITLES = {"dr", "doctor", "prof", "professor"}
_ORGANISATION_WORDS = {"school", "clinic", "center", "centre", "hospital", "practice", "services", "university",
                       "college", "academy", "group", "team", "office", "association", "church", "department"}


def salutation(name: str, source_type: str) -> str:
    """How a person would greet a referrer: `Dear Dr. Ortiz` for `Dr. Sam Ortiz, MD`, `Hi Mark` for
    `Mark Chen, LPC` (credentials dropped), `Hello` for an organisation."""
    words = [w for w in name.split(",")[0].split() if w]
    if source_type in _ORGANISATION_TYPES or not words or _ORGANISATION_WORDS & {w.lower() for w in words}:
        return "Hello"
    if words[0].lower().rstrip(".") in _TITLES and len(words) > 1:
        return f"Dear Dr. {words[-1]}"
    return f"Hi {words[0]}"


def _day_formatter(profile: Profile) -> DayFormat:
    hours = profile.practice.office_hours

    def day(at: datetime) -> str:
        local = local_date(at, hours)
        return f"{local.day} {local:%B %Y}"

    return day


def _client(referral: ReferralFacts, day: DayFormat) -> str:
    """How a note to the referrer names the client: by name only with consent to updates."""
    if referral.consent_to_update and referral.client_name:
        return referral.client_name
    return f"the client you referred on {day(referral.created_at)}"


def _thank_draft(referral: ReferralFacts, profile: Profile, day: DayFormat) -> str:
    if referral.consent_to_update and referral.client_name:
        issues = ", ".join(i.replace("_", " ") for i in referral.issues)
        opening = f"Thank you for referring {referral.client_name} to us{f' for help with {issues}' if issues else ''}."
    else:
        opening = f"Thank you for the referral you sent on {day(referral.created_at)}; we appreciate you thinking of us."
    if not referral.consent_to_contact:
        return opening
    days = profile.practice.response_time_business_days
    update = " and let you know how it goes" if referral.consent_to_update else ""
    return f"{opening} We will reach out within {days} business day{'s' if days != 1 else ''}{update}."


def _first_contact_draft(referral: ReferralFacts, source: SourceFacts | None, profile: Profile) -> str:
    """A note to the waiting client, who agreed to be contacted."""
    contact = profile.practice.contact
    reach = contact.phone or contact.email or contact.website
    who = source.name if source else "Someone who cares about you"
    return (f"{who} suggested we get in touch. This is {profile.practice.name}; we would be glad to find a time "
            f"to talk about how we can help.{f' Reply here or contact us at {reach}.' if reach else ''}")


def _source_note(kind: NudgeKind, source: SourceFacts, profile: Profile, now: datetime,
                 day: DayFormat) -> tuple[str, str]:
    availability = ("We currently have openings for new clients." if profile.accepting_new_clients
                    else "We currently have a waitlist, but we are always glad to hear from you.")
    if kind is NudgeKind.STAY_IN_TOUCH:
        last = source.last_touch()
        since = last.at if last else source.created_at
        return (f"Stay in touch with {source.name}: no contact for {(now - since).days} days (since {day(since)}).",
                "It has been a while since we were last in touch, and I hope all is well. "
                f"{availability} Would you have time for a short call or a coffee in the next few weeks?")
    if kind is NudgeKind.RECIPROCITY:
        back = source.last_touch(TouchpointKind.REFERRED_BACK)
        sent = [r for r in source.referrals if back is None or r.created_at > back.at]
        ever = f"since you last referred someone to them ({day(back.at)})" if back else "and you have not referred anyone back"
        return (f"{source.name} has sent {plural(len(sent), 'referral')} {ever}. Consider referring a client their way.",
                f"Thank you for the {plural(len(sent), 'referral')} you have sent us. I would love to understand better whom "
                "you see best, so that I can send people your way too. Could we find 15 minutes to talk?")
    last_referral = source.referrals[-1].created_at
    return (f"{source.name} used to refer ({len(source.referrals)} referral{'s' if len(source.referrals) != 1 else ''})"
            f" but has sent nobody for {(now - last_referral).days} days (last on {day(last_referral)}).",
            "I was thinking of you: it has been a while since we last worked together. "
            f"{availability} If someone comes to mind who could use support, we would be glad to help.")


def _context(source: SourceFacts | None, day: DayFormat) -> list[str]:
    """The source, their last referrals and outcomes, and the last contact with its note."""
    if source is None:
        return ["Source: unknown (the referral came without referrer details)."]
    tier = f", tier {source.tier}" if source.tier else ""
    lines = [f"Source: {source.name} ({source.type.replace('_', ' ')}{tier})."]
    recent = list(reversed(source.referrals))[:RECENT_REFERRALS]
    if recent:
        shown = "; ".join(f"#{r.id} on {day(r.created_at)} ({r.status.value.replace('_', ' ')})" for r in recent)
        lines.append(f"Referrals: {len(source.referrals)} in all; latest {shown}.")
    else:
        lines.append("Referrals: none yet.")
    last = source.last_touch()
    if last is None:
        lines.append("Last contact: none logged.")
    else:
        note = f" — {last.note}" if last.note else ""
        lines.append(f"Last contact: {day(last.at)}, {last.kind.value.replace('_', ' ')}{note}.")
    return lines


def _letter(greeting: str, body: str, profile: Profile) -> str:
    return f"{greeting},\n\n{body}\n\nWarm regards,\n{profile.practice.name}"
