"""The stats report: one dictionary (what `referbot stats --json` prints) and its plain-text form.

The same two functions serve the terminal, Slack `/referbot stats` and Telegram `/stats`, so every
surface shows the same figures. The question they answer is the practice's: which sources send
clients who fit, not merely many referrals — hence `top_sources` ranks by referrals that were a
good fit AND became clients.
"""

from __future__ import annotations

import gc
import heapq
from contextlib import contextmanager
from datetime import date, datetime, timezone, tzinfo
from typing import Any, Callable, Iterator

from referbot.domain import FUNNEL, FitVerdict
from referbot.stats import queries
from referbot.stats.periods import PeriodWindows, period_windows
from referbot.store import Database
from referbot.views import iso_local, plural

#: How many sources `top_sources` lists.
TOP_SOURCES = 5
#: Longest list shown per section in the text report (chat messages have length limits).
TEXT_LIST_LIMIT = 10
UNKNOWN = "unknown"


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _funnel(counts: list[int]) -> list[dict[str, Any]]:
    """Each stage with its count, the share of the stage before it and the share of all referrals."""
    names = ["referral", *(stage.value for stage in FUNNEL)]
    return [{"stage": name, "count": count, "rate": _rate(count, counts[i - 1]) if i else None,
             "of_referrals": _rate(count, counts[0])}
            for i, (name, count) in enumerate(zip(names, counts))]


def _source_entry(row: queries.SourceRow) -> dict[str, Any]:
    return {"source": row.name, "type": row.type, "organisation": row.organisation, "referrals": row.referrals,
            "good_fit": row.good_fit, "became_client": row.became_client,
            "conversion": _rate(row.became_client, row.referrals)}


def _by_organisation(rows: list[queries.SourceRow]) -> list[dict[str, Any]]:
    """Per organisation (spelt alike, ignoring case and punctuation): its sources' referrals rolled up."""
    from referbot.sources import name_key

    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = row.organisation
        if not name:
            continue
        group = groups.setdefault(name_key(name), {"organisation": name, "sources": 0, "referrals": 0, "good_fit": 0,
                                                   "became_client": 0})
        group["sources"] += 1
        for field in ("referrals", "good_fit", "became_client"):
            group[field] += getattr(row, field)
    for group in groups.values():
        group["conversion"] = _rate(group["became_client"], group["referrals"])
    return sorted(groups.values(), key=lambda g: (-g["referrals"], g["organisation"]))


def _top_sources(rows: list[queries.SourceRow]) -> list[dict[str, Any]]:
    """Known sources with at least one good fit, best first: good-fit clients, then good fits."""
    ranked = heapq.nsmallest(TOP_SOURCES, (r for r in rows if r.source_id is not None and r.good_fit),
                             key=lambda r: (-r.good_fit_clients, -r.good_fit, -r.referrals, r.name or ""))
    return [{"source": r.name, "type": r.type, "good_fit_clients": r.good_fit_clients, "good_fit": r.good_fit,
             "referrals": r.referrals} for r in ranked]


def _reciprocity(rows: list[queries.SourceRow], sent: queries.Sent) -> list[dict[str, Any]]:
    """Per known source: referrals received from it and clients referred back to it, busiest first."""
    merged = {r.source_id: {"source": r.name, "type": r.type, "received": r.referrals, "referred_back": 0}
              for r in rows if r.source_id is not None}
    for source_id, (name, kind, count) in sent.items():
        merged.setdefault(source_id, {"source": name, "type": kind, "received": 0, "referred_back": 0})
        merged[source_id]["referred_back"] = count
    return sorted(merged.values(), key=lambda e: (-(e["received"] + e["referred_back"]), e["source"]))


async def compute_stats(database: Database, *, period: str = "30d", now: datetime,
                        zone: tzinfo = timezone.utc) -> dict[str, Any]:
    """Every figure of the report for `period` ("30d", "90d", "365d" or "all") ending at `now`.

    Counts come from SQL aggregates: over the period's referrals for a rolling period, and from the
    running tallies of every referral and referral back for "all" (`queries.counted_until`), so
    an all-time report does not read all of history. The median time to first contact counts each
    wait in whole minutes (so it is exact to the minute, whatever the period).
    `thanks_owed` is not limited to the period: a thank-you owed from last year is still owed.
    Times in the result are ISO 8601 in `zone` (pass the practice's) with its offset. Raises
    `UnknownPeriod` for another period name.
    """
    windows = period_windows(period, now.astimezone(timezone.utc))
    with _collector_paused():
        return await _report(database, period, windows, now, zone)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a report is built. A report over years of
    history makes a few objects per source (tens of thousands of sources), none of them in a
    cycle; each batch of new objects set the collector walking the whole heap again, which cost
    as much as the report itself (0.3–0.5 s of 0.8–1 s at 1M referrals). Reference counting still
    frees everything; the collector runs again afterwards, if it was on before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


