"""Telegram updates in, the core's replies out: the one place Telegram traffic is translated.

Every referrer message and button press becomes an `Inbound` for `IntakeService.handle`, which
owns the conversation; this module only parses commands, keeps each user's updates in order,
and renders what comes back. Groups get a pointer to a private chat and nothing is recorded.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Hashable

from telegram import Bot, CallbackQuery, Chat, LinkPreviewOptions, Message, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from adapters.telegram.links import chat_link
from adapters.telegram.nudges import NUDGE_PREFIX, outcome_line, parse_nudge_data
from adapters.telegram.render import CallbackCodec, Pressed, render, split_text
from adapters.telegram.staff import STAFF_COMMANDS
from referbot.domain import Command, Inbound, Reply
from referbot.messages import guidelines_message
from referbot.service import IntakeService

log = logging.getLogger(__name__)

CHANNEL = "telegram"
#: Commands every referrer has, as shown in Telegram's command menu.
REFERRER_COMMANDS: dict[str, str] = {
    "start": "Start or continue a referral",
    "back": "Go back to the previous question",
    "edit": "Change an answer",
    "cancel": "Stop and discard this referral",
    "restart": "Start a new referral",
    "help": "How this works",
    "guidelines": "Who we see and how to refer",
}
_INTAKE_COMMANDS = {c.value: c for c in Command}
_DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def parse_command(text: str) -> tuple[str, str | None] | None:
    """`/name@bot argument` → ("name", "argument"); None for ordinary text."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, *rest = text.split(maxsplit=1)
    name = head[1:].split("@", 1)[0].lower()
    return name, (rest[0].strip() if rest else None) or None


