"""The referral lifecycle, corrections and search: every surface (CLI, Slack buttons, Telegram) comes here.

A status moves forward along ALLOWED; anything else (became_client back to new) is refused with the
moves that are possible, unless forced as a correction. Every change — status or corrected field —
goes through `record_change`, the one place a change is written down (and the place to hook an
audit log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from sqlalchemy import select

from referbot.audit import AuditAction, record
from referbot.domain import FitVerdict, ReferralStatus, TouchpointKind, funnel_stage
from referbot.errors import BadRequest, NotFound
from referbot.ports import Assessor
from referbot.profile import Profile
from referbot.sources import find_source, source_named
from referbot.store import Database, UnitOfWork
from referbot.store.models import Referral, ReferralEvent, Source, Touchpoint
from referbot.store.tallies import Counted, recount

S = ReferralStatus
_ENDINGS = {S.NOT_A_FIT, S.REFERRED_OUT, S.NO_RESPONSE, S.DECLINED_BY_CLIENT}
#: Where a referral may go from each status without `force`. A client who did not answer or
#: declined may come back; a client may be referred on after starting; nothing goes back to `new`.
ALLOWED: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.NEW: frozenset({S.CONTACTED, S.CONSULT_BOOKED, S.BECAME_CLIENT, *_ENDINGS}),
    S.CONTACTED: frozenset({S.CONSULT_BOOKED, S.BECAME_CLIENT, *_ENDINGS}),
    S.CONSULT_BOOKED: frozenset({S.BECAME_CLIENT, *_ENDINGS}),
    S.BECAME_CLIENT: frozenset({S.REFERRED_OUT}),
    S.NOT_A_FIT: frozenset({S.REFERRED_OUT}),
    S.NO_RESPONSE: frozenset({S.CONTACTED, S.CONSULT_BOOKED, S.BECAME_CLIENT, S.DECLINED_BY_CLIENT}),
    S.DECLINED_BY_CLIENT: frozenset({S.CONTACTED, S.CONSULT_BOOKED, S.BECAME_CLIENT}),
    S.REFERRED_OUT: frozenset(),
}


class UnknownReferral(NotFound):
    """No referral has that id."""


class StatusNotAllowed(BadRequest):
    """A status change outside the lifecycle, asked for without `force`."""


class BadEdit(BadRequest):
    """A field that cannot be edited, or a value it cannot take."""


def check_transition(current: ReferralStatus, wanted: ReferralStatus, *, force: bool) -> None:
    if force or wanted in ALLOWED[current]:
        return
    if wanted is current:
        raise StatusNotAllowed(f"The referral is already {current.value}.")
    options = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none (it is closed)"
    raise StatusNotAllowed(f"A referral cannot go from {current.value} to {wanted.value}; from {current.value} it "
                           f"can go to: {options}. To correct a mistake, use `referbot referrals set-status` with --force.")


async def record_change(uow: UnitOfWork, referral: Referral, *, by: str, now: datetime,
                        status: ReferralStatus | None = None, field: str | None = None, old: Any = None,
                        new: Any = None, note: str | None = None, forced: bool = False) -> None:
    """Write down one change of a referral (a new status, or a field's old and new value), and audit
    it: the only place referral changes are recorded. Its source is told, since a change (an
    outcome, consent to updates, a move) can make one of the referral's nudges due again."""
    action, what = (AuditAction.STATUS_CHANGE, status.value) if status is not None else (AuditAction.CORRECTION, field)
    record(uow, by, action, f"referral:{referral.id}:{what}", by.partition(":")[0], now)
    if status is not None:
        counted = Counted.of(referral)
        referral.status = status.value
        # a forced correction ("became_client" pressed by mistake, then set back) starts afresh
        referral.reached = funnel_stage(status.value) if forced else max(referral.reached or 0,
                                                                          funnel_stage(status.value))
        if referral.first_contact_at is None and status is not ReferralStatus.NEW:
            referral.first_contact_at = now  # the first move past `new` is the first contact
        await recount(uow.session, counted, Counted.of(referral))
    referral.updated_at = now
    uow.session.add(ReferralEvent(referral_id=referral.id, status=referral.status, by=by, note=note, at=now,
                                  field=field, old_value=_text(old), new_value=_text(new), forced=forced))
    await uow.session.flush()
    if referral.source_id is not None:
        await uow.sources.referral_changed(referral.source_id, referral.created_at)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


async def _referral(uow: UnitOfWork, referral_id: int) -> Referral:
    referral = await uow.referrals.get(referral_id)
    if referral is None:
        raise UnknownReferral(f"No referral #{referral_id}.")
    return referral


async def _done(uow: UnitOfWork, referral: Referral) -> Referral:
    await uow.commit()
    await uow.session.refresh(referral, ["events", "source"])
    return referral


async def set_referral_status(database: Database, referral_id: int, status: ReferralStatus, *, by: str,
                              now: datetime, note: str | None = None, force: bool = False) -> Referral:
    """Move a referral to `status` (refused outside ALLOWED unless `force`), recording who and when."""
    async with UnitOfWork(database) as uow:
        referral = await _referral(uow, referral_id)
        check_transition(ReferralStatus(referral.status), status, force=force)
        forced = status not in ALLOWED[ReferralStatus(referral.status)]
        await record_change(uow, referral, by=by, now=now, status=status, note=note, forced=forced)
        return await _done(uow, referral)


async def refer_out(database: Database, profile: Profile, referral_id: int, to: str, *, by: str, now: datetime,
                    note: str | None = None, force: bool = False) -> Referral:
    """Mark a referral referred out to a named source or colleague, and record that as a
    `referred_back` contact with them — both in one transaction, so neither stands alone."""
    async with UnitOfWork(database) as uow:
        referral = await _referral(uow, referral_id)
        check_transition(ReferralStatus(referral.status), ReferralStatus.REFERRED_OUT, force=force)
        target = await source_named(uow, profile, to, now)
        forced = ReferralStatus.REFERRED_OUT not in ALLOWED[ReferralStatus(referral.status)]
        await record_change(uow, referral, by=by, now=now, status=ReferralStatus.REFERRED_OUT,
                            note=note or f"referred to {target.name}", forced=forced)
        await uow.touchpoints.add(target, TouchpointKind.REFERRED_BACK, at=now, referral_id=referral.id, by=by,
                                  note=note or f"referral #{referral.id}")
        return await _done(uow, referral)


# --- corrections ----------------------------------------------------------------------------------


def _age(value: str) -> int:
    if not value.strip().isdigit() or not 0 <= int(value) <= 120:
        raise BadEdit(f"An age is a whole number from 0 to 120, not {value!r}.")
    return int(value)


def _yes_no(value: str) -> bool:
    answer = value.strip().lower()
    if answer in ("yes", "y", "true"):
        return True
    if answer in ("no", "n", "false"):
        return False
    raise BadEdit(f"Answer yes or no, not {value!r}.")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        wanted = value.strip().lower().replace(" ", "_").replace("-", "_")
        if wanted not in options:
            raise BadEdit(f"{value!r} is not one of: {', '.join(options)}.")
        return wanted
    return parse


def _free_text(value: str) -> str | None:
    return value.strip() or None


#: Field → how a typed value is read. `source` is handled apart (it moves the referral).
EDITABLE: dict[str, Callable[[str], Any]] = {
    "client_name": _free_text, "client_age": _age, "client_contact": _free_text,
    "presenting_issues": _free_text,
    "therapy_format": _choice("individual", "couples", "family", "group"),
    "modality": _choice("in_person", "telehealth", "either"),
    "urgency": _choice("routine", "soon", "urgent"),
    "payment": _choice("insurance", "private_pay", "sliding_scale", "unsure"),
    "consent_to_contact": _yes_no, "consent_to_update": _yes_no,
}
FIELDS = (*EDITABLE, "source")
#: Fields the fit is judged on: correcting one judges the fit again.
FIT_FIELDS = {"client_age", "presenting_issues", "therapy_format", "modality", "payment"}


@dataclass(frozen=True)
class Edit:
    referral: Referral
    field: str
    old: Any
    new: Any
    verdict_before: str


async def edit_referral(database: Database, profile: Profile, assessor: Assessor, referral_id: int, field: str,
                        value: str, *, by: str, now: datetime, note: str | None = None) -> Edit:
    """Correct one field, recording the old and new value; a fit-relevant field re-judges the fit
    (recorded too), and `source` moves the referral, with its received-referral contact, to another source."""
    if field not in FIELDS:
        raise BadEdit(f"{field!r} cannot be edited; one of: {', '.join(FIELDS)}.")
    async with UnitOfWork(database) as uow:
        referral = await _referral(uow, referral_id)
        verdict_before = referral.verdict
        if field == "source":
            old, new = await _move_to_source(uow, profile, referral, value)
        else:
            old, new = getattr(referral, field), EDITABLE[field](value)
            if field == "consent_to_update" and new and not referral.consent_to_contact:
                raise BadEdit("A client who did not agree to be contacted cannot have agreed to updates; "
                              "set consent_to_contact first.")
            setattr(referral, field, new)
            referral.answers = {**(referral.answers or {}), field: new}
            if field == "consent_to_contact" and not new:
                referral.consent_to_update = False
        if old == new:
            raise BadEdit(f"{field} is already {_text(new) or 'empty'}.")
        await record_change(uow, referral, by=by, now=now, field=field, old=old, new=new, note=note)
        if field in FIT_FIELDS and not referral.crisis:
            await _reassess(uow, referral, profile, assessor, by=by, now=now)
        referral = await _done(uow, referral)
        return Edit(referral, field, old, new, verdict_before)


async def _move_to_source(uow: UnitOfWork, profile: Profile, referral: Referral, name: str) -> tuple[str | None, str]:
    """Credit the referral, and the contact of its arrival, to another source; both sources' latest
    activity is read again from their history (the one left behind may now be quieter)."""
    target = await find_source(uow, name)
    old = referral.source.name if referral.source else None
    moved_from = referral.source_id
    touch = select(Touchpoint).where(Touchpoint.referral_id == referral.id,
                                     Touchpoint.kind == TouchpointKind.REFERRAL_RECEIVED.value)
    for touchpoint in (await uow.session.execute(touch)).scalars():
        touchpoint.source_id = target.id
    counted = Counted.of(referral)
    referral.source_id = target.id
    referral.source = target
    await recount(uow.session, counted, Counted.of(referral))
    await uow.sources.recompute_activity([target.id] + ([moved_from] if moved_from is not None else []))
    return old, target.name


async def _reassess(uow: UnitOfWork, referral: Referral, profile: Profile, assessor: Assessor, *, by: str,
                    now: datetime) -> None:
    from referbot.service import fit_record, intake_facts

    facts = intake_facts(referral.answers or {}, assessor)
    assessment = assessor.assess(profile, facts)
    referral.issues = [m.to_dict() for m in facts.issues]
    referral.fit = fit_record(assessment)
    if assessment.verdict.value != referral.verdict:
        old, counted = referral.verdict, Counted.of(referral)
        referral.verdict = assessment.verdict.value
        await recount(uow.session, counted, Counted.of(referral))
        await record_change(uow, referral, by=by, now=now, field="verdict", old=old, new=referral.verdict,
                            note="fit judged again after the correction")


# --- search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    text: str | None = None
    statuses: Sequence[ReferralStatus] = ()
    source_ids: Sequence[int] = ()
    since: datetime | None = None
    verdicts: Sequence[FitVerdict] = ()
    limit: int = 100


async def find_referrals(uow: UnitOfWork, filters: Filters) -> Sequence[Referral]:
    """Referrals matching every filter given, newest first. Text is looked for in the client's name
    and contact, the referrer's words, the issues, the source's name and organisation, and the
    answers; a number also finds the referral with that id."""
    query = (select(Referral).outerjoin(Source, Source.id == Referral.source_id)
             .order_by(Referral.created_at.desc(), Referral.id.desc()))
    if filters.statuses:
        query = query.where(Referral.status.in_([s.value for s in filters.statuses]))
    if filters.source_ids:
        query = query.where(Referral.source_id.in_(list(filters.source_ids)))
    if filters.since is not None:
        query = query.where(Referral.created_at >= filters.since)
    if filters.verdicts:
        query = query.where(Referral.verdict.in_([v.value for v in filters.verdicts]))
    if not filters.text:
        return (await uow.session.execute(query.limit(filters.limit))).scalars().all()
    # Client names, contacts and words are encrypted at rest, so text is matched after decryption
    # rather than in SQL (a practice's referrals number in the thousands, not millions).
    needle = filters.text.strip().lower()
    found = [r for r in (await uow.session.execute(query)).scalars() if _mentions(r, needle)]
    return found[:filters.limit]


def _mentions(referral: Referral, needle: str) -> bool:
    if needle.lstrip("#").isdecimal() and referral.id == int(needle.lstrip("#")):
        return True
    source = referral.source
    texts = (referral.client_name, referral.client_contact, referral.presenting_issues,
             source.name if source else None, source.organisation if source else None,
             json.dumps(referral.issues, ensure_ascii=False), json.dumps(referral.answers, ensure_ascii=False))
    return any(needle in text.lower() for text in texts if text)
