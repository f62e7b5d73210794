"""The Slack channel: alerts with status buttons, `/referbot`, the App Home, and intake in DMs.

HTTP mode (SLACK_SIGNING_SECRET) serves `/slack/events` on the project's one HTTP server; Socket
Mode (SLACK_APP_TOKEN) connects out instead and mounts nothing. Bolt verifies every HTTP request's
signature. The Web API client never retries a 429 itself: alerts go through the outbox, which
honours Retry-After and owns retries, so an alert is posted once.
"""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.notifier import SlackNotifier
from adapters.slack.listeners import Listeners
from adapters.slack.staff import StaffDesk
from referbot.app import Runtime
from referbot.ports import Notifier
from referbot.settings import SettingsError

EVENTS_PATH = "/slack/events"


class SlackChannel:
    name = "slack"

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.app_token = settings.slack_app_token
        self.socket_mode = bool(self.app_token)
        if not self.socket_mode and not settings.slack_signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET is required to receive Slack events over HTTP "
                                "(or set SLACK_APP_TOKEN to use Socket Mode).")
        self.client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
        # Socket Mode requests are not signed (the connection is authenticated), hence "" there.
        self.app = AsyncApp(client=self.client, signing_secret=settings.slack_signing_secret or "",
                            process_before_response=True)
        service = runtime.service
        desk = StaffDesk(runtime.database, runtime.profile, service.clock)
        Listeners(service, runtime.profile, desk).register(self.app)
        self.alerts = (SlackNotifier(self.client, runtime.database, runtime.profile, settings.slack_alert_channel)
                       if settings.slack_alert_channel else None)
        self._socket: AsyncSocketModeHandler | None = None

    def notifiers(self) -> list[Notifier]:
        return [self.alerts] if self.alerts is not None else []

    def mount(self, app: web.Application) -> bool:
        """HTTP mode: events, slash commands and interactivity all arrive at `/slack/events`."""
        if self.socket_mode:
            return False
        app.router.add_post(EVENTS_PATH, self._handle)
        return True

    async def _handle(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

    async def start(self) -> None:
        if self.socket_mode:
            self._socket = AsyncSocketModeHandler(self.app, self.app_token)
            await self._socket.connect_async()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None


def configure(runtime: Runtime) -> SlackChannel | None:
    """The Slack channel when SLACK_BOT_TOKEN is set; None otherwise."""
    return SlackChannel(runtime) if runtime.settings.slack_bot_token else None
