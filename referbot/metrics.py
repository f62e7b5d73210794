"""Prometheus metrics: what this process handled, and the state of the work waiting in the database.

Counters (`*_total`) count events in this process since it started: messages, intakes started,
completed, cancelled, crises. Everything that waits — open and abandoned intakes per step, alerts
queued / delivered / failing and the age of the oldest undelivered one, nudges due and acted on — is
read from the database at each scrape, so it is right however many workers share the database and
survives restarts. No label ever carries a name, a text or an id: only channels, steps, kinds, states.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy import case, func, or_, select

from referbot.domain import ConversationStatus, Inbound, NudgeState, OutboxKind
from referbot.service import Outcome
from referbot.store import Database
from referbot.store.models import Conversation, NudgeRecord, OutboxMessage

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

#: An intake nobody has answered for this long counts as abandoned at the step it stopped on.
ABANDONED_AFTER = timedelta(hours=24)


class Metrics:
    """One registry per running bot (tests build as many as they like without clashing)."""

    def __init__(self, database: Database, clock: Callable[[], datetime],
                 abandoned_after: timedelta = ABANDONED_AFTER) -> None:
        self.database = database
        self.clock = clock
        self.abandoned_after = abandoned_after
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter("referbot_messages_handled", "Messages and button presses handled", ["channel"],
                                registry=r)
        self.duplicates = Counter("referbot_duplicate_deliveries", "Redelivered events ignored", ["channel"], registry=r)
        self.started = Counter("referbot_intakes_started", "Intakes begun", ["channel"], registry=r)
        self.completed = Counter("referbot_intakes_completed", "Intakes submitted, by fit verdict", ["verdict"],
                                 registry=r)
        self.cancelled = Counter("referbot_intakes_cancelled", "Intakes the referrer cancelled", ["channel"], registry=r)
        self.crises = Counter("referbot_crises", "Intakes stopped by crisis language", ["channel"], registry=r)
        self.open = Gauge("referbot_intakes_open", "Intakes waiting for the referrer's answer, by step", ["step"],
                          registry=r)
        self.abandoned = Gauge("referbot_intakes_abandoned",
                               f"Open intakes unanswered for over {abandoned_after}, by the step they stopped at",
                               ["step"], registry=r)
        self.outbox = Gauge("referbot_outbox_messages", "Alerts and nudges in the outbox by kind and state "
                            "(queued: not yet tried; failing: tried and waiting to retry; delivered)",
                            ["kind", "state"], registry=r)
        self.failed_attempts = Gauge("referbot_outbox_failed_attempts", "Delivery attempts that failed, by kind",
                                     ["kind"], registry=r)
        self.oldest = Gauge("referbot_outbox_oldest_undelivered_seconds",
                            "Age of the oldest undelivered outbox message, by kind (0 when none waits)", ["kind"],
                            registry=r)
        self.nudges = Gauge("referbot_nudges", "Nudges by state; due: pending (or back from a snooze) and due now",
                            ["state"], registry=r)

    def observe(self, inbound: Inbound, outcome: Outcome) -> None:
        """Count one handled event (the service calls this after every commit)."""
        if outcome.duplicate:
            self.duplicates.labels(inbound.channel).inc()
            return
        self.messages.labels(inbound.channel).inc()
        if outcome.started:
            self.started.labels(inbound.channel).inc()
        if outcome.crisis:
            self.crises.labels(inbound.channel).inc()
        if outcome.submitted and outcome.verdict is not None:
            self.completed.labels(outcome.verdict.value).inc()
        elif outcome.state is ConversationStatus.CANCELLED:
            self.cancelled.labels(inbound.channel).inc()

    async def render(self) -> bytes:
        """The Prometheus text format, with the database gauges read just now."""
        await self.refresh()
        return generate_latest(self.registry)

    async def refresh(self) -> None:
        now = self.clock()
        async with self.database.sessions() as session:
            intakes = (await session.execute(
                select(Conversation.step, func.count(),
                       func.sum(case((Conversation.updated_at < now - self.abandoned_after, 1), else_=0)))
                .where(Conversation.status == ConversationStatus.ASKING.value)
                .group_by(Conversation.step))).all()
            outbox = (await session.execute(
                select(OutboxMessage.kind,
                       func.sum(case((OutboxMessage.sent_at.is_not(None), 1), else_=0)),
                       func.sum(case((OutboxMessage.sent_at.is_(None) & (OutboxMessage.attempts == 0), 1), else_=0)),
                       func.sum(case((OutboxMessage.sent_at.is_(None) & (OutboxMessage.attempts > 0), 1), else_=0)),
                       func.sum(OutboxMessage.attempts) - func.sum(case((OutboxMessage.sent_at.is_not(None), 1), else_=0)),
                       func.min(case((OutboxMessage.sent_at.is_(None), OutboxMessage.created_at))))
                .group_by(OutboxMessage.kind))).all()
            nudges = (await session.execute(select(NudgeRecord.state, func.count()).group_by(NudgeRecord.state))).all()
            due = (await session.scalar(select(func.count()).select_from(NudgeRecord).where(
                NudgeRecord.due_at <= now,
                or_(NudgeRecord.state == NudgeState.PENDING.value,
                    (NudgeRecord.state == NudgeState.SNOOZED.value) & (NudgeRecord.snoozed_until <= now))))) or 0
        self._set_intakes(intakes)
        self._set_outbox(outbox, now)
        self.nudges.clear()
        for state in NudgeState:
            self.nudges.labels(state.value).set(0)
        for state, count in nudges:
            self.nudges.labels(state).set(count)
        self.nudges.labels("due").set(due)

    def _set_intakes(self, rows: list) -> None:
        self.open.clear()
        self.abandoned.clear()
        for step, count, abandoned in rows:
            self.open.labels(step or "").set(count)
            self.abandoned.labels(step or "").set(abandoned or 0)

    def _set_outbox(self, rows: list, now: datetime) -> None:
        by_kind = {kind: row for kind, *row in rows}
        for kind in OutboxKind:
            delivered, queued, failing, failed, oldest = by_kind.get(kind.value, (0, 0, 0, 0, None))
            self.outbox.labels(kind.value, "delivered").set(delivered or 0)
            self.outbox.labels(kind.value, "queued").set(queued or 0)
            self.outbox.labels(kind.value, "failing").set(failing or 0)
            self.failed_attempts.labels(kind.value).set(failed or 0)
            self.oldest.labels(kind.value).set(_age(oldest, now))


def _age(created: datetime | None, now: datetime) -> float:
    return max(0.0, (now - created).total_seconds()) if created is not None else 0.0
