"""`referbot referrals …` and `referbot sources …`: find, read and correct what came in, and who sent it.

Every time is shown in the practice's time zone; names of sources are looked up the way a person
types them ("did you mean …" when nothing fits). Other command modules add subcommands to
`referrals_app` and `sources_app`.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional, TypeVar

import typer

from referbot.cli.common import actor, fail, parse_moment, print_json, run
from referbot.domain import FitVerdict, ReferralStatus, SourceType

if TYPE_CHECKING:
    from referbot.app import Runtime
    from referbot.store import UnitOfWork

referrals_app = typer.Typer(no_args_is_help=True, help="Referrals received: list, find, show, correct, move along.")
sources_app = typer.Typer(no_args_is_help=True, help="Who refers to you, and the colleagues you refer to.")

STATUSES = ", ".join(s.value for s in ReferralStatus)
STATUS_HELP = f"Only referrals with this status (repeat for several): {STATUSES}."
FIT_HELP = f"Only referrals with this fit (repeat for several): {', '.join(v.value for v in FitVerdict)}."
E = TypeVar("E", bound=enum.Enum)


def _parsed(kind: type[E], values: list[str], what: str) -> list[E]:
    """Typed values as enum members; an unknown one is a one-line message listing the known ones."""
    try:
        return [kind(v.strip().lower().replace(" ", "_")) for v in values]
    except ValueError:
        bad = next(v for v in values if v.strip().lower().replace(" ", "_") not in {m.value for m in kind})
        fail(f"Unknown {what} {bad!r}; one of: {', '.join(m.value for m in kind)}", 1)


def register(app: typer.Typer) -> None:
    app.add_typer(referrals_app, name="referrals")
    app.add_typer(sources_app, name="sources")


def _with_desk(work: Callable[["Runtime", "UnitOfWork"], Any]) -> Any:
    """Run `work(runtime, uow)` in one unit of work; a name or id that does not exist (NotFound), a
    refused change or an unreadable date (BadRequest) becomes one line and exit 1 (see `run`)."""
    from referbot.app import open_runtime
    from referbot.store import UnitOfWork

    async def _run() -> Any:
        async with open_runtime() as runtime, UnitOfWork(runtime.database) as uow:
            return await work(runtime, uow)

    return run(_run())


def _echo(shown: Any, as_json: bool) -> None:
    """What a command found: JSON, or the text view as it is."""
    if as_json:
        print_json(shown)
    else:
        typer.echo(shown)


# --- referrals ----------------------------------------------------------------------------------


def _listing(text: str | None, status: list[str], source: str | None, since: str | None,
             fit: list[str], limit: int, as_json: bool) -> None:
    from referbot.cards import referral_rows
    from referbot.referrals import Filters, find_referrals
    from referbot.sources import find_source
    from referbot.views import referral_view

    statuses, verdicts = _parsed(ReferralStatus, status, "status"), _parsed(FitVerdict, fit, "fit")

    async def _find(runtime: "Runtime", uow: "UnitOfWork") -> str | list[dict[str, Any]]:
        zone = runtime.profile.practice.office_hours.zone
        source_ids = [(await find_source(uow, source)).id] if source else []
        filters = Filters(text, statuses, source_ids, parse_moment(since, zone) if since else None, verdicts, limit)
        found = await find_referrals(uow, filters)
        if as_json:
            return [referral_view(r, full=False, zone=zone) for r in found]
        return referral_rows(found, runtime.profile)

    shown = _with_desk(_find)
    _echo(shown, as_json)


Statuses = Annotated[list[str], typer.Option("--status", help=STATUS_HELP)]
FromSource = Annotated[Optional[str], typer.Option("--source", help="Only referrals from this source.")]
Since = Annotated[Optional[str], typer.Option("--since", help="Only referrals from this date on (YYYY-MM-DD).")]
Fits = Annotated[list[str], typer.Option("--fit", help=FIT_HELP)]
Limit = Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest first.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (times with the practice's UTC offset).")]


@referrals_app.command("list")
def list_referrals(status: Statuses = [], source: FromSource = None, since: Since = None, fit: Fits = [],
                   limit: Limit = 100, as_json: AsJson = False) -> None:
    """List referrals, newest first, with status, fit, urgency and when first contact is due."""
    _listing(None, status, source, since, fit, limit, as_json)


@referrals_app.command("find")
def find(text: Annotated[str, typer.Argument(help="Words to look for: a client's name, an issue, a source, a phone "
                                                  "number, a referral number…")],
         status: Statuses = [], source: FromSource = None, since: Since = None, fit: Fits = [], limit: Limit = 100,
         as_json: AsJson = False) -> None:
    """Find referrals by what they say, with the same filters as `list`."""
    _listing(text, status, source, since, fit, limit, as_json)


@referrals_app.command("show")
def show_referral(referral_id: int = typer.Argument(..., help="The referral's number."),
                  as_json: AsJson = False) -> None:
    """Show one referral as a card: referrer and how to reach them, client, issues, fit and why, history.
    Every look at a client's details is audited."""
    from referbot.audit import AuditAction, record
    from referbot.cards import referral_card
    from referbot.referrals import UnknownReferral
    from referbot.views import referral_view

    async def _show(runtime: "Runtime", uow: "UnitOfWork") -> str | dict[str, Any]:
        referral = await uow.referrals.get(referral_id)
        if referral is None:
            raise UnknownReferral(f"No referral #{referral_id}.")
        record(uow, actor(), AuditAction.VIEW, f"referral:{referral_id}", "cli")
        await uow.commit()
        zone = runtime.profile.practice.office_hours.zone
        return referral_view(referral, zone=zone) if as_json else referral_card(referral, runtime.profile)

    shown = _with_desk(_show)
    _echo(shown, as_json)


