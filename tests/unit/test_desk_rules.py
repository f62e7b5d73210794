"""The desk's pure rules: the referral lifecycle, how typed names find sources, likely duplicates,
how a note greets a referrer, and which specialty words are issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

import pytest

from referbot.domain import ReferralStatus as S
from referbot.nudges.notes import salutation
from referbot.referrals import ALLOWED, StatusNotAllowed, check_transition
from referbot.source_records import contact_keys, likely_duplicates
from referbot.sources import Candidate, name_key, pick, suggestions


def test_nothing_goes_back_to_new_and_a_closed_referral_stays_closed() -> None:
    assert all(S.NEW not in targets for targets in ALLOWED.values())
    assert ALLOWED[S.REFERRED_OUT] == frozenset()
    check_transition(S.NEW, S.BECAME_CLIENT, force=False)  # booked straight away: allowed
    check_transition(S.NO_RESPONSE, S.CONTACTED, force=False)  # they called back
    with pytest.raises(StatusNotAllowed, match="from became_client it can go to: referred_out"):
        check_transition(S.BECAME_CLIENT, S.NEW, force=False)
    with pytest.raises(StatusNotAllowed, match="already contacted"):
        check_transition(S.CONTACTED, S.CONTACTED, force=False)
    check_transition(S.BECAME_CLIENT, S.NEW, force=True)


@pytest.mark.parametrize("current, wanted", list(product(S, S)))
def test_every_move_is_allowed_refused_or_forced(current: S, wanted: S) -> None:
    if wanted in ALLOWED[current]:
        check_transition(current, wanted, force=False)
    else:
        with pytest.raises(StatusNotAllowed):
            check_transition(current, wanted, force=False)
    check_transition(current, wanted, force=True)


PEOPLE = [Candidate(n, n) for n in ("Dr. Sam Ortiz", "Dr. Priya Raman, MD (psychiatry)", "Pat Kim", "Patricia Kimball")]


@pytest.mark.parametrize("typed, found", [
    ("Dr Sam Ortiz", "Dr. Sam Ortiz"), ("dr. sam ortiz", "Dr. Sam Ortiz"), ("Sam Ortiz", "Dr. Sam Ortiz"),
    ("Dr. Raman", "Dr. Priya Raman, MD (psychiatry)"), ("Ortiz", "Dr. Sam Ortiz"), ("pat kim", "Pat Kim"),
    ("Pat", "Pat Kim"), ("Kimball", "Patricia Kimball"), ("Dr.", None), ("", None), ("Nobody", None),
])
def test_a_typed_name_finds_one_source_or_none(typed: str, found: str | None) -> None:
    assert pick(typed, PEOPLE) == found


def test_an_ambiguous_name_is_never_guessed() -> None:
    two = [*PEOPLE, Candidate("Ana Ortiz", "Ana Ortiz")]
    assert pick("Ortiz", two) is None
    assert pick("Sam Ortiz", two) == "Dr. Sam Ortiz"


def test_suggestions_for_a_misspelt_name() -> None:
    assert suggestions("Dr Sam Ortis", [c.name for c in PEOPLE])[0] == "Dr. Sam Ortiz"
    assert suggestions("zzzz", [c.name for c in PEOPLE]) == []
    assert name_key("Dr. Sam Ortiz, MD") == "sam ortiz"


@dataclass
class FakeSource:
    name: str
    contact: str | None = None
    organisation: str | None = None
    id: int = 0
    aliases: list = field(default_factory=list)


def test_likely_duplicates_by_name_contact_or_surname_at_one_organisation() -> None:
    sources = [FakeSource("Dr. Sam Ortiz", "sam@lakeview.org"), FakeSource("Dr Sam Ortiz"),
               FakeSource("S. Ortiz", "(312) 555-0100 · SAM@lakeview.org"),
               FakeSource("Jo Park", organisation="Lincoln High"), FakeSource("Ann Park", organisation="lincoln high"),
               FakeSource("Kim Lee", "312.555.0100")]
    pairs = {(d.first.name, d.second.name): d.reasons for d in likely_duplicates(sources)}
    assert pairs[("Dr. Sam Ortiz", "Dr Sam Ortiz")] == ("similar names (100%)",)
    assert pairs[("Dr. Sam Ortiz", "S. Ortiz")] == ("same contact (sam@lakeview.org)",)
    assert pairs[("Jo Park", "Ann Park")] == ("same surname at Lincoln High",)
    assert pairs[("S. Ortiz", "Kim Lee")] == ("same contact (3125550100)",)
    assert contact_keys("+1 (312) 555-0100 or x@y.org") == {"3125550100", "x@y.org"}


@pytest.mark.parametrize("name, kind, greeting", [
    ("Mark Chen, LPC", "therapist", "Hi Mark"), ("Dr. Sam Ortiz", "physician", "Dear Dr. Ortiz"),
    ("Dr Priya Raman, MD (psychiatry)", "other", "Dear Dr. Raman"), ("Lincoln High School", "school", "Hello"),
    ("Psychology Today", "online_platform", "Hello"), ("Jo", "former_client", "Hi Jo"),
])
def test_a_note_greets_like_a_person(name: str, kind: str, greeting: str) -> None:
    assert salutation(name, kind) == greeting
