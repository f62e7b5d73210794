"""`/metrics`, `/healthz` and `/readyz` after a scripted run of intakes, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from referbot.http import HttpServer, health_app
from referbot.domain import Command, Inbound, OutboxKind
from referbot.engine import load_flow
from referbot.metrics import Metrics
from referbot.outbox import OutboxWorker
from referbot.ports import Envelope
from referbot.service import IntakeService
from tests.fakes import KeywordAssessor
from tests.integration.test_service import ANSWERS, say


class FlakyNotifier:
    """Delivers alerts, failing the first attempt of each."""

    name = "flaky"

    def __init__(self) -> None:
        self.tried: set[int] = set()

    def accepts(self, kind: OutboxKind) -> bool:
        return kind is not OutboxKind.NUDGE

    async def deliver(self, envelope: Envelope) -> dict[str, Any]:
        if envelope.id not in self.tried:
            self.tried.add(envelope.id)
            raise ConnectionError("upstream down")
        return {"ok": True}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_after_a_scripted_run_of_intakes(database, profile, clock) -> None:
    service = IntakeService(database, profile, load_flow(), KeywordAssessor(), clock)
    metrics = Metrics(database, clock)
    service.on_outcome = metrics.observe
    for user in ("ann", "bea"):  # two complete intakes
        await service.handle(Inbound("console", user))
        await say(service, user, *ANSWERS, "send")
    await service.handle(Inbound("console", "kim"))  # a crisis
    await say(service, "kim", "Kim", "other", "kim@example.org", "T", "19", "he says he wants to end it all")
    await service.handle(Inbound("console", "x"))  # a cancellation
    await say(service, "x", "Xavier", "other", "x@x.org")
    await service.handle(Inbound("console", "x", command=Command.CANCEL))
    await service.handle(Inbound("telegram", "7", text="hello", event_id="u1"))  # left at the first question …
    await service.handle(Inbound("telegram", "7", text="hello", event_id="u1"))  # … and delivered twice
    clock.advance(hours=25)
    await service.handle(Inbound("console", "late"))  # started just now: open, not abandoned

    worker = OutboxWorker(database, [FlakyNotifier()], clock=clock)
    await worker.run_once()  # every alert fails once …
    clock.advance(seconds=30)
    await service.handle(Inbound("console", "dee"))
    await say(service, "dee", *ANSWERS, "send")  # … and one more arrives after the round

    server = HttpServer(health_app(database, metrics), "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{server.port}"
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200 and response.content_type == "text/plain"
                found = samples(await response.text())
            for path in ("/healthz", "/readyz"):
                async with http.get(base + path) as response:
                    assert response.status == 200 and (await response.json()) == {"ok": True}
    finally:
        await server.stop()

    def value(name: str, **labels: str) -> float:
        return found.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("referbot_intakes_started_total", channel="console") == 6
    assert value("referbot_intakes_started_total", channel="telegram") == 1
    assert value("referbot_intakes_completed_total", verdict="good_fit") == 3
    assert value("referbot_crises_total", channel="console") == 1
    assert value("referbot_intakes_cancelled_total", channel="console") == 1
    assert value("referbot_duplicate_deliveries_total", channel="telegram") == 1
    handled = sum(v for (name, _), v in found.items() if name == "referbot_messages_handled_total")
    assert handled == 3 * (1 + len(ANSWERS) + 1) + 7 + 5 + 1 + 1
    assert value("referbot_intakes_open", step="referrer_name") == 2  # the telegram referrer and "late" …
    assert value("referbot_intakes_abandoned", step="referrer_name") == 1  # … of whom one went quiet 25 h ago
    assert value("referbot_outbox_messages", kind="referral_alert", state="failing") == 2
    assert value("referbot_outbox_messages", kind="referral_alert", state="queued") == 1
    assert value("referbot_outbox_messages", kind="crisis_alert", state="failing") == 1
    assert value("referbot_outbox_failed_attempts", kind="referral_alert") == 2
    assert value("referbot_outbox_failed_attempts", kind="crisis_alert") == 1
    assert value("referbot_outbox_oldest_undelivered_seconds", kind="crisis_alert") == 25 * 3600 + 30
    assert value("referbot_nudges", state="due") == 0

    for _ in range(2):
        clock.advance(seconds=30)
        await worker.run_once()
    after = samples((await metrics.render()).decode())
    assert after[("referbot_outbox_messages", (("kind", "referral_alert"), ("state", "delivered")))] == 3
    assert after[("referbot_outbox_oldest_undelivered_seconds", (("kind", "crisis_alert"),))] == 0


async def test_readyz_fails_while_the_database_is_unreachable(tmp_path) -> None:
    from referbot.store import Database

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'x.db'}")
    (tmp_path / "gone" / "x.db").unlink()
    (tmp_path / "gone").rmdir()
    server = HttpServer(health_app(database), "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{server.port}"
            async with http.get(f"{base}/healthz") as live, http.get(f"{base}/readyz") as ready:
                assert live.status == 200 and ready.status == 503
                assert (await ready.json())["error"] == "database unreachable"
    finally:
        await server.stop()
        await database.dispose()
