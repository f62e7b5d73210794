"""Logs that hold no client data and no secrets, at any level (`-v` included).

Two defences. Libraries that would log what referrers typed or what the database holds (Slack and
Telegram request bodies, SQL rows and parameters, connection traffic) are held at a level where
they do not; `-v` makes referbot's own loggers verbose, not theirs. And every record that reaches
a handler passes `RedactionFilter`, which removes tokens wherever they appear: the Telegram bot
token inside Bot API URLs, Slack tokens, `token=` query parameters, the database password, and the
exact values of every configured secret.
"""

from __future__ import annotations

import logging
import re
from typing import Iterable

from pydantic import SecretStr
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from referbot.settings import Settings

MASK = "[redacted]"
#: Settings fields whose values are secrets: bot_token, signing_secret, app_token, secret, api_key …
SECRET_FIELD = re.compile(r"(^|_)(token|secret|password|key)$")

#: Loggers that write request or row contents at DEBUG/INFO, and the level they are kept at.
CHATTY_LIBRARIES: dict[str, int] = {
    "sqlalchemy.engine": logging.WARNING,  # statements, parameters and result rows
    "sqlalchemy.pool": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "slack_sdk": logging.INFO,  # request bodies (message text) at DEBUG
    "slack_bolt": logging.INFO,  # incoming payloads at DEBUG
    "telegram": logging.INFO,  # updates and request data at DEBUG
    "httpx": logging.WARNING,  # every Bot API URL (with the token) at INFO
    "httpcore": logging.WARNING,
    "aiohttp.access": logging.WARNING,  # request paths and query strings
    "alembic": logging.WARNING,
}

_PATTERNS = (
    re.compile(r"(?<=/bot)\d+:[A-Za-z0-9_-]+"),  # https://api.telegram.org/bot<token>/sendMessage
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"),  # a Telegram token on its own
    re.compile(r"\bxox[abposre]-[A-Za-z0-9-]+"),  # Slack bot, user and config tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]+"),  # Slack app-level (Socket Mode) tokens
    re.compile(r"(?<=[?&])(?:token|access_token|secret|key|password)=[^&\s\"']+", re.IGNORECASE),
    re.compile(r"(?<=://)([^:/@\s]+):[^@/\s]+(?=@)"),  # user:password@ in any URL
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret and every token-shaped string masked."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class RedactionFilter(logging.Filter):
    """Masks secrets in a record's message and traceback before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        #: Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def settings_secrets(settings: Settings, channel_settings: Iterable[BaseSettings] = ()) -> list[str]:
    """The exact values that must never be printed: the encryption keys, the database password, and
    every channel's tokens, signing and webhook secrets (the fields `SECRET_FIELD` names), whatever
    the channel, so a new channel's secrets are masked without this module naming it."""
    values: list[str | None] = []
    if settings.encryption_key is not None:
        values += settings.encryption_key.get_secret_value().split(",")
    try:
        values.append(make_url(settings.database_url).password)
    except Exception:  # an unparseable URL is reported elsewhere; it has no password to hide
        pass
    for channel in channel_settings:
        for name, value in channel.model_dump().items():
            if SECRET_FIELD.search(name):
                values.append(value.get_secret_value() if isinstance(value, SecretStr) else value)
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]


def quiet_chatty_libraries() -> None:
    """Hold the libraries that log payloads at the levels `CHATTY_LIBRARIES` allows (never lower)."""
    for name, level in CHATTY_LIBRARIES.items():
        library = logging.getLogger(name)
        library.setLevel(max(level, library.level))


def install_redaction(secrets: Iterable[str] = ()) -> RedactionFilter:
    """Put the filter on every handler of the root logger and quiet the chatty libraries.

    Handler filters see records from every logger (logger filters only see their own), so this is
    the one place that catches them all. Call it after the handlers are configured.
    """
    quiet_chatty_libraries()
    redaction = RedactionFilter(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactionFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redaction)
    return redaction
