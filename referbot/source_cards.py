"""Sources as a therapist reads them: the list (referrals, last contact, next nudge) and one source's
timeline (referrals and what became of them, thank-yous, check-ins, nudges), in the practice's zone.

The overview is data (`SourceSummary`, `TimelineEntry`) plus plain-text renderings, so the CLI and
chat desks show the same thing. Colleagues the practice refers out to are listed apart from the
sources who refer to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import func, select

from referbot.domain import NudgeKind, NudgeState, SourceType, TouchpointKind
from referbot.nudges.model import TITLES
from referbot.nudges.records import NudgeRecords
from referbot.nudges.rules import candidates
from referbot.profile import Profile
from referbot.store import UnitOfWork
from referbot.store.models import NudgeRecord, Referral, Source, Touchpoint
from referbot.views import iso_local, plural, short_name, short_when, when, words

#: How far ahead `next nudge` looks.
LOOKAHEAD = timedelta(days=3 * 365)


@dataclass(frozen=True)
class SourceSummary:
    source: Source
    referrals: int
    last_contact: datetime | None
    next_nudge: tuple[datetime, NudgeKind] | None

    def to_dict(self, zone: Any) -> dict[str, Any]:
        from referbot.views import source_view

        return {**source_view(self.source, zone), "referrals": self.referrals,
                "last_contact": iso_local(self.last_contact, zone),
                "next_nudge": None if self.next_nudge is None else
                {"due_at": iso_local(self.next_nudge[0], zone), "kind": self.next_nudge[1].value}}


async def next_nudges(uow: UnitOfWork, profile: Profile, now: datetime) -> dict[int, tuple[datetime, NudgeKind]]:
    """Per source, the soonest reminder still to come (or overdue): from the rules, skipping those
    already done or skipped, a snoozed one at the end of its snooze."""
    records = NudgeRecords(uow.session)
    found = candidates(await records.facts(), profile, now + LOOKAHEAD)
    rows = await records.by_keys([c.key for c in found])
    soonest: dict[int, tuple[datetime, NudgeKind]] = {}
    for candidate in found:
        row = rows.get(candidate.key)
        if candidate.source_id is None or (row is not None and row.state in (NudgeState.DONE.value,
                                                                              NudgeState.SKIPPED.value)):
            continue
        due = row.snoozed_until if row is not None and row.state == NudgeState.SNOOZED.value else candidate.due_at
        if due is not None and (candidate.source_id not in soonest or due < soonest[candidate.source_id][0]):
            soonest[candidate.source_id] = (due, candidate.kind)
    return soonest


async def summaries(uow: UnitOfWork, profile: Profile, now: datetime) -> list[SourceSummary]:
    """Every source with its referral count, last contact and next nudge, by name."""
    counts = dict((await uow.session.execute(select(Referral.source_id, func.count()).group_by(Referral.source_id))).all())
    last = dict((await uow.session.execute(select(Touchpoint.source_id, func.max(Touchpoint.at))
                                           .group_by(Touchpoint.source_id))).all())
    upcoming = await next_nudges(uow, profile, now)
    return [SourceSummary(s, int(counts.get(s.id, 0)), last.get(s.id), upcoming.get(s.id))
            for s in await uow.sources.list()]


def _summary_line(summary: SourceSummary, zone: Any) -> str:
    s = summary.source
    kind = ("colleague" if s.colleague and s.type == SourceType.OTHER.value else words(s.type)) + (
        f", tier {s.tier}" if s.tier else "")
    org = f" — {s.organisation}" if s.organisation else ""
    last = short_when(summary.last_contact, zone).strip() if summary.last_contact else "never"
    nudge = (f"{TITLES[summary.next_nudge[1]].lower()} {short_when(summary.next_nudge[0], zone).strip()}"
             if summary.next_nudge else "none")
    return (f"  {s.name} ({kind}){org}\n      {plural(summary.referrals, 'referral')} · last contact {last} · "
            f"next nudge: {nudge}")


def render_summaries(rows: Sequence[SourceSummary], profile: Profile) -> str:
    """Sources who refer, then colleagues the practice refers to, each with its figures."""
    if not rows:
        return "No sources yet. They appear when referrals arrive, or with `referbot sources link NAME --type TYPE`."
    zone = profile.practice.office_hours.zone
    sources = [r for r in rows if not r.source.colleague]
    colleagues = [r for r in rows if r.source.colleague]
    lines = [f"Sources ({len(sources)}):", *(_summary_line(r, zone) for r in sources)] if sources else []
    if colleagues:
        lines += ["" if lines else None, f"Colleagues you refer to ({len(colleagues)}):",
                  *(_summary_line(r, zone) for r in colleagues)]
    return "\n".join(line for line in lines if line is not None)


# --- one source's timeline --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    upcoming: bool = False

    def to_dict(self, zone: Any) -> dict[str, Any]:
        return {"at": iso_local(self.at, zone), "what": self.what, "upcoming": self.upcoming}


_TOUCH_WORDS = {TouchpointKind.THANKED: "Thanked", TouchpointKind.CHECK_IN: "Checked in",
                TouchpointKind.UPDATE_SENT: "Sent an update", TouchpointKind.REFERRED_BACK: "Referred a client to them",
                TouchpointKind.EVENT: "Met at an event"}


async def timeline(uow: UnitOfWork, source: Source, profile: Profile, now: datetime) -> list[TimelineEntry]:
    """Everything that happened with a source, oldest first, and the next nudge at the end."""
    entries = [TimelineEntry(source.created_at, "Added as a source")]
    referrals = (await uow.session.execute(select(Referral).where(Referral.source_id == source.id))).scalars().all()
    for r in referrals:
        age = f", {r.client_age}" if r.client_age is not None else ""
        entries.append(TimelineEntry(r.created_at, f"Referral #{r.id} received: {short_name(r.client_name)}{age}, "
                                                   f"{words(r.verdict)}"))
        entries += [TimelineEntry(e.at, f"Referral #{r.id}: {words(e.status)}"
                                        + (f" ({e.note})" if e.note else "")) for e in r.events[1:]
                    if e.field is None]
    touches = (await uow.session.execute(select(Touchpoint).where(
        Touchpoint.source_id == source.id, Touchpoint.kind != TouchpointKind.REFERRAL_RECEIVED.value))).scalars()
    for t in touches:
        note = f": {t.note}" if t.note else ""
        about = f" (referral #{t.referral_id})" if t.referral_id else ""
        entries.append(TimelineEntry(t.at, f"{_TOUCH_WORDS[TouchpointKind(t.kind)]}{about}{note}"
                                           + (f" — {t.by}" if t.by else "")))
    nudges = (await uow.session.execute(select(NudgeRecord).where(
        NudgeRecord.source_id == source.id, NudgeRecord.acted_at.is_not(None)))).scalars()
    for n in nudges:
        assert n.acted_at is not None
        entries.append(TimelineEntry(n.acted_at, f"Nudge #{n.id} “{TITLES[NudgeKind(n.kind)]}”: {n.state}"
                                                 + (f" — {n.acted_by}" if n.acted_by else "")))
    upcoming = (await next_nudges(uow, profile, now)).get(source.id)
    entries.sort(key=lambda e: e.at)
    if upcoming is not None:
        overdue = " (overdue)" if upcoming[0] <= now else ""
        entries.append(TimelineEntry(upcoming[0], f"Next nudge: {TITLES[upcoming[1]]}{overdue}", upcoming=True))
    return entries


def render_timeline(source: Source, entries: Sequence[TimelineEntry], profile: Profile) -> str:
    zone = profile.practice.office_hours.zone
    details = [words(source.type)] + [v for v in (source.organisation, source.contact) if v]
    if source.tier:
        details.append(f"tier {source.tier}")
    head = [f"{source.name} ({', '.join(details)})" + ("  [colleague you refer to]" if source.colleague else "")]
    if source.aliases:
        head.append("Also known as: " + ", ".join(a.name for a in source.aliases if a.name))
    head.append(f"Tracking code: {source.code}")
    lines = [f"  {when(e.at, zone)}  {e.what}" for e in entries]
    return "\n".join([*head, "", *lines])
