"""The Telegram channel end to end: the real python-telegram-bot, polling a fake Bot API over HTTP.

A referrer's whole intake with text and buttons, /back and /cancel, a deep link, a returning
referrer, a restart mid-intake, a redelivered update, flood control, hostile text, a group chat and
a multi-choice question whose keyboard is redrawn in place.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from referbot.admission import Admission
from referbot.domain import ConversationStatus, SourceType
from referbot.engine.flow import parse_flow
from referbot.service import HOLDING_REPLY
from referbot.store import UnitOfWork
from referbot.store.models import Conversation, ProcessedEvent, Referral
from tests.e2e.fake_telegram import FakeUser, running_bot

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ROLE = "Physician or medical provider"


async def count(database: Any, model: Any) -> int:
    async with UnitOfWork(database) as uow:
        return (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()


async def referrer_details(ann: FakeUser) -> None:
    """Name, role, organisation and contact: the questions a returning referrer is not asked again."""
    assert "describes you" in (await ann.say("Dr. Ann Lee"))[0]["text"]
    assert "organisation" in (await ann.press(ROLE))[0]["text"]
    assert "reach you" in (await ann.say("Lakeview Family Medicine"))[0]["text"]
    assert "first name or initials" in (await ann.say("ann.lee@lakeview.example"))[0]["text"]


async def client_details(ann: FakeUser, issues: str = "panic attacks and not sleeping") -> list[dict[str, Any]]:
    """From the client's name to the summary; returns the summary message(s)."""
    await ann.say("J.")
    await ann.say("34")
    await ann.say(issues)
    await ann.press("No, none that I know of")
    assert ann.buttons()[-1] == "Skip"
    await ann.press("Skip")
    await ann.press("Individual")
    await ann.press("Either")
    await ann.press("Skip")
    await ann.press("Routine (within a few weeks)")
    await ann.press("Private pay")
    await ann.press("Yes")
    await ann.say("(312) 555-0100")
    await ann.press("Yes")
    return await ann.say("evenings only")


async def test_whole_intake_with_text_and_buttons(database, profile, clock, api) -> None:
    ann = FakeUser(api, 501)
    async with running_bot(database, profile, clock, api) as channel:
        greeting, question = await ann.say("/start", expect=2)
        assert "referral assistant" in greeting["text"] and "what's your name" in question["text"]
        await ann.say("Dr. Ann Lee")
        role_question = ann.inbox[-1]
        assert ann.buttons(role_question)[0] == ROLE
        await ann.press(ROLE)
        assert "reply_markup" not in role_question  # the answered question's buttons are gone
        await ann.say("Lakeview Family Medicine")
        await ann.say("ann.lee@lakeview.example")
        summary = await client_details(ann)
        assert "J." in summary[-1]["text"] and ann.buttons() == ["Send referral", "Change an answer", "Cancel"]
        [closing] = await ann.press("Send referral")
        assert "received" in closing["text"] and "good fit" in closing["text"]
        assert channel.application.bot.username == "referbot_test_bot"
    async with UnitOfWork(database) as uow:
        [referral] = await uow.referrals.list()
    assert (referral.client_name, referral.client_age, referral.channel) == ("J.", 34, "telegram")
    assert referral.source.name == "Dr. Ann Lee" and referral.source.type == "physician"
    assert [i.channel + ":" + i.user_id for i in referral.source.identities] == ["telegram:501"]
    presses = len(api.calls_to("answerCallbackQuery"))
    assert presses == 11 and all(c.params["parse_mode"] == "HTML" for c in api.calls_to("sendMessage"))
    assert [c.method for c in api.calls[:4]] == ["getMe", "setMyCommands", "setMyCommands", "deleteWebhook"]


@sqlite_only
async def test_back_and_cancel(database, profile, clock, api) -> None:
    bo = FakeUser(api, 502, "Bo")
    async with running_bot(database, profile, clock, api):
        await bo.say("/start", expect=2)
        await bo.say("Bo Berg")
        [again] = await bo.say("/back")
        assert "what's your name" in again["text"]
        await bo.say("Bo Berg")
        await bo.press("Therapist or counselor")
        [cancelled] = await bo.say("/cancel")
        assert "Cancelled" in cancelled["text"]
        [help_text, question] = await bo.say("/help", expect=2)
        assert "/back" in help_text["text"] and "what's your name" in question["text"]
    async with UnitOfWork(database) as uow:
        conversation = await uow.conversations.get_for_update("telegram", "502")
    assert conversation.status == ConversationStatus.ASKING.value  # /help after cancelling starts afresh
    assert await count(database, Referral) == 0


