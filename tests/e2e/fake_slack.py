"""A fake Slack for end-to-end tests, all on 127.0.0.1.

`FakeSlack` is the Web API (auth.test, chat.postMessage, chat.update, chat.postEphemeral,
views.publish, conversations.open, conversations.history, conversations.info, users.info): it records
every call, keeps posted messages (with their metadata) so updates and look-ups can be checked, and
can be told to fail the next calls with a status (500, or 429 with Retry-After), to do the next call
and then answer 500 as if the response were lost, or to answer it only after a delay. `SlackSender`
plays Slack's side of the app's request URL: events, slash commands
and interactivity, signed exactly as Slack signs them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from referbot.http import HttpServer

TEAM_ID = "T0FAKE"
BOT_USER_ID = "UBOT0001"
_JSON_ARGUMENTS = ("blocks", "view", "attachments")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int


@dataclass
class FakeSlack:
    """The Slack Web API as far as referbot uses it."""

    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    _failures: deque[tuple[int, float | None]] = field(default_factory=deque)
    #: (status, delay) for calls that take effect and then answer late or with an error.
    _after_effects: deque[tuple[int, float]] = field(default_factory=deque)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _server: HttpServer | None = None
    url: str = ""
    #: When set, calls with another bearer token are answered `invalid_auth`, as Slack does.
    token: str | None = None
    #: Channel id -> whether the bot is a member; ids not listed are `channel_not_found`.
    channels: dict[str, bool] = field(default_factory=dict)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # slack_sdk GETs some methods (conversations.history, .info)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._server = HttpServer(app, "127.0.0.1", 0)
        await self._server.start()
        self.url = f"http://127.0.0.1:{self._server.port}/api/"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    def fail_next(self, count: int, status: int = 500, retry_after: float | None = None) -> None:
        """Answer the next `count` calls with `status` (and a Retry-After header if given)."""
        self._failures.extend([(status, retry_after)] * count)

    def lose_next_response(self, status: int = 500, delay: float = 0.0) -> None:
        """Carry out the next call, then answer `status` after `delay` seconds: Slack posted, but the
        caller cannot know (a lost response, or one that comes after the client's timeout)."""
        self._after_effects.append((status, delay))

    def succeeded(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method and c.status == 200]

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def _arguments(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for key in _JSON_ARGUMENTS:
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._arguments(request)
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.token is not None and given != self.token:
            self.calls.append(Call(method, args, 200))
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self._failures:
            status, retry_after = self._failures.popleft()
            self.calls.append(Call(method, args, status))
            headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
            error = "ratelimited" if status == 429 else "internal_error"
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        result = answer(args) if answer else {"ok": False, "error": "unknown_method"}
        if self._after_effects and method != "conversations.history":
            status, delay = self._after_effects.popleft()
            self.calls.append(Call(method, args, 200))  # it happened, whatever the caller hears
            await asyncio.sleep(delay)
            return web.json_response({"ok": False, "error": "internal_error"}, status=status)
        self.calls.append(Call(method, args, 200))
        return web.json_response(result)

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.example/", "team": "Fake", "user": "referbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "BBOT0001"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {"type": "message", "ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks", []),
                   "bot_id": "BBOT0001", "user": BOT_USER_ID}
        metadata = args.get("metadata")
        if metadata:
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self.messages[(args["channel"], ts)] = message
        return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((args["channel"], args["ts"]))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.update(text=args.get("text", ""), blocks=args.get("blocks", []))
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": message["text"]}

    def _chat_postEphemeral(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0FAKE", **args["view"]}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).split(",")[0]}}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):08d}"
        return {"ok": True, "file_id": file_id, "upload_url": self.url.replace("/api/", f"/upload/{file_id}")}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"] if isinstance(args["files"], list) else json.loads(args["files"])
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title"), "channels": [args.get("channel_id")]}
                                      for f in files]}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first, as Slack answers; metadata only with include_all_metadata."""
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [({k: v for k, v in m.items() if k != "metadata" or with_metadata})
                 for (channel, ts), m in sorted(self.messages.items(), key=lambda item: item[0][1], reverse=True)
                 if channel == args.get("channel") and float(ts) >= float(args.get("oldest") or 0)]
        return {"ok": True, "messages": found[:int(args.get("limit") or 100)], "has_more": False}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "name": f"alerts-{channel.lower()}", "is_channel": True,
                                        "is_member": self.channels[channel]}}

    def _apps_connections_open(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "ws://127.0.0.1:9/link"}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user", "")
        return {"ok": True, "user": {"id": user, "name": user.lower(), "real_name": f"User {user}"}}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Sends requests to the app's `/slack/events` the way Slack does, signed with `secret`."""

    def __init__(self, url: str, secret: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.secret = secret
        self.session = session
        self._event_ids = itertools.count(1)

    async def post(self, body: bytes, content_type: str, *, secret: str | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, str]:
        timestamp = str(int(time.time()))
        signed = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
                  "X-Slack-Signature": sign(secret or self.secret, timestamp, body), **(headers or {})}
        async with self.session.post(self.url, data=body, headers=signed) as response:
            return response.status, await response.text()

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None,
                    secret: str | None = None) -> tuple[int, str]:
        body = {"token": "unused", "team_id": TEAM_ID, "api_app_id": "A0FAKE", "type": "event_callback",
                "event": event, "event_id": event_id or f"Ev{next(self._event_ids):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry_num is not None else None
        return await self.post(json.dumps(body).encode(), "application/json", secret=secret, headers=headers)

    async def dm(self, user_id: str, text: str, *, event_id: str | None = None,
                 retry_num: int | None = None) -> tuple[int, str]:
        event = {"type": "message", "channel": f"D{user_id}", "channel_type": "im", "user": user_id,
                 "text": text, "ts": f"{time.time():.6f}"}
        return await self.event(event, event_id=event_id, retry_num=retry_num)

    async def command(self, user_id: str, text: str) -> tuple[int, str]:
        form = {"token": "unused", "team_id": TEAM_ID, "team_domain": "fake", "channel_id": "C0GENERAL",
                "channel_name": "general", "user_id": user_id, "user_name": user_id.lower(),
                "command": "/referbot", "text": text, "api_app_id": "A0FAKE",
                "response_url": "https://hooks.slack.example/commands/1", "trigger_id": "1.2.3"}
        return await self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    async def press(self, user_id: str, channel: str, message: dict[str, Any], button: dict[str, Any],
                    action_ts: str | None = None) -> tuple[int, str]:
        """Press `button` (as found in the message's blocks) on `message` in `channel`."""
        return await self._actions(user_id, button, action_ts, {
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
            "channel": {"id": channel, "name": "x"}, "message": message})

    async def press_on_home(self, user_id: str, view: dict[str, Any], button: dict[str, Any]) -> tuple[int, str]:
        """Press `button` on the App Home `view` as published (no channel, no message)."""
        return await self._actions(user_id, button, None, {
            "container": {"type": "view", "view_id": view.get("id", "V0FAKE")}, "view": view})

    async def _actions(self, user_id: str, button: dict[str, Any], action_ts: str | None,
                       where: dict[str, Any]) -> tuple[int, str]:
        action = {"type": "button", "action_id": button["action_id"], "block_id": button.get("block_id", "b"),
                  "text": button["text"], "value": button["value"], "action_ts": action_ts or f"{time.time():.6f}"}
        payload = {"type": "block_actions", "user": {"id": user_id, "team_id": TEAM_ID}, "team": {"id": TEAM_ID},
                   "api_app_id": "A0FAKE", "token": "unused", "trigger_id": "1.2.3",
                   "response_url": "https://hooks.slack.example/actions/1", "actions": [action], **where}
        return await self.post(urlencode({"payload": json.dumps(payload)}).encode(),
                               "application/x-www-form-urlencoded")


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button in a message's actions blocks, each with its block id."""
    return [{**element, "block_id": block["block_id"]} for block in message.get("blocks", [])
            if block["type"] == "actions" for element in block["elements"]]


def button(message: dict[str, Any], *, action_id: str | None = None, value: str | None = None) -> dict[str, Any]:
    found = [b for b in buttons(message) if (action_id is None or b["action_id"] == action_id)
             and (value is None or b["value"] == value)]
    assert len(found) == 1, f"expected one button {action_id or value!r}, found {found} in {message}"
    return found[0]


def all_text(blocks: list[dict[str, Any]]) -> str:
    """Every string inside some blocks, to check what a reader (or Slack's parser) would see."""
    if isinstance(blocks, dict):
        return "\n".join(all_text(v) for v in blocks.values())
    if isinstance(blocks, list):
        return "\n".join(all_text(v) for v in blocks)
    return blocks if isinstance(blocks, str) else ""
