"""`referbot doctor` for Telegram: the token (getMe) and the webhook as Telegram has it (getWebhookInfo)."""

from __future__ import annotations

from telegram import Bot, WebhookInfo
from telegram.error import TelegramError

from adapters.telegram import TelegramSettings
from adapters.telegram.reach import explain
from referbot.doctor import Finding, Status
from referbot.settings import SettingsError

SUBJECT = "telegram"


async def check(settings: TelegramSettings) -> list[Finding]:
    """Whether Telegram accepts the token and has the webhook as configured (the channel's `check`)."""
    token = settings.bot_token or ""
    try:
        async with Bot(token, base_url=settings.api_url) as bot:
            findings = [_identity(settings, bot.username)]
            findings.append(_webhook(settings, await bot.get_webhook_info()))
            return findings
    except TelegramError as problem:
        reason = explain(problem, settings.api_url, token)
        fix = None if isinstance(reason, SettingsError) else \
            "Check this server's internet access (firewall, proxy) and TELEGRAM_API_URL if you set it."
        return [Finding(Status.FAIL, SUBJECT, str(reason), fix)]


def _identity(settings: TelegramSettings, username: str) -> Finding:
    configured = (settings.bot_username or "").lstrip("@")
    if configured and configured.lower() != username.lower():
        return Finding(Status.WARN, SUBJECT, f"the token belongs to @{username}, but TELEGRAM_BOT_USERNAME is @{configured}",
                       "Correct TELEGRAM_BOT_USERNAME (it goes into the links printed by `referbot sources link`).")
    return Finding(Status.OK, SUBJECT, f"token accepted: @{username}")


def _webhook(settings: TelegramSettings, info: WebhookInfo) -> Finding:
    """Compare Telegram's webhook with TELEGRAM_WEBHOOK_URL, and pass on Telegram's last delivery error."""
    current, wanted, last_error = info.url or "", settings.webhook_url, info.last_error_message
    if not wanted:
        if current:
            return Finding(Status.WARN, SUBJECT, f"Telegram still has a webhook ({current}) but none is configured",
                           "`referbot run` removes it and polls; set TELEGRAM_WEBHOOK_URL if you meant webhook mode.")
        return Finding(Status.OK, SUBJECT, "polling (no webhook set, none configured)")
    if not wanted.startswith("https://"):
        return Finding(Status.FAIL, SUBJECT, f"TELEGRAM_WEBHOOK_URL {wanted} is not https",
                       "Telegram only delivers to https:// URLs; put referbot behind a TLS proxy.")
    if current != wanted:
        return Finding(Status.WARN, SUBJECT, f"Telegram's webhook is {current or 'not set'}, configured {wanted}",
                       "`referbot run` sets it at start; if it already runs, restart it.")
    if last_error:
        return Finding(Status.WARN, SUBJECT, f"webhook {wanted} is set, but Telegram's last delivery failed: {last_error}",
                       "Check that the URL reaches this server's /telegram/webhook (proxy, TLS certificate, port).")
    return Finding(Status.OK, SUBJECT, f"webhook set to {wanted}")
