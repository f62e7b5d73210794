"""Telling a wrong Slack token from an unreachable Slack, in words a therapist can act on.

A token Slack rejects is a configuration error (waiting will not fix it); a network error, a
timeout, a rate limit or a Slack 5xx is temporary and the caller retries.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from referbot.ports import RetryLater
from referbot.settings import SettingsError

#: Slack's answers meaning the token itself is wrong or revoked.
TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                "not_allowed_token_type"}


def api_host(api_url: str) -> str:
    return urlsplit(api_url).netloc or api_url


def error_code(problem: SlackApiError) -> str:
    """Slack's error code (`invalid_auth`), or the HTTP status when the answer was not Slack's JSON."""
    data = problem.response.data
    return str(data.get("error", "unknown_error")) if isinstance(data, dict) else f"HTTP {problem.response.status_code}"


def slack_error(problem: SlackApiError) -> str:
    """Slack's error code, with the scopes it says are missing."""
    data = problem.response.data
    needed = data.get("needed") if isinstance(data, dict) else None
    return f"{error_code(problem)} (needs the {needed} scope)" if needed else error_code(problem)


#: What a call to Slack can fail with: Slack's answer, or no answer at all.
FAILURES = (SlackApiError, SlackClientError, aiohttp.ClientError, OSError, asyncio.TimeoutError)


def explain(problem: Exception, api_url: str, variable: str = "SLACK_BOT_TOKEN") -> SettingsError | RetryLater:
    """SettingsError when Slack rejects `variable`'s token; RetryLater for anything that may pass.
    `problem` is one of FAILURES."""
    if isinstance(problem, SlackApiError):
        if error_code(problem) in TOKEN_ERRORS:
            return SettingsError(f"{variable} was rejected by Slack ({slack_error(problem)}): copy it again from "
                                 "your Slack app's settings (api.slack.com/apps) into .env.")
        after = problem.response.headers.get("Retry-After") if problem.response.status_code == 429 else None
        return RetryLater(f"Slack answered {problem.response.status_code} {slack_error(problem)}",
                          float(after) if after else None)
    return RetryLater(f"cannot reach Slack at {api_host(api_url)} ({str(problem).strip() or type(problem).__name__})")


class OneLineRetries(logging.Filter):
    """The Socket Mode client retries a failed connection every few seconds by itself, logging a full
    traceback each time; this keeps each attempt to the one line saying what failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Failed to connect"):
            reason = record.exc_info[1]
            record.msg, record.args = "slack: cannot reach Slack Socket Mode (%s); retrying", (reason,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def socket_mode_logger() -> logging.Logger:
    """The logger the Socket Mode client gets: referbot's own, with each retry on one line."""
    logger = logging.getLogger("adapters.slack.socket_mode")
    if not any(isinstance(f, OneLineRetries) for f in logger.filters):
        logger.addFilter(OneLineRetries())
    return logger
