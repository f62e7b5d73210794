"""The Slack notifier: delivers outbox rows (referral and crisis alerts, nudges) to SLACK_ALERT_CHANNEL.

Nothing here retries. A 429 becomes `RetryLater` with Slack's own Retry-After; any other failure
propagates and the outbox worker backs off. The row is marked sent only after `deliver` returns,
with the channel and message ts it returns.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.alerts import alert_message
from adapters.slack.blocks import Block
from adapters.slack.nudges import nudge_message
from referbot.desk import Desk
from referbot.domain import OutboxKind
from referbot.ports import Envelope, RetryLater


def retry_after(error: SlackApiError) -> float | None:
    """Slack's Retry-After header in seconds, if it sent one."""
    headers = {str(k).lower(): v for k, v in (error.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class SlackNotifier:
    name = "slack"
    KINDS = frozenset({OutboxKind.REFERRAL_ALERT, OutboxKind.CRISIS_ALERT, OutboxKind.NUDGE})

    def __init__(self, client: AsyncWebClient, desk: Desk, channel_id: str) -> None:
        self.client = client
        self.desk = desk
        self.channel_id = channel_id

    def accepts(self, kind: OutboxKind) -> bool:
        return kind in self.KINDS

    async def deliver(self, envelope: Envelope) -> dict[str, Any]:
        message = await self._message(envelope)
        if message is None:
            return {"skipped": f"referral #{envelope.payload['referral_id']} no longer exists"}
        text, blocks = message
        try:
            response = await self.client.chat_postMessage(channel=self.channel_id, text=text, blocks=blocks,
                                                          unfurl_links=False, unfurl_media=False)
        except SlackApiError as error:
            if error.response.status_code == 429:
                raise RetryLater("Slack rate limit (429)", after=retry_after(error)) from error
            raise
        return {"channel": response["channel"], "ts": response["ts"]}

    async def _message(self, envelope: Envelope) -> tuple[str, list[Block]] | None:
        """What to post; None when the referral was purged before it could be announced."""
        if envelope.kind is OutboxKind.NUDGE:
            return nudge_message(envelope.payload)
        card = await self.desk.card(int(envelope.payload["referral_id"]))
        return alert_message(card, self.desk.profile) if card is not None else None
