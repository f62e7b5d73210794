"""Each channel's translation functions on recorded payloads: platform payload → Inbound, and
Reply → platform payload. The end-to-end tests drive the same functions through the real SDKs;
these pin down the edge cases one by one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.blocks import reply_blocks
from adapters.slack.listeners import from_slack, is_referrer_message, parse_dm, user_of
from adapters.telegram.render import MAX_CALLBACK_DATA, MAX_TEXT, CallbackCodec, render, split_text, utf16_len
from adapters.telegram.updates import _command_extras, parse_command
from adapters.web.guard import RateLimit, Sessions
from adapters.web.pages import parse_form, screen, source_code, to_inbound
from referbot.cli.console import parse_typed, render_text
from referbot.domain import Choice, Command, ConversationStatus, Reply
from referbot.engine.flow import StepType
from referbot.errors import BadRequest

# --- Slack: recorded Events API payloads ------------------------------------------------------

SLACK_DM = {"type": "message", "channel": "D0AB12CDE", "user": "U07REFERRR", "channel_type": "im",
            "text": "Her email is <mailto:jo@example.org|jo@example.org> &amp; she prefers &lt;evenings&gt;",
            "ts": "1764430000.000100", "event_ts": "1764430000.000100", "client_msg_id": "5f1c0e9a"}
SLACK_EDIT = {**SLACK_DM, "subtype": "message_changed"}
SLACK_BOT_ECHO = {**SLACK_DM, "bot_id": "B0REFERBOT"}
SLACK_CHANNEL_POST = {**SLACK_DM, "channel_type": "channel"}


def test_slack_dm_text_comes_back_as_typed() -> None:
    assert from_slack(SLACK_DM["text"]) == "Her email is jo@example.org & she prefers <evenings>"
    assert from_slack("call <tel:+13125550100|(312) 555-0100> or see <https://a.example>") == \
        "call (312) 555-0100 or see https://a.example"
    assert from_slack("<!channel> hi") == "@channel hi"


def test_only_a_persons_own_new_dm_is_a_referrer_message() -> None:
    assert is_referrer_message(SLACK_DM)
    assert not any(is_referrer_message(e) for e in (SLACK_EDIT, SLACK_BOT_ECHO, SLACK_CHANNEL_POST))


def test_slack_dm_commands_work_with_or_without_a_slash() -> None:
    assert parse_dm("back", "U1", "Ev1").command is Command.BACK
    edit = parse_dm("/edit client_age", "U1", "Ev2")
    assert edit.command is Command.EDIT and edit.argument == "client_age" and edit.event_id == "Ev2"
    assert parse_dm("back pain since May", "U1", "Ev3").text == "back pain since May"
    assert parse_dm("start", "U1", "Ev4").text == "start"  # a bare "start" is an answer, not a restart


def test_the_actor_of_a_press_and_of_a_slash_command() -> None:
    assert user_of({"type": "block_actions", "user": {"id": "U012AB3CD", "name": "dana"}}) == "U012AB3CD"
    assert user_of({"command": "/referbot", "user_id": "U045EF6GH", "text": "stats"}) == "U045EF6GH"
    assert user_of({"type": "view_submission"}) is None


def test_a_slack_reply_is_escaped_mrkdwn_with_choice_buttons() -> None:
    reply = Reply("Is <!channel> & <@U1> ok?", (Choice("yes", "Yes"), Choice("no", "No", selected=True)), multi=True)
    section, actions = reply_blocks(reply, 3)
    assert section["text"]["text"] == "Is &lt;!channel&gt; &amp; &lt;@U1&gt; ok?"
    assert [(b["value"], b["text"]["text"], b.get("style")) for b in actions["elements"]] == \
        [("yes", "Yes", None), ("no", "✓ No", "primary")]
    assert actions["block_id"] == "choices-3-0"


# --- Telegram: recorded updates ---------------------------------------------------------------


def test_telegram_commands_with_bot_names_and_arguments() -> None:
    assert parse_command("/start@riverbend_bot lincoln-high-3f9a2c") == ("start", "lincoln-high-3f9a2c")
    assert parse_command("/EDIT client_age") == ("edit", "client_age")
    assert parse_command("/back") == ("back", None)
    assert parse_command("no slash") is None and parse_command("/") is None


def test_deep_link_payloads_credit_a_source_only_when_well_formed() -> None:
    assert _command_extras(Command.START, "lincoln-high-3f9a2c") == {"source_code": "lincoln-high-3f9a2c"}
    assert _command_extras(Command.START, "<script>") == {}
    assert _command_extras(Command.EDIT, "client_age") == {"argument": "client_age"}
    assert _command_extras(Command.BACK, "anything") == {}


def test_callback_data_round_trips_and_long_ids_survive_a_restart() -> None:
    long_id = "a_very_long_choice_identifier_" * 4
    first = CallbackCodec()
    data = first.encode(long_id, toggle=True)
    assert len(data.encode()) <= MAX_CALLBACK_DATA
    after_restart = CallbackCodec([long_id])  # the flow declares it
    assert after_restart.decode(data).choice == long_id and after_restart.decode(data).toggle
    assert first.decode(first.encode("routine", toggle=False)).choice == "routine"
    assert CallbackCodec().decode("x:junk").choice is None and CallbackCodec().decode("c#unknown").choice is None


@given(st.text(min_size=1, max_size=12_000))
def test_split_text_keeps_every_piece_under_telegrams_limit(text: str) -> None:
    pieces = split_text(text)
    assert pieces and all(utf16_len(piece) <= MAX_TEXT for piece in pieces)


def test_a_telegram_reply_is_escaped_html_with_the_keyboard_on_the_last_piece() -> None:
    reply = Reply("<b>" + "x " * 3000, (Choice("routine", "Routine"),))
    messages = render(reply, CallbackCodec())
    assert len(messages) == 2 and messages[0].html.startswith("&lt;b&gt;")
    assert messages[0].markup is None and messages[1].markup.inline_keyboard[0][0].callback_data == "c:routine"


# --- console ----------------------------------------------------------------------------------


def test_console_numbers_pick_choices_and_slashes_are_commands() -> None:
    text, ids = render_text([Reply("Role?", (Choice("physician", "Physician"), Choice("other", "Other")))])
    assert text == "Role?\n  1. Physician\n  2. Other" and ids == ["physician", "other"]
    assert parse_typed("2", "ann", ids).choice == "other"
    assert parse_typed("3", "ann", ids).text == "3"
    assert parse_typed("/restart", "ann", ids).command is Command.RESTART


# --- web: recorded form posts -----------------------------------------------------------------

TURN = "Qx3v9sJ2mYk1Lw0pZt7aBg"


def test_a_web_form_becomes_one_inbound_per_turn() -> None:
    posted = parse_form(f"csrf=abc&turn={TURN}&text=panic+attacks%0D%0Asince+May&source=lincoln-high-3f9a2c".encode())
    inbound = to_inbound(posted, "S" * 32)
    assert inbound.channel == "web" and inbound.user_id == "S" * 32 and inbound.text == "panic attacks\nsince May"
    assert inbound.event_id == f"{'S' * 32}:{TURN}" and inbound.source_code == "lincoln-high-3f9a2c"
    edit = to_inbound(parse_form(f"csrf=abc&turn={TURN}&command=edit&argument=client_age".encode()), "s")
    assert edit.command is Command.EDIT and edit.argument == "client_age" and edit.source_code is None


def test_a_button_in_a_form_with_a_text_box_is_the_answer() -> None:
    posted = parse_form(f"csrf=abc&turn={TURN}&text=&choice=__skip".encode())
    assert posted.choice == "__skip" and posted.text is None


@pytest.mark.parametrize("body", [
    b"", f"turn={TURN}&text=hi".encode(), b"csrf=a&turn=short&text=hi",
    f"csrf=a&turn={TURN}".encode(), f"csrf=a&turn={TURN}&choice=x&command=back".encode(),
    f"csrf=a&turn={TURN}&text=hi&text=again".encode(), f"csrf=a&turn={TURN}&text=hi&admin=1".encode(),
    f"csrf=a&turn={TURN}&command=fly".encode(), f"csrf=a&turn={TURN}&command=edit&argument=../x".encode(),
    f"csrf=a&turn={TURN}&text=hi&source=%3Cscript%3E".encode(), f"csrf=a&turn={TURN}&text=".encode() + b"a" * 4001,
    b"\xff\xfe\x00", b"%%%",
])
def test_malformed_web_forms_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_form(body)


@given(st.binary(max_size=400))
def test_any_bytes_are_a_form_or_a_bad_request(body: bytes) -> None:
    try:
        parse_form(body)
    except BadRequest:
        pass


def test_source_codes_from_links_are_checked() -> None:
    assert source_code("lincoln-high-3f9a2c") == "lincoln-high-3f9a2c"
    assert source_code("x" * 65) is None and source_code("a b") is None and source_code(None) is None


def test_a_web_screen_puts_crisis_first_and_knows_how_to_answer() -> None:
    replies = [Reply("Thanks."), Reply("Call 988 now.", (Choice("__not_an_emergency", "Not an emergency"),), crisis=True)]
    crisis = screen(replies, ConversationStatus.CRISIS, None)
    assert crisis.crisis and not crisis.asking and [m.text for m in crisis.messages] == ["Call 988 now.", "Thanks."]
    assert [o.id for o in crisis.options] == ["__not_an_emergency"] and crisis.input is None
    age = screen([Reply("How old is the client?")], ConversationStatus.ASKING, StepType.AGE)
    assert age.input == "input" and age.inputmode == "numeric" and age.options == []
    multi = screen([Reply("Which?", (Choice("a", "A", True), Choice("__done", "Done")), multi=True)],
                   ConversationStatus.ASKING, StepType.MULTI_CHOICE)
    assert multi.input is None and multi.multi and [o.selected for o in multi.options] == [True, False]


def test_sessions_are_signed_and_csrf_tokens_bound_to_them() -> None:
    sessions = Sessions("k" * 40, secure=True)
    other = Sessions("z" * 40, secure=True)
    session = sessions.new()
    assert sessions.csrf_ok(session, sessions.csrf_token(session))
    assert not sessions.csrf_ok(session, other.csrf_token(session))
    assert not sessions.csrf_ok(sessions.new(), sessions.csrf_token(session))


def test_rate_limit_is_a_sliding_window_per_key() -> None:
    limit = RateLimit(2, window=60)
    assert [limit.allow("a", now=t) for t in (0, 1, 2)] == [True, True, False]
    assert limit.allow("b", now=2) and limit.allow("a", now=60.5)


def test_flood_control_waits_read_as_seconds_whichever_type_telegram_gives() -> None:
    from datetime import timedelta

    from telegram.error import RetryAfter

    from adapters.telegram.reach import flood_wait

    assert flood_wait(RetryAfter(7)) == 7.0
    assert flood_wait(RetryAfter(timedelta(seconds=2.5))) == 2.5
