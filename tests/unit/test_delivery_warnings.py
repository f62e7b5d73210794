"""A practice is told when referral and crisis alerts would reach nobody."""

from __future__ import annotations

import pytest

from referbot.app import delivery_warnings
from referbot.profile import Profile
from referbot.settings import Settings


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)


@pytest.mark.parametrize("env, expected", [
    ({}, "No alert channel is set up"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_ALERT_CHANNEL is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_ALERT_CHANNEL": "C1"}, None),
    ({"TELEGRAM_BOT_TOKEN": "1:a"}, None),
])
def test_delivery_warnings(profile: Profile, env: dict[str, str], expected: str | None) -> None:
    warnings = delivery_warnings(settings(**env), profile)
    assert (expected in warnings[0]) if expected else warnings == []


def test_telegram_without_staff_ids_warns(profile: Profile) -> None:
    no_staff = profile.model_copy(update={"staff": profile.staff.model_copy(update={"telegram": []})})
    assert "No staff Telegram ids" in delivery_warnings(settings(TELEGRAM_BOT_TOKEN="1:a"), no_staff)[0]
