"""The one HTTP server: Slack events, the Telegram webhook, health checks and metrics share one port."""

from __future__ import annotations

from aiohttp import web

from referbot.metrics import CONTENT_TYPE_LATEST, Metrics
from referbot.settings import SettingsError
from referbot.store import Database


def health_app(database: Database, metrics: Metrics | None = None) -> web.Application:
    """An aiohttp application with `/healthz` (the process answers: liveness, for restarts), `/readyz`
    (the database answers too: readiness, for load balancers) and, given `metrics`, `/metrics`."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_request: web.Request) -> web.Response:
        if await database.ping():
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "database unreachable"}, status=503)

    async def scrape(_request: web.Request) -> web.Response:
        assert metrics is not None
        return web.Response(body=await metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if metrics is not None:
        app.router.add_get("/metrics", scrape)
    return app


class HttpServer:
    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; a port in use or a host that is not this machine's is SettingsError, in one line."""
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as problem:
            await self.stop()
            raise SettingsError(f"cannot listen on {self.host}:{self.port} ({problem.strerror or problem}): "
                                "set REFERBOT_HTTP_HOST / REFERBOT_HTTP_PORT to a free address.") from None
        sockets = getattr(site._server, "sockets", None) or []  # the real port when 0 was asked for
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
