"""`referbot doctor` for Slack: the bot token (auth.test), the Socket Mode app token, and the alert
channel (conversations.info: it exists and the bot is a member, or alerts would fail)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import SlackSettings
from adapters.slack.reach import FAILURES, error_code, explain, slack_error
from referbot.doctor import Finding, Status
from referbot.settings import SettingsError

SUBJECT = "slack"
UNREACHABLE_FIX = "Check this server's internet access (firewall, proxy) and SLACK_API_URL if you set it."


async def check(settings: SlackSettings) -> list[Finding]:
    """Each token and the alert channel, stopping at a dead bot token (the channel's `check`)."""
    client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
    try:
        identity = await client.auth_test()
    except FAILURES as problem:
        return [_failed(problem, settings, "SLACK_BOT_TOKEN")]
    findings = [Finding(Status.OK, SUBJECT, f"token accepted: @{identity.get('user')} in {identity.get('team')}")]
    findings.append(await _receiving(settings))
    if settings.alert_channel:  # when unset, the channel's start-up warning says so
        findings.append(await _alert_channel(client, settings.alert_channel, settings))
    return findings


def _failed(problem: Exception, settings: SlackSettings, variable: str) -> Finding:
    reason = explain(problem, settings.api_url, variable)
    return Finding(Status.FAIL, SUBJECT, str(reason), None if isinstance(reason, SettingsError) else UNREACHABLE_FIX)


async def _receiving(settings: SlackSettings) -> Finding:
    """How Slack's events reach referbot: Socket Mode (the app token must open a connection) or HTTP
    (the settings refuse a bot token with neither)."""
    if settings.app_token:
        try:
            await AsyncWebClient(token=settings.app_token, base_url=settings.api_url).apps_connections_open()
        except FAILURES as problem:
            return _failed(problem, settings, "SLACK_APP_TOKEN")
        return Finding(Status.OK, SUBJECT, "Socket Mode: the app token opens a connection")
    return Finding(Status.OK, SUBJECT, "HTTP mode: Slack must reach https://YOUR-HOST/slack/events "
                   "(Slack's app settings show whether the Request URL is verified)")


async def _alert_channel(client: AsyncWebClient, channel: str, settings: SlackSettings) -> Finding:
    """SLACK_ALERT_CHANNEL exists and the bot is in it, or every alert would fail."""
    try:
        info = (await client.conversations_info(channel=channel))["channel"]
    except SlackApiError as problem:
        error = error_code(problem)
        if error == "channel_not_found":
            return Finding(Status.FAIL, SUBJECT, f"SLACK_ALERT_CHANNEL {channel} does not exist or the bot cannot see it",
                           "Use the channel's id (C…, not its name); for a private channel invite the bot first.")
        if error == "missing_scope":
            return Finding(Status.FAIL, SUBJECT, f"cannot look at the alert channel: {slack_error(problem)}",
                           "Add the scope on the app's OAuth & Permissions page (see slack-manifest.yaml), reinstall.")
        return _failed(problem, settings, "SLACK_BOT_TOKEN")
    except FAILURES as problem:
        return _failed(problem, settings, "SLACK_BOT_TOKEN")
    name = f"#{info.get('name', channel)}"
    if not info.get("is_member"):
        return Finding(Status.FAIL, SUBJECT, f"the bot is not a member of the alert channel {name}",
                       f"Type `/invite @referbot` in {name}, or alerts will fail with not_in_channel.")
    return Finding(Status.OK, SUBJECT, f"alert channel {name} exists and the bot is in it")
