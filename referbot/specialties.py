"""Specialty names in the profile read as the matcher reads referrals.

A therapist writes `PTSD`, `Trauma`, `Eating disorders` or `anxiety and depression`; fit compares
issue ids. Each specialty (and each `not_accepted` entry, and each colleague's specialty) that is
not already an id is read with the matcher's own vocabulary: if it names issues, it becomes their
ids, with a note saying so; if it names nothing the matcher knows, it stays a custom specialty and
the therapist is warned, with the list of ids, since referrals only match it through
`custom_specialties:` phrases.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Iterator

from referbot.profile import Profile

#: Words about whom a clinician sees rather than what: set with `ages:` or `formats:` instead.
_NOT_ISSUES = {"teens": "ages", "teenagers": "ages", "adolescents": "ages", "children": "ages", "kids": "ages",
               "adults": "ages", "seniors": "ages", "older adults": "ages", "young adults": "ages",
               "families": "formats", "groups": "formats", "individuals": "formats"}


@dataclass(frozen=True)
class Reading:
    """How one profile entry was read: `ids` replace it (empty: kept as written, a custom specialty)."""

    loc: tuple[Any, ...]
    written: str
    ids: tuple[str, ...]


@cache
def _matcher() -> Any:
    from referbot.matching import Matcher

    return Matcher()


def _entries(profile: Profile) -> Iterator[tuple[tuple[Any, ...], str]]:
    for i, clinician in enumerate(profile.clinicians):
        for field in ("specialties", "not_accepted"):
            for j, value in enumerate(getattr(clinician, field)):
                yield ("clinicians", i, field, j), value
    for i, colleague in enumerate(profile.colleagues):
        for j, value in enumerate(colleague.specialties):
            yield ("colleagues", i, "specialties", j), value


def _custom_id(profile: Profile, value: str) -> str | None:
    wanted = value.strip().lower()
    for custom in profile.custom_specialties:
        if wanted in {custom.id.lower(), custom.label.lower(), *(p.lower() for p in custom.phrases)}:
            return custom.id
    return None


def read_specialties(profile: Profile, known_ids: set[str]) -> list[Reading]:
    """Every entry that is not an issue id as written: read as ids, or left custom (`ids` empty)."""
    readings = []
    for loc, value in _entries(profile):
        if value in known_ids:
            continue
        custom = _custom_id(profile, value)
        if custom is not None:
            readings.append(Reading(loc, value, (custom,)))
            continue
        if value.strip().lower() in _NOT_ISSUES:
            readings.append(Reading(loc, value, ()))
            continue
        found = tuple(dict.fromkeys(m.id for m in _matcher().find_issues(value) if m.id in known_ids))
        readings.append(Reading(loc, value, found))
    return readings


def describe_reading(reading: Reading, labels: dict[str, str], where: str) -> str:
    """A note (read as ids) or a warning (kept custom) for the therapist, one line."""
    if reading.ids:
        shown = ", ".join(f"{i} ({labels[i]})" if i in labels else i for i in reading.ids)
        return f"{where}: {reading.written!r} read as {shown}. Write the id to silence this note."
    hint = _NOT_ISSUES.get(reading.written.strip().lower())
    if hint:
        return (f"{where}: {reading.written!r} is not a presenting issue; say whom a clinician sees with "
                f"`{hint}:` instead. It is kept as a custom specialty for now.")
    return (f"{where}: {reading.written!r} is not an issue referbot recognises, so it is kept as a custom "
            "specialty: referrals match it only through phrases under `custom_specialties:`. If you meant an "
            f"issue, use its id: {', '.join(sorted(labels))}.")
