"""The Slack channel end to end: slack-bolt over real HTTP on 127.0.0.1, requests signed as Slack
signs them, a fake Web API, and the database on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, AsyncIterator

import aiohttp
import pytest
from sqlalchemy import select

from adapters.slack import CHANNEL as SLACK
from adapters.slack import SlackSettings
from adapters.slack.channel import SlackChannel
from referbot.admission import Admission
from referbot.app import Runtime
from referbot.channels import Configured
from referbot.http import HttpServer, health_app
from referbot.runner import build_channels
from referbot.domain import Inbound, OutboxKind, ReferralStatus
from referbot.engine import load_flow
from referbot.nudger import due_nudges, enqueue_due
from referbot.outbox import OutboxWorker
from referbot.service import HOLDING_REPLY, IntakeService
from referbot.settings import Settings, SettingsError, load_settings
from referbot.store import UnitOfWork
from referbot.store.models import Conversation, OutboxMessage
from tests.e2e.fake_slack import FakeSlack, SlackSender, all_text, button, buttons
from tests.fakes import KeywordAssessor

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALERTS = "C0ALERTS"
STAFF, OTHER_STAFF, OUTSIDER = "U012AB3CD", "U045EF6GH", "U0OUTSIDE"
ANSWERS = ["Dr. Ann Lee", "physician", "Lakeview Family Medicine", "ann.lee@lakeview.example", "Jane Quinn Doe",
           "34", "panic attacks and not sleeping", "no", "skip", "individual", "either", "skip", "routine",
           "private pay", "yes", "(312) 555-0100", "yes", "evenings only", "send"]
HOSTILE = ("<!channel>", "<@U123>", "<https://evil.example|click here>")
#: Outbox delivery and the DM intake run on both backends; the rest is storage-neutral translation.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def slack_settings(url: str, **overrides: Any) -> SlackSettings:
    values = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": None,
              "SLACK_API_URL": url, "SLACK_ALERT_CHANNEL": ALERTS, **overrides}
    return SlackSettings(_env_file=None, **{name.removeprefix("SLACK_").lower(): v for name, v in values.items()})


def runtime_for(database, profile, service) -> Runtime:
    return Runtime(Settings(_env_file=None), profile, database, service)


@dataclass
class Slack:
    """One running app: the channel mounted on the shared HTTP server, a sender, the fake API."""

    runtime: Runtime
    channel: SlackChannel
    send: SlackSender
    api: FakeSlack
    base: str
    session: aiohttp.ClientSession

    def worker(self, channel: SlackChannel | None = None) -> OutboxWorker:
        return OutboxWorker(self.runtime.database, (channel or self.channel).notifiers(),
                            clock=self.runtime.service.clock)

    def alert(self) -> dict[str, Any]:
        """The last message posted to the alert channel, as it stands now (after any updates)."""
        posted = [args for args in self.api.succeeded("chat.postMessage") if args["channel"] == ALERTS]
        assert posted, "no alert was posted"
        ts = [ts for (channel, ts) in self.api.messages if channel == ALERTS][-1]
        return self.api.messages[(ALERTS, ts)]

    def dm_messages(self, user: str) -> list[dict[str, Any]]:
        return [message for (channel, _), message in self.api.messages.items() if channel == f"D{user}"]


@pytest.fixture
async def api() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def slack(database, profile, clock, api: FakeSlack) -> AsyncIterator[Slack]:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    runtime = runtime_for(database, profile, service)
    channel = SLACK.build(runtime, slack_settings(api.url))
    web_app = health_app(database)
    assert channel.mount(web_app)
    server = HttpServer(web_app, "127.0.0.1", 0)
    await server.start()
    await channel.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with aiohttp.ClientSession() as session:
            yield Slack(runtime, channel, SlackSender(f"{base}/slack/events", SECRET, session), api, base, session)
    finally:
        await channel.stop()
        await server.stop()


async def console_referral(service: IntakeService, user: str = "ann", answers: list[str] = ANSWERS) -> int:
    """A whole intake on another channel (the console), as `referbot chat` would run it."""
    await service.handle(Inbound("console", user))
    outcome = None
    for text in answers:
        outcome = await service.handle(Inbound("console", user, text=text))
    assert outcome is not None and outcome.referral_id is not None
    return outcome.referral_id


async def outbox_row(database, referral_id: int) -> OutboxMessage:
    async with UnitOfWork(database) as uow:
        rows = (await uow.session.execute(select(OutboxMessage))).scalars().all()
    return next(r for r in rows if r.payload == {"referral_id": referral_id})


# --- the shared server, signatures, settings ----------------------------------------------------


@sqlite_only
async def test_health_and_a_badly_signed_request_is_refused(slack: Slack) -> None:
    async with slack.session.get(f"{slack.base}/healthz") as response:
        assert response.status == 200
    status, _ = await slack.send.event({"type": "message", "channel_type": "im", "channel": "DX", "user": "U9",
                                        "text": "hi"}, secret="not-the-secret")
    assert status == 401
    assert slack.api.attempts("chat.postMessage") == []


@sqlite_only
async def test_socket_mode_is_chosen_by_the_app_token_and_mounts_nothing(database, profile, clock) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    settings = slack_settings("http://127.0.0.1:9/api/", SLACK_APP_TOKEN="xapp-1-A0-1-abc", SLACK_SIGNING_SECRET=None)
    channel = SLACK.build(runtime_for(database, profile, service), settings)
    assert channel.socket_mode
    web_app = health_app(database)
    assert channel.mount(web_app) is False
    assert "/slack/events" not in {r.resource.canonical for r in web_app.router.routes()}


@sqlite_only
async def test_configuration_decides_whether_and_how_slack_runs(database, profile, clock, monkeypatch) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    runtime = runtime_for(database, profile, service)
    url = "http://127.0.0.1:9/api/"
    without = Configured(SLACK, slack_settings(url, SLACK_BOT_TOKEN=None))
    assert not without.enabled and build_channels(runtime, [without]) == []
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        load_settings(SlackSettings)
    assert SLACK.build(runtime, slack_settings(url, SLACK_ALERT_CHANNEL=None)).notifiers() == []
    assert SLACK.warnings(profile, slack_settings(url, SLACK_ALERT_CHANNEL=None))
    http = Configured(SLACK, slack_settings(url))
    assert [c.name for c in build_channels(runtime, [http])] == ["slack"]


# --- alerts through the outbox --------------------------------------------------------------------


async def test_referral_from_another_channel_is_alerted_without_client_contact(slack: Slack) -> None:
    referral_id = await console_referral(slack.runtime.service)
    assert await slack.worker().run_once() == 1
    posted = slack.api.succeeded("chat.postMessage")
    assert len(posted) == 1 and posted[0]["channel"] == ALERTS
    text = all_text(posted[0]["blocks"])
    for expected in (f"#{referral_id}", "Dr. Ann Lee (physician)", "J. Q. D., 30s", "anxiety", "Good fit",
                     "specialises in anxiety", "routine", "console"):
        assert expected in text
    for private in ("(312) 555-0100", "Jane", "Doe", "panic attacks", "evenings only"):
        assert private not in text
    labels = [b["text"]["text"] for b in buttons(posted[0])]
    assert labels == ["Contacted", "Consult booked", "Became client", "Not a fit / referred out", "Details"]
    assert {b["value"] for b in buttons(posted[0])} == {str(referral_id)}
    row = await outbox_row(slack.runtime.database, referral_id)
    assert row.sent_at is not None
    assert row.delivered_to == {"slack": {"channel": ALERTS, "ts": slack.alert()["ts"]}}


async def test_alert_survives_500_then_429_and_is_posted_once(slack: Slack, clock) -> None:
    referral_id = await console_referral(slack.runtime.service)
    slack.api.fail_next(1, status=500)
    slack.api.fail_next(1, status=429, retry_after=30)
    worker = slack.worker()
    assert await worker.run_once() == 1  # 500: backs off 5 s
    clock.advance(seconds=5)
    assert await worker.run_once() == 1  # the retry first looks for an earlier post: 429, Slack asks for 30 s
    row = await outbox_row(slack.runtime.database, referral_id)
    assert row.sent_at is None and "429" in row.last_error
    clock.advance(seconds=29)
    assert await worker.run_once() == 0  # Retry-After honoured
    clock.advance(seconds=1)
    assert await worker.run_once() == 1
    assert [c.status for c in slack.api.attempts("chat.postMessage")] == [500, 200]
    assert [c.status for c in slack.api.attempts("conversations.history")] == [429, 200]
    row = await outbox_row(slack.runtime.database, referral_id)
    assert row.sent_at is not None and row.attempts == 3 and row.delivered_to["slack"]["channel"] == ALERTS
    clock.advance(hours=1)
    assert await worker.run_once() == 0
    assert len(slack.api.succeeded("chat.postMessage")) == 1


async def test_restart_delivers_each_undelivered_alert_exactly_once(slack: Slack, clock) -> None:
    service, database = slack.runtime.service, slack.runtime.database
    failed = await console_referral(service, "ann")
    slack.api.fail_next(1, status=503)
    assert await slack.worker().run_once() == 1  # Slack was down: rescheduled
    abandoned = await console_referral(service, "bob")
    async with UnitOfWork(database) as uow:  # a worker claims it and dies before sending
        assert len(await uow.outbox.claim("dead-worker", clock(), slack.worker().lease, kinds=["referral_alert"])) == 1
        await uow.commit()

    restarted = SLACK.build(slack.runtime, slack_settings(slack.api.url))  # a new process: new channel, new worker, same database
    clock.advance(minutes=3)
    worker = slack.worker(restarted)
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0
    posted = slack.api.succeeded("chat.postMessage")
    assert sorted(int(b["value"]) for p in posted for b in buttons(p) if b["action_id"] == "details") \
        == sorted([failed, abandoned])
    for referral_id in (failed, abandoned):
        assert (await outbox_row(database, referral_id)).sent_at is not None


async def test_crisis_is_alerted_at_once_loudly_with_the_referrers_contact(slack: Slack) -> None:
    service = slack.runtime.service
    woken: list[bool] = []
    service.on_alert = lambda: woken.append(True)
    await service.handle(Inbound("console", "cat"))
    for text in ["Dr. Cat Ng", "therapist", "Riverside Counselling", "cat@riverside.example", "M.", "19"]:
        await service.handle(Inbound("console", "cat", text=text))
    outcome = await service.handle(Inbound("console", "cat", text="says he wants to end it all"))
    assert woken == [True] and outcome.referral_id is not None
    assert await slack.worker().run_once() == 1
    alert = slack.alert()
    text = all_text(alert["blocks"])
    assert alert["blocks"][0]["type"] == "header" and "URGENT" in alert["blocks"][0]["text"]["text"]
    assert f"<@{STAFF}> <@{OTHER_STAFF}>" in text
    assert "Dr. Cat Ng" in text and "cat@riverside.example" in text and "Crisis" in text
    row = await outbox_row(slack.runtime.database, outcome.referral_id)
    assert row.kind == OutboxKind.CRISIS_ALERT.value and row.sent_at is not None


@sqlite_only
async def test_hostile_text_pings_nobody_and_links_nowhere(slack: Slack) -> None:
    hostile = " ".join(HOSTILE)
    answers = [f"Dr. {hostile}", "physician", hostile, "ann.lee@lakeview.example", hostile, "34",
               f"panic {hostile}", *ANSWERS[7:]]
    await console_referral(slack.runtime.service, "eve", answers)
    await slack.worker().run_once()
    text = all_text(slack.alert()["blocks"])
    for markup in HOSTILE:
        assert markup not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text
    assert "<" not in text.replace(f"<@{STAFF}>", "").replace(f"<@{OTHER_STAFF}>", "")


# --- the alert's buttons --------------------------------------------------------------------------


async def posted_alert(slack: Slack) -> tuple[int, dict[str, Any]]:
    referral_id = await console_referral(slack.runtime.service)
    await slack.worker().run_once()
    return referral_id, slack.alert()


async def referral_status(slack: Slack, referral_id: int) -> tuple[str, list[tuple[str, str]]]:
    async with UnitOfWork(slack.runtime.database) as uow:
        referral = await uow.referrals.get(referral_id)
        return referral.status, [(e.status, e.by) for e in referral.events]


@sqlite_only
@pytest.mark.parametrize("action, status, shown", [
    ("status:contacted", ReferralStatus.CONTACTED, "Contacted"),
    ("status:consult_booked", ReferralStatus.CONSULT_BOOKED, "Consult booked"),
    ("status:became_client", ReferralStatus.BECAME_CLIENT, "Became client"),
    ("status:referred_out", ReferralStatus.REFERRED_OUT, "Referred out"),
])
async def test_status_button_records_who_and_edits_the_alert_in_place(slack: Slack, clock, action: str,
                                                                     status: ReferralStatus, shown: str) -> None:
    referral_id, alert = await posted_alert(slack)
    clock.advance(hours=2)
    response, _ = await slack.send.press(STAFF, ALERTS, alert, button(alert, action_id=action))
    assert response == 200
    assert await referral_status(slack, referral_id) == (status.value, [("new", "console:ann"),
                                                                        (status.value, f"slack:{STAFF}")])
    updates = slack.api.succeeded("chat.update")
    assert [(u["channel"], u["ts"]) for u in updates] == [(ALERTS, alert["ts"])]
    text = all_text(slack.alert()["blocks"])
    assert f"*{shown}* — by <@{STAFF}>, Mon 02 Mar 11:00 CST" in text  # 17:00 UTC in the practice's zone
    assert button(slack.alert(), action_id=action).get("style") == "primary"
    assert len(slack.api.succeeded("chat.postMessage")) == 1


@sqlite_only
async def test_details_are_shown_to_staff_only_and_only_to_them(slack: Slack) -> None:
    referral_id, alert = await posted_alert(slack)
    await slack.send.press(STAFF, ALERTS, alert, button(alert, action_id="details"))
    [ephemeral] = slack.api.succeeded("chat.postEphemeral")
    assert ephemeral["user"] == STAFF and ephemeral["channel"] == ALERTS
    details = all_text(ephemeral["blocks"])
    for private in (f"Referral #{referral_id}", "(312) 555-0100", "Jane Quinn Doe", "panic attacks and not sleeping",
                    "evenings only"):
        assert private in details
    assert len(slack.api.succeeded("chat.postMessage")) == 1  # nothing new in the channel
    gone = {**button(alert, action_id="status:contacted"), "value": "999"}
    await slack.send.press(STAFF, ALERTS, alert, gone)
    assert slack.api.succeeded("chat.postEphemeral")[-1]["text"] == "No referral #999."
    assert slack.api.succeeded("chat.update") == []


@sqlite_only
async def test_non_staff_buttons_are_refused_and_change_nothing(slack: Slack) -> None:
    referral_id, alert = await posted_alert(slack)
    await slack.send.press(OUTSIDER, ALERTS, alert, button(alert, action_id="status:contacted"))
    await slack.send.press(OUTSIDER, ALERTS, alert, button(alert, action_id="details"))
    refusals = slack.api.succeeded("chat.postEphemeral")
    assert [(r["user"], "not permitted" in r["text"]) for r in refusals] == [(OUTSIDER, True), (OUTSIDER, True)]
    assert all("555-0100" not in all_text(r) for r in refusals)
    assert (await referral_status(slack, referral_id))[0] == "new"
    assert slack.api.succeeded("chat.update") == []


# --- /referbot ------------------------------------------------------------------------------------


@sqlite_only
async def test_slash_command_answers_staff_and_refuses_others(slack: Slack) -> None:
    referral_id = await console_referral(slack.runtime.service)
    status, body = await slack.send.command(STAFF, "help")
    assert status == 200 and "/referbot stats [30d|90d|365d|all]" in body
    _, body = await slack.send.command(STAFF, "sources")
    assert "Dr. Ann Lee (physician, Lakeview Family Medicine)" in body
    _, body = await slack.send.command(STAFF, f"referral {referral_id}")
    assert "(312) 555-0100" in body and "Jane Quinn Doe" in body
    _, body = await slack.send.command(STAFF, "referral 999")
    assert body == "No referral #999."
    status, body = await slack.send.command(OUTSIDER, f"referral {referral_id}")
    assert status == 200 and "not permitted" in body and "555-0100" not in body
    _, body = await slack.send.command(STAFF, "chart 6")
    assert "direct message" in body
    [upload] = slack.api.succeeded("files.completeUploadExternal")
    assert upload["channel_id"] == f"D{STAFF}" and "last 6 months" in str(upload["files"])
    [png] = slack.api.uploads.values()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    _, body = await slack.send.command(OUTSIDER, "chart")
    assert "not permitted" in body and len(slack.api.uploads) == 1


# --- intake in a DM -------------------------------------------------------------------------------

#: ("say", text) types a message, ("press", value) presses the button with that choice id.
DM_SCRIPT = [("say", "hello"), ("say", "Dr. Ann Lee"), ("press", "physician"), ("say", "Lakeview & Co"),
             ("say", "<mailto:ann@lakeview.example|ann@lakeview.example>"), ("say", "J."), ("say", "34"),
             ("say", "panic attacks"), ("press", "none_known"), ("press", "__skip"), ("press", "individual"), ("press", "either"),
             ("say", "skip"), ("press", "routine"), ("press", "private_pay"), ("press", "yes"),
             ("say", "(312) 555-0100"), ("press", "no"), ("say", "back"), ("press", "yes"), ("say", "skip"),
             ("press", "submit")]


async def run_dm(slack: Slack, user: str, script: list[tuple[str, str]]) -> None:
    for kind, value in script:
        if kind == "say":
            status, _ = await slack.send.dm(user, value)
        else:
            question = slack.dm_messages(user)[-1]
            status, _ = await slack.send.press(user, f"D{user}", question, button(question, value=value))
        assert status == 200


async def test_a_referrer_does_the_whole_intake_in_a_dm_withbuttons(slack: Slack) -> None:
    await run_dm(slack, OUTSIDER, DM_SCRIPT)
    last = slack.dm_messages(OUTSIDER)[-1]
    assert "good fit" in last["text"]
    async with UnitOfWork(slack.runtime.database) as uow:
        [referral] = await uow.referrals.list()
        assert (referral.channel, referral.referrer_user_id) == ("slack", OUTSIDER)
        assert referral.client_age == 34 and referral.urgency == "routine" and referral.consent_to_update
        assert referral.source.contact == "ann@lakeview.example"
        assert referral.source.organisation == "Lakeview & Co"
    pressed = [m for m in slack.dm_messages(OUTSIDER) if any(b["type"] == "context" for b in m["blocks"])]
    assert pressed and all(not any(b["type"] == "actions" for b in m["blocks"]) for m in pressed)
    assert "➜ Physician or medical provider" in all_text(pressed[0]["blocks"])
    await slack.worker().run_once()
    assert "Came via*\nslack" in all_text(slack.alert()["blocks"])


@sqlite_only
async def test_a_dm_answer_is_escaped_when_echoed_back_and_in_the_alert(slack: Slack) -> None:
    typed = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click here&gt;"  # as Slack delivers it
    script = [step if step != ("say", "J.") else ("say", typed) for step in DM_SCRIPT]
    await run_dm(slack, OUTSIDER, script)
    async with UnitOfWork(slack.runtime.database) as uow:
        [referral] = await uow.referrals.list()
    assert referral.client_name == " ".join(HOSTILE)
    echoed = all_text([m["blocks"] for m in slack.dm_messages(OUTSIDER)]) + \
        "".join(m["text"] for m in slack.dm_messages(OUTSIDER))
    assert typed in echoed
    await slack.worker().run_once()
    alerted = all_text(slack.alert()["blocks"])
    for markup in HOSTILE:
        assert markup not in echoed and markup not in alerted


@sqlite_only
async def test_a_dm_queued_behind_a_burst_says_one_moment_then_answers(slack: Slack) -> None:
    """Every slot busy longer than the patience: Slack gets its 200 and the referrer the holding
    reply at once, then the real question once the turn has run."""
    await slack.send.dm(OUTSIDER, "hello")
    slack.runtime.service.admission = admission = Admission(limit=1, patience=0.05)
    busy = asyncio.Event()
    burst = asyncio.ensure_future(admission.run("someone else", busy.wait))
    status, _ = await slack.send.dm(OUTSIDER, "Dr. Ann Lee")
    assert status == 200 and slack.dm_messages(OUTSIDER)[-1]["text"] == HOLDING_REPLY
    busy.set()
    await burst
    await admission.drain()
    question = slack.dm_messages(OUTSIDER)[-1]
    assert "describes you" in question["text"] and button(question, value="physician")
    async with UnitOfWork(slack.runtime.database) as uow:
        conversation = (await uow.session.execute(select(Conversation))).scalar_one()
    assert conversation.answers["referrer_name"] == "Dr. Ann Lee"


@sqlite_only
async def test_a_retried_event_has_one_effect(slack: Slack) -> None:
    await slack.send.dm(OUTSIDER, "hi", event_id="Ev0001")
    await slack.send.dm(OUTSIDER, "Dr. Ann Lee", event_id="Ev0002")
    sent = len(slack.api.succeeded("chat.postMessage"))
    status, _ = await slack.send.dm(OUTSIDER, "Dr. Ann Lee", event_id="Ev0002", retry_num=1)
    assert status == 200 and len(slack.api.succeeded("chat.postMessage")) == sent
    async with UnitOfWork(slack.runtime.database) as uow:
        conversation = (await uow.session.execute(select(Conversation))).scalar_one()
    assert conversation.step == "referrer_role"


@sqlite_only
async def test_a_retry_whose_first_delivery_was_lost_is_processed(slack: Slack) -> None:
    status, _ = await slack.send.dm(OUTSIDER, "hi", event_id="Ev0042", retry_num=1)
    assert status == 200
    assert "what's your name" in slack.dm_messages(OUTSIDER)[-1]["text"]


@sqlite_only
async def test_a_button_pressed_twice_counts_once(slack: Slack) -> None:
    await run_dm(slack, OUTSIDER, DM_SCRIPT[:2])
    question = slack.dm_messages(OUTSIDER)[-1]
    choice = button(question, value="physician")
    await slack.send.press(OUTSIDER, f"D{OUTSIDER}", question, choice, action_ts="1700000123.000001")
    count = len(slack.dm_messages(OUTSIDER))
    await slack.send.press(OUTSIDER, f"D{OUTSIDER}", question, choice, action_ts="1700000123.000001")
    assert len(slack.dm_messages(OUTSIDER)) == count


# --- App Home -------------------------------------------------------------------------------------


@sqlite_only
async def test_app_home_shows_staff_the_open_work_and_others_what_the_bot_is(slack: Slack, clock) -> None:
    waiting = await console_referral(slack.runtime.service, "ann")
    contacted = await console_referral(slack.runtime.service, "bob")
    _, alert = await posted_alert(slack)
    await slack.send.press(STAFF, ALERTS, alert, button(alert, action_id="status:contacted"))
    for user in (STAFF, OUTSIDER):
        await slack.send.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"})
    staff_view, outsider_view = slack.api.succeeded("views.publish")
    assert staff_view["user_id"] == STAFF
    staff_text = all_text(staff_view["view"]["blocks"])
    waiting_part, open_part = staff_text.split("*Open*")
    assert f"*#{waiting}*" in waiting_part and f"*#{contacted}*" in waiting_part
    assert "contacted" in open_part and "*#" in open_part
    assert "Due nudges" in staff_text
    assert "referral assistant" in all_text(outsider_view["view"]["blocks"])
    assert "#" not in all_text(outsider_view["view"]["blocks"])


# --- nudges and stats -----------------------------------------------------------------------------


async def posted_nudges(slack: Slack, clock) -> list[dict[str, Any]]:
    """A referral on Monday, then Thursday morning's nudges delivered to the alert channel."""
    await console_referral(slack.runtime.service)
    clock.advance(days=3)  # Thursday 09:00 in Chicago: thank the referrer, first contact is due
    assert await enqueue_due(slack.runtime.database, slack.runtime.profile, clock()) >= 2
    await slack.worker().run_once()
    return [m for (channel, _), m in slack.api.messages.items()
            if channel == ALERTS and any(b["action_id"] == "nudge:done:0" for b in buttons(m))]


