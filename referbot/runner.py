"""`referbot run`: start every enabled channel, the HTTP server, and the background workers.

Channels come from the registry (`referbot.channels`); this module never names one.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Iterable, Sequence

from referbot.app import Runtime
from referbot.channels import Channel, Configured, RunningChannel, enabled
from referbot.domain import OutboxKind
from referbot.erasure import purge
from referbot.http import HttpServer, health_app
from referbot.nudger import run_nudger
from referbot.outbox import OutboxWorker
from referbot.sending import NoteNotifier
from referbot.store import UnitOfWork, uninterrupted

log = logging.getLogger(__name__)


def build_channels(runtime: Runtime, configured: Sequence[Configured]) -> list[RunningChannel]:
    """The enabled channels, built (their SDKs imported) in delivery order."""
    return [c.channel.build(runtime, c.settings) for c in enabled(configured)]


def note_notifier(running: Iterable[tuple[Channel, RunningChannel]]) -> NoteNotifier:
    """Notes to referrers, through each running channel that can write to them (chat, email)."""
    return NoteNotifier({channel.name: channel.note_sender(built)
                         for channel, built in running if channel.note_sender is not None})


async def serve(runtime: Runtime, configured: Sequence[Configured], *,
                console: Callable[[], Awaitable[None]] | None = None) -> None:
    """Run until interrupted (or, with a console chat, until the person leaves it)."""
    channels = build_channels(runtime, configured)
    worker = OutboxWorker(runtime.database, [*(n for c in channels for n in c.notifiers()),
                                             note_notifier(zip((c.channel for c in enabled(configured)), channels))])
    runtime.service.on_alert = worker.wake
    web_app = health_app(runtime.database)
    needs_http = [c.mount(web_app) for c in channels]
    server = HttpServer(web_app, runtime.settings.http_host, runtime.settings.http_port) if any(needs_http) else None
    background = [asyncio.create_task(worker.run_forever(), name="outbox"),
                  asyncio.create_task(_forget_old_deliveries(runtime), name="housekeeping"),
                  asyncio.create_task(_apply_retention(runtime), name="retention")]
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
        if console is not None:
            await console()
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
            await uninterrupted(_forget_deliveries_before(runtime, runtime.service.clock() - keep))
        except Exception:  # housekeeping must never take the bot down
            log.exception("could not purge old delivery ids")
        await asyncio.sleep(every)


async def _apply_retention(runtime: Runtime, every: float = 86400.0) -> None:
    """The profile's retention rules, at start and then daily (`referbot purge` does the same now)."""
    while True:
        try:
            retention = runtime.profile.privacy.retention
            plan = await uninterrupted(purge(runtime.database, retention, runtime.service.clock()))
            if not plan.empty:
                log.info("retention: erased %d referral(s), deleted %d abandoned intake(s)",
                         len(plan.referral_ids), plan.abandoned_intakes)
        except Exception:  # housekeeping must never take the bot down; tomorrow tries again
            log.exception("retention: could not apply the retention rules")
        await asyncio.sleep(every)


async def _forget_deliveries_before(runtime: Runtime, cutoff: datetime) -> None:
    async with UnitOfWork(runtime.database) as uow:
        await uow.events.forget_before(cutoff)
        await uow.commit()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
