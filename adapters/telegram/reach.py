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
        return RetryLater(f"Telegram asks to wait {problem.retry_after} s", _seconds(problem.retry_after))
    if isinstance(problem, NetworkError):  # includes TimedOut and Telegram's 5xx answers
        cause = problem.__cause__ or problem
        return RetryLater(f"cannot reach Telegram at {api_host(api_url)} ({_words(cause, token)})")
    return RetryLater(f"Telegram answered: {_words(problem, token)}")


def _seconds(retry_after: object) -> float:
    return float(getattr(retry_after, "total_seconds", lambda: retry_after)())


def _words(cause: BaseException, token: str) -> str:
    text = str(cause).strip() or type(cause).__name__
    return text.replace(token, "<token>") if token else text
