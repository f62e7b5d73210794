"""The Telegram channel's operational side: webhook mode, staff commands, alerts to staff chats, the
configuration checks, and `referbot sources link`."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.telegram import CHANNEL as TELEGRAM
from referbot.http import HttpServer, health_app
from referbot.cli import app as cli
from referbot.domain import OutboxKind
from referbot.outbox import OutboxWorker
from referbot.store import UnitOfWork
from referbot.store.models import OutboxMessage, ProcessedEvent
from tests.conftest import EXAMPLE_PROFILE
from tests.e2e.fake_telegram import (FakeTelegram, FakeUser, quick_channel, running_bot, telegram_runtime,
                                     telegram_settings)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

STAFF_ID = 123456789  # examples/practice.yaml staff.telegram
WEBHOOK = {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
           "TELEGRAM_WEBHOOK_SECRET": "s3cret-token_for-tests"}


async def test_staff_commands_answer_staff_and_politely_refuse_others(database, profile, clock, api) -> None:
    staff, stranger = FakeUser(api, STAFF_ID, "Dana"), FakeUser(api, 601, "Sam")
    async with running_bot(database, profile, clock, api):
        [stats] = await staff.say("/stats")
        assert "Referrals in" in stats["text"]
        [unknown_period] = await staff.say("/stats fortnight")
        assert "30d" in unknown_period["text"]
        [nudges] = await staff.say("/nudges")
        assert "nudge" in nudges["text"].lower()
        [chart] = await staff.say("/chart 6")
        assert chart["caption"] == "Referrals per month, last 6 months"
        assert api.calls_to("sendPhoto")[-1].params["photo"].startswith(b"\x89PNG\r\n\x1a\n")
        [sources] = await staff.say("/sources")
        assert sources["text"] == "No referral sources yet."
        [missing] = await staff.say("/referral 999")
        assert missing["text"] == "No referral #999."
        [usage] = await staff.say("/referral twelve")
        assert usage["text"].startswith("Usage: /referral 12")
        for command in ("/stats", "/nudges", "/chart", "/referral 1"):
            [refusal] = await stranger.say(command)
            assert "only for the practice's staff" in refusal["text"]
        [guidelines] = await stranger.say("/guidelines")
        assert profile.practice.name in guidelines["text"]
    scopes = [json.loads(c.params.get("scope", "null")) for c in api.calls_to("setMyCommands")]
    assert scopes == [None, {"type": "chat", "chat_id": STAFF_ID}]
    staff_menu = [c["command"] for c in json.loads(api.calls_to("setMyCommands")[1].params["commands"])]
    assert {"stats", "chart", "nudges", "start", "guidelines"} <= set(staff_menu)
    everyone_menu = [c["command"] for c in json.loads(api.calls_to("setMyCommands")[0].params["commands"])]
    assert "stats" not in everyone_menu


@asynccontextmanager
async def webhook_bot(database: Any, profile: Any, clock: Any, api: FakeTelegram) -> AsyncIterator[str]:
    channel = TELEGRAM.build(telegram_runtime(database, profile, clock, api), telegram_settings(api, **WEBHOOK))
    web_app = health_app(database)
    assert channel.mount(web_app)
    server = HttpServer(web_app, "127.0.0.1", 0)
    await server.start()
    await channel.start()
    try:
        yield f"http://{server.host}:{server.port}/telegram/webhook"
    finally:
        await channel.stop()
        await server.stop()


async def test_webhook_checks_the_secret_and_handles_a_redelivery_once(database, profile, clock, api) -> None:
    ann = FakeUser(api, 602)
    update = api.message_update(ann.user, "/start")
    async with webhook_bot(database, profile, clock, api) as url, aiohttp.ClientSession() as http:
        assert api.webhook["url"] == WEBHOOK["TELEGRAM_WEBHOOK_URL"]
        assert api.webhook["secret_token"] == WEBHOOK["TELEGRAM_WEBHOOK_SECRET"]
        assert not api.calls_to("getUpdates") and not api.calls_to("deleteWebhook")
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 403
        assert ann.inbox == []
        async with UnitOfWork(database) as uow:
            assert (await uow.session.execute(select(ProcessedEvent))).first() is None
        right = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK["TELEGRAM_WEBHOOK_SECRET"]}
        for _ in range(2):  # Telegram redelivers when it did not see the 200 in time
            async with http.post(url, json=update, headers=right) as response:
                assert response.status == 200
    greeting, question = ann.inbox
    assert "referral assistant" in greeting["text"] and "what's your name" in question["text"]


async def test_crisis_alert_reaches_staff_chats_when_slack_is_not_set_up(database, profile, clock, api) -> None:
    kim = FakeUser(api, 603, "Kim")
    async with running_bot(database, profile, clock, api) as channel:
        await kim.say("/start", expect=2)
        for text in ("Kim Park", "kim@example.org"):
            await kim.say(text)
            if text == "Kim Park":
                await kim.press("Someone else (friend, family, self)")
        await kim.say("T. R.")
        await kim.say("19")
        [resources] = await kim.say("he says he wants to end it all")
        assert "988" in resources["text"]
        worker = OutboxWorker(database, channel.notifiers(), clock=clock)
        assert await worker.run_once() == 1
    [alert] = api.sent_to(STAFF_ID)
    text = alert["text"]
    assert text.startswith("🚨 URGENT") and "kim@example.org" in text and "end it all" not in text  # minimal alerts
    assert "Client: T. R., 18-19" in text
    async with UnitOfWork(database) as uow:
        [row] = (await uow.session.execute(select(OutboxMessage))).scalars().all()
    assert row.kind == OutboxKind.CRISIS_ALERT.value and row.sent_at is not None
    assert row.delivered_to["telegram"]["messages"] == [{"chat_id": STAFF_ID, "message_id": alert["message_id"]}]


async def test_telegram_alerts_staff_chats_only_when_the_profile_names_staff(database, profile, clock, api) -> None:
    runtime = telegram_runtime(database, profile, clock, api)
    assert len(quick_channel(runtime, telegram_settings(api)).notifiers()) == 1
    no_staff = profile.model_copy(update={"staff": profile.staff.model_copy(update={"root": {}})})
    assert quick_channel(telegram_runtime(database, no_staff, clock, api), telegram_settings(api)).notifiers() == []


def _link(tmp_path: Path, database_url: str, *args: str, **env: str) -> Any:
    environment = {"REFERBOT_DATABASE_URL": database_url, "REFERBOT_PROFILE": str(EXAMPLE_PROFILE),
                   "TELEGRAM_BOT_USERNAME": "", "TELEGRAM_BOT_TOKEN": "", **env}
    return CliRunner().invoke(cli, ["sources", "link", *args, "--qr", str(tmp_path / "qr.png")], env=environment)


def test_sources_link_prints_the_deep_link_and_writes_a_qr_png(tmp_path: Path, database_url: str) -> None:
    refused = _link(tmp_path, database_url, "Lincoln High", TELEGRAM_BOT_USERNAME="referbot_test_bot")
    assert refused.exit_code == 1 and "--type" in refused.output
    made = _link(tmp_path, database_url, "Lincoln High", "--type", "school", TELEGRAM_BOT_USERNAME="@referbot_test_bot")
    assert made.exit_code == 0, made.output
    link = made.output.splitlines()[0]
    assert link.startswith("https://t.me/referbot_test_bot?start=lincoln-high-")
    assert (tmp_path / "qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = _link(tmp_path, database_url, "lincoln", TELEGRAM_BOT_USERNAME="referbot_test_bot")
    assert again.output.splitlines()[0] == link  # the same source, the same code


async def test_sources_link_asks_telegram_for_the_username(tmp_path: Path, database_url: str, api) -> None:
    result = await asyncio.to_thread(_link, tmp_path, database_url, "Dr. Ruiz", "--type", "physician",
                                     TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.base_url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("https://t.me/referbot_test_bot?start=dr-ruiz-")
    assert [c.method for c in api.calls] == ["getMe"]


INTAKE = ["Dr. Ann Lee", "physician", "Lakeview Family Medicine", "ann.lee@lakeview.example", "J.", "34",
          "panic attacks", "no", "skip", "individual", "either", "skip", "routine", "private pay", "no", "skip", "send"]


async def test_nudge_reaches_staff_with_buttons_and_done_is_recorded(database, profile, clock, api) -> None:
    from referbot.domain import Inbound
    from referbot.nudger import due_nudges, enqueue_due

    staff = FakeUser(api, STAFF_ID, "Dana")
    async with running_bot(database, profile, clock, api) as channel:
        service = channel.runtime.service
        for text in [None, *INTAKE]:
            await service.handle(Inbound("console", "ann", text=text))
        clock.advance(days=1)  # Tuesday 09:00 in Chicago: the thank-you is due and the office open
        assert await enqueue_due(database, profile, clock()) == 1
        worker = OutboxWorker(database, channel.notifiers(), clock=clock)
        assert await worker.run_once() == 2 == len(staff.inbox)  # the referral alert, then the nudge
        assert staff.inbox[0]["text"].startswith("📥 New referral #1: good fit")
        nudge = next(m for m in staff.inbox if m["text"].startswith("🔔 Thank the referrer"))
        assert "Thank the referrer: Dr. Ann Lee" in nudge["text"] and "Draft:" in nudge["text"]
        assert staff.buttons(nudge) == ["Done", "Skip", "Snooze 1 day", "Snooze 1 week"]
        await staff.press("Done", expect=0)
        await api.wait_for(lambda: "reply_markup" not in nudge)
        assert nudge["text"].endswith("✅ Done")
        assert "Thank the referrer" not in [n.title for n in await due_nudges(database, profile, clock())]
