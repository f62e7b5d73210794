"""`referbot run`: start every enabled channel, the HTTP server, and the background workers.

Channels come from the registry (`referbot.channels`); this module never names one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Iterable, Sequence

from referbot.app import Runtime
from referbot.channels import Channel, Configured, RunningChannel, enabled
from referbot.domain import OutboxKind
from referbot.erasure import purge
from referbot.http import HttpServer, health_app
from referbot.leader import Leadership
from referbot.metrics import Metrics
from referbot.nudger import run_nudger
from referbot.outbox import OutboxWorker
from referbot.ports import RetryLater
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
                console: Callable[[], Awaitable[None]] | None = None, drain: float = 10.0) -> None:
    """Run until SIGINT or SIGTERM (or, with a console chat, until the person leaves it).

    Channels connect in the background, each retrying while its platform cannot be reached, so one
    outage neither kills the bot nor holds up the others. On the way out the outbox worker finishes
    the deliveries in hand (at most `drain` seconds) instead of being cut off mid-send.
    """
    channels = build_channels(runtime, configured)
    worker = OutboxWorker(runtime.database, [*(n for c in channels for n in c.notifiers()),
                                             note_notifier(zip((c.channel for c in enabled(configured)), channels))])
    runtime.service.on_alert = worker.wake
    metrics = Metrics(runtime.database, runtime.service.clock)
    runtime.service.on_outcome = metrics.observe
    web_app = health_app(runtime.database, metrics)
    needs_http = [c.mount(web_app) for c in channels]
    # A server (not someone chatting in a terminal) always gets health checks and metrics.
    serving = any(needs_http) or console is None
    server = HttpServer(web_app, runtime.settings.http_host, runtime.settings.http_port) if serving else None
    outbox = asyncio.create_task(worker.run_forever(), name="outbox")
    leadership = Leadership(runtime.database)  # periodic jobs run on one worker of several
    background = [asyncio.create_task(_forget_old_deliveries(runtime, leadership), name="housekeeping"),
                  asyncio.create_task(_apply_retention(runtime, leadership), name="retention")]
    if any(n.accepts(OutboxKind.NUDGE) for n in worker.notifiers):  # nudges wait in the database until then
        background.append(asyncio.create_task(
            run_nudger(runtime.database, runtime.profile, runtime.service.clock, on_enqueued=worker.wake,
                       leadership=leadership), name="nudger"))
    try:
        if server is not None:
            await server.start()
            log.info("HTTP server on http://%s:%s", server.host, server.port)
        background += [asyncio.create_task(start_with_retry(c), name=f"start {c.name}") for c in channels]
        ending = [asyncio.create_task(_until_stopped(), name="signals")]
        if console is not None:
            ending.append(asyncio.create_task(console(), name="console"))
        await _until_done(ending, background)
    finally:
        await runtime.service.admission.drain()  # queued turns answer before their channels close
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await leadership.release()
        await _drain(worker, outbox, drain)  # while the channels' clients can still deliver
        for channel in reversed(channels):
            await channel.stop()
        if server is not None:
            await server.stop()


async def start_with_retry(channel: RunningChannel, first_wait: float = 1.0, cap: float = 60.0) -> None:
    """Start `channel`, waiting 1, 2, 4 … 60 s (or the platform's own hint) between attempts while it
    cannot be reached; one log line per attempt. A rejected token (SettingsError) ends the bot."""
    for attempt in itertools.count(1):
        try:
            await channel.start()
        except RetryLater as problem:
            wait = problem.after if problem.after is not None else min(cap, first_wait * 2 ** (attempt - 1))
            log.warning("%s: %s; attempt %d failed, trying again in %.0f s", channel.name, problem, attempt, wait)
            await asyncio.sleep(wait)
        else:
            log.info("%s channel started", channel.name)
            return


async def _until_done(ending: list[asyncio.Task], background: list[asyncio.Task]) -> None:
    """Wait until one `ending` task ends (a signal, the console user leaving) or a background task
    fails (a channel's token rejected: its error is raised); then cancel the other ending tasks."""
    pending = {*ending, *background}
    try:
        while True:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            failed = [t for t in done if not t.cancelled() and t.exception() is not None]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
            if any(t in ending for t in done):
                return
    finally:
        for task in ending:
            task.cancel()
        await asyncio.gather(*ending, return_exceptions=True)


async def _drain(worker: OutboxWorker, task: asyncio.Task, seconds: float) -> None:
    worker.stop()
    try:
        await asyncio.wait_for(task, seconds)
    except asyncio.TimeoutError:
        log.warning("outbox: deliveries still in progress after %.0f s were stopped; they resume at the next start",
                    seconds)
    except Exception:  # noqa: BLE001 — shutting down: say so, and go on stopping
        log.exception("outbox worker failed while stopping")


async def _forget_old_deliveries(runtime: Runtime, leadership: Leadership, every: float = 3600.0,
                                  keep: timedelta = timedelta(days=7)) -> None:
    """Delivery ids only need remembering while a platform may redeliver (minutes); a week is ample."""
    while True:
        try:
            if await leadership.holds():
                await uninterrupted(_forget_deliveries_before(runtime, runtime.service.clock() - keep))
        except Exception:  # housekeeping must never take the bot down
            log.exception("could not purge old delivery ids")
        await asyncio.sleep(every)


async def _apply_retention(runtime: Runtime, leadership: Leadership, every: float = 86400.0) -> None:
    """The profile's retention rules, at start and then daily (`referbot purge` does the same now),
    on the leader only when several workers share the database."""
    while True:
        try:
            if await leadership.holds():
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
    """Until SIGINT or SIGTERM (what systemd and container runtimes send to stop a service)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
