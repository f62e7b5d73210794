"""`referbot doctor`'s findings: whether what the settings name is really there and answering.

`referbot check` reads files; the doctor connects. The core checks what it owns (the profile, the
encryption key, the database, its migration and whether the key opens what it holds, the clock);
each enabled channel checks its own upstream through its `Channel.check` hook and returns the same
`Finding`s, so the command only prints and counts them. The core never names a channel.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import column, func, select, table

from referbot.store import Database, DatabaseError
from referbot.store.database import head_revision
from referbot.store.encryption import KEY_VARIABLE, PREFIX, Cipher, EncryptionError, encrypted_columns

if TYPE_CHECKING:
    from referbot.channels import Configured
    from referbot.settings import Settings

#: Slack refuses requests signed more than five minutes off; Telegram webhooks do not care, people do.
CLOCK_FAIL_SECONDS = 300.0
CLOCK_WARN_SECONDS = 30.0


class Status(str, enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


MARKS = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗"}


@dataclass(frozen=True)
class Finding:
    """One thing checked: what was found and, unless all is well, what to do about it."""

    status: Status
    subject: str
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{MARKS[self.status]} {self.subject}: {self.detail}"
        return f"{text}\n    → {self.fix}" if self.fix else text


def encryption_finding(settings: Settings) -> tuple[Finding, Cipher | None]:
    """Whether client data will be encrypted, and the key's cipher (None without a usable key).

    `referbot run` refuses to start without a key unless plaintext was allowed for a demo, so a
    missing key is a failure here too, said before anyone finds out at start-up.
    """
    try:
        cipher = Cipher.from_setting(settings.encryption_key.get_secret_value() if settings.encryption_key else None)
    except EncryptionError as problem:
        return Finding(Status.FAIL, "encryption", str(problem)), None
    if cipher is not None:
        return Finding(Status.OK, "encryption", f"client data is encrypted at rest ({len(cipher.keys)} key(s) in "
                       f"{KEY_VARIABLE}; the first encrypts)"), cipher
    if settings.allow_plaintext:
        return Finding(Status.WARN, "encryption", f"{KEY_VARIABLE} is not set and REFERBOT_ALLOW_PLAINTEXT is on: "
                       "clients' details are stored unencrypted",
                       "Fine for a demo with made-up clients; for real ones run `referbot keys generate` and put the "
                       "key in .env."), None
    return Finding(Status.FAIL, "encryption", f"{KEY_VARIABLE} is not set: `referbot run` will not start, since "
                   "clients' details would be stored unencrypted",
                   "Run `referbot keys generate` and put the key in .env (keep a copy somewhere safe: without it "
                   "the data and every backup are unreadable)."), None


async def database_findings(url: str, cipher: Cipher | None = None) -> list[Finding]:
    """Connect, say which migration the schema is at compared with the newest one shipped, and
    (at the newest) whether `cipher` opens the client data stored there."""
    try:
        database = Database(url)
    except DatabaseError as problem:
        return [Finding(Status.FAIL, "database", str(problem))]
    try:
        current = await database.revision()
        head = head_revision()
        if current is None:
            return [Finding(Status.WARN, "database", f"{database.where} is reachable but empty",
                            "`referbot db upgrade` creates the tables (`referbot run` does it too).")]
        if current != head:
            return [Finding(Status.WARN, "database", f"{database.where} is at migration {current}; this referbot "
                            f"needs {head}", "Back it up (`referbot backup`), then `referbot db upgrade`.")]
        findings = [Finding(Status.OK, "database", f"{database.where} at migration {current} (the newest)")]
        stored = await stored_data_finding(database, cipher)
        return findings + ([stored] if stored is not None else [])
    except DatabaseError as problem:
        return [Finding(Status.FAIL, "database", str(problem),
                        "Start the database server, or correct host, port, user, password or name in the URL.")]
    finally:
        await database.dispose()


async def stored_data_finding(database: Database, cipher: Cipher | None) -> Finding | None:
    """Whether the key opens the encrypted client data already stored (a key from another
    installation, or a dropped old key, makes every referral unreadable), and how many values are
    still in plain text. None when the database holds no client data yet."""
    from referbot.store.models import Base

    sealed = plain = 0
    async with database.engine.connect() as connection:
        for table_name, column_name in encrypted_columns(Base.metadata):
            value = column(column_name)
            source = table(table_name, value)
            sample = await connection.scalar(select(value).select_from(source).where(value.like(f"{PREFIX}%")).limit(1))
            plain += await connection.scalar(select(func.count()).select_from(source).where(
                value.is_not(None), value.not_like(f"{PREFIX}%"))) or 0
            if sample is None:
                continue
            sealed += 1
            if cipher is None:
                return Finding(Status.FAIL, "encryption", f"the database holds encrypted client data but {KEY_VARIABLE} "
                               "is not set", f"Put the practice's key in .env as {KEY_VARIABLE}.")
            try:
                cipher.decrypt(sample)
            except EncryptionError as problem:
                return Finding(Status.FAIL, "encryption", str(problem))
    if plain and cipher is not None:
        return Finding(Status.WARN, "encryption", f"{plain} stored value(s) of client data are not encrypted "
                       "(written before the key was set)", "`referbot keys rotate` encrypts them.")
    return Finding(Status.OK, "encryption", "the key opens the client data stored in the database") if sealed else None


async def server_time(url: str, timeout: float = 10.0) -> datetime | None:
    """The time in `url`'s HTTP Date header (any answer has one), or None when it does not answer."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.head(url, allow_redirects=False) as response:
                date = response.headers.get("Date")
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
        return None
    try:
        return parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None


