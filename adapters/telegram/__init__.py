"""The Telegram channel: referrers do the whole intake in a private chat with the practice's bot.

This module only declares the channel (settings, staff ids, warnings, links); python-telegram-bot
is imported when the channel starts. Parts: `render` (replies as escaped HTML and inline
keyboards), `updates` (updates to `Inbound`, routed by PTB handlers), `staff` (the staff desk's
commands), `alerts` and `nudges` (the notifier for staff chats), `channel` (polling or webhook),
`links` (deep links).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from referbot.channels import Channel, RunningChannel

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramSettings(BaseSettings):
    """TELEGRAM_* variables; the channel is on when TELEGRAM_BOT_TOKEN is set."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    bot_token: str | None = None
    api_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    bot_username: str | None = None
    poll_timeout: float = Field(10, gt=0, le=50)

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> "TelegramSettings":
        """Anyone who learnt the webhook URL could otherwise post fake updates in a referrer's name."""
        if self.bot_token and self.webhook_url and not _SECRET.fullmatch(self.webhook_secret or ""):
            raise ValueError("TELEGRAM_WEBHOOK_URL is set, so TELEGRAM_WEBHOOK_SECRET must be too: 1-256 characters "
                             "of A-Z, a-z, 0-9, _ and - (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`).")
        return self


def staff_ids(values: list[Any]) -> list[str]:
    """Telegram user ids are numbers (a staff member's id is shown by @userinfobot)."""
    bad = [v for v in values if not str(v).strip().isdecimal()]
    if bad:
        raise ValueError(f"Telegram user ids are numbers like 123456789; not {bad}")
    return [str(v).strip() for v in values]


def _build(runtime: Any, settings: TelegramSettings) -> RunningChannel:
    from adapters.telegram.channel import TelegramChannel

    return TelegramChannel(runtime, settings)


async def _check(settings: TelegramSettings) -> list[Any]:
    from adapters.telegram.doctor import check

    return await check(settings)


async def _source_link(settings: TelegramSettings, code: str) -> str:
    from adapters.telegram.links import bot_username, deep_link

    return deep_link(await bot_username(settings), code)


CHANNEL = Channel(
    name="telegram",
    summary="Telegram: intake in a private chat with the practice's bot; alerts and staff commands in staff chats",
    settings=TelegramSettings,
    enabled=lambda s: bool(s.bot_token),
    build=_build,
    staff_ids=staff_ids,
    alerts_staff=lambda profile, _s: bool(profile.staff.ids("telegram")),
    source_link=_source_link,
    check=_check,
    time_source=lambda s: s.api_url,
    note_sender=lambda running: running.note_sender(),
    order=20,
)
