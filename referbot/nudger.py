"""The nudger: relationship reminders for referral sources, due from the database, sent once.

Public API (Slack, Telegram and the CLI call these):
- `due_nudges(database, profile, now)` — what is due now: materialises due nudges (so each has an
  id to act on) and returns the pending ones and those whose snooze has ended; done/skipped never.
- `render_nudges(nudges)` — plain text for chat (`/nudges`) and the terminal.
- `act_on_nudge(database, nudge_id, action, by=, now=, days=)` — "done" (records the matching
  touchpoint: thanked, update_sent, check_in, referred_back; for first_contact it marks the referral
  contacted), "snooze" (`days`, default 1; it comes back after) or "skip". Done and skip end a nudge;
  acting on an ended one changes nothing, so a double-clicked button is harmless.
- `enqueue_due(database, profile, now)` / `run_nudger(database, profile, clock, interval)` — the loop.
- `log_touchpoint(...)` — `referbot sources touch`: a contact made outside a nudge.

Nothing is kept in memory: every tick recomputes the rules (`referbot.nudges.rules`) from the
database, inserts missing nudge rows by unique key and claims the unsent ones atomically, so a
restart loses nothing and two schedulers never enqueue the same nudge.

Delivery happens only while the office is open (`practice.office_hours`, in its time zone, DST
included): a nudge due at 08:00 is delivered at 09:00. `nudges.delivery` picks the outbox shape:

- `each`: one `OutboxKind.NUDGE` row per nudge, key `nudge:<id>:<snoozes>` (a snoozed nudge that
  comes back is a new delivery), payload
  `{"nudge_id": 7, "kind": "thank_source", "title": "Thank the referrer", "source": "Dr. Ann Lee",
    "text": "<reminder with context>", "draft": "<note to send>"}`.
- `digest`: at most one row per office day, key `digest:<local date>`, sent at the first tick of
  the day and covering every nudge due by that day's closing time, payload
  `{"digest": true, "nudge_ids": [7, 9], "text": "<render_nudges of all>", "nudges": [<each payload>]}`.

Notifiers render the payload with Done / Snooze 1 day / Snooze 1 week / Skip buttons that call
`act_on_nudge` with the `nudge_id`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Callable

from referbot.errors import BadRequest, NotFound
from referbot.domain import NudgeKind, NudgeState, OutboxKind, ReferralStatus, TouchpointKind
from referbot.leader import Leadership
from referbot.nudges.model import Nudge
from referbot.nudges.notes import describe, render_nudges
from referbot.nudges.office_hours import closing, is_open, local_date
from referbot.nudges.records import NudgeRecords
from referbot.nudges.rules import candidates
from referbot.nudges.scope import Remember, due_scope, remember
from referbot.profile import Profile
from referbot.referrals import record_change
from referbot.service import Clock, utcnow
from referbot.sources import UnknownSource, source_named
from referbot.store import Database, UnitOfWork, uninterrupted
from referbot.store.models import NudgeRecord, Source, Touchpoint

__all__ = ["ACTIONS", "Nudge", "NudgeKind", "UnknownNudge", "UnknownSource", "act_on_nudge", "due_nudges",
           "enqueue_due", "log_touchpoint", "render_nudges", "run_nudger"]

log = logging.getLogger(__name__)

ACTIONS = ("done", "snooze", "skip")

#: The contact a "done" records, per kind (first_contact marks the referral contacted instead).
TOUCH_ON_DONE = {
    NudgeKind.THANK_SOURCE: TouchpointKind.THANKED,
    NudgeKind.CLOSE_LOOP: TouchpointKind.UPDATE_SENT,
    NudgeKind.STAY_IN_TOUCH: TouchpointKind.CHECK_IN,
    NudgeKind.RECIPROCITY: TouchpointKind.REFERRED_BACK,
    NudgeKind.LAPSED_SOURCE: TouchpointKind.CHECK_IN,
}


class UnknownNudge(NotFound):
    """No nudge has that id."""


async def due_nudges(database: Database, profile: Profile, now: datetime) -> list[Nudge]:
    """Every nudge due at `now`, soonest first, each with fresh context and draft."""
    async with UnitOfWork(database) as uow:
        due = await _due(uow, profile, now, now)
        await uow.commit()
    return [nudge for _, nudge in due]


async def enqueue_due(database: Database, profile: Profile, now: datetime) -> int:
    """Hand the due, not yet delivered nudges to the outbox if the office is open; returns how many."""
    hours = profile.practice.office_hours
    if not is_open(now, hours):
        return 0
    digest = profile.nudges.delivery == "digest"
    digest_key = f"digest:{local_date(now, hours)}"
    async with UnitOfWork(database) as uow:
        if digest and await uow.outbox.by_key(digest_key) is not None:
            return 0
        horizon = closing(local_date(now, hours), hours) if digest else now
        due = await _due(uow, profile, now, horizon)
        won = await NudgeRecords(uow.session).claim([row.id for row, _ in due if row.notified_at is None], now)
        sending = [(row, nudge) for row, nudge in due if row.id in won]
        await _hand_to_outbox(uow, sending, digest_key if digest else None, now)
        await uow.commit()
    return len(sending)


async def _hand_to_outbox(uow: UnitOfWork, sending: list[tuple[NudgeRecord, Nudge]], digest_key: str | None,
                          now: datetime) -> None:
    """One outbox row per nudge, or one digest row for all of them (the payloads of the docstring)."""
    if digest_key is None:
        for row, nudge in sending:
            await uow.outbox.enqueue(OutboxKind.NUDGE, f"nudge:{row.id}:{row.snoozes}", nudge.payload(), now)
    elif sending:
        nudges = [nudge for _, nudge in sending]
        await uow.outbox.enqueue(OutboxKind.NUDGE, digest_key, {
            "digest": True, "nudge_ids": [n.id for n in nudges], "text": render_nudges(nudges),
            "nudges": [n.payload() for n in nudges]}, now)


async def run_nudger(database: Database, profile: Profile, clock: Clock = utcnow, interval: float = 300.0,
                     on_enqueued: Callable[[], None] = lambda: None, leadership: Leadership | None = None) -> None:
    """Every `interval` seconds, enqueue what is due (`on_enqueued` wakes the outbox worker) — on
    the leader only, when several workers share the database and a `leadership` is given."""
    while True:
        try:
            leading = leadership is None or await leadership.holds()
            if leading and await uninterrupted(enqueue_due(database, profile, clock())):
                on_enqueued()
        except Exception:  # a database hiccup must not stop reminders for good
            log.exception("nudger: round failed; retrying")
        await asyncio.sleep(interval)


async def act_on_nudge(database: Database, nudge_id: int, action: str, *, by: str, now: datetime,
                       days: int | None = None) -> Nudge:
    """Done, snooze (for `days`, default 1) or skip a nudge; returns it as it now stands."""
    if action not in ACTIONS:
        raise BadRequest(f"Unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    if days is not None and days < 1:
        raise BadRequest("Snooze for at least one day.")
    async with UnitOfWork(database) as uow:
        row = await NudgeRecords(uow.session).get_for_update(nudge_id)
        if row is None:
            raise UnknownNudge(f"No nudge #{nudge_id}.")
        if row.state not in (NudgeState.DONE.value, NudgeState.SKIPPED.value):
            if action == "done":
                await _record_done(uow, row, by=by, now=now)
            elif action == "snooze":
                row.state, row.snoozed_until = NudgeState.SNOOZED.value, now + timedelta(days=days or 1)
                row.snoozes, row.notified_at = row.snoozes + 1, None
            else:
                row.state = NudgeState.SKIPPED.value
            row.acted_by, row.acted_at = by, now
        source = await uow.sources.get(row.source_id) if row.source_id is not None else None
        await uow.commit()
        return _nudge(row, source.name if source else None)


async def log_touchpoint(database: Database, profile: Profile, name: str, kind: TouchpointKind, *, by: str,
                         now: datetime, note: str | None = None) -> tuple[Source, Touchpoint]:
    """Record a contact with a source (or with a colleague from the profile, who becomes one)."""
    async with UnitOfWork(database) as uow:
        source = await source_named(uow, profile, name, now)
        touchpoint = await uow.touchpoints.add(source, kind, at=now, note=note, by=by)
        await uow.commit()
        return source, touchpoint


async def _due(uow: UnitOfWork, profile: Profile, now: datetime,
               horizon: datetime) -> list[tuple[NudgeRecord, Nudge]]:
    """Materialise what is due by `horizon`, refresh each waiting nudge's text, return them paired;
    and write what the tick learnt about the sources it looked at (see `referbot.nudges.scope`)."""
    records = NudgeRecords(uow.session)
    scope = await due_scope(uow.session, profile, horizon)
    facts = await records.facts(scope)
    found = candidates(facts, profile, horizon)
    due: list[tuple[NudgeRecord, Nudge]] = []
    ended: list[Remember] = []
    if found:
        ended = await records.add_missing(found, now)
        referrals = {r.id: r for r in facts.referrals}
        for row in await records.live({c.key for c in found}, horizon):
            source = facts.sources.get(row.source_id) if row.source_id is not None else None
            referral = referrals.get(row.referral_id) if row.referral_id is not None else None
            row.text, row.draft = describe(NudgeKind(row.kind), source, referral, profile, now)
            due.append((row, _nudge(row, source.name if source else None)))
        await uow.session.flush()
    await remember(uow.session, scope.remember + ended)  # the sources last: see `remember`
    return due


async def _record_done(uow: UnitOfWork, row: NudgeRecord, *, by: str, now: datetime) -> None:
    row.state = NudgeState.DONE.value
    kind = NudgeKind(row.kind)
    if kind is NudgeKind.FIRST_CONTACT:
        referral = await uow.referrals.get(row.referral_id) if row.referral_id else None
        if referral is not None and referral.status == ReferralStatus.NEW.value:
            await record_change(uow, referral, by=by, now=now, status=ReferralStatus.CONTACTED,
                                note=f"first contact (nudge #{row.id})")
        return
    source = await uow.sources.get(row.source_id) if row.source_id is not None else None
    if source is not None:
        await uow.touchpoints.add(source, TOUCH_ON_DONE[kind], at=now, referral_id=row.referral_id, by=by,
                                  note=f"done from nudge #{row.id}")


def _nudge(row: NudgeRecord, source: str | None) -> Nudge:
    return Nudge(id=row.id, kind=NudgeKind(row.kind), source=source or "unknown referrer", due_at=row.due_at,
                 text=row.text, draft=row.draft, state=NudgeState(row.state), snoozed_until=row.snoozed_until,
                 source_id=row.source_id, referral_id=row.referral_id)
