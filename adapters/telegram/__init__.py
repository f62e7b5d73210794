"""The Telegram channel: referrers do the whole intake in a private chat with the practice's bot.

`configure(runtime)` returns the channel when TELEGRAM_BOT_TOKEN is set. Parts: `render` (replies
as escaped HTML and inline keyboards), `updates` (updates to `Inbound`), `staff` (/stats, /nudges),
`alerts` and `nudges` (the notifier for staff chats), `channel` (polling or webhook), `links` (deep links).
"""

from __future__ import annotations

import re

from adapters.telegram.channel import TelegramChannel
from referbot.app import Runtime
from referbot.settings import SettingsError

__all__ = ["TelegramChannel", "configure"]

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def configure(runtime: Runtime) -> TelegramChannel | None:
    """The channel, or None without a bot token. A webhook without a valid secret is refused: anyone
    who learnt the URL could otherwise post fake updates in a referrer's name."""
    settings = runtime.settings
    if not settings.telegram_bot_token:
        return None
    if settings.telegram_webhook_url and not _SECRET.fullmatch(settings.telegram_webhook_secret or ""):
        raise SettingsError("TELEGRAM_WEBHOOK_URL is set, so TELEGRAM_WEBHOOK_SECRET must be too: 1-256 characters "
                            "of A-Z, a-z, 0-9, _ and - (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`).")
    return TelegramChannel(runtime)
