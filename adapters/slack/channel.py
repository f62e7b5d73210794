"""The Slack channel at run time: one Bolt app, over HTTP (`/slack/events`) or Socket Mode.

Bolt verifies every HTTP request's signature. The Web API client never retries a 429 itself:
alerts go through the outbox, which honours Retry-After and owns retries, so an alert is posted once.
"""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import SlackSettings
from adapters.slack.listeners import Listeners
from adapters.slack.notes import SlackNoteSender
from adapters.slack.notifier import SlackNotifier
from adapters.slack.reach import FAILURES, explain, socket_mode_logger
from referbot.app import Runtime
from referbot.desk import Desk
from referbot.ports import Notifier

EVENTS_PATH = "/slack/events"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


class SlackChannel:
    name = "slack"

    def __init__(self, runtime: Runtime, settings: SlackSettings) -> None:
        self.app_token = settings.app_token
        self.socket_mode = bool(self.app_token)
        self.api_url = settings.api_url
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
        # Socket Mode requests are not signed (the connection is authenticated), hence "" there.
        self.app = AsyncApp(client=self.client, signing_secret=settings.signing_secret or "",
                            process_before_response=True)
        service = runtime.service
        desk = Desk(runtime.database, runtime.profile, service.clock)
        Listeners(service, runtime.profile, desk).register(self.app)
        self.alerts = SlackNotifier(self.client, desk, settings.alert_channel) if settings.alert_channel else None
        self._socket: AsyncSocketModeHandler | None = None

    def notifiers(self) -> list[Notifier]:
        return [self.alerts] if self.alerts is not None else []

    def note_sender(self) -> SlackNoteSender:
        """Notes to referrers who wrote from this workspace, as a DM from the app."""
        return SlackNoteSender(self.client)

    def mount(self, app: web.Application) -> bool:
        """HTTP mode: events, slash commands and interactivity all arrive at `/slack/events`."""
        if self.socket_mode:
            return False
        app.router.add_post(EVENTS_PATH, self._handle)
        return True

    async def _handle(self, request: web.Request) -> web.Response:
        """Bolt verifies the signature; what Bolt cannot parse is answered 4xx here, never 500."""
        if not request.headers.get(TIMESTAMP_HEADER, "").isdecimal():
            return web.Response(status=401, text="bad request timestamp")
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, KeyError, RecursionError):
            return web.Response(status=400, text="malformed request")
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def start(self) -> None:
        """Check the bot token, then connect Socket Mode if used: SettingsError for a rejected token,
        RetryLater while Slack cannot be reached."""
        try:
            await self.client.auth_test()
        except FAILURES as problem:
            raise explain(problem, self.api_url) from None
        if self.socket_mode:  # the client retries a lost connection by itself, one log line each time
            self._socket = AsyncSocketModeHandler(self.app, self.app_token, logger=socket_mode_logger())
            try:
                await self._socket.connect_async()
            except FAILURES as problem:
                await self.stop()
                raise explain(problem, self.api_url, "SLACK_APP_TOKEN") from None

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