async def _report(database: Database, period: str, windows: PeriodWindows, now: datetime,
                  zone: tzinfo) -> dict[str, Any]:
    async with database.sessions() as session:
        previous = await queries.count_referrals(session, windows.previous) if windows.previous else None
        counts = (await queries.counted_until(session, windows.current.end) if windows.current.start is None
                  else await queries.counted_in(session, windows.current))
        owed = await queries.thanks_owed(session, now)
    sources, verdicts, sent = counts.sources, counts.verdicts, counts.sent
    median_hours = queries.median_hours(counts.waits)
    funnel = queries.funnel_counts(sources)
    return {
        "period": period,
        "start": iso_local(windows.current.start, zone),
        "end": iso_local(windows.current.end, zone),
        "referrals": funnel[0],
        "previous_referrals": previous,
        "by_source": [_source_entry(row) for row in sources],
        "by_organisation": _by_organisation(sources),
        "by_source_type": {kind or UNKNOWN: n for kind, n in queries.count_by_source_type(sources).items()},
        "by_channel": counts.channels,
        "by_verdict": {v.value: verdicts.get(v.value, 0) for v in FitVerdict},
        "funnel": _funnel(funnel),
        "median_hours_to_first_contact": None if median_hours is None else round(median_hours, 1),
        "top_sources": _top_sources(sources),
        "thanks_owed": [{"source": o.name, "type": o.type, "referrals": o.referrals, "since": iso_local(o.since, zone)}
                        for o in owed],
        "reciprocity": _reciprocity(sources, sent),
    }


# --- text ------------------------------------------------------------------------------------


def _words(value: str | None) -> str:
    return (value or UNKNOWN).replace("_", " ")


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def _period_words(stats: dict[str, Any]) -> tuple[str, str]:
    if stats["period"] == "all":
        return "all time", ""
    days = stats["period"].removesuffix("d")
    return f"the last {days} days", f"the {days} days before"


def _change(now: int, before: int | None, label: str) -> str:
    if before is None:
        return ""
    if before == 0:
        return f" ({label}: 0)"
    return f" ({label}: {before}, {(now - before) / before:+.0%})"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{_words(key)} {n}" for key, n in counts.items() if n) or "none"


def _limited(entries: list[dict[str, Any]], line: Callable[[dict[str, Any]], str]) -> list[str]:
    """The first TEXT_LIST_LIMIT entries as lines, and how many more there are (only the lines
    shown are written: an all-time report can list tens of thousands of sources)."""
    extra = len(entries) - TEXT_LIST_LIMIT
    return [line(entry) for entry in entries[:TEXT_LIST_LIMIT]] + ([f"  … and {extra} more"] if extra > 0 else [])


#: Each funnel stage as words, for one and for several (`1 became a client`, `2 became clients`).
_STAGE_WORDS = {"contacted": ("contacted", "contacted"), "consult_booked": ("booked a consult", "booked a consult"),
                "became_client": ("became a client", "became clients")}


def _funnel_line(funnel: list[dict[str, Any]]) -> str:
    first, *rest = funnel
    steps = [f"{first['count']} referred"] + [
        f"{s['count']} {_STAGE_WORDS[s['stage']][s['count'] != 1]} ({_percent(s['rate'])})" for s in rest]
    return "Funnel: " + " → ".join(steps)


def _day(iso: str) -> str:
    """`2026-03-06T09:00:00-06:00` → `6 Mar 2026`: the date as the practice lived it."""
    day = date.fromisoformat(iso[:10])
    return f"{day.day} {day:%b %Y}"


def _conversion(entry: dict[str, Any], name: str) -> str:
    return (f"  {name}: {plural(entry['referrals'], 'referral')}, {entry['became_client']} became "
            f"{'a client' if entry['became_client'] == 1 else 'clients'} ({_percent(entry['conversion'])})")


def render_stats(stats: dict[str, Any]) -> str:
    """The report as plain text for a terminal or a chat message (each adapter escapes it)."""
    span, before = _period_words(stats)
    lines = [f"Referrals in {span}: {stats['referrals']}{_change(stats['referrals'], stats['previous_referrals'], before)}"]
    if stats["referrals"]:
        median = stats["median_hours_to_first_contact"]
        lines += [
            f"By source type: {_counts(stats['by_source_type'])}",
            f"By channel: {_counts(stats['by_channel'])}",
            f"Fit: {_counts(stats['by_verdict'])}",
            _funnel_line(stats["funnel"]),
            f"Median time to first contact: {'–' if median is None else f'{median:g} hours'}",
        ]
    if stats["top_sources"]:
        lines.append("Top sources (good-fit referrals who became clients):")
        lines += [f"  {i}. {s['source']} ({_words(s['type'])}): {plural(s['good_fit_clients'], 'good-fit client')}; "
                  f"{s['good_fit']} of {plural(s['referrals'], 'referral')} a good fit"
                  for i, s in enumerate(stats["top_sources"], start=1)]
    known = [s for s in stats["by_source"] if s["source"] is not None]
    if known:
        lines.append("Conversion by source (referrals → clients):")
        lines += _limited(known, lambda s: _conversion(s, s["source"]))
    if stats["by_organisation"]:
        lines.append("By organisation:")
        lines += _limited(stats["by_organisation"],
                          lambda o: _conversion(o, f"{o['organisation']} ({plural(o['sources'], 'source')})"))
    if stats["thanks_owed"]:
        lines.append("Owed a thank-you:")
        lines += _limited(stats["thanks_owed"],
                          lambda o: f"  {o['source']}: {plural(o['referrals'], 'referral')} since {_day(o['since'])}")
    if stats["reciprocity"]:
        lines.append("Reciprocity (received / referred back):")
        lines += _limited(stats["reciprocity"], lambda r: f"  {r['source']}: {r['received']} / {r['referred_back']}")
    return "\n".join(lines)
