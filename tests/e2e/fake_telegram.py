"""A fake Telegram Bot API on 127.0.0.1, so end-to-end tests drive the real python-telegram-bot.

It answers `POST /bot<token>/<method>` for the methods referbot uses, records every call, and is as
strict as Telegram where a bot can get it wrong: HTML parse mode (supported tags, balanced, only
known entities), 4,096 characters after parsing, 64-byte callback data, "message is not modified".
`fail_next` makes the next calls fail with 429 + retry_after or 500. getUpdates long-polls with
offsets and is woken by new updates and on shutdown.
"""

from __future__ import annotations

import asyncio
import itertools
from contextlib import asynccontextmanager
import json
import re
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from aiohttp import web

from referbot.http import HttpServer

TOKEN = "4242:TEST-token-for-a-fake-bot"
USERNAME = "referbot_test_bot"
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code",
              "pre", "blockquote", "tg-emoji"}
_ENTITY_TEXT = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _entity_text(name: str) -> str:
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    return chr(int(name[1:])) if name.startswith("#") else _ENTITY_TEXT[name]


def html_to_text(text: str) -> str:
    """The text Telegram would show for an HTML parse-mode message, or ApiError(400) as Telegram."""
    out: list[str] = []
    open_tags: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            tag = _TAG.match(text, index)
            if tag is None:
                raise ApiError(400, f"Bad Request: can't parse entities: unexpected character at offset {index}")
            closing, name = tag.group(1), tag.group(2).lower()
            if name not in _HTML_TAGS:
                raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{name}"')
            if closing and (not open_tags or open_tags.pop() != name):
                raise ApiError(400, f'Bad Request: can\'t parse entities: unexpected end tag "{name}"')
            if not closing:
                open_tags.append(name)
            index = tag.end()
        elif char == "&":
            entity = _ENTITY.match(text, index)
            if entity is None:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported entity at offset {index}")
            out.append(_entity_text(entity.group(1)))
            index = entity.end()
        else:
            out.append(char)
            index += 1
    if open_tags:
        raise ApiError(400, f'Bad Request: can\'t parse entities: can\'t find end tag corresponding to "{open_tags[-1]}"')
    return "".join(out)


def message_text(params: dict[str, Any]) -> str:
    raw = str(params.get("text", ""))
    text = html_to_text(raw) if str(params.get("parse_mode", "")).upper() == "HTML" else raw
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text.encode("utf-16-le")) // 2 > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def reply_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    if not params.get("reply_markup"):
        return None
    markup = params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")).strip():
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