async def test_nudges_are_posted_with_buttons_that_act_and_edit_in_place(slack: Slack, clock) -> None:
    nudges = await posted_nudges(slack, clock)
    thank = next(m for m in nudges if "Thank the referrer: Dr. Ann Lee" in all_text(m["blocks"]))
    contact = next(m for m in nudges if m is not thank)
    assert [b["text"]["text"] for b in buttons(thank)] == ["Done", "Snooze 1 day", "Snooze 1 week", "Skip"]
    assert "Draft:" in all_text(thank["blocks"])

    await slack.send.press(OUTSIDER, ALERTS, thank, button(thank, action_id="nudge:done:0"))
    assert [r["user"] for r in slack.api.succeeded("chat.postEphemeral")] == [OUTSIDER]
    assert slack.api.succeeded("chat.update") == []

    await slack.send.press(STAFF, ALERTS, thank, button(thank, action_id="nudge:done:0"))
    await slack.send.press(STAFF, ALERTS, contact, button(contact, action_id="nudge:snooze:7"))
    thank_now, contact_now = slack.api.messages[(ALERTS, thank["ts"])], slack.api.messages[(ALERTS, contact["ts"])]
    assert buttons(thank_now) == [] and f"✅ Done by <@{STAFF}>" in all_text(thank_now["blocks"])
    assert "💤 Snoozed until Thu 12 Mar 10:00 CDT" in all_text(contact_now["blocks"])  # 15:00 UTC after DST
    async with UnitOfWork(slack.runtime.database) as uow:
        touches = await uow.touchpoints.for_source(1)
    assert [(t.kind, t.by) for t in touches][0] == ("thanked", f"slack:{STAFF}")
    assert await due_nudges(slack.runtime.database, slack.runtime.profile, clock()) == []


async def test_staff_see_nudges_and_stats_by_command_and_act_on_the_app_home(slack: Slack, clock) -> None:
    await posted_nudges(slack, clock)
    _, body = await slack.send.command(STAFF, "nudges")
    assert "2 nudges due" in body and "Thank the referrer — Dr. Ann Lee" in body
    _, body = await slack.send.command(STAFF, "stats 90d")
    assert "Referrals in" in body and ": 1" in body
    _, body = await slack.send.command(STAFF, "stats 7y")
    assert body.startswith("Usage: `/referbot stats [")
    _, body = await slack.send.command(OUTSIDER, "nudges")
    assert "not permitted" in body and "Dr. Ann Lee" not in body

    await slack.send.event({"type": "app_home_opened", "user": STAFF, "channel": f"D{STAFF}", "tab": "home"})
    home = slack.api.succeeded("views.publish")[-1]["view"]
    skip = next(b for b in buttons(home) if b["action_id"] == "nudge:skip:0")
    await slack.send.press_on_home(STAFF, home, skip)
    republished = slack.api.succeeded("views.publish")[-1]
    assert republished["user_id"] == STAFF
    assert len([b for b in buttons(republished["view"]) if b["action_id"] == "nudge:skip:0"]) == 1
