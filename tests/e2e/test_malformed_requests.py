"""Malformed requests on every HTTP route answer 4xx, never 500: a forged Slack timestamp, button
values that are not referral ids, bodies that are not Slack payloads, and webhook bodies that are
not Telegram updates."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.e2e.fake_slack import sign
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.test_slack import SECRET, STAFF, Slack, api, posted_alert, slack  # noqa: F401 (fixtures)
from tests.e2e.test_telegram_ops import WEBHOOK, webhook_bot

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
@pytest.mark.parametrize("timestamp", ["", "12.5", "¹²³", "x" * 50, "-1"])
async def test_a_timestamp_that_is_not_a_number_is_401(slack: Slack, timestamp: str) -> None:  # noqa: F811
    body = b'{"type": "event_callback"}'
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": sign(SECRET, timestamp, body)}
    async with slack.session.post(slack.send.url, data=body, headers=headers) as response:
        assert response.status == 401


@sqlite_only
@pytest.mark.parametrize("body, content_type", [
    (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    (b"[" * 5000 + b"]" * 5000, "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": STAFF}})}).encode(),
     "application/x-www-form-urlencoded"),
])
async def test_bodies_slack_would_never_send_are_4xx(slack: Slack, body: bytes, content_type: str) -> None:  # noqa: F811
    status, _ = await slack.send.post(body, content_type)
    assert 400 <= status < 500


@sqlite_only
@pytest.mark.parametrize("value", ["abc", "", "1e3", "¹", "9" * 40])
async def test_a_forged_button_value_is_4xx_or_politely_refused(slack: Slack, value: str) -> None:  # noqa: F811
    _, alert = await posted_alert(slack)
    for action in ("details", "status:contacted"):
        button = next(b for block in alert["blocks"] if block["type"] == "actions" for b in block["elements"]
                      if b["action_id"] == action)
        status, _ = await slack.send.press(STAFF, "C0ALERTS", alert, {**button, "value": value})
        assert status < 500


@sqlite_only
@pytest.mark.parametrize("body", [b"[1, 2]", b"null", b"{\"update_id\": \"x\", \"message\": 5}", b"[" * 5000,
                                  b"{\"update_id\": 1, \"message\": {\"chat\": []}}", b"\xff"])
async def test_webhook_bodies_that_are_not_updates_are_400(database, profile, clock, body: bytes) -> None:
    telegram_api = FakeTelegram()
    await telegram_api.start()
    try:
        async with webhook_bot(database, profile, clock, telegram_api) as url, aiohttp.ClientSession() as http:
            headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK["TELEGRAM_WEBHOOK_SECRET"]}
            async with http.post(url, data=body, headers=headers) as response:
                assert 400 <= response.status < 500, await response.text()
    finally:
        await telegram_api.close()
