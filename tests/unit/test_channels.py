"""The channel boundary: the registry finds channels through entry points, each owns its settings
and its staff ids, and declaring one never imports a chat SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from adapters.telegram import CHANNEL as TELEGRAM
from adapters.telegram import TelegramSettings
from referbot.channels import configure, installed, note_channels, validate_staff
from referbot.settings import SettingsError, load_settings


def test_the_registry_lists_the_installed_channels_in_delivery_order() -> None:
    assert list(installed())[:2] == ["slack", "telegram"]
    assert "web" in installed()


def test_declaring_channels_imports_no_chat_sdk() -> None:
    code = ("import sys; from referbot.channels import installed; installed(); "
            "print(sorted(m for m in ('telegram', 'slack_bolt', 'slack_sdk', 'jinja2', 'aiosmtplib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_notes_to_referrers_go_through_the_channels_that_declare_a_note_sender(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "REFERBOT_WEB_ENABLED", "SMTP_HOST", "SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:a")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    assert note_channels(configure()) == {"telegram"}  # email needs a sender address too
    monkeypatch.setenv("SMTP_FROM", "Harbor Light <intake@harborlight.org>")
    assert note_channels(configure()) == {"telegram", "email"}
    assert not installed()["email"].for_referrers and installed()["web"].note_sender is None
    monkeypatch.setenv("SMTP_SECURITY", "ssl")
    with pytest.raises(SettingsError, match="^SMTP_SECURITY: "):
        configure(["email"])


def test_a_webhook_without_a_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:a")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram/webhook")
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(TelegramSettings)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    assert not TELEGRAM.enabled(load_settings(TelegramSettings))


def test_a_bad_value_names_the_variable_with_its_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_POLL_TIMEOUT", "soon")
    with pytest.raises(SettingsError, match="^TELEGRAM_POLL_TIMEOUT: "):
        load_settings(TelegramSettings)


def test_each_channel_validates_its_own_staff_ids() -> None:
    assert validate_staff("telegram", [123, "456"]) == ["123", "456"]
    assert validate_staff("slack", ["U012AB3CD"]) == ["U012AB3CD"]
    with pytest.raises(ValueError, match="Slack user ids"):
        validate_staff("slack", ["bob"])
    with pytest.raises(ValueError, match="no channel named 'fax'"):
        validate_staff("fax", ["1"])


class FakePoint:
    """An entry point as importlib.metadata lists it."""

    def __init__(self, name: str, value: object) -> None:
        self.name, self.value, self._value = name, f"example_plugin:{name.upper()}", value

    def load(self) -> object:
        if isinstance(self._value, Exception):
            raise self._value
        return self._value


def test_a_separate_package_adds_a_channel_by_entry_point_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from referbot import channels

    fax = channels.Channel(name="fax", settings=TelegramSettings, enabled=lambda s: True,
                           build=lambda runtime, settings: None)  # type: ignore[arg-type, return-value]
    monkeypatch.setattr(channels, "entry_points", lambda group: [FakePoint("fax", fax), FakePoint("telegram", TELEGRAM)])
    channels.installed.cache_clear()
    try:
        assert list(channels.installed()) == ["telegram", "fax"]  # delivery order, then name
        assert validate_staff("fax", ["+1 312 555 0100"]) == ["+1 312 555 0100"]
    finally:
        channels.installed.cache_clear()


@pytest.mark.parametrize("point, problem", [
    (FakePoint("broken", ImportError("No module named 'example_plugin'")), "cannot be loaded"),
    (FakePoint("named", TELEGRAM), "is not a referbot Channel named 'named'"),
])
def test_a_broken_plugin_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, point: FakePoint,
                                                  problem: str) -> None:
    from referbot import channels
    from referbot.errors import ConfigError

    monkeypatch.setattr(channels, "entry_points", lambda group: [point])
    channels.installed.cache_clear()
    try:
        with pytest.raises(ConfigError, match=problem):
            channels.installed()
    finally:
        channels.installed.cache_clear()
