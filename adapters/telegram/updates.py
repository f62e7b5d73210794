"""Telegram updates in, the core's replies out: the one place Telegram traffic is translated.

python-telegram-bot routes (`handlers`): command handlers for the intake, staff and guideline
commands (staff commands filtered to the profile's staff ids), callback-query handlers by data
pattern for nudge and choice buttons, message handlers for text. Every referrer message and button
press becomes an `Inbound` for `IntakeService.handle`, which owns the conversation; this module
keeps each user's updates in order and renders what comes back. A guard ahead of every handler
answers groups with a pointer to a private chat, and nothing from a group is recorded.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Hashable

from telegram import Bot, Chat, LinkPreviewOptions, Message, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import (ApplicationHandlerStop, BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes,
                          MessageHandler, TypeHandler, filters)

from adapters.telegram.links import chat_link
from adapters.telegram.nudges import NUDGE_PREFIX, outcome_line, parse_nudge_data
from adapters.telegram.render import CallbackCodec, Pressed, render, split_text
from adapters.telegram.staff import STAFF_COMMANDS, staff_answer
from referbot.desk import Desk
from referbot.domain import Command, Inbound, Reply
from referbot.errors import ReferbotError
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


Handler = Callable[[Update, User, "Sender", ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class UpdateRouter:
    """The PTB handlers for referrers and staff; the service and the desk do the work."""

    def __init__(self, service: IntakeService, desk: Desk, codec: CallbackCodec, staff_ids: list[int]) -> None:
        self.service = service
        self.desk = desk
        self.codec = codec
        self.staff_ids = staff_ids
        self.locks = KeyedLocks()

    def handlers(self) -> dict[int, list[BaseHandler]]:
        """Handler groups: -1 guards (groups, bots), 0 routes; in a group the first match wins."""
        staff = filters.User(user_id=self.staff_ids)  # with no staff ids it matches nobody
        staff_commands = list(STAFF_COMMANDS)
        return {-1: [TypeHandler(Update, self._guard)], 0: [
            CommandHandler("guidelines", self._serial(self._on_guidelines)),
            CommandHandler(staff_commands, self._serial(self._on_staff_command), filters=staff),
            CommandHandler(staff_commands, self._serial(self._on_not_staff)),
            CommandHandler(list(_INTAKE_COMMANDS), self._serial(self._on_intake_command)),
            MessageHandler(filters.COMMAND, self._serial(self._on_unknown_command)),
            MessageHandler(filters.TEXT, self._serial(self._on_text)),
            MessageHandler(filters.ALL, self._serial(self._on_not_text)),
            CallbackQueryHandler(self._serial(self._on_nudge_press), pattern=f"^{re.escape(NUDGE_PREFIX)}"),
            CallbackQueryHandler(self._serial(self._on_press)),
        ]}

    async def _guard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Ahead of every handler: ignore bots and updates without a person; send groups to a private chat."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or user.is_bot:
            raise ApplicationHandlerStop
        if chat.type != ChatType.PRIVATE:
            await self._private_only(update, chat, context.bot)
            raise ApplicationHandlerStop
        if update.callback_query is not None:
            await _quietly(update.callback_query.answer())  # at once: the button stops spinning

    def _serial(self, handler: Handler) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]:
        """One user's updates one at a time, in arrival order; a failure gets an apology, not silence."""
        async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            chat, user = update.effective_chat, update.effective_user
            assert chat is not None and user is not None  # the guard stopped anything else
            sender = Sender(context.bot, chat.id, self.codec)
            async with self.locks.hold(user.id):
                try:
                    await handler(update, user, sender, context)
                except Exception:
                    log.exception("telegram: update %s failed", update.update_id)
                    await sender.text("Sorry, something went wrong on our side. Please send that again in a minute.")

        return callback

    def _inbound(self, update: Update, user: User, **what: object) -> Inbound:
        name = " ".join(part for part in (user.first_name, user.last_name) if part) or None
        return Inbound(CHANNEL, str(user.id), event_id=f"{update.get_bot().id}:{update.update_id}",
                       display_name=name, **what)  # type: ignore[arg-type]

    async def _converse(self, inbound: Inbound, sender: Sender) -> None:
        """One intake turn; a turn queued behind a burst answers "one moment" now and the rest later."""
        outcome = await self.service.handle(inbound, late=lambda queued: sender.replies(queued.replies))
        await sender.replies(outcome.replies)

    async def _on_text(self, update: Update, user: User, sender: Sender, _context: object) -> None:
        assert update.message is not None and update.message.text is not None
        await self._converse(self._inbound(update, user, text=update.message.text), sender)

    async def _on_not_text(self, _update: Update, _user: User, sender: Sender, _context: object) -> None:
        await sender.text("Please type your answer, or use the buttons.")

    async def _on_intake_command(self, update: Update, user: User, sender: Sender, _context: object) -> None:
        name, argument = parse_command(_message_text(update)) or ("start", None)
        command = _INTAKE_COMMANDS[name]
        await self._converse(self._inbound(update, user, command=command, **_command_extras(command, argument)), sender)

    async def _on_guidelines(self, _update: Update, _user: User, sender: Sender, _context: object) -> None:
        await sender.text(guidelines_message(self.service.profile))

    async def _on_unknown_command(self, update: Update, _user: User, sender: Sender, _context: object) -> None:
        name, _ = parse_command(_message_text(update)) or ("", None)
        await sender.text(f"I don't know /{name}. " + ", ".join(f"/{c}" for c in REFERRER_COMMANDS)
                          + " are the commands I understand.")

    async def _on_not_staff(self, update: Update, _user: User, sender: Sender, _context: object) -> None:
        name, _ = parse_command(_message_text(update)) or ("", None)
        await sender.text(f"Sorry, /{name} is only for the practice's staff. "
                          "Type /start to refer someone, or /guidelines to see who we see.")

    async def _on_staff_command(self, update: Update, user: User, sender: Sender, _context: object) -> None:
        name, argument = parse_command(_message_text(update)) or ("", None)
        answer = await staff_answer(self.desk, name, argument, by=f"{CHANNEL}:{user.id}")
        if answer.png is None:
            await sender.text(answer.text)
        else:
            await sender.bot.send_photo(sender.chat_id, answer.png, caption=answer.text)

    async def _on_press(self, update: Update, user: User, sender: Sender, _context: object) -> None:
        query = update.callback_query
        assert query is not None
        pressed = self.codec.decode(query.data or "")
        inbound = self._inbound(update, user, choice=pressed.choice) if pressed.choice else self._inbound(update, user)
        outcome = await self.service.handle(inbound, late=lambda queued: sender.replies(queued.replies))
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

    async def _on_nudge_press(self, update: Update, user: User, sender: Sender, _context: object) -> None:
        """Done / Snooze / Skip on a nudge: recorded by the desk, then shown on the nudge message."""
        query = update.callback_query
        assert query is not None
        parsed = parse_nudge_data(query.data or "")
        profile = self.service.profile
        if parsed is None or not profile.staff.includes(CHANNEL, str(user.id)):
            await sender.text("Sorry, nudges are only for the practice's staff.")
            return
        nudge_id, action, days = parsed
        try:
            nudge = await self.desk.act_on_nudge(nudge_id, action, by=f"{CHANNEL}:{user.id}", days=days)
        except ReferbotError as problem:
            await sender.text(str(problem))
            return
        if isinstance(query.message, Message) and query.message.text:
            done = f"{query.message.text}\n\n{outcome_line(nudge, profile.practice.office_hours.zone)}"
            await _quietly(query.message.edit_text(html.escape(split_text(done)[0], quote=False),
                                                   parse_mode=ParseMode.HTML, reply_markup=None))

    async def _private_only(self, update: Update, chat: Chat, bot: Bot) -> None:
        """Referrals carry a client's details, so they are only taken one to one; nothing is stored."""
        text = f"I take referrals in a private chat only, to keep clients' details private: {chat_link(bot.username)}"
        if update.callback_query is not None:
            await update.callback_query.answer("Please message me privately.", show_alert=True)
        elif update.effective_message is not None:
            await bot.send_message(chat.id, text, link_preview_options=_NO_PREVIEW)


def _message_text(update: Update) -> str:
    return (update.message.text if update.message is not None else None) or ""


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
