"""The Telegram path: CPU per input of referbot vs a bare python-telegram-bot bot, same fake API.

Both bots poll the fake Bot API of the end-to-end tests (`tests/e2e/fake_telegram.py`), which
runs in its own thread and event loop; its CPU is subtracted, so what is left is the bot's own
(PTB, HTTP client, and for referbot the service, matcher and database threads). Referrers run
whole intakes at once; each sends the next message when the bot has answered the previous one.

The bare bot is a ConversationHandler that answers each message with the next of 19 questions and
keeps nothing; referbot persists every turn durably and encrypted (SQLite, WAL, synchronous
commits, a key as `referbot run` requires). Throttling
is off in both (referbot keeps its 429 handling).
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, ConversationHandler, \
    MessageHandler, filters

from bench.report import Result
from bench.servers import Databases
from bench.turns import INTAKE
from referbot.app import Runtime
from referbot.engine import load_flow
from referbot.matching import Matcher
from referbot.profile import Profile
from referbot.service import IntakeService
from referbot.settings import Settings
from tests.e2e.fake_telegram import FakeTelegram, quick_channel, telegram_settings

QUESTIONS = [f"Question {i}?" for i in range(len(INTAKE) + 1)]


class ThreadedFake:
    """The fake Bot API on its own thread and loop, so its CPU can be told apart from the bot's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.api = FakeTelegram()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-telegram", daemon=True)

    def call(self, function: Callable[[], Any]) -> Any:
        """Run `function` on the fake's loop and return its result (blocking briefly)."""
        async def run() -> Any:
            return function()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result()

    def __enter__(self) -> "ThreadedFake":
        main_loop, changed = asyncio.get_running_loop(), asyncio.Event()
        notify = self.api._notify

        def notify_both() -> None:  # wake the bench's waiters without polling from the bot's thread
            notify()
            main_loop.call_soon_threadsafe(changed.set)

        self.api._notify = notify_both  # type: ignore[method-assign]
        self._changed = changed
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.api.start(), self.loop).result()
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.api.close(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()

    def cpu_seconds(self) -> float:
        return self.call(time.thread_time)

    async def say(self, user: dict[str, Any], text: str) -> None:
        """Send `text` as `user` and wait until the bot has answered it."""
        chat = user["id"]
        before = self.call(lambda: len(self.api.sent_to(chat)))
        self.call(lambda: self.api.push(self.api.message_update(user, text)))
        while True:
            self._changed.clear()  # before looking, so an answer arriving meanwhile still wakes us
            if self.call(lambda: len(self.api.sent_to(chat))) > before:
                return
            await self._changed.wait()


def bare_bot(api_url: str, token: str) -> Application:
    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        step = int(context.user_data.get("step", 0))
        assert update.message is not None
        await update.message.reply_text(QUESTIONS[step])
        context.user_data["step"] = step + 1
        return ConversationHandler.END if step + 1 >= len(QUESTIONS) else 1

    conversation = ConversationHandler(entry_points=[CommandHandler("start", ask)],
                                       states={1: [MessageHandler(filters.TEXT & ~filters.COMMAND, ask)]},
                                       fallbacks=[])
    application = (ApplicationBuilder().token(token).base_url(api_url).concurrent_updates(False).build())
    application.add_handler(conversation)
    return application


@asynccontextmanager
async def running_bare(fake: ThreadedFake) -> AsyncIterator[None]:
    application = bare_bot(fake.api.base_url, fake.api.token)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(timeout=5)
    try:
        yield
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@asynccontextmanager
async def running_referbot(fake: ThreadedFake, databases: Databases, profile: Profile) -> AsyncIterator[None]:
    async with databases.fresh("sqlite") as database:
        service = IntakeService(database, profile, load_flow(), Matcher(profile))
        channel = quick_channel(Runtime(Settings(_env_file=None), profile, database, service),
                                telegram_settings(fake.api))
        await channel.start()
        try:
            yield
        finally:
            await channel.stop()


async def cpu_ms_per_input(fake: ThreadedFake, referrers: int, first_user: int) -> float:
    """Process CPU minus the fake's, per message sent, over `referrers` whole intakes at once."""
    async def intake(index: int) -> None:
        user = {"id": first_user + index, "is_bot": False, "first_name": f"R{index}", "language_code": "en"}
        for text in ["/start", *INTAKE]:
            await fake.say(user, text)

    await intake(-1)  # warm up every code path
    cpu, fake_cpu = time.process_time(), fake.cpu_seconds()
    await asyncio.gather(*(intake(i) for i in range(referrers)))
    used = (time.process_time() - cpu) - (fake.cpu_seconds() - fake_cpu)
    return used * 1000 / (referrers * (len(INTAKE) + 1))


async def measure(databases: Databases, profile: Profile, quick: bool) -> list[Result]:
    referrers = 5 if quick else 20
    with ThreadedFake() as fake:
        async with running_bare(fake):
            bare = await cpu_ms_per_input(fake, referrers, 10_000)
    with ThreadedFake() as fake:
        async with running_referbot(fake, databases, profile):
            referbot = await cpu_ms_per_input(fake, referrers, 20_000)
    return [Result("telegram_cpu_ms_per_input", referbot, "ms", bare, "bare PTB ConversationHandler bot")]
