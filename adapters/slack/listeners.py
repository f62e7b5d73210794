"""Slack events, button presses and `/referbot`, translated for the core (and nothing more).

Bolt routes: matchers pick a referrer's own DM, action-id patterns pick the button, and a
staff-only middleware guards the alert, details and nudge buttons and `/referbot`. A DM becomes an
`Inbound` for the intake service; a choice button becomes an `Inbound(choice=…)`; staff actions
go to the desk (`referbot.desk`). Delivery ids go to the service, which records them in the same
transaction as the turn's effects, so a retried event is handled once and a retry of a lost
delivery still counts.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.alerts import DETAILS_ACTION, STATUS_ACTION_PREFIX, alert_message
from adapters.slack.blocks import CHOICE_ACTION_PREFIX, context, escape, fallback, reply_blocks, sections
from adapters.slack.nudges import NUDGE_ACTION_PREFIX, acted_on, outcome_line, parse_nudge_action
from adapters.slack.staff import NOT_PERMITTED, command_answer, home_view, referral_details
from referbot.desk import Desk
from referbot.domain import Command, Inbound, ReferralStatus
from referbot.errors import BadRequest, NotFound
from referbot.profile import Profile
from referbot.service import IntakeService, Outcome

log = logging.getLogger(__name__)

CHANNEL = "slack"
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _link_text(match: re.Match[str]) -> str:
    target, text = match.group(1), match.group(2)
    if text:
        return text
    if target.startswith("!"):
        return "@" + target[1:].split("^")[0]
    return target.removeprefix("mailto:").removeprefix("tel:")


def from_slack(text: str) -> str:
    """What the person typed, from Slack's message encoding: auto-links (`<mailto:a@b.c|a@b.c>`)
    back to their text and `&lt;` `&gt;` `&amp;` back to characters. Output escapes it again."""
    return _LINK.sub(_link_text, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_dm(text: str, user_id: str, event_id: str) -> Inbound:
    """A typed DM: `/back` (or just `back`, `cancel`, `restart`, `help`, `edit`) is a command, else text."""
    command = Command.typed(text, bare_words=True)
    if command is not None:
        return Inbound(CHANNEL, user_id, command=command[0], argument=command[1], event_id=event_id)
    return Inbound(CHANNEL, user_id, text=text, event_id=event_id)


def is_referrer_message(event: dict[str, Any]) -> bool:
    """A person's own new message in a DM with the bot (not an edit, a join, or the bot itself)."""
    return event.get("channel_type") == "im" and not event.get("bot_id") and not event.get("subtype") \
        and bool(event.get("user"))


def record_id(value: Any) -> int:
    """A referral or nudge id from a button value; anything else (a forged press) is a BadRequest,
    which the error handler answers politely instead of failing with a 500."""
    if not isinstance(value, str) or not value.isdecimal() or len(value) > 9:
        raise BadRequest("That button does not match any referral or nudge.")
    return int(value)


def _answered(message: dict[str, Any], chosen: str) -> list[dict[str, Any]]:
    """The question message with its buttons replaced by the answer, so old buttons can't be pressed."""
    kept = [block for block in message.get("blocks", []) if block.get("type") != "actions"]
    return kept + [context(f"➜ {escape(chosen)}")]


def user_of(body: dict[str, Any]) -> str | None:
    """Who acted: a button press or view has `user.id`, a slash command `user_id`."""
    return (body.get("user") or {}).get("id") or body.get("user_id")


async def referrer_dm(event: dict[str, Any]) -> bool:
    """Bolt matcher for the message event: only a person's own new DM to the bot."""
    return is_referrer_message(event)


