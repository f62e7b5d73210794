"""Notes to referrers in their private chat with the bot (they referred through Telegram)."""

from __future__ import annotations

from typing import Any, Callable

from telegram import Bot
from telegram.error import RetryAfter

from adapters.telegram.reach import flood_wait
from referbot.ports import RetryLater


class TelegramNoteSender:
    def __init__(self, bot: Bot, ready: Callable[[], bool]) -> None:
        self.bot = bot
        self.ready = ready

    async def send_note(self, to: str, subject: str, text: str) -> dict[str, Any]:
        if not self.ready():
            raise RetryLater("the Telegram channel is still starting", after=2)
        try:
            sent = await self.bot.send_message(int(to), text)  # plain text: nothing to escape
        except RetryAfter as problem:
            raise RetryLater(f"Telegram flood control: {problem}", after=flood_wait(problem)) from problem
        return {"chat_id": int(to), "message_id": sent.message_id}
