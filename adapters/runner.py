"""`referbot run`: start every configured channel, the HTTP server, and the background workers."""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from datetime import timedelta

from adapters import Channel
from adapters.console import run_interactive
from adapters.http import HttpServer, health_app
from referbot.app import Runtime
from referbot.domain import OutboxKind
from referbot.nudger import run_nudger
from referbot.outbox import OutboxWorker
from referbot.store import UnitOfWork

log = logging.getLogger(__name__)

#: Channel modules, each with `configure(runtime) -> Channel | None`.
CHANNEL_MODULES: tuple[str, ...] = (
    "adapters.slack",
    "adapters.telegram",
)


def configured_channels(runtime: Runtime) -> list[Channel]:
    channels = []
    for module_name in CHANNEL_MODULES:
        channel = importlib.import_module(module_name).configure(runtime)
        if channel is not None:
            channels.append(channel)
    return channels


async def serve(runtime: Runtime, *, console_user: str | None) -> None:
    """Run until interrupted (or, with a console user, until they leave the chat)."""
    channels = configured_channels(runtime)
    worker = OutboxWorker(runtime.database, [n for c in channels for n in c.notifiers()])
    runtime.service.on_alert = worker.wake
    web_app = health_app(runtime.database)
    needs_http = [c.mount(web_app) for c in channels]
    server = HttpServer(web_app, runtime.settings.http_host, runtime.settings.http_port) if any(needs_http) else None
    background = [asyncio.create_task(worker.run_forever(), name="outbox"),
                  asyncio.create_task(_forget_old_deliveries(runtime), name="housekeeping")]
    if any(n.accepts(OutboxKind.NUDGE) for n in worker.notifiers):  # nudges wait in the database until then
        background.append(asyncio.create_task(
            run_nudger(runtime.database, runtime.profile, runtime.service.clock, on_enqueued=worker.wake), name="nudger"))
    try:
        if server is not None:
            await server.start()
            log.info("HTTP server on http://%s:%s", server.host, server.port)
        for channel in channels:
            await channel.start()
            log.info("%s channel started", channel.name)
        if console_user is not None:
            await run_interactive(runtime.service.handle, console_user)
        else:
            await _until_stopped()
    finally:
        for channel in reversed(channels):
            await channel.stop()
        if server is not None:
            await server.stop()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)


async def _forget_old_deliveries(runtime: Runtime, every: float = 3600.0,
                                  keep: timedelta = timedelta(days=7)) -> None:
    """Delivery ids only need remembering while a platform may redeliver (minutes); a week is ample."""
    while True:
        try:
            async with UnitOfWork(runtime.database) as uow:
                await uow.events.forget_before(runtime.service.clock() - keep)
                await uow.commit()
        except Exception:  # housekeeping must never take the bot down
            log.exception("could not purge old delivery ids")
        await asyncio.sleep(every)


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