class Listeners:
    """Registers every Slack listener on a Bolt app."""

    def __init__(self, service: IntakeService, profile: Profile, desk: Desk) -> None:
        self.service = service
        self.profile = profile
        self.desk = desk

    def is_staff(self, user_id: str | None) -> bool:
        return user_id is not None and self.profile.staff.includes(CHANNEL, user_id)

    def register(self, app: AsyncApp) -> None:
        """Bolt routes: staff listeners behind a staff matcher, then catch-alls that refuse everyone else."""
        staff = [self.from_staff]
        staff_buttons = re.compile(f"^({re.escape(STATUS_ACTION_PREFIX)}|{re.escape(NUDGE_ACTION_PREFIX)}|"
                                   f"{re.escape(DETAILS_ACTION)}$)")
        app.event("message", matchers=[referrer_dm])(self.on_message)
        app.action(re.compile(f"^{re.escape(CHOICE_ACTION_PREFIX)}"))(self.on_choice)
        app.action(re.compile(f"^{re.escape(STATUS_ACTION_PREFIX)}"), matchers=staff)(self.on_status)
        app.action(DETAILS_ACTION, matchers=staff)(self.on_details)
        app.action(re.compile(f"^{re.escape(NUDGE_ACTION_PREFIX)}"), matchers=staff)(self.on_nudge)
        app.action(staff_buttons)(self.refuse_press)
        app.command("/referbot", matchers=staff)(self.on_command)
        app.command("/referbot")(self.refuse_command)
        app.event("app_home_opened")(self.on_home)
        app.error(self.on_error)

    async def from_staff(self, body: dict[str, Any]) -> bool:
        """Bolt matcher: the person acting is on the practice's staff (the profile's Slack ids)."""
        return self.is_staff(user_of(body))

    async def refuse_press(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await self._refuse(client, body)

    async def refuse_command(self, ack: Any) -> None:
        await ack(text=NOT_PERMITTED)

    async def on_error(self, error: Exception, body: dict[str, Any], client: AsyncWebClient) -> BoltResponse | None:
        """A press on a record that no longer exists, a status move the lifecycle refuses, or a forged
        button value gets an ephemeral note and a 200 (Bolt answers 500 for any listener error unless
        told otherwise). A payload missing what a listener reads (no channel, no user) is the sender's
        fault: 400, never 500. Both are logged by type only, since a payload carries what a referrer typed."""
        if isinstance(error, (NotFound, BadRequest)):
            await self._refuse(client, body, escape(error))
            return BoltResponse(status=200, body="")  # answered: Slack must not show the press as failed
        if isinstance(error, (ValueError, TypeError, KeyError)):
            log.warning("slack: malformed %s request: %s", body.get("type") if isinstance(body, dict) else "?",
                        type(error).__name__)
            return BoltResponse(status=400, body="malformed request")
        log.error("slack: listener failed: %s", type(error).__name__, exc_info=error)
        return None

    async def converse(self, client: AsyncWebClient, channel: str, inbound: Inbound) -> bool:
        """One intake turn; the replies go back to the DM. False if this delivery was seen before."""
        async def post(outcome: Outcome) -> None:
            for index, reply in enumerate(outcome.replies):
                await client.chat_postMessage(channel=channel, text=fallback(reply.text),
                                              blocks=reply_blocks(reply, index), unfurl_links=False, unfurl_media=False)

        outcome = await self.service.handle(inbound, late=post)
        await post(outcome)
        return not outcome.duplicate

    async def on_message(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        inbound = parse_dm(from_slack(event.get("text") or ""), event["user"], body["event_id"])
        await self.converse(client, event["channel"], inbound)

    async def on_choice(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id, channel, message = body["user"]["id"], body["channel"]["id"], body.get("message") or {}
        inbound = Inbound(CHANNEL, user_id, choice=action["value"], event_id=f"action:{user_id}:{action['action_ts']}")
        if await self.converse(client, channel, inbound) and message.get("ts"):
            await client.chat_update(channel=channel, ts=message["ts"], text=message.get("text", ""),
                                     blocks=_answered(message, action["text"]["text"]))

    async def _refuse(self, client: AsyncWebClient, body: dict[str, Any], text: str = NOT_PERMITTED) -> None:
        """An ephemeral no; a press on a view (the App Home) has no channel to answer in."""
        if body.get("channel"):
            await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"], text=text)

    async def on_status(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        status = ReferralStatus(action["action_id"].removeprefix(STATUS_ACTION_PREFIX))
        card = await self.desk.set_status(record_id(action["value"]), status, by=f"{CHANNEL}:{body['user']['id']}")
        text, blocks = alert_message(card, self.profile)
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text=text, blocks=blocks)

    async def on_details(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        referral_id = record_id(action["value"])
        details = referral_details(await self.desk.referral(referral_id, by=f"{CHANNEL}:{body['user']['id']}"),
                                   self.profile)
        await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"],
                                        text=fallback(f"Referral #{referral_id}"), blocks=sections(details))

    async def on_nudge(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        name, days = parse_nudge_action(action["action_id"])
        user_id = body["user"]["id"]
        by = f"{CHANNEL}:{user_id}"
        nudge = await self.desk.act_on_nudge(record_id(action["value"]), name, by=by, days=days)
        if (body.get("container") or {}).get("type") == "view":
            await client.views_publish(user_id=user_id, view=home_view(await self.desk.open_work(), self.profile))
            return
        message = body["message"]
        await client.chat_update(channel=body["channel"]["id"], ts=message["ts"], text=message.get("text", ""),
                                 blocks=acted_on(message, nudge.id, outcome_line(nudge, by, self.profile)))

    async def on_command(self, ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        name, _, argument = (command.get("text") or "").strip().partition(" ")
        if name.lower() == "chart":
            await ack(text="Sending the chart to you in a direct message.")
            await self.send_chart(client, command["user_id"], argument)
            return
        await ack(text=await command_answer(self.desk, command.get("text") or "", f"{CHANNEL}:{command['user_id']}"))

    async def send_chart(self, client: AsyncWebClient, user_id: str, months: str) -> None:
        """The stats chart as an image in the staff member's DM: files cannot be ephemeral, and a
        DM keeps the practice's figures out of whatever channel the command was typed in."""
        chart = await self.desk.chart(months)
        opened = await client.conversations_open(users=user_id)
        await client.files_upload_v2(channel=opened["channel"]["id"], file=chart.png, filename="referrals.png",
                                     title=chart.caption)

    async def on_home(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home":
            work = await self.desk.open_work() if self.is_staff(event["user"]) else None
            await client.views_publish(user_id=event["user"], view=home_view(work, self.profile))
