"""Telling a wrong Telegram token from an unreachable Telegram, in words a therapist can act on.

A rejected token will not get better by waiting: it is a configuration error. A network error, a
timeout or a Telegram 5xx will: the caller retries. PTB's own messages are never passed on, since
`InvalidToken` quotes the token itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError

from referbot.ports import RetryLater
from referbot.settings import SettingsError

REJECTED = ("TELEGRAM_BOT_TOKEN was rejected by Telegram: copy the token again from @BotFather "
            "(/mybots → your bot → API Token) into .env.")


def api_host(api_url: str) -> str:
    """Where the Bot API is, without the token or path: `api.telegram.org` or `127.0.0.1:8081`."""
    return urlsplit(api_url).netloc or api_url


def explain(problem: TelegramError, api_url: str, token: str) -> SettingsError | RetryLater:
    """SettingsError for a rejected token; RetryLater (with Telegram's own wait, if any) otherwise.
    The token never appears in the words (the Bot API carries it in every URL)."""
    if isinstance(problem, InvalidToken):
        return SettingsError(REJECTED)
    if isinstance(problem, RetryAfter):
        wait = flood_wait(problem)
        return RetryLater(f"Telegram asks to wait {wait:g} s", wait)
    if isinstance(problem, NetworkError):  # includes TimedOut and Telegram's 5xx answers
        cause = problem.__cause__ or problem
        return RetryLater(f"cannot reach Telegram at {api_host(api_url)} ({_words(cause, token)})")
    return RetryLater(f"Telegram answered: {_words(problem, token)}")


def flood_wait(problem: RetryAfter) -> float:
    """Seconds Telegram's flood control asks to wait: python-telegram-bot gives an int today and a
    timedelta in its next major version; every sender in this channel reads it here."""
    wait = problem.retry_after
    return float(wait.total_seconds() if hasattr(wait, "total_seconds") else wait)


def _words(cause: BaseException, token: str) -> str:
    text = str(cause).strip() or type(cause).__name__
    return text.replace(token, "<token>") if token else text