@sqlite_only
async def test_deep_link_credits_the_source_but_never_makes_the_holder_that_source(
        database, profile, clock, api) -> None:
    async with UnitOfWork(database) as uow:
        school = await uow.sources.create(name="Lincoln High counselling", type=SourceType.SCHOOL, now=clock())
        await uow.commit()
    ann = FakeUser(api, 503)
    async with running_bot(database, profile, clock, api):
        await ann.say(f"/start {school.code}", expect=2)
        await referrer_details(ann)
        await client_details(ann)
        await ann.press("Send referral")
        welcome, question = await ann.say("/start", expect=2)  # a link anyone may hold shows nobody's details
        assert "Lincoln High" not in welcome["text"] and "what's your name" in question["text"]
        await referrer_details(ann)
        await client_details(ann, "feeling sad")
        await ann.press("Send referral")
    async with UnitOfWork(database) as uow:
        referrals = await uow.referrals.list()
    assert len(referrals) == 2 and {r.source_id for r in referrals} == {school.id}


async def test_restarted_process_resumes_mid_intake_and_old_buttons_still_work(database, profile, clock, api) -> None:
    ann = FakeUser(api, 504)
    async with running_bot(database, profile, clock, api):
        await ann.say("/start", expect=2)
        await ann.say("Dr. Ann Lee")  # the role question (with buttons) is the last thing sent
    role_question = ann.inbox[-1]
    async with running_bot(database, profile, clock, api):  # a new process: new service, new Application
        [next_question] = await ann.press(ROLE)
        assert "organisation" in next_question["text"]
        await ann.say("Lakeview Family Medicine")
    assert "reply_markup" not in role_question
    async with running_bot(database, profile, clock, api):
        resumed, asked = await ann.say("/start", expect=2)
        assert "pick up where we left off" in resumed["text"] and "reach you" in asked["text"]
    asked_texts = [m["text"] for m in ann.inbox if "?" in m["text"]]
    assert len(asked_texts) == len(set(asked_texts)) + 1  # only the resumed question was asked twice
    assert await count(database, ProcessedEvent) == 5


@sqlite_only
async def test_redelivered_update_has_one_effect(database, profile, clock, api) -> None:
    ann = FakeUser(api, 505)
    async with running_bot(database, profile, clock, api):
        await ann.say("/start", expect=2)
        update = api.message_update(ann.user, "Dr. Ann Lee")
        api.push(update)
        api.push(dict(update))  # Telegram resends an update the bot did not confirm
        await api.wait_for(lambda: len(ann.inbox) >= 3)
        [organisation] = await ann.press(ROLE)  # handled after both copies: one user, in order
        assert "organisation" in organisation["text"]
    assert len(ann.inbox) == 4
    async with UnitOfWork(database) as uow:
        conversation = await uow.conversations.get_for_update("telegram", "505")
    assert conversation.answers["referrer_name"] == "Dr. Ann Lee" and conversation.version == 3


@sqlite_only
async def test_a_turn_queued_behind_a_burst_says_one_moment_then_answers(database, profile, clock, api) -> None:
    """Every slot busy longer than the patience: the referrer reads the holding reply at once, then
    the real question once the turn has run, and the answer is kept."""
    ann = FakeUser(api, 507)
    async with running_bot(database, profile, clock, api) as channel:
        await ann.say("/start", expect=2)
        channel.runtime.service.admission = admission = Admission(limit=1, patience=0.05)
        busy = asyncio.Event()
        burst = asyncio.ensure_future(admission.run("someone else", busy.wait))
        [holding] = await ann.say("Dr. Ann Lee")
        assert holding["text"] == HOLDING_REPLY
        busy.set()
        await burst
        await api.wait_for(lambda: len(ann.inbox) >= 4)
        assert ann.buttons(ann.inbox[-1])[0] == ROLE
    async with UnitOfWork(database) as uow:
        conversation = await uow.conversations.get_for_update("telegram", "507")
    assert conversation.answers["referrer_name"] == "Dr. Ann Lee"


