"""A nudge's note reaching a Slack referrer as a direct message from the app (slack-sdk, fake Slack API)."""

from __future__ import annotations

from adapters.slack import CHANNEL as SLACK
from referbot.domain import NudgeKind
from referbot.outbox import OutboxWorker
from referbot.runner import note_notifier
from referbot.sending import send_note
from tests.e2e.test_notes import due, intake
from tests.e2e.test_slack import Slack, api, slack  # noqa: F401 (fixtures)


async def test_a_note_reaches_a_slack_referrer_as_a_direct_message(slack: Slack, clock, profile) -> None:
    database = slack.runtime.database
    await intake(slack.runtime.service, "slack", "U0REFERRER")
    clock.advance(days=1)
    nudge = await due(database, profile, clock, NudgeKind.THANK_SOURCE)
    text = "Hi Ann, thank you! <!channel> stays plain text."
    await send_note(database, profile, nudge, available={"slack"}, by="slack:U012AB3CD", now=clock(), text=text)
    worker = OutboxWorker(database, [note_notifier([(SLACK, slack.channel)])], clock=clock)
    assert await worker.run_once() == 1
    [posted] = [a for a in slack.api.succeeded("chat.postMessage") if a["channel"] == "U0REFERRER"]
    assert posted["text"] == "Hi Ann, thank you! &lt;!channel&gt; stays plain text."
