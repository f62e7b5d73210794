"""Alerts are posted once even when Slack's answer is lost or late, and a worker that fails gives
its claims back at once instead of making a crisis alert wait out the lease."""

from __future__ import annotations

import pytest

from tests.e2e.test_slack import ALERTS, Slack, api, console_referral, outbox_row, slack  # noqa: F401 (fixtures)


def _alerts(slack: Slack) -> list[dict]:  # noqa: F811
    return [c.args for c in slack.api.attempts("chat.postMessage") if c.args["channel"] == ALERTS]


async def test_slack_posts_then_answers_500_and_the_retry_does_not_post_again(slack: Slack, clock) -> None:  # noqa: F811
    referral_id = await console_referral(slack.runtime.service)
    slack.api.lose_next_response(status=500)
    worker = slack.worker()
    assert await worker.run_once() == 1
    assert (await outbox_row(slack.runtime.database, referral_id)).sent_at is None  # it cannot know
    clock.advance(seconds=5)
    assert await worker.run_once() == 1
    row = await outbox_row(slack.runtime.database, referral_id)
    assert row.sent_at is not None and row.delivered_to["slack"]["found_after_retry"]
    assert len(_alerts(slack)) == 1 and len(slack.api.messages) == 1


async def test_slack_answering_after_the_client_timeout_posts_once(slack: Slack, clock) -> None:  # noqa: F811
    referral_id = await console_referral(slack.runtime.service)
    slack.channel.client.timeout = 1  # seconds; Slack's real client waits 30
    slack.api.lose_next_response(status=200, delay=2)
    worker = slack.worker()
    assert await worker.run_once() == 1
    clock.advance(seconds=5)
    assert await worker.run_once() == 1
    assert (await outbox_row(slack.runtime.database, referral_id)).sent_at is not None
    assert len(_alerts(slack)) == 1 and len(slack.api.messages) == 1


async def test_a_failed_round_releases_its_claims_at_once(slack: Slack, clock, monkeypatch) -> None:  # noqa: F811
    referral_id = await console_referral(slack.runtime.service)
    worker = slack.worker()
    outage = RuntimeError("database went away")

    async def unreachable(*_args: object) -> None:
        raise outage

    with monkeypatch.context() as patch:
        patch.setattr(worker, "_mark_sent", unreachable)
        with pytest.raises(RuntimeError):
            await worker.run_once()  # posted, then could not record it
    row = await outbox_row(slack.runtime.database, referral_id)
    assert row.sent_at is None and row.claimed_until is not None
    assert await worker.run_once() == 1  # same moment: no 2-minute lease to wait out
    row = await outbox_row(slack.runtime.database, referral_id)
    assert row.sent_at is not None and len(_alerts(slack)) == 1