class KeyedLocks:
    """One asyncio.Lock per user, forgotten once nobody holds or awaits it: one user's updates are
    handled in arrival order while different users proceed concurrently."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


@dataclass(frozen=True)
class Sender:
    """Sends rendered replies to one chat."""

    bot: Bot
    chat_id: int
    codec: CallbackCodec

    async def text(self, text: str) -> None:
        await self.replies([Reply(text)])

    async def replies(self, replies: list[Reply]) -> None:
        for reply in replies:
            for message in render(reply, self.codec):
                await self.bot.send_message(self.chat_id, message.html, parse_mode=ParseMode.HTML,
                                            reply_markup=message.markup, link_preview_options=_NO_PREVIEW)


class UpdateRouter:
    """The PTB callback for every update (registered as a TypeHandler: PTB is transport only)."""

    def __init__(self, service: IntakeService, codec: CallbackCodec) -> None:
        self.service = service
        self.codec = codec
        self.locks = KeyedLocks()

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or user.is_bot:
            return
        if chat.type != ChatType.PRIVATE:
            await self._private_only(update, chat, context.bot)
            return
        if update.callback_query is not None:
            await _quietly(update.callback_query.answer())  # at once: the button stops spinning
        async with self.locks.hold(user.id):
            sender = Sender(context.bot, chat.id, self.codec)
            try:
                if update.callback_query is not None and (update.callback_query.data or "").startswith(NUDGE_PREFIX):
                    await self._on_nudge_press(update.callback_query, user, sender)
                elif update.callback_query is not None:
                    await self._on_press(update, update.callback_query, user, sender)
                elif update.message is not None:
                    await self._on_message(update, update.message, user, sender)
            except Exception:
                log.exception("telegram: update %s failed", update.update_id)
                await sender.text("Sorry, something went wrong on our side. Please send that again in a minute.")

    def _inbound(self, update: Update, user: User, **what: object) -> Inbound:
        name = " ".join(part for part in (user.first_name, user.last_name) if part) or None
        return Inbound(CHANNEL, str(user.id), event_id=f"{update.get_bot().id}:{update.update_id}",
                       display_name=name, **what)  # type: ignore[arg-type]

    async def _on_message(self, update: Update, message: Message, user: User, sender: Sender) -> None:
        if message.text is None:
            await sender.text("Please type your answer, or use the buttons.")
            return
        parsed = parse_command(message.text)
        if parsed is None:
            inbound = self._inbound(update, user, text=message.text)
        else:
            name, argument = parsed
            if name == "guidelines":
                await sender.text(guidelines_message(self.service.profile))
                return
            if name in STAFF_COMMANDS:
                await self._staff_command(name, argument, user, sender)
                return
            command = _INTAKE_COMMANDS.get(name)
            if command is None:
                await sender.text(f"I don't know /{name}. " + ", ".join(f"/{c}" for c in REFERRER_COMMANDS)
                                  + " are the commands I understand.")
                return
            inbound = self._inbound(update, user, command=command, **_command_extras(command, argument))
        outcome = await self.service.handle(inbound)
        await sender.replies(outcome.replies)

    async def _on_press(self, update: Update, query: CallbackQuery, user: User, sender: Sender) -> None:
        pressed = self.codec.decode(query.data or "")
        inbound = self._inbound(update, user, choice=pressed.choice) if pressed.choice else self._inbound(update, user)
        outcome = await self.service.handle(inbound)
        if outcome.duplicate:
            return
        message = query.message if isinstance(query.message, Message) else None
        if message is not None and _redraws_in_place(pressed, outcome.replies):
            if await self._redraw(message, outcome.replies[0]):
                return
        if message is not None and message.reply_markup is not None:
            await _quietly(message.edit_reply_markup(reply_markup=None))  # an answered question's buttons go
        await sender.replies(outcome.replies)

    async def _redraw(self, message: Message, reply: Reply) -> bool:
        """Show a toggled option in place instead of sending the question again."""
        rendered = render(reply, self.codec)
        if len(rendered) != 1:
            return False
        if message.text == reply.text:
            await _quietly(message.edit_reply_markup(reply_markup=rendered[0].markup))
        else:
            await _quietly(message.edit_text(rendered[0].html, parse_mode=ParseMode.HTML,
                                             reply_markup=rendered[0].markup, link_preview_options=_NO_PREVIEW))
        return True

    async def _on_nudge_press(self, query: CallbackQuery, user: User, sender: Sender) -> None:
        """Done / Snooze / Skip on a nudge: recorded by the nudger, then shown on the nudge message."""
        from referbot.nudger import UnknownNudge, act_on_nudge

        parsed = parse_nudge_data(query.data or "")
        profile = self.service.profile
        if parsed is None or not profile.staff.includes(CHANNEL, str(user.id)):
            await sender.text("Sorry, nudges are only for the practice's staff.")
            return
        nudge_id, action, days = parsed
        try:
            nudge = await act_on_nudge(self.service.database, nudge_id, action, by=f"{CHANNEL}:{user.id}",
                                       now=self.service.clock(), days=days)
        except (UnknownNudge, ValueError) as problem:
            await sender.text(str(problem))
            return
        if isinstance(query.message, Message) and query.message.text:
            done = f"{query.message.text}\n\n{outcome_line(nudge, profile.practice.office_hours.zone)}"
            await _quietly(query.message.edit_text(html.escape(split_text(done)[0], quote=False),
                                                   parse_mode=ParseMode.HTML, reply_markup=None))

    async def _staff_command(self, name: str, argument: str | None, user: User, sender: Sender) -> None:
        if not self.service.profile.staff.includes(CHANNEL, str(user.id)):
            await sender.text(f"Sorry, /{name} is only for the practice's staff. "
                              "Type /start to refer someone, or /guidelines to see who we see.")
            return
        answer = await STAFF_COMMANDS[name].run(self.service, argument)
        if answer.png is None:
            await sender.text(answer.text)
        else:
            await sender.bot.send_photo(sender.chat_id, answer.png, caption=answer.text)

    async def _private_only(self, update: Update, chat: Chat, bot: Bot) -> None:
        """Referrals carry a client's details, so they are only taken one to one; nothing is stored."""
        text = f"I take referrals in a private chat only, to keep clients' details private: {chat_link(bot.username)}"
        if update.callback_query is not None:
            await update.callback_query.answer("Please message me privately.", show_alert=True)
        elif update.effective_message is not None:
            await bot.send_message(chat.id, text, link_preview_options=_NO_PREVIEW)


def _command_extras(command: Command, argument: str | None) -> dict[str, str]:
    """`/start <code>` credits a source (deep link); `/edit <step>` names the answer to change."""
    if command is Command.START and argument and _DEEP_LINK_PAYLOAD.fullmatch(argument):
        return {"source_code": argument}
    if command is Command.EDIT and argument:
        return {"argument": argument}
    return {}


def _redraws_in_place(pressed: Pressed, replies: list[Reply]) -> bool:
    return pressed.toggle and len(replies) == 1 and replies[0].multi


async def _quietly(edit: Awaitable[object]) -> None:
    """Edits are cosmetic: an old or unchanged message ("message is not modified") is not an error."""
    try:
        await edit
    except BadRequest as problem:
        log.debug("telegram: edit skipped: %s", problem)
