"""Answers as people type them: ages, contacts with a note, choices by label, synonym or typo."""

from __future__ import annotations

import pytest

from referbot.engine import load_flow
from referbot.engine.answers import Invalid, parse_answer, read_yes_no

FLOW = load_flow()


def answer(step_id: str, text: str):
    return parse_answer(FLOW.step(step_id), text, None)


@pytest.mark.parametrize("text, age", [
    ("34", 34), ("14 years old", 14), ("she's 14", 14), ("14yo", 14), ("14 y/o", 14), ("age 7", 7),
    ("about 30", 30), ("nine", 9), ("Twenty-two", 22), ("twenty two", 22),
    ("18 months", 1), ("6 months", 0), ("18mo", 1), ("3 weeks", 0),
    ("mid 30s", 35), ("mid-30s", 35), ("early 20s", 22), ("late 40s", 48), ("in her 40s", 45),
    ("early teens", 13), ("30-35", 32), ("30 to 35", 32), ("2.5", 2), ("1,5", 1), ("2 1/2", 2),
])
def test_ages_as_people_type_them(text: str, age: int) -> None:
    assert answer("client_age", text) == age


@pytest.mark.parametrize("text, hint", [
    ("-3", "can't be negative"), ("minus 3", "can't be negative"),
    ("2O", "couldn't read"), ("thirty-ish or so, maybe older, ask mum", "couldn't read"),
    ("20-60", "couldn't read"), ("200", "between 0 and 110"), ("", "didn't catch"),
])
def test_a_negative_garbled_or_impossible_age_is_refused_with_a_question(text: str, hint: str) -> None:
    with pytest.raises(Invalid, match=hint):
        answer("client_age", text)


@pytest.mark.parametrize("text", [
    "503 555 0123 (mom)", "mom's cell 503 555 0123", "(312) 555-0100", "+44 20 7946 0958",
    "jane@example.org", "jane@example.org (work)", "call 503 555 0123 after 5pm", "503.555.0123 ext 12",
])
def test_contacts_are_kept_with_their_note(text: str) -> None:
    assert answer("client_contact", text) == text


@pytest.mark.parametrize("text", ["12", "hello there", "call her mum",
                                  "503 555 0123 " + "and a very long story about the family " * 3])
def test_not_a_contact(text: str) -> None:
    with pytest.raises(Invalid):
        answer("client_contact", text)


@pytest.mark.parametrize("step, text, choice", [
    ("urgency", "asap", "urgent"), ("urgency", "ASAP please", "urgent"), ("urgency", "urgnet", "urgent"),
    ("urgency", "not urgent", "routine"), ("urgency", "this week", "soon"), ("urgency", "3", "urgent"),
    ("referrer_role", "I used to see Jane", "former_client"), ("referrer_role", "I'm a GP", "physician"),
    ("referrer_role", "school counselor", "school"), ("referrer_role", "her teacher", "school"),
    ("payment", "insurnace", "insurance"), ("payment", "Medicaid", "insurance"), ("payment", "self pay", "private_pay"),
    ("current_risk", "no", "none_known"), ("current_risk", "not at risk to themselves", "none_known"),
    ("current_risk", "I don't know", "not_sure"), ("current_risk", "no idea", "not_sure"),
    ("current_risk", "she's being abused at home", "from_others"),
])
def test_choices_by_label_synonym_or_typo(step: str, text: str, choice: str) -> None:
    assert answer(step, text) == choice


@pytest.mark.parametrize("step, text", [("current_risk", "yes"), ("referrer_role", "I have no clue"),
                                        ("therapy_format", "xyz")])
def test_an_unclear_choice_is_asked_again(step: str, text: str) -> None:
    with pytest.raises(Invalid, match="pick one of the options"):
        answer(step, text)


@pytest.mark.parametrize("text, verdict", [("yes", True), ("Nope.", False), ("no, she's fine", False),
                                           ("yes she is", True), ("not really sure", None), ("maybe", None)])
def test_yes_no_as_people_type_it(text: str, verdict: bool | None) -> None:
    assert read_yes_no(text) is verdict
