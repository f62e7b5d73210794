"""A practice is told when referral and crisis alerts would reach nobody; each channel adds its own."""

from __future__ import annotations

import pytest

from adapters.slack import CHANNEL as SLACK
from adapters.slack import SlackSettings
from adapters.telegram import CHANNEL as TELEGRAM
from adapters.telegram import TelegramSettings
from referbot.channels import Configured, delivery_warnings
from referbot.profile import Profile


def channels(**env: str) -> list[Configured]:
    slack = {k.removeprefix("SLACK_").lower(): v for k, v in env.items() if k.startswith("SLACK_")}
    telegram = {k.removeprefix("TELEGRAM_").lower(): v for k, v in env.items() if k.startswith("TELEGRAM_")}
    return [Configured(SLACK, SlackSettings(_env_file=None, **slack)),
            Configured(TELEGRAM, TelegramSettings(_env_file=None, **telegram))]


@pytest.mark.parametrize("env, expected", [
    ({}, "No alert channel is set up"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_ALERT_CHANNEL is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_ALERT_CHANNEL": "C1"}, None),
    ({"TELEGRAM_BOT_TOKEN": "1:a"}, None),
])
def test_delivery_warnings(profile: Profile, env: dict[str, str], expected: str | None) -> None:
    warnings = delivery_warnings(profile, channels(**env))
    assert (expected in warnings[0]) if expected else warnings == []


def test_telegram_without_staff_ids_warns(profile: Profile) -> None:
    no_staff = profile.model_copy(update={"staff": profile.staff.model_copy(update={"root": {}})})
    assert "No alert channel is set up" in delivery_warnings(no_staff, channels(TELEGRAM_BOT_TOKEN="1:a"))[0]
