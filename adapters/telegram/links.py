"""Links into the bot: the private chat, and per-source deep links for business cards and brochures.

`https://t.me/<bot>?start=<source code>` opens the chat and sends `/start <source code>`, which the
channel turns into `Inbound.source_code`: the referral is credited without asking who sent it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from referbot.settings import SettingsError

if TYPE_CHECKING:
    from adapters.telegram import TelegramSettings


def chat_link(username: str) -> str:
    return f"https://t.me/{username}"


def deep_link(username: str, source_code: str) -> str:
    return f"{chat_link(username)}?start={source_code}"


async def bot_username(settings: TelegramSettings) -> str:
    """TELEGRAM_BOT_USERNAME, else the username Telegram reports for TELEGRAM_BOT_TOKEN (getMe)."""
    from telegram import Bot
    from telegram.error import TelegramError

    from adapters.telegram.reach import explain

    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if not settings.bot_token:
        raise SettingsError("Set TELEGRAM_BOT_USERNAME (the bot's @username), or TELEGRAM_BOT_TOKEN to ask Telegram.")
    try:
        async with Bot(settings.bot_token, base_url=settings.api_url) as bot:
            return bot.username
    except TelegramError as problem:
        reason = explain(problem, settings.api_url, settings.bot_token)
        raise SettingsError(f"Could not ask Telegram for the bot's username: {reason} "
                            "(or set TELEGRAM_BOT_USERNAME).") from None
