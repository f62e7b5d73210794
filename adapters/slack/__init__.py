"""The Slack channel: alerts with status buttons, `/referbot`, the App Home, and intake in DMs.

HTTP mode (SLACK_SIGNING_SECRET) serves `/slack/events` on the project's one HTTP server; Socket
Mode (SLACK_APP_TOKEN) connects out instead and mounts nothing. This module only declares the
channel; Bolt and the Slack SDK are imported when it starts (`channel`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from referbot.channels import Channel, RunningChannel


class SlackSettings(BaseSettings):
    """SLACK_* variables; the channel is on when SLACK_BOT_TOKEN is set."""

    model_config = SettingsConfigDict(env_prefix="SLACK_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str = "https://slack.com/api/"
    alert_channel: str | None = None

    @model_validator(mode="after")
    def _events_need_a_way_in(self) -> "SlackSettings":
        if self.bot_token and not (self.signing_secret or self.app_token):
            raise ValueError("SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (to receive Slack events over "
                             "HTTP) nor SLACK_APP_TOKEN (Socket Mode) is.")
        return self


def staff_ids(values: list[Any]) -> list[str]:
    """Slack member ids (profile → ⋮ → Copy member ID), not display names."""
    bad = [v for v in values if not re.fullmatch(r"[UW][A-Z0-9]{2,}", str(v))]
    if bad:
        raise ValueError(f"Slack user ids look like U012AB3CD; not {bad}")
    return [str(v) for v in values]


def warnings(_profile: Any, settings: SlackSettings) -> list[str]:
    if not settings.alert_channel:
        return ["SLACK_ALERT_CHANNEL is not set: Slack cannot post referral and crisis alerts. "
                "Put the alert channel's id (C…) in .env."]
    return []


def _build(runtime: Any, settings: SlackSettings) -> RunningChannel:
    from adapters.slack.channel import SlackChannel

    return SlackChannel(runtime, settings)


async def _check(settings: SlackSettings) -> list[Any]:
    from adapters.slack.doctor import check

    return await check(settings)


CHANNEL = Channel(
    name="slack",
    summary="Slack: alerts with status buttons in the practice's channel, /referbot for staff, intake in DMs",
    settings=SlackSettings,
    enabled=lambda s: bool(s.bot_token),
    build=_build,
    staff_ids=staff_ids,
    warnings=warnings,
    alerts_staff=lambda _profile, s: bool(s.alert_channel),
    check=_check,
    time_source=lambda s: s.api_url,
    note_sender=lambda running: running.note_sender(),
    order=10,
)
