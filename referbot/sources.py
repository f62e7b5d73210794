"""Finding the source a therapist names, the way a person names them.

"Dr Sam Ortiz" finds "Dr. Sam Ortiz", "Dr. Raman" finds "Dr. Priya Raman, MD (psychiatry)" when
only one source fits, an old name finds a renamed or merged source, and a name that fits nobody
fails with "did you mean …" (rapidfuzz) instead of inviting a duplicate. Referring a client out to
a colleague listed in the profile who is not a source yet creates that source, marked as a
colleague, so that `referred_back`, stay-in-touch and reciprocity count for them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Iterable, Sequence, TypeVar

from rapidfuzz import fuzz, process

from referbot.errors import NotFound
from referbot.domain import SourceType
from referbot.profile import Profile
from referbot.store import UnitOfWork
from referbot.store.models import Source

#: Words that do not tell two people apart: titles, credentials, filler.
_NOISE = frozenset({"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "md", "do", "phd", "psyd", "lcsw",
                    "lpc", "lmft", "lmhc", "rn", "np", "pa", "msw", "the", "and", "of"})
SUGGEST_SCORE = 70
SUGGESTIONS = 3
T = TypeVar("T")


class UnknownSource(NotFound):
    """No source (or colleague in the profile) answers to that name; `suggestions` are the closest."""

    def __init__(self, message: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = tuple(suggestions)


def name_tokens(name: str) -> list[str]:
    """Lower-case words without punctuation (`Dr. Sam Ortiz, MD` → dr sam ortiz md)."""
    return re.findall(r"[^\W_]+", name.lower())


def name_key(name: str) -> str:
    """What identifies a person's name: its words without titles and credentials."""
    tokens = name_tokens(name)
    meaningful = [t for t in tokens if t not in _NOISE]
    return " ".join(meaningful or tokens)


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """One name a thing answers to: its own name or an old one (alias)."""

    name: str
    target: T


def pick(typed: str, candidates: Sequence[Candidate[T]]) -> T | None:
    """The one target `typed` names: by the same words ignoring titles and punctuation, else as the
    only candidate containing every typed word. None when nothing or more than one fits."""
    key = name_key(typed)
    if not key:
        return None
    for rule in (lambda c: name_key(c.name) == key,
                 lambda c: set(key.split()) <= set(name_key(c.name).split())):
        found = {id(c.target): c.target for c in candidates if rule(c)}
        if len(found) == 1:
            return next(iter(found.values()))
        if found:
            return None
    return None


def suggestions(typed: str, names: Iterable[str]) -> list[str]:
    """The closest names to what was typed, best first (for "did you mean …")."""
    unique = sorted(set(names))
    found = process.extract(name_key(typed), unique, scorer=fuzz.WRatio, processor=name_key,
                            limit=SUGGESTIONS, score_cutoff=SUGGEST_SCORE)
    return [name for name, _, _ in found]


def did_you_mean(names: Sequence[str]) -> str:
    if not names:
        return ""
    return " Did you mean " + " or ".join(repr(n) for n in names) + "?"


def _source_candidates(sources: Sequence[Source]) -> list[Candidate[Source]]:
    """Each source by its name, its old names and its organisation (which finds it only when it is
    the organisation's one source)."""
    return [Candidate(name, s) for s in sources
            for name in (s.name, *(a.name for a in s.aliases if a.name), s.organisation) if name]


async def find_source(uow: UnitOfWork, name: str) -> Source:
    """The source named `name` (exactly, by its tracking code, by an old name, or unambiguously
    by the words typed); UnknownSource with suggestions otherwise."""
    exact = await uow.sources.by_name(name) or await uow.sources.by_code(name.strip())
    if exact is not None:
        return exact
    sources = await uow.sources.list()
    found = pick(name, _source_candidates(sources))
    if found is not None:
        return found
    close = suggestions(name, [c.name for c in _source_candidates(sources)])
    raise UnknownSource(f"No source named {name!r}.{did_you_mean(close)} See `referbot sources list`.", close)


async def source_named(uow: UnitOfWork, profile: Profile, name: str, now: datetime) -> Source:
    """A known source, else a trusted colleague from the profile (who becomes a source, marked as
    a colleague); UnknownSource with suggestions from both otherwise."""
    try:
        return await find_source(uow, name)
    except UnknownSource as missing:
        known = missing.suggestions
    colleagues = [Candidate(c.name, c) for c in profile.colleagues]
    colleague = pick(name, colleagues)
    if colleague is None:
        close = suggestions(name, [*known, *(c.name for c in colleagues)])
        raise UnknownSource(f"No source or colleague named {name!r}.{did_you_mean(close)} "
                            "See `referbot sources list` and `colleagues:` in the profile.", close)
    source = await uow.sources.create(name=colleague.name, type=SourceType.OTHER, now=now,
                                      contact=colleague.contact.one_line() or None)
    source.colleague = True
    return source
