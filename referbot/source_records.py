"""Keeping the list of sources true: likely duplicates, merging two into one, renaming, setting fields.

A merge loses nothing: the referrals, touchpoints, chat identities and nudges of the merged source
move to the kept one (whose latest activity is then read again from the history), its name and
tracking code stay as aliases (so typing the old name, or a referrer arriving through the old QR
code, still reaches the kept source), and details the kept source lacks are filled in from the
merged one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import Sequence

from rapidfuzz import fuzz
from sqlalchemy import delete, func, select, update

from referbot.domain import SourceType
from referbot.errors import BadRequest
from referbot.sources import name_key, name_tokens
from referbot.store import UnitOfWork, tallies
from referbot.store.models import NudgeRecord, Referral, Source, SourceAlias, SourceIdentity, Touchpoint

#: Name similarity (rapidfuzz token-sort ratio on names without titles) from which two sources are
#: probably one person.
SIMILAR_NAMES = 88


class SourceConflict(BadRequest):
    """A rename or merge that would make two sources indistinguishable, or merge one into itself."""


@dataclass(frozen=True)
class Duplicate:
    first: Source
    second: Source
    reasons: tuple[str, ...]
    score: float


def contact_keys(contact: str | None) -> set[str]:
    """Emails (lower-case) and phone numbers (their last ten digits) in a contact line."""
    if not contact:
        return set()
    emails = {e.lower() for e in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", contact)}
    phones = {digits[-10:] for digits in (re.sub(r"\D", "", p) for p in re.findall(r"\+?[\d()][\d\s().-]{6,}\d", contact))
              if len(digits) >= 7}
    return emails | phones


def _surname(name: str) -> str | None:
    words = name_key(name).split()
    return words[-1] if words else None


def likely_duplicates(sources: Sequence[Source]) -> list[Duplicate]:
    """Pairs of sources that are probably the same person, most likely first: similar names, a
    shared email or phone number, or the same surname at the same organisation."""
    found = []
    for a, b in combinations(sources, 2):
        reasons = []
        score = fuzz.token_sort_ratio(name_key(a.name), name_key(b.name))
        if score >= SIMILAR_NAMES:
            reasons.append(f"similar names ({score:.0f}%)")
        shared = contact_keys(a.contact) & contact_keys(b.contact)
        if shared:
            reasons.append(f"same contact ({', '.join(sorted(shared))})")
        same_org = a.organisation and b.organisation and name_key(a.organisation) == name_key(b.organisation)
        if same_org and _surname(a.name) == _surname(b.name) and not score >= SIMILAR_NAMES:
            reasons.append(f"same surname at {a.organisation}")
        if reasons:
            found.append(Duplicate(a, b, tuple(reasons), score + 50 * bool(shared)))
    return sorted(found, key=lambda d: (-d.score, d.first.name, d.second.name))


@dataclass(frozen=True)
class Merged:
    kept: Source
    gone: str
    referrals: int
    touchpoints: int
    identities: int
    nudges: int


async def _moved(uow: UnitOfWork, table: type, column: str, old: int, new: int) -> int:
    count = select(func.count()).select_from(table).where(getattr(table, column) == old)
    moved = int((await uow.session.execute(count)).scalar_one())
    await uow.session.execute(update(table).where(getattr(table, column) == old).values({column: new})
                              .execution_options(synchronize_session=False))
    return moved


async def merge_sources(uow: UnitOfWork, keep: Source, other: Source, now: datetime) -> Merged:
    """Move everything of `other` to `keep` and remove `other`; nothing is lost (see the module)."""
    if keep.id == other.id:
        raise SourceConflict(f"{keep.name!r} and {other.name!r} are the same source.")
    gone = (other.name, other.code, other.contact, other.organisation, other.tier, other.notes, other.colleague,
            other.type)
    name, code, contact, organisation, tier, notes, colleague, kind = gone
    counts = [await _moved(uow, table, "source_id", other.id, keep.id)
              for table in (Referral, Touchpoint, SourceIdentity, NudgeRecord, SourceAlias)]
    await tallies.merge_sources(uow.session, gone=other.id, kept=keep.id)
    uow.session.expunge(other)
    await uow.session.execute(delete(Source).where(Source.id == other.id))
    await uow.sources.recompute_activity([keep.id])  # its latest activity may be the merged source's
    uow.session.expire_all()  # the moved rows were updated in SQL; reload what is read next
    await uow.session.refresh(keep)
    uow.session.add(SourceAlias(source_id=keep.id, name=name, code=code, created_at=now))
    keep.contact = keep.contact or contact
    keep.organisation = keep.organisation or organisation
    keep.tier = keep.tier or tier
    keep.notes = "\n".join(n for n in (keep.notes, notes) if n) or None
    keep.colleague = keep.colleague or colleague
    if keep.type == SourceType.OTHER.value:
        keep.type = kind
    await uow.session.flush()
    await uow.session.refresh(keep, ["identities", "aliases"])
    return Merged(keep, name, *counts[:4])


async def rename_source(uow: UnitOfWork, source: Source, new_name: str, now: datetime) -> str:
    """Give a source a new name, keeping the old one as an alias; returns the old name."""
    new_name = " ".join(new_name.split())
    if not new_name:
        raise SourceConflict("A source needs a name.")
    clash = await uow.sources.by_name(new_name)
    if clash is not None and clash.id != source.id:
        raise SourceConflict(f"{clash.name!r} already exists; to make them one, use "
                             f"`referbot sources merge {clash.name!r} {source.name!r}`.")
    old = source.name
    if name_tokens(old) != name_tokens(new_name):
        uow.session.add(SourceAlias(source_id=source.id, name=old, created_at=now))
    source.name = new_name
    await uow.session.flush()
    await uow.session.refresh(source, ["aliases"])
    return old


@dataclass(frozen=True)
class SourceChanges:
    """What `sources set` may change; None leaves a field as it is."""

    tier: str | None = None
    type: SourceType | None = None
    organisation: str | None = None
    contact: str | None = None
    colleague: bool | None = None


def apply_changes(source: Source, changes: SourceChanges) -> list[str]:
    """Set the given fields; an empty string clears tier, organisation or contact. Returns what
    changed, as `field: old → new`."""
    done = []
    for field, value in (("tier", changes.tier), ("organisation", changes.organisation),
                         ("contact", changes.contact), ("type", changes.type.value if changes.type else None),
                         ("colleague", changes.colleague)):
        if value is None:
            continue
        value = (value.strip() or None) if isinstance(value, str) and field != "type" else value
        old = getattr(source, field)
        if old != value:
            setattr(source, field, value)
            done.append(f"{field}: {_shown(old)} → {_shown(value)}")
    return done


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ") if value not in (None, "") else "—"
