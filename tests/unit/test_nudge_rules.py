"""The nudge rules, office-hours arithmetic and notes as pure functions: facts in, reminders out."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from referbot.domain import NudgeKind, ReferralStatus, TouchpointKind
from referbot.nudges.model import Nudge
from referbot.nudges.notes import describe, render_nudges
from referbot.nudges.office_hours import business_days_after, calendar_days_after, is_open, next_open
from referbot.nudges.rules import PracticeFacts, ReferralFacts, SourceFacts, TouchFacts, candidates
from referbot.profile import Profile, ProfileError, parse_profile
from tests.conftest import EXAMPLE_PROFILE

CHICAGO = ZoneInfo("America/Chicago")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO).astimezone(timezone.utc)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def with_rules(profile: Profile, **rules: dict) -> Profile:
    nudges = profile.nudges.model_copy(update={name: getattr(profile.nudges, name).model_copy(update=values)
                                               for name, values in rules.items()})
    return profile.model_copy(update={"nudges": nudges})


@pytest.mark.parametrize("at, expected", [
    (local(2026, 3, 6, 8, 0), utc(2026, 3, 6, 15, 0)),    # Friday before opening, CST (UTC-6)
    (local(2026, 3, 6, 17, 30), utc(2026, 3, 9, 14, 0)),  # Friday after closing → Monday 09:00 CDT (UTC-5)
    (local(2026, 3, 7, 12, 0), utc(2026, 3, 9, 14, 0)),   # Saturday
    (local(2026, 10, 30, 18, 0), utc(2026, 11, 2, 15, 0)),  # Friday evening CDT → Monday 09:00 CST
    (local(2026, 3, 10, 11, 15), local(2026, 3, 10, 11, 15)),  # open now
])
def test_next_open_in_office_hours_across_daylight_saving(profile: Profile, at: datetime, expected: datetime) -> None:
    hours = profile.practice.office_hours
    assert next_open(at, hours) == expected
    assert is_open(expected, hours)


def test_business_days_skip_the_weekend_and_land_at_opening(profile: Profile) -> None:
    hours = profile.practice.office_hours
    thursday = local(2026, 1, 8, 16, 45)
    assert business_days_after(thursday, 1, hours) == local(2026, 1, 9, 9, 0)
    assert business_days_after(thursday, 2, hours) == local(2026, 1, 12, 9, 0)
    assert business_days_after(local(2026, 1, 10, 11, 0), 1, hours) == local(2026, 1, 12, 9, 0)  # a Saturday
    assert business_days_after(thursday, 0, hours) == thursday


def test_calendar_days_keep_the_local_wall_clock_across_daylight_saving(profile: Profile) -> None:
    hours = profile.practice.office_hours
    assert calendar_days_after(local(2026, 3, 6, 8, 0), 3, hours) == utc(2026, 3, 9, 13, 0)  # 08:00 CDT
    assert calendar_days_after(local(2026, 10, 30, 8, 0), 3, hours) == utc(2026, 11, 2, 14, 0)  # 08:00 CST


SENT = local(2026, 1, 8, 10, 0)


def referral(status: ReferralStatus = ReferralStatus.NEW, *, update: bool = False, contact: bool = True,
             outcome_at: datetime | None = None, source_id: int | None = 1) -> ReferralFacts:
    return ReferralFacts(id=17, source_id=source_id, created_at=SENT, status=status, consent_to_contact=contact,
                         consent_to_update=update, outcome_at=outcome_at, client_name="Jamie Rivera",
                         issues=("anxiety", "sleep_insomnia"))


def source(*referrals: ReferralFacts, touches: tuple[TouchFacts, ...] = (), type: str = "physician",
           tier: str | None = None) -> SourceFacts:
    received = tuple(TouchFacts(TouchpointKind.REFERRAL_RECEIVED, r.created_at, referral_id=r.id) for r in referrals)
    return SourceFacts(1, "Dr. Ann Lee", type, local(2025, 10, 1, 9, 0), tier, referrals,
                       tuple(sorted(received + touches, key=lambda t: t.at)))


def due(facts_source: SourceFacts, profile: Profile, at: datetime, *extra: ReferralFacts) -> set[str]:
    facts = PracticeFacts({facts_source.id: facts_source}, facts_source.referrals + extra)
    return {c.key for c in candidates(facts, profile, at)}


def test_a_new_referral_is_thanked_next_business_day_and_contact_is_due_when_the_promise_runs_out(profile) -> None:
    s = source(referral())
    assert due(s, profile, local(2026, 1, 9, 8, 59)) == set()
    assert due(s, profile, local(2026, 1, 9, 9, 0)) == {"thank_source:referral:17"}
    assert due(s, profile, local(2026, 1, 12, 9, 0)) == {"thank_source:referral:17", "first_contact:referral:17"}


def test_contact_already_made_silences_the_reminder(profile: Profile) -> None:
    thanked = TouchFacts(TouchpointKind.THANKED, local(2026, 1, 8, 15, 0))
    s = source(referral(ReferralStatus.CONTACTED), touches=(thanked,))
    assert due(s, profile, local(2026, 1, 20, 12, 0)) == set()


def test_without_consent_to_contact_nobody_is_told_to_call_the_client(profile: Profile) -> None:
    assert due(source(referral(contact=False)), profile, local(2026, 1, 20, 12, 0)) == {"thank_source:referral:17"}


def test_close_the_loop_only_with_consent_to_update(profile: Profile) -> None:
    outcome = local(2026, 1, 27, 10, 0)
    thanked = (TouchFacts(TouchpointKind.THANKED, local(2026, 1, 9, 10, 0)),)
    consented = source(referral(ReferralStatus.BECAME_CLIENT, update=True, outcome_at=outcome), touches=thanked)
    silent = source(referral(ReferralStatus.BECAME_CLIENT, update=False, outcome_at=outcome), touches=thanked)
    assert due(consented, profile, outcome) == {"close_loop:referral:17"}
    assert due(silent, profile, outcome) == set()
    sent = thanked + (TouchFacts(TouchpointKind.UPDATE_SENT, local(2026, 1, 28, 10, 0), "told her", 17),)
    told = source(referral(ReferralStatus.BECAME_CLIENT, update=True, outcome_at=outcome), touches=sent)
    assert due(told, profile, local(2026, 1, 29, 10, 0)) == set()


def test_stay_in_touch_by_type_then_tier_and_any_touchpoint_resets_it(profile: Profile) -> None:
    last = TouchFacts(TouchpointKind.CHECK_IN, local(2026, 1, 5, 10, 0), "lunch")
    physician = source(touches=(last,))  # the example profile: physicians every 60 days, others 90
    assert due(physician, profile, local(2026, 3, 6, 9, 59)) == set()
    assert due(physician, profile, local(2026, 3, 6, 10, 0)) == {"stay_in_touch:source:1:2026-01-05"}
    school = source(touches=(last,), type="school")
    assert due(school, profile, local(2026, 3, 6, 10, 0)) == set()
    assert due(school, profile, local(2026, 4, 5, 10, 0)) == {"stay_in_touch:source:1:2026-01-05"}
    tiered = with_rules(profile, stay_in_touch={"by_tier": {"key": 30}})
    assert due(source(touches=(last,), tier="key"), tiered, local(2026, 2, 4, 10, 0)) == {
        "stay_in_touch:source:1:2026-01-05"}
    later = TouchFacts(TouchpointKind.EVENT, local(2026, 2, 20, 18, 0), "open house")
    assert due(source(touches=(last, later)), profile, local(2026, 4, 20, 12, 0)) == set()


def test_reciprocity_counts_referrals_since_the_last_referral_back(profile: Profile) -> None:
    def sent(n: int, day: int) -> ReferralFacts:
        return ReferralFacts(n, 1, local(2026, 2, day, 10, 0), ReferralStatus.CONTACTED, False, False)

    thanks = tuple(TouchFacts(TouchpointKind.THANKED, local(2026, 2, d, 12, 0)) for d in (2, 9, 16))
    three = source(sent(1, 2), sent(2, 9), sent(3, 16), touches=thanks)
    assert due(three, profile, local(2026, 2, 16, 10, 0)) == {"reciprocity:source:1:never"}
    back = TouchFacts(TouchpointKind.REFERRED_BACK, local(2026, 2, 10, 12, 0), "sent them a couple")
    assert due(source(sent(1, 2), sent(2, 9), sent(3, 16), touches=thanks + (back,)), profile,
               local(2026, 2, 17, 10, 0)) == set()


def test_lapsed_source_and_rules_switched_off(profile: Profile) -> None:
    old = ReferralFacts(5, 1, local(2025, 7, 10, 10, 0), ReferralStatus.BECAME_CLIENT, True, False,
                        local(2025, 7, 20, 10, 0))
    recent = TouchFacts(TouchpointKind.CHECK_IN, local(2025, 12, 15, 10, 0))
    s = source(old, touches=(TouchFacts(TouchpointKind.THANKED, local(2025, 7, 11, 10, 0)), recent))
    assert due(s, profile, local(2026, 1, 6, 10, 0)) == {"lapsed_source:source:1:2025-07-10"}
    off = with_rules(profile, lapsed_source={"enabled": False}, thank_source={"enabled": False},
                     first_contact={"enabled": False}, close_loop={"enabled": False},
                     stay_in_touch={"enabled": False}, reciprocity={"enabled": False})
    assert due(s, off, local(2027, 1, 6, 10, 0), referral()) == set()


def test_thank_you_draft_names_the_client_only_with_consent(profile: Profile) -> None:
    now = local(2026, 1, 9, 9, 0)
    text, draft = describe(NudgeKind.THANK_SOURCE, source(referral()), referral(), profile, now)
    assert "Jamie" not in draft and "anxiety" not in draft and "Jamie" not in text
    assert "the referral you sent on 8 January 2026" in draft and "within 2 business days" in draft
    assert draft.startswith("Dear Dr. Lee,") and draft.endswith("Riverbend Counseling Collective")
    _, consented = describe(NudgeKind.THANK_SOURCE, source(referral(update=True)), referral(update=True), profile, now)
    assert "Thank you for referring Jamie Rivera to us for help with anxiety, sleep insomnia." in consented
    assert "let you know how it goes" in consented


def test_reminder_text_carries_the_sources_context(profile: Profile) -> None:
    outcome = local(2026, 1, 27, 10, 0)
    done = referral(ReferralStatus.BECAME_CLIENT, update=True, outcome_at=outcome)
    note = TouchFacts(TouchpointKind.THANKED, local(2026, 1, 9, 10, 0), "card and coffee")
    text, draft = describe(NudgeKind.CLOSE_LOOP, source(done, touches=(note,)), done, profile, outcome)
    assert text.splitlines() == [
        "Let Dr. Ann Lee know how referral #17 went: the client became a client on 27 January 2026. "
        "The client agreed to an update.",
        "Source: Dr. Ann Lee (physician).",
        "Referrals: 1 in all; latest #17 on 8 January 2026 (became client).",
        "Last contact: 9 January 2026, thanked — card and coffee.",
    ]
    assert "A quick update on Jamie Rivera, whom you referred on 8 January 2026: they have started working with us." in draft


def test_render_lists_each_nudge_with_its_draft() -> None:
    nudge = Nudge(3, NudgeKind.STAY_IN_TOUCH, "Dr. Ann Lee", local(2026, 3, 6, 10, 0), "Stay in touch with Dr. Ann Lee.",
                  "Dear Dr. Lee,\n\nCoffee?")
    assert render_nudges([nudge]) == ("1 nudge due:\n\n#3 Stay in touch — Dr. Ann Lee\nStay in touch with Dr. Ann Lee.\n"
                                      "Draft:\n  Dear Dr. Lee,\n\n  Coffee?")
    assert render_nudges([]) == "No nudges due: every referrer is looked after."


def test_a_mistyped_nudges_section_is_reported_with_its_line() -> None:
    text = EXAMPLE_PROFILE.read_text().replace("delivery: each ", "delivery: weekly")
    lines = text.splitlines()
    with pytest.raises(ProfileError) as problem:
        parse_profile(text)
    [message] = problem.value.problems
    line = next(n for n, l in enumerate(lines, 1) if "delivery: weekly" in l)
    assert message == f"practice.yaml line {line}: nudges.delivery Input should be 'each' or 'digest'"
