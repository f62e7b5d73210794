"""The one HTTP server: Slack events, the Telegram webhook and the health check share one port."""

from __future__ import annotations

from aiohttp import web

from referbot.store import Database


def health_app(database: Database) -> web.Application:
    """An aiohttp application with `/healthz`: 200 while the database answers, 503 otherwise."""

    async def healthz(_request: web.Request) -> web.Response:
        if await database.ping():
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "database unreachable"}, status=503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


class HttpServer:
    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # the real port when 0 was asked for
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