async def clock_finding(references: dict[str, str]) -> Finding:
    """This machine's clock against the servers referbot talks to (name -> URL).

    A clock that is minutes off makes Slack reject every request and puts nudges and office hours
    at the wrong time; the Date header of an API answer is an outside reference that needs no NTP port.
    """
    for name, url in references.items():
        theirs = await server_time(url)
        if theirs is None:
            continue
        skew = (datetime.now(timezone.utc) - theirs).total_seconds()
        detail = f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} {name}"
        if abs(skew) >= CLOCK_FAIL_SECONDS:
            return Finding(Status.FAIL, "clock", detail, "Turn on time synchronisation "
                           "(`timedatectl set-ntp true`, or chrony); Slack rejects requests signed 5 minutes off.")
        if abs(skew) >= CLOCK_WARN_SECONDS:
            return Finding(Status.WARN, "clock", detail, "Turn on time synchronisation (`timedatectl set-ntp true`).")
        return Finding(Status.OK, "clock", f"within {CLOCK_WARN_SECONDS:.0f} s of {name}")
    return Finding(Status.WARN, "clock", "not compared: no server answered to compare with",
                   "Make sure time synchronisation is on (`timedatectl status` says `synchronized: yes`).")


async def channel_findings() -> tuple[list[Finding], dict[str, str], list[Configured]]:
    """Each installed channel's settings read and, for the enabled ones, their own live check;
    also where their upstreams tell the time (for the clock) and the channels as configured."""
    from referbot.channels import configure_each, enabled

    configured, unusable = configure_each()
    findings = [Finding(Status.FAIL, name, str(problem)) for name, problem in unusable.items()]
    on = enabled(configured)
    findings.append(Finding(Status.OK, "channels", f"on: {', '.join(c.name for c in on)}" if on else
                            "none is set up: `referbot run` chats in the console only"))
    references: dict[str, str] = {}
    for item in on:
        channel = item.channel
        if channel.check is None:
            findings.append(Finding(Status.OK, item.name, "on (nothing to connect to before it runs)"))
        else:
            findings += await channel.check(item.settings)
        if channel.time_source is not None:
            url = channel.time_source(item.settings)
            references[f"{item.name} ({urlsplit(url).netloc or url})"] = url
    return findings, references, configured


async def examine(settings: Settings) -> list[Finding]:
    """Everything `referbot doctor` checks, in the order a person would fix it."""
    from referbot.channels import delivery_warnings
    from referbot.profile import ProfileError, load_profile

    findings: list[Finding] = []
    profile = None
    try:
        profile = load_profile(settings.profile)
        findings.append(Finding(Status.OK, "profile", f"{settings.profile}: {profile.practice.name}"))
    except ProfileError as problem:
        findings.append(Finding(Status.FAIL, "profile", str(problem)))
    key, cipher = encryption_finding(settings)
    findings.append(key)
    findings += await database_findings(settings.database_url, cipher)
    channels, references, configured = await channel_findings()
    findings += channels
    findings.append(await clock_finding(references))
    if profile is not None:
        findings += [Finding(Status.WARN, "alerts", warning) for warning in delivery_warnings(profile, configured)]
    return findings
