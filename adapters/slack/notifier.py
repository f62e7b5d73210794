"""The Slack notifier: delivers outbox rows (referral and crisis alerts, nudges) to SLACK_ALERT_CHANNEL.

Nothing here retries. A 429 becomes `RetryLater` with Slack's own Retry-After; any other failure
propagates and the outbox worker backs off. The row is marked sent only after `deliver` returns,
with the channel and message ts it returns.

Posted once: every message carries its outbox key as Slack message metadata, and a retry first
looks for that key in the channel's recent history. A post that Slack made but whose answer was
lost (a 500 after success, an answer after the client's timeout) is found and not made again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.alerts import alert_message
from adapters.slack.blocks import Block
from adapters.slack.nudges import nudge_message
from referbot.desk import Desk
from referbot.domain import OutboxKind
from referbot.ports import Envelope, RetryLater

log = logging.getLogger(__name__)

#: The Slack message metadata type that marks a post as the delivery of one outbox row.
METADATA_EVENT = "referbot_outbox"
#: How many recent messages a retry searches for its earlier post.
HISTORY_LOOKBACK = 200


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
        if envelope.attempts > 0:
            earlier = await self._already_posted(envelope.key)
            if earlier is not None:
                return {"channel": self.channel_id, "ts": earlier, "found_after_retry": True}
        message = await self._message(envelope)
        if message is None:
            return {"skipped": f"referral #{envelope.payload['referral_id']} no longer exists"}
        text, blocks = message
        try:
            response = await self.client.chat_postMessage(
                channel=self.channel_id, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_key": envelope.key}})
        except SlackApiError as error:
            if error.response.status_code == 429:
                raise RetryLater("Slack rate limit (429)", after=retry_after(error)) from error
            raise
        return {"channel": response["channel"], "ts": response["ts"]}

    async def _already_posted(self, key: str) -> str | None:
        """The ts of a recent message in the alert channel that carries `key`, if one does. A failed
        look-up (e.g. no channels:history scope) is logged and the post goes ahead: a rare duplicate
        beats a lost alert."""
        try:
            history = await self.client.conversations_history(channel=self.channel_id, limit=HISTORY_LOOKBACK,
                                                              include_all_metadata=True)
        except SlackApiError as error:
            if error.response.status_code == 429:
                raise RetryLater("Slack rate limit (429)", after=retry_after(error)) from error
            log.warning("slack: cannot check for an earlier post (HTTP %s); posting again", error.response.status_code)
            return None
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and \
                    (metadata.get("event_payload") or {}).get("outbox_key") == key:
                return message.get("ts")
        return None

    async def _message(self, envelope: Envelope) -> tuple[str, list[Block]] | None:
        """What to post; None when the referral was purged before it could be announced."""
        if envelope.kind is OutboxKind.NUDGE:
            return nudge_message(envelope.payload)
        card = await self.desk.card(int(envelope.payload["referral_id"]))
        return alert_message(card, self.desk.profile) if card is not None else None
