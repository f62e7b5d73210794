"""The Telegram channel's lifecycle: one python-telegram-bot Application, polling or a webhook.

PTB is the transport only (no persistence, no ConversationHandler): the conversation lives in the
database through `IntakeService`. Polling is the default; with TELEGRAM_WEBHOOK_URL the updates
arrive on the shared HTTP server at WEBHOOK_PATH, authenticated by the secret token.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseRateLimiter

from adapters.telegram import TelegramSettings
from adapters.telegram.notes import TelegramNoteSender
from adapters.telegram.alerts import TelegramAlerts
from adapters.telegram.reach import explain
from adapters.telegram.render import CallbackCodec
from adapters.telegram.staff import STAFF_COMMANDS
from adapters.telegram.updates import REFERRER_COMMANDS, UpdateRouter
from referbot.app import Runtime
from referbot.desk import Desk
from referbot.ports import Notifier

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: The only updates referbot reads; edits, channel posts, reactions etc. are never sent to it.
ALLOWED_UPDATES = ["message", "callback_query"]


def build_application(token: str, api_url: str, rate_limiter: BaseRateLimiter | None = None) -> Application:
    """PTB as transport: updates handled concurrently (ordered per user by the router), 429s waited out."""
    # httpx logs every request URL at INFO, and the Bot API puts the token in the URL.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    return (ApplicationBuilder().token(token).base_url(api_url)
            .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
            .concurrent_updates(True).build())


def flow_choice_ids(runtime: Runtime) -> list[str]:
    """Every choice id the flow declares, so long ids' callback digests survive a restart."""
    return [choice.id for step in runtime.service.engine.flow.steps for choice in step.choices]


class TelegramChannel:
    name = "telegram"

    def __init__(self, runtime: Runtime, settings: TelegramSettings, *,
                 rate_limiter: BaseRateLimiter | None = None) -> None:
        assert settings.bot_token, "the channel is only built when enabled (a token is set)"
        self.runtime = runtime
        self.api_url = settings.api_url
        self._token = settings.bot_token
        self.webhook_url = settings.webhook_url
        self.webhook_secret = settings.webhook_secret or ""
        self.poll_timeout = settings.poll_timeout
        self.application = build_application(settings.bot_token, settings.api_url, rate_limiter)
        self.desk = Desk(runtime.database, runtime.profile, runtime.service.clock)
        router = UpdateRouter(runtime.service, self.desk, CallbackCodec(flow_choice_ids(runtime)), self.staff_ids)
        self.application.add_handlers(router.handlers())
        self.application.add_error_handler(_log_error)
        self._started = False

    @property
    def staff_ids(self) -> list[int]:
        return [int(i) for i in self.runtime.profile.staff.ids(self.name)]

    def notifiers(self) -> list[Notifier]:
        """Alerts and nudges to staff chats; a channel earlier in delivery order (Slack) takes them first."""
        if not self.staff_ids:
            return []
        return [TelegramAlerts(self.application.bot, self.desk, self.staff_ids, lambda: self._started)]

    def note_sender(self) -> TelegramNoteSender:
        """Notes to referrers in their private chat with the bot."""
        return TelegramNoteSender(self.application.bot, lambda: self._started)

    def mount(self, app: web.Application) -> bool:
        if not self.webhook_url:
            return False
        app.router.add_post(WEBHOOK_PATH, self._webhook)
        return True

    async def start(self) -> None:
        """Connect: SettingsError for a rejected token, RetryLater while Telegram cannot be reached."""
        try:
            await self._connect()
        except TelegramError as problem:
            raise explain(problem, self.api_url, self._token) from None

    async def _connect(self) -> None:
        await self.application.initialize()  # getMe: a wrong token fails here
        await self._register_commands()
        if self.webhook_url:
            await self.application.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret,
                                                   allowed_updates=ALLOWED_UPDATES)
        else:  # start_polling deletes any webhook first; Telegram allows only one of the two
            await self.application.updater.start_polling(timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES)
        await self.application.start()
        self._started = True
        log.info("telegram: @%s %s", self.application.bot.username,
                 f"webhook {self.webhook_url}" if self.webhook_url else "polling")

    async def stop(self) -> None:
        """Stop fetching, let handlers finish, confirm the offset: nothing handled is fetched again."""
        self._started = False
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _register_commands(self) -> None:
        """The command menu: referrer commands for everyone, plus staff commands in staff chats."""
        bot = self.application.bot
        everyone = [BotCommand(name, description) for name, description in REFERRER_COMMANDS.items()]
        await bot.set_my_commands(everyone)
        staff = everyone + [BotCommand(name, description) for name, description in STAFF_COMMANDS.items()]
        for chat_id in self.staff_ids:
            try:
                await bot.set_my_commands(staff, scope=BotCommandScopeChat(chat_id))
            except TelegramError as problem:  # e.g. this staff member has not opened a chat with the bot yet
                log.warning("telegram: staff commands for chat %s not set: %s", chat_id, problem)

    async def _webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST: 403 unless the secret matches (constant time). The update is handled before
        the 200, so a crash mid-update leaves it unconfirmed and Telegram redelivers it; the service's
        dedupe by update id makes a redelivery of something already handled do nothing."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        if not self._started:
            return web.Response(status=503, text="starting")
        try:
            update = Update.de_json(json.loads(await request.text()), self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return web.Response(status=400, text="not a Telegram update")
        if update is None:
            return web.Response(status=400, text="not a Telegram update")
        await self.application.process_update(update)
        return web.Response(text="ok")


async def _log_error(update: object, context: object) -> None:
    """Log the failure by update id only: an update's text is a referrer's words about a client."""
    update_id = getattr(update, "update_id", None)
    log.error("telegram: error handling update %s", update_id, exc_info=getattr(context, "error", None))