@sqlite_only
async def test_flood_control_429_is_waited_out_and_the_message_delivered_once(database, profile, clock, api) -> None:
    ann = FakeUser(api, 506)
    async with running_bot(database, profile, clock, api):
        await ann.say("/start", expect=2)
        api.fail_next("sendMessage", 429, retry_after=1)
        [question] = await ann.say("Dr. Ann Lee")
        assert ann.buttons(question)[0] == ROLE
    attempts = api.calls_to("sendMessage")
    assert len(attempts) == len(ann.inbox) + 1 and attempts[-1].params == attempts[-2].params


@sqlite_only
async def test_hostile_text_is_escaped_split_and_never_a_send_error(database, profile, clock, api) -> None:
    hostile = "<b>Ann</b> _x_ *y* [x](y) 😀 \u200fשלום\u200e & &amp; </i> <script>"
    ann = FakeUser(api, 507)
    async with running_bot(database, profile, clock, api):
        await ann.say("/start", expect=2)
        await ann.say(hostile)
        await ann.press(ROLE)
        await ann.say("Lakeview")
        await ann.say("ann@example.org")
        await ann.say("J.")
        await ann.say("34")
        [too_long, asked_again] = await ann.say(hostile * 80 + "x" * 400, expect=2)  # 4,000+ characters
        assert "longer than I can take" in too_long["text"] and "struggling" in asked_again["text"]
        await ann.say(("panic 😀 <i>" * 200)[:1990])
        await ann.press("No, none that I know of")
        await ann.say(("needs [x](y) " * 200)[:1990])
        for label in ("Individual", "Either", "Skip", "Routine (within a few weeks)", "Private pay", "No"):
            await ann.press(label)
        summary = await ann.say(("notes *bold* " * 200)[:1990], expect=2)  # over 4,096: two messages
        assert hostile in summary[0]["text"] and "reply_markup" not in summary[0]
        assert ann.buttons(summary[-1]) == ["Send referral", "Change an answer", "Cancel"]
        await ann.press("Send referral")
    assert len(api.calls_to("sendMessage")) == len(api.sent)  # not one send was refused
    async with UnitOfWork(database) as uow:
        [referral] = await uow.referrals.list()
    assert referral.answers["referrer_name"] == hostile


@sqlite_only
async def test_group_chat_gets_a_link_to_a_private_chat_and_nothing_is_stored(database, profile, clock, api) -> None:
    group = {"id": -100123, "type": "supergroup", "title": "Clinic team"}
    async with running_bot(database, profile, clock, api):
        api.push(api.message_update(FakeUser(api, 508).user, "/start@referbot_test_bot", chat=group))
        await api.wait_for(lambda: len(api.sent_to(-100123)) == 1)
    [answer] = api.sent_to(-100123)
    assert "private chat" in answer["text"] and "https://t.me/referbot_test_bot" in answer["text"]
    assert await count(database, Conversation) == 0 and await count(database, ProcessedEvent) == 0


PICKY_FLOW = """
id: picky
title: Picky
greeting: Hi
steps:
  - id: days
    type: multi_choice
    ask: Which days suit the client?
    choices:
      - {id: monday, label: Monday}
      - {id: a_choice_id_much_longer_than_the_sixty_four_bytes_telegram_allows_in_callback_data, label: Tuesday}
  - {id: confirm, type: confirm, ask: "Send?"}
"""


@sqlite_only
async def test_multi_choice_toggles_redraw_the_keyboard_in_place(database, profile, clock, api) -> None:
    ann = FakeUser(api, 509)
    async with running_bot(database, profile, clock, api, flow=parse_flow(PICKY_FLOW, "picky")):
        await ann.say("/start", expect=2)
        question = ann.inbox[-1]
        for label in ("Monday", "Tuesday"):
            edits = len(api.calls_to("editMessageReplyMarkup"))
            await ann.press(label, expect=0)
            await api.wait_for(lambda: len(api.calls_to("editMessageReplyMarkup")) == edits + 1)
        assert ann.buttons(question) == ["✅ Monday", "✅ Tuesday", "Done"] and ann.inbox[-1] is question
        [summary] = await ann.press("Done")
        assert "Monday, Tuesday" in summary["text"]
