"""Logs at `-v` hold no client data and no secrets: whole intakes over Slack and Telegram, alerts,
staff details and a database error, with every logger at DEBUG as `referbot run -v` sets them."""

from __future__ import annotations

import io
import logging
from typing import Iterator

import pytest
from sqlalchemy.exc import DBAPIError

from referbot.redaction import CHATTY_LIBRARIES, install_redaction, redact, settings_secrets
from referbot.store import UnitOfWork
from referbot.store.models import Referral
from tests.e2e.fake_telegram import TOKEN, FakeUser, running_bot, telegram_settings
from tests.e2e.test_slack import (ALERTS, ANSWERS, SECRET, STAFF, Slack, api, button, slack,  # noqa: F401 (fixtures)
                                  slack_settings)

CLIENT, ISSUE, PHONE = "Zebediah Quarrington", "panic attacks since the flood", "(312) 555-0177"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The root logger at DEBUG into a buffer, as `referbot run -v` configures it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def test_redact_masks_tokens_in_urls_and_text() -> None:
    line = (f"POST https://api.telegram.org/bot123456:{'A' * 35}/sendMessage xoxb-1-2-abc xapp-1-X "
            "postgresql+asyncpg://referbot:hunter22@db/referbot https://x/?token=abc&b=1")
    masked = redact(line)
    for secret in ("A" * 35, "xoxb-1-2-abc", "xapp-1-X", "hunter22", "token=abc"):
        assert secret not in masked


def _client_answers() -> list[str]:
    answers = list(ANSWERS)
    answers[4], answers[6], answers[answers.index("(312) 555-0100")] = CLIENT, ISSUE, PHONE
    return answers


async def test_verbose_logs_hold_no_client_data_or_secrets(slack: Slack, logs: io.StringIO, database, profile,  # noqa: F811
                                                           clock) -> None:
    install_redaction(settings_secrets(slack.runtime.settings, [slack_settings(slack.api.url)]))
    for text in ["hi", *_client_answers()]:
        await slack.send.dm("UREFERRER", text)
    await slack.worker().run_once()
    alert = slack.alert()
    await slack.send.press(STAFF, ALERTS, alert, button(alert, action_id="details"))
    from tests.e2e.fake_telegram import FakeTelegram

    telegram_api = FakeTelegram()
    await telegram_api.start()
    try:
        async with running_bot(database, profile, clock, telegram_api) as channel:
            install_redaction(settings_secrets(channel.runtime.settings, [telegram_settings(telegram_api)]))
            referrer = FakeUser(telegram_api, 777)
            for text in ["/start", *_client_answers()[:7]]:
                await referrer.say(text)
    finally:
        await telegram_api.close()
    if database.url.startswith("postgresql"):  # PostgreSQL refuses NUL: its error must not echo the row
        with pytest.raises(DBAPIError):
            async with UnitOfWork(database) as uow:
                uow.session.add(Referral(channel="x", referrer_user_id="x", client_name=f"{CLIENT}\x00", verdict="x",
                                         created_at=clock(), updated_at=clock()))
                try:
                    await uow.commit()
                except DBAPIError:
                    logging.getLogger("referbot.test").exception("insert failed")
                    raise
    text = logs.getvalue()
    assert "DEBUG" in text or "INFO" in text  # the capture works
    for marker in (CLIENT, "Quarrington", ISSUE, PHONE, TOKEN, TOKEN.split(":")[1], SECRET, "xoxb-test"):
        assert marker not in text, f"{marker!r} leaked into the logs"
