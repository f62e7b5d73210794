"""`referbot doctor` as a person runs it, against the fake Telegram and Slack on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from referbot.store.database import head_revision
from referbot.store.encryption import Cipher
from tests.e2e.cli import referbot, referbot_async
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.test_notes import free_port

SLACK_TOKEN = "xoxb-fake-doctor-token"
ALERTS = "C0ALERTS"


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(token=SLACK_TOKEN, channels={ALERTS: True})
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def slack_env(api: FakeSlack, **overrides: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": api.url,
            "SLACK_ALERT_CHANNEL": ALERTS, **overrides}


def telegram_env(api: FakeTelegram, **overrides: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.base_url, **overrides}


async def test_all_good_with_both_channels(tmp_path: Path, api: FakeTelegram, slack_api: FakeSlack) -> None:
    assert referbot(tmp_path, "db", "upgrade").returncode == 0
    code, out, err = await referbot_async(tmp_path, "doctor", **telegram_env(api), **slack_env(slack_api))
    assert code == 0, out + err
    assert "✓ database: " in out and f"at migration {head_revision()} (the newest)" in out
    assert "✓ telegram: token accepted: @referbot_test_bot" in out
    assert "✓ telegram: polling (no webhook set, none configured)" in out
    assert "✓ slack: token accepted: @referbot in Fake" in out
    assert f"✓ slack: alert channel #alerts-{ALERTS.lower()} exists and the bot is in it" in out
    assert "✓ clock: within 30 s of " in out  # the fakes' Date headers are this machine's own clock
    assert out.rstrip().endswith("All good.")
    assert api.token not in out + err and SLACK_TOKEN not in out + err


async def test_bad_tokens_say_which_and_what_to_do(tmp_path: Path, api: FakeTelegram, slack_api: FakeSlack) -> None:
    code, out, err = await referbot_async(tmp_path, "doctor", **telegram_env(api, TELEGRAM_BOT_TOKEN="4242:wrong"),
                                          **slack_env(slack_api, SLACK_BOT_TOKEN="xoxb-wrong"))
    assert code == 1
    assert ("✗ telegram: TELEGRAM_BOT_TOKEN was rejected by Telegram: copy the token again from @BotFather "
            "(/mybots → your bot → API Token) into .env.") in out
    assert ("✗ slack: SLACK_BOT_TOKEN was rejected by Slack (invalid_auth): copy it again from your Slack app's "
            "settings (api.slack.com/apps) into .env.") in out
    assert "4242:wrong" not in out + err and "xoxb-wrong" not in out + err
    assert err.strip() == "2 problem(s) to fix, 1 warning(s)."
    assert "Traceback" not in out + err


async def test_bot_missing_from_the_alert_channel(tmp_path: Path, slack_api: FakeSlack) -> None:
    slack_api.channels[ALERTS] = False
    code, out, _ = await referbot_async(tmp_path, "doctor", **slack_env(slack_api))
    assert code == 1
    assert f"✗ slack: the bot is not a member of the alert channel #alerts-{ALERTS.lower()}" in out
    assert f"→ Type `/invite @referbot` in #alerts-{ALERTS.lower()}, or alerts will fail with not_in_channel." in out
    code, out, _ = await referbot_async(tmp_path, "doctor", **slack_env(slack_api, SLACK_ALERT_CHANNEL="C0NOPE"))
    assert code == 1 and "✗ slack: SLACK_ALERT_CHANNEL C0NOPE does not exist or the bot cannot see it" in out


async def test_webhook_as_configured_and_as_telegram_has_it(tmp_path: Path, api: FakeTelegram) -> None:
    webhook = {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret"}
    code, out, _ = await referbot_async(tmp_path, "doctor", **telegram_env(api, **webhook))
    assert code == 0 and "! telegram: Telegram's webhook is not set, configured https://bot.example.org/" in out
    api.webhook = {"url": webhook["TELEGRAM_WEBHOOK_URL"]}
    api.webhook_error = "Wrong response from the webhook: 502 Bad Gateway"
    code, out, _ = await referbot_async(tmp_path, "doctor", **telegram_env(api, **webhook))
    assert "Telegram's last delivery failed: Wrong response from the webhook: 502 Bad Gateway" in out
    code, out, _ = await referbot_async(tmp_path, "doctor", **telegram_env(
        api, TELEGRAM_WEBHOOK_URL="http://bot.example.org/hook", TELEGRAM_WEBHOOK_SECRET="s3cret"))
    assert code == 1 and "✗ telegram: TELEGRAM_WEBHOOK_URL http://bot.example.org/hook is not https" in out


async def test_database_behind_and_unreachable(tmp_path: Path) -> None:
    code, out, _ = await referbot_async(tmp_path, "doctor")
    assert "! database: " in out and "is reachable but empty" in out and "`referbot db upgrade`" in out
    code, out, _ = await referbot_async(tmp_path, "doctor", REFERBOT_DATABASE_URL="postgresql://u:pw@127.0.0.1:9/x")
    assert code == 1
    assert "✗ database: cannot connect to the database 127.0.0.1:9/x: " in out and "pw" not in out


@pytest.fixture
async def mail_server() -> AsyncIterator[int]:
    """An SMTP server on 127.0.0.1 that accepts one login (plain AUTH without TLS, for the test only)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        # handled=False: aiosmtpd answers 235 or 535 itself
        return AuthResult(success=(data.login, data.password) == (b"intake", MAIL_PASSWORD.encode()), handled=False)

    port = free_port()
    controller = Controller(object(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    await asyncio.to_thread(controller.start)
    try:
        yield port
    finally:
        await asyncio.to_thread(controller.stop)


MAIL_PASSWORD = "mail-pass-word-42"


def mail_env(port: int, **overrides: str) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none", "SMTP_USERNAME": "intake",
            "SMTP_PASSWORD": MAIL_PASSWORD, "SMTP_FROM": "intake@harborlight.org", **overrides}


async def test_mail_server_login_accepted_refused_and_unreachable(tmp_path: Path, mail_server: int) -> None:
    code, out, err = await referbot_async(tmp_path, "doctor", **mail_env(mail_server))
    assert f"✓ email: mail server 127.0.0.1:{mail_server} accepts the login of intake" in out, out + err
    code, out, err = await referbot_async(tmp_path, "doctor", **mail_env(mail_server, SMTP_PASSWORD="wrong-pass"))
    assert code == 1
    assert f"✗ email: the mail server 127.0.0.1:{mail_server} refused SMTP_USERNAME / SMTP_PASSWORD (535" in out
    assert "wrong-pass" not in out + err and "Traceback" not in out + err
    closed = free_port()
    code, out, _ = await referbot_async(tmp_path, "doctor", **mail_env(closed))
    assert code == 1 and f"✗ email: cannot reach the mail server 127.0.0.1:{closed} (" in out


def test_encryption_key_missing_or_not_the_one_the_data_was_written_with(tmp_path: Path) -> None:
    assert referbot(tmp_path, "chat", "--jsonl", "--as", "ann", input='{"text": "hello"}\n').returncode == 0
    good = referbot(tmp_path, "doctor")
    assert "✓ encryption: client data is encrypted at rest (1 key(s)" in good.stdout
    assert "✓ encryption: the key opens the client data stored in the database" in good.stdout
    missing = referbot(tmp_path, "doctor", REFERBOT_ENCRYPTION_KEY="")
    assert missing.returncode == 1
    assert "✗ encryption: REFERBOT_ENCRYPTION_KEY is not set: `referbot run` will not start" in missing.stdout
    assert "✗ encryption: the database holds encrypted client data but REFERBOT_ENCRYPTION_KEY is not set" in missing.stdout
    other = referbot(tmp_path, "doctor", REFERBOT_ENCRYPTION_KEY=Cipher.generate_key())
    assert other.returncode == 1
    assert "✗ encryption: Stored client data was encrypted with a key that is not in REFERBOT_ENCRYPTION_KEY" in other.stdout
    checked = referbot(tmp_path, "check", REFERBOT_ENCRYPTION_KEY="")
    assert checked.returncode == 1 and "✗ REFERBOT_ENCRYPTION_KEY is not set" in checked.stderr + checked.stdout
