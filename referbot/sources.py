"""Finding the source a therapist names: a known source, or a trusted colleague from the profile.

Referring a client out to a colleague listed in the profile who is not a source yet creates that
source, so that `referred_back`, stay-in-touch and reciprocity count for them too.
"""

from __future__ import annotations

from datetime import datetime

from referbot.errors import NotFound
from referbot.domain import SourceType
from referbot.profile import Profile
from referbot.store import UnitOfWork
from referbot.store.models import Source


class UnknownSource(NotFound):
    """No source (or colleague in the profile) has that name."""


async def source_named(uow: UnitOfWork, profile: Profile, name: str, now: datetime) -> Source:
    source = await uow.sources.by_name(name)
    if source is not None:
        return source
    colleague = next((c for c in profile.colleagues if c.name.lower() == name.lower()), None)
    if colleague is None:
        raise UnknownSource(f"No source or colleague named {name!r}; see `referbot sources list`.")
    return await uow.sources.create(name=colleague.name, type=SourceType.OTHER, now=now,
                                    contact=colleague.contact.one_line() or None)
