"""Input the storage can hold, on SQLite and PostgreSQL: NUL, lone surrogates, over-long answers and
arbitrary Unicode end in a stored referral or a clear re-ask, never a crash or an unsendable row."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referbot.cli.console import outcome_json, parse_json_line
from referbot.domain import Command, ConversationStatus, Inbound
from referbot.engine import ConversationState, load_flow
from referbot.limits import CONTACT_LENGTH, MAX_ANSWER_LENGTH, clean_identifier, clean_inbound, clean_text
from referbot.matching import Matcher
from referbot.profile import Profile
from referbot.service import IntakeService
from referbot.store import Database, UnitOfWork
from tests.integration.test_service import ANSWERS, say

CONTACT_250 = "a" * (250 - len("@example.com")) + "@example.com"


@pytest.fixture(scope="module")
def matcher(profile: Profile) -> Matcher:
    return Matcher(profile)


@pytest.fixture
def service(database, profile, clock, matcher) -> IntakeService:
    return IntakeService(database, profile, load_flow(), matcher, clock)


def test_cleaning_removes_what_no_database_or_channel_can_hold() -> None:
    assert clean_text("Ja\x00ne\ud800 \udfff Doe\x07\n") == "Jane  Doe\n"
    assert clean_text("e\u0301") == "\u00e9"  # one spelling of é, whichever keyboard typed it
    long_id = "u" * 500
    assert len(clean_identifier(long_id, 64)) == 64
    assert clean_identifier(long_id, 64) != clean_identifier("u" * 499 + "v", 64)
    cleaned = clean_inbound(Inbound("console\x00", "x" * 300, text="hi\ud83d", choice="c\x00", argument="\udc80"))
    assert clean_inbound(Inbound("t", "u", choice="c" * 100)).choice == "c" * 100  # flows may have long ids
    assert (cleaned.channel, len(cleaned.user_id), cleaned.text, cleaned.choice, cleaned.argument) == \
        ("console", 64, "hi", "c", "")


def test_no_flow_step_accepts_more_than_the_storage_limit() -> None:
    flow = load_flow()
    assert all(step.max_length <= MAX_ANSWER_LENGTH for step in flow.steps)
    assert flow.step("referrer_contact").max_length == CONTACT_LENGTH


async def test_nul_surrogates_and_a_250_character_contact_make_a_stored_referral(service, database) -> None:
    answers = list(ANSWERS)
    answers[0] = "Dr. Ann\x00 Lee\ud800"
    answers[3] = CONTACT_250
    answers[4] = "J\x00.\udfff"
    answers[6] = "panic attacks\x00 and not sleeping \ud83d"
    await service.handle(Inbound("console", "nul"))
    done = await say(service, "nul", *answers, "send")
    assert done.state is ConversationStatus.DONE and done.referral_id is not None
    json.dumps(outcome_json(done)).encode("utf-8")
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(done.referral_id)
    assert referral.client_name == "J." and referral.source.name == "Dr. Ann Lee"
    assert referral.source.contact == CONTACT_250 and "\x00" not in referral.presenting_issues


async def test_a_contact_longer_than_its_limit_is_asked_again(service) -> None:
    await service.handle(Inbound("console", "long"))
    outcome = await say(service, "long", *ANSWERS[:3], "a" * 300 + "@example.com")
    assert outcome.step == "referrer_contact" and "longer than I can take" in outcome.replies[0].text


def test_json_lines_of_any_shape_are_an_inbound_or_a_value_error() -> None:
    for line in ("[" * 100_000 + "]" * 100_000, '{"command": "edit", "argument": ["client_age"]}',
                 '{"text": {"a": 1}}', '{"choice": null}', '{"command": 7}', '"text"', "{"):
        with pytest.raises(ValueError):
            parse_json_line(line, "u")
    assert parse_json_line('{"text": 34}', "u").text == "34"


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["text", "choice", "command", "argument", "other"]), _json, max_size=3))
def test_any_json_object_parses_or_is_refused_cleanly(data: dict[str, Any]) -> None:
    try:
        parse_json_line(json.dumps(data), "u")
    except ValueError:
        pass


#: Answers that move an intake along, mixed with arbitrary text so that every step gets both.
_VALID = st.sampled_from([*ANSWERS, "send", "1", "2", "yes", "no", "skip", "/back", "Jane", "45", CONTACT_250])
_EVENT = st.one_of(
    st.builds(lambda t: {"text": t}, st.text(max_size=300)),
    st.builds(lambda t: {"text": t}, _VALID),
    st.builds(lambda c: {"choice": c}, st.text(max_size=40) | st.sampled_from(["__done", "__skip", "submit", "edit"])),
    st.builds(lambda c, a: {"command": c, "argument": a}, st.sampled_from(list(Command)),
              st.none() | st.text(max_size=40) | st.sampled_from(["client_age", "client_name", "confirm"])),
)


def _drive(url: str, profile: Profile, matcher: Matcher, user: str, events: list[dict[str, Any]]) -> None:
    async def run() -> None:
        database = Database(url)
        service = IntakeService(database, profile, load_flow(), matcher)
        step_ids = {step.id for step in service.engine.flow.steps}
        try:
            for event in [{}, *events]:
                outcome = await service.handle(Inbound("console", user, **event))
                outcome_json(outcome).encode("utf-8")  # what every channel renders must be encodable
                assert outcome.step is None or outcome.step in step_ids
            async with UnitOfWork(database) as uow:
                conversation = await uow.conversations.get_for_update("console", clean_identifier(user, 64))
                state = ConversationState.from_dict(conversation.state)
                assert state.status.value == conversation.status
                if conversation.referral_id is not None:
                    referral = await uow.referrals.get(conversation.referral_id)
                    assert referral is not None and json.dumps(referral.answers).encode("utf-8")
        finally:
            await database.dispose()

    asyncio.run(run())


def test_arbitrary_input_at_every_step_never_crashes_and_leaves_a_valid_state(database_url: str, profile: Profile,
                                                                              matcher: Matcher) -> None:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(user=st.text(min_size=1, max_size=80), events=st.lists(_EVENT, min_size=1, max_size=30))
    def check(user: str, events: list[dict[str, Any]]) -> None:
        _drive(database_url, profile, matcher, user, events)

    check()