@referrals_app.command("edit")
def edit(referral_id: int = typer.Argument(..., help="The referral's number."),
         field: str = typer.Argument(..., help="What to correct: client_name, client_age, client_contact, "
                                               "presenting_issues, therapy_format, modality, urgency, payment, "
                                               "consent_to_contact, consent_to_update or source."),
         value: str = typer.Argument(..., help="The right value (yes/no for consents, a source's name for source)."),
         note: Optional[str] = typer.Option(None, "--note", help="Why, for the record.")) -> None:
    """Correct one field of a referral; the old and new value are recorded with your name and the time."""
    from referbot.referrals import edit_referral
    from referbot.service import utcnow
    from referbot.views import words

    async def _edit(runtime: "Runtime", uow: "UnitOfWork") -> str:
        done = await edit_referral(runtime.database, runtime.profile, runtime.service.assessor, referral_id, field,
                                   value, by=actor(), now=utcnow(), note=note)
        line = f"Referral #{referral_id}: {words(field)} {_shown(done.old)} → {_shown(done.new)}."
        if done.referral.verdict != done.verdict_before:
            line += f" Fit judged again: {words(done.verdict_before)} → {words(done.referral.verdict)}."
        return line

    typer.echo(_with_desk(_edit))


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value in (None, "") else str(value)


@referrals_app.command("set-status")
def set_status(referral_id: int = typer.Argument(..., help="The referral's number."),
               status: str = typer.Argument(..., help=f"The new status: {STATUSES}."),
               note: Optional[str] = typer.Option(None, "--note", help="Why, for the record."),
               to: Optional[str] = typer.Option(None, "--to", help="With referred_out: the source or trusted "
                                                                    "colleague the client was referred to."),
               force: bool = typer.Option(False, "--force", help="Correct a mistake: allow a move the lifecycle "
                                                                 "does not (e.g. became_client back to contacted); "
                                                                 "recorded as a correction.")) -> None:
    """Move a referral along its lifecycle (recorded with your login name and the time), as the chat buttons do."""
    from referbot.referrals import refer_out, set_referral_status
    from referbot.service import utcnow

    [wanted] = _parsed(ReferralStatus, [status], "status")
    if to is not None and wanted is not ReferralStatus.REFERRED_OUT:
        fail("--to goes with the status referred_out (whom the client was referred to).", 1)
    by = actor()

    async def _set(runtime: "Runtime", uow: "UnitOfWork") -> tuple[str, str, bool]:
        if to is not None:
            referral = await refer_out(runtime.database, runtime.profile, referral_id, to, by=by, now=utcnow(),
                                       note=note, force=force)
        else:
            referral = await set_referral_status(runtime.database, referral_id, wanted, by=by, now=utcnow(),
                                                 note=note, force=force)
        statuses = [e for e in referral.events if e.field is None]
        previous = statuses[-2].status if len(statuses) > 1 else ReferralStatus.NEW.value
        return previous, referral.status, referral.events[-1].forced

    previous, current, forced = _with_desk(_set)
    typer.echo(f"Referral #{referral_id}: {previous} → {current} (by {by}{', a correction' if forced else ''}).")


# --- sources ------------------------------------------------------------------------------------


@sources_app.command("list")
def list_sources(as_json: AsJson = False) -> None:
    """Sources with their referral count, last contact and next nudge; colleagues you refer to apart."""
    from referbot.service import utcnow
    from referbot.source_cards import render_summaries, summaries

    async def _list(runtime: "Runtime", uow: "UnitOfWork") -> str | list[dict[str, Any]]:
        rows = await summaries(uow, runtime.profile, utcnow())
        if as_json:
            return [row.to_dict(runtime.profile.practice.office_hours.zone) for row in rows]
        return render_summaries(rows, runtime.profile)

    shown = _with_desk(_list)
    _echo(shown, as_json)


@sources_app.command("show")
def show_source(name: str = typer.Argument(..., help="The source's name (or part of it, an old name, or its code)."),
                as_json: AsJson = False) -> None:
    """A source's timeline: referrals and what became of them, thank-yous, check-ins, nudges."""
    from referbot.service import utcnow
    from referbot.source_cards import render_timeline, timeline
    from referbot.sources import find_source
    from referbot.views import source_view

    async def _show(runtime: "Runtime", uow: "UnitOfWork") -> str | dict[str, Any]:
        source = await find_source(uow, name)
        entries = await timeline(uow, source, runtime.profile, utcnow())
        zone = runtime.profile.practice.office_hours.zone
        if as_json:
            return {**source_view(source, zone), "timeline": [e.to_dict(zone) for e in entries]}
        return render_timeline(source, entries, runtime.profile)

    shown = _with_desk(_show)
    _echo(shown, as_json)


