"""Notes to referrers as a direct message from the app (they referred through Slack)."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import escape
from adapters.slack.notifier import retry_after
from referbot.ports import RetryLater


class SlackNoteSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send_note(self, to: str, subject: str, text: str) -> dict[str, Any]:
        try:
            response = await self.client.chat_postMessage(channel=to, text=escape(text), unfurl_links=False,
                                                          unfurl_media=False)
        except SlackApiError as error:
            if error.response.status_code == 429:
                raise RetryLater("Slack rate limit (429)", after=retry_after(error)) from error
            raise
        return {"channel": response["channel"], "ts": response["ts"]}