class FakeTelegram:
    """The fake server; `base_url` is what TELEGRAM_API_URL should be."""

    def __init__(self, token: str = TOKEN, username: str = USERNAME) -> None:
        self.token = token
        self.bot = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "Referbot",
                    "username": username, "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        self.calls: list[Call] = []
        self.sent: list[dict[str, Any]] = []  # every message the bot sent, in order
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {}
        self.webhook_error: str | None = None  # what getWebhookInfo reports as the last delivery error
        self._updates: list[dict[str, Any]] = []
        self._failures: list[tuple[str | None, int, int | None]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._closing = False
        self._server: HttpServer | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._server = HttpServer(app, "127.0.0.1", 0)
        await self._server.start()
        self.port = self._server.port

    async def close(self) -> None:
        self._closing = True
        self._changed.set()
        if self._server is not None:
            await self._server.stop()

    # --- what tests arrange -------------------------------------------------------------------

    def fail_next(self, method: str | None, status: int, *, retry_after: int | None = None, count: int = 1) -> None:
        """The next `count` calls of `method` (any method if None) fail with `status`."""
        self._failures += [(method, status, retry_after)] * count

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an update_id is assigned if it has none)."""
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._notify()
        return update

    def message_update(self, user: dict[str, Any], text: str, chat: dict[str, Any] | None = None) -> dict[str, Any]:
        chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self.chats[chat["id"]] = chat
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                                   "from": user, "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(self, user: dict[str, Any], message: dict[str, Any], data: str) -> dict[str, Any]:
        query = {"id": str(next(self._update_ids)), "from": user, "message": message, "chat_instance": "1",
                 "data": data}
        return {"update_id": next(self._update_ids), "callback_query": query}

    # --- what tests inspect -------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until `condition()` holds after some call (fails the test after `timeout`)."""
        async def until() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(until(), timeout)

    # --- the API ------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await self._params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        try:
            self._maybe_fail(method)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params) if method == "getUpdates" else handler(params)
        except ApiError as error:
            body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            response = web.json_response(body, status=error.status)
        else:
            response = web.json_response({"ok": True, "result": result})
        self._notify()
        return response

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        return {key: (value.file.read() if hasattr(value, "file") else value) for key, value in form.items()}

    def _maybe_fail(self, method: str) -> None:
        for index, (wanted, status, retry_after) in enumerate(self._failures):
            if wanted in (None, method):
                del self._failures[index]
                if status == 429:
                    raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
                raise ApiError(status, "Internal Server Error")

    def _api_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return self.bot

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(float(params.get("timeout") or 0), 30)
        deadline = time.monotonic() + timeout
        while not self._updates and not self._closing and time.monotonic() < deadline:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
        return self._updates[: int(params.get("limit") or 100)]

    def _new_message(self, chat_id: int, text: str | None, markup: dict[str, Any] | None) -> dict[str, Any]:
        chat = self.chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "someone"})
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                                   "from": self.bot}
        if text is not None:
            message["text"] = text
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        self.sent.append(message)
        return message

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._new_message(int(params["chat_id"]), message_text(params), reply_markup(params))

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._new_message(int(params["chat_id"]), None, reply_markup(params))
        message["photo"] = [{"file_id": "photo", "file_unique_id": "photo", "width": 1, "height": 1}]
        message["caption"] = params.get("caption")
        return message

    def _edited(self, params: dict[str, Any], text: str | None) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = self.messages[key]
        markup = reply_markup(params)
        new_text = message.get("text") if text is None else text
        if new_text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        message["text"] = new_text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edited(params, message_text(params))

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edited(params, None)

    def _api_answerCallbackQuery(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        json.loads(params["commands"])
        return True

    def _api_deleteWebhook(self, _params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _api_getWebhookInfo(self, _params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                                "pending_update_count": len(self._updates)}
        if self.webhook_error:
            info.update(last_error_date=int(time.time()), last_error_message=self.webhook_error)
        return info

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        return True


class FakeUser:
    """A Telegram user chatting with the bot through the fake: says things, presses buttons, and
    waits for the bot's answers."""

    def __init__(self, api: FakeTelegram, user_id: int, first_name: str = "Ann") -> None:
        self.api = api
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def inbox(self) -> list[dict[str, Any]]:
        return self.api.sent_to(self.id)

    async def say(self, text: str, *, expect: int = 1) -> list[dict[str, Any]]:
        """Send `text`; return the `expect` messages the bot answers with."""
        return await self._await_answers(self.api.message_update(self.user, text), expect)

    async def press(self, label: str, *, expect: int = 1) -> list[dict[str, Any]]:
        """Press the button labelled `label` on the latest message that has one."""
        for message in reversed(self.inbox):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        update = self.api.callback_update(self.user, message, button["callback_data"])
                        return await self._await_answers(update, expect)
        raise AssertionError(f"no button {label!r}; last message: {self.inbox[-1] if self.inbox else None}")

    def buttons(self, message: dict[str, Any] | None = None) -> list[str]:
        message = message or self.inbox[-1]
        return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]

    async def _await_answers(self, update: dict[str, Any], expect: int) -> list[dict[str, Any]]:
        before = len(self.inbox)
        self.api.push(update)
        await self.api.wait_for(lambda: len(self.inbox) >= before + expect)
        return self.inbox[before:]


# --- the bot under test, wired to the fake ------------------------------------------------------


def telegram_settings(api: FakeTelegram, **env: Any) -> Any:
    """Telegram settings pointing at `api`; `env` by variable name (TELEGRAM_WEBHOOK_URL=…)."""
    from adapters.telegram import TelegramSettings

    values = {"bot_token": api.token, "api_url": api.base_url, "poll_timeout": 5,
              **{name.removeprefix("TELEGRAM_").lower(): value for name, value in env.items()}}
    return TelegramSettings(_env_file=None, **values)


def telegram_runtime(database: Any, profile: Any, clock: Any, api: FakeTelegram, *, flow: Any = None) -> Any:
    """A Runtime for the channel; the KeywordAssessor decides fit."""
    from referbot.app import Runtime
    from referbot.engine import load_flow
    from referbot.service import IntakeService
    from referbot.settings import Settings
    from tests.fakes import KeywordAssessor

    service = IntakeService(database, profile, flow or load_flow(), KeywordAssessor(), clock)
    return Runtime(Settings(_env_file=None), profile, database, service)


@asynccontextmanager
async def running_bot(database: Any, profile: Any, clock: Any, api: FakeTelegram, **kwargs: Any) -> AsyncIterator[Any]:
    """The Telegram channel started against `api` (polling unless TELEGRAM_WEBHOOK_URL is given)."""
    flow = kwargs.pop("flow", None)
    channel = quick_channel(telegram_runtime(database, profile, clock, api, flow=flow), telegram_settings(api, **kwargs))
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


def quick_channel(runtime: Any, settings: Any) -> Any:
    """The channel with the rate limiter's throttling off (its 429 handling stays on)."""
    from telegram.ext import AIORateLimiter

    from adapters.telegram.channel import TelegramChannel

    return TelegramChannel(runtime, settings,
                           rate_limiter=AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=2))