@sources_app.command("duplicates")
def duplicates(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Sources that are probably the same person: similar names, a shared email or phone, same surname
    at the same organisation. Merge them with `referbot sources merge`."""
    from referbot.source_records import likely_duplicates

    async def _find(runtime: "Runtime", uow: "UnitOfWork") -> list[dict[str, Any]]:
        return [{"first": d.first.name, "second": d.second.name, "reasons": list(d.reasons)}
                for d in likely_duplicates(await uow.sources.list())]

    pairs = _with_desk(_find)
    if as_json:
        print_json(pairs)
        return
    if not pairs:
        typer.echo("No likely duplicates.")
    for pair in pairs:
        typer.echo(f"{pair['first']!r} and {pair['second']!r}: {'; '.join(pair['reasons'])}\n"
                   f"  to merge: referbot sources merge {_quoted(pair['first'])} {_quoted(pair['second'])}")


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "'\\''") + "'"


@sources_app.command("merge")
def merge(keep: str = typer.Argument(..., help="The source to keep."),
          other: str = typer.Argument(..., help="The duplicate, merged into the one kept and then removed."),
          yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Make two sources one: referrals, contacts, chat identities, nudges, tracking links and the name
    all move to the source kept."""
    from referbot.service import utcnow
    from referbot.source_records import merge_sources
    from referbot.sources import find_source
    from referbot.views import plural

    async def _merge(runtime: "Runtime", uow: "UnitOfWork") -> str:
        kept, gone = await find_source(uow, keep), await find_source(uow, other)
        if not yes and not typer.confirm(f"Merge {gone.name!r} into {kept.name!r}?"):
            return "Nothing merged."
        merged = await merge_sources(uow, kept, gone, utcnow())
        await uow.commit()
        return (f"Merged {merged.gone!r} into {merged.kept.name!r}: moved {plural(merged.referrals, 'referral')}, "
                f"{plural(merged.touchpoints, 'contact')}, {plural(merged.identities, 'chat identity', 'chat identities')} "
                f"and {plural(merged.nudges, 'nudge')}; the old name and tracking code now lead to {merged.kept.name!r}.")

    typer.echo(_with_desk(_merge))


@sources_app.command("rename")
def rename(name: str = typer.Argument(..., help="The source's current name."),
           new_name: str = typer.Argument(..., help="The name to give it (the old one keeps working).")) -> None:
    """Rename a source; the old name still finds it."""
    from referbot.service import utcnow
    from referbot.source_records import rename_source
    from referbot.sources import find_source

    async def _rename(runtime: "Runtime", uow: "UnitOfWork") -> str:
        source = await find_source(uow, name)
        old = await rename_source(uow, source, new_name, utcnow())
        await uow.commit()
        return f"Renamed {old!r} to {source.name!r}."

    typer.echo(_with_desk(_rename))


@sources_app.command("set")
def set_source(name: str = typer.Argument(..., help="The source's name."),
               tier: Optional[str] = typer.Option(None, "--tier", help="A tier of your own (e.g. key); "
                                                                       "nudges.stay_in_touch.by_tier uses it. "
                                                                       "'' clears it."),
               source_type: Optional[str] = typer.Option(None, "--type", help="What kind of source it is: " + ", ".join(
                   t.value for t in SourceType) + "."),
               organisation: Optional[str] = typer.Option(None, "--org", help="The organisation they belong to "
                                                                              "(a school, a clinic). '' clears it."),
               contact: Optional[str] = typer.Option(None, "--contact", help="Email or phone. '' clears it."),
               colleague: Optional[bool] = typer.Option(None, "--colleague/--referrer",
                                                        help="A colleague you refer clients to, or a source who "
                                                             "refers to you.")) -> None:
    """Set a source's tier, type, organisation, contact, or whether it is a colleague you refer to."""
    from referbot.source_records import SourceChanges, apply_changes
    from referbot.sources import find_source

    kind = _parsed(SourceType, [source_type], "source type")[0] if source_type is not None else None
    changes = SourceChanges(tier, kind, organisation, contact, colleague)
    if changes == SourceChanges():
        fail("Say what to set: --tier, --type, --org, --contact, --colleague or --referrer.", 1)

    async def _set(runtime: "Runtime", uow: "UnitOfWork") -> str:
        source = await find_source(uow, name)
        done = apply_changes(source, changes)
        await uow.commit()
        lines = [f"{source.name}: {', '.join(done)}." if done else f"{source.name}: nothing to change."]
        tiers = runtime.profile.nudges.stay_in_touch.by_tier
        if tier and tier not in tiers:
            lines.append(f"Note: no stay-in-touch rule names tier {tier!r} (nudges.stay_in_touch.by_tier"
                         f"{' has ' + ', '.join(tiers) if tiers else ' is empty'}), so its type's rule applies.")
        return "\n".join(lines)

    typer.echo(_with_desk(_set))
