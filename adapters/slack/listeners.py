"""Slack events, button presses and `/referbot`, translated for the core (and nothing more).

A DM from a referrer becomes an `Inbound` for the intake service; a choice button becomes an
`Inbound(choice=…)`; an alert's buttons call `set_referral_status`; staff-only answers come from
`StaffDesk`. Delivery ids go to the service, which records them in the same transaction as the
turn's effects, so a retried event is handled once and a retry of a lost delivery still counts.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.alerts import DETAILS_ACTION, STATUS_ACTION_PREFIX, alert_message
from adapters.slack.blocks import CHOICE_ACTION_PREFIX, context, escape, fallback, reply_blocks, sections
from adapters.slack.nudges import NUDGE_ACTION_PREFIX, acted_on, outcome_line, parse_nudge_action
from adapters.slack.staff import NOT_PERMITTED, StaffDesk
from referbot.domain import Command, Inbound, ReferralStatus
from referbot.nudger import UnknownNudge, act_on_nudge
from referbot.profile import Profile
from referbot.referrals import UnknownReferral, set_referral_status
from referbot.service import IntakeService

CHANNEL = "slack"
StaffAction = Callable[[dict[str, Any], dict[str, Any], AsyncWebClient], Awaitable[None]]
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


def _answered(message: dict[str, Any], chosen: str) -> list[dict[str, Any]]:
    """The question message with its buttons replaced by the answer, so old buttons can't be pressed."""
    kept = [block for block in message.get("blocks", []) if block.get("type") != "actions"]
    return kept + [context(f"➜ {escape(chosen)}")]


class Listeners:
    """Registers every Slack listener on a Bolt app."""

    def __init__(self, service: IntakeService, profile: Profile, desk: StaffDesk) -> None:
        self.service = service
        self.profile = profile
        self.desk = desk

    def is_staff(self, user_id: str) -> bool:
        return self.profile.staff.includes(CHANNEL, user_id)

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self.on_message)
        app.action(re.compile(f"^{re.escape(CHOICE_ACTION_PREFIX)}"))(self.on_choice)
        app.action(re.compile(f"^{re.escape(STATUS_ACTION_PREFIX)}"))(self.staff_only(self.on_status))
        app.action(DETAILS_ACTION)(self.staff_only(self.on_details))
        app.action(re.compile(f"^{re.escape(NUDGE_ACTION_PREFIX)}"))(self.staff_only(self.on_nudge))
        app.command("/referbot")(self.on_command)
        app.event("app_home_opened")(self.on_home)

    async def converse(self, client: AsyncWebClient, channel: str, inbound: Inbound) -> bool:
        """One intake turn; the replies go back to the DM. False if this delivery was seen before."""
        outcome = await self.service.handle(inbound)
        for index, reply in enumerate(outcome.replies):
            await client.chat_postMessage(channel=channel, text=fallback(reply.text),
                                          blocks=reply_blocks(reply, index), unfurl_links=False, unfurl_media=False)
        return not outcome.duplicate

    async def on_message(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if is_referrer_message(event):
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

    def staff_only(self, handler: StaffAction) -> Callable[..., Awaitable[None]]:
        """A button listener that acks, refuses anyone not on the practice's staff, and answers a
        press on a record that no longer exists with an ephemeral note."""
        async def listener(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            if not self.is_staff(body["user"]["id"]):
                await self._refuse(client, body)
                return
            try:
                await handler(body, action, client)
            except (UnknownReferral, UnknownNudge) as problem:
                await self._refuse(client, body, escape(problem))

        return listener

    async def on_status(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        status = ReferralStatus(action["action_id"].removeprefix(STATUS_ACTION_PREFIX))
        referral = await set_referral_status(self.service.database, int(action["value"]), status,
                                             by=f"{CHANNEL}:{body['user']['id']}", now=self.service.clock())
        text, blocks = alert_message(referral, self.profile)
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text=text, blocks=blocks)

    async def on_details(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        referral_id = int(action["value"])
        details = await self.desk.details(referral_id) or f"No referral #{referral_id}."
        await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"],
                                        text=fallback(f"Referral #{referral_id}"), blocks=sections(details))

    async def on_nudge(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        name, days = parse_nudge_action(action["action_id"])
        user_id = body["user"]["id"]
        by = f"{CHANNEL}:{user_id}"
        nudge = await act_on_nudge(self.service.database, int(action["value"]), name, by=by,
                                   now=self.service.clock(), days=days)
        if (body.get("container") or {}).get("type") == "view":
            await client.views_publish(user_id=user_id, view=await self.desk.home(True))
            return
        message = body["message"]
        await client.chat_update(channel=body["channel"]["id"], ts=message["ts"], text=message.get("text", ""),
                                 blocks=acted_on(message, nudge.id, outcome_line(nudge, by, self.profile)))

    async def on_command(self, ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        if not self.is_staff(command["user_id"]):
            await ack(text=NOT_PERMITTED)
            return
        name, _, argument = (command.get("text") or "").strip().partition(" ")
        if name.lower() == "chart":
            await ack(text="Sending the chart to you in a direct message.")
            await self.desk.send_chart(client, command["user_id"], argument.strip())
            return
        await ack(text=await self.desk.command(command.get("text") or ""))

    async def on_home(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home":
            await client.views_publish(user_id=event["user"], view=await self.desk.home(self.is_staff(event["user"])))
