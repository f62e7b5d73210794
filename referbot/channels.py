"""Channels as plugins: the contract a channel package fulfils, and the registry that finds them.

A channel is one package (under `adapters/`, or in a separate distribution) that declares a
`Channel` and lists it in the `referbot.channels` entry-point group:

    [project.entry-points."referbot.channels"]
    web = "adapters.web:CHANNEL"

The core iterates channels and never names one. Each channel owns its settings (a
pydantic-settings class with its own env prefix), its entry in the profile's `staff:` mapping
(validated by `staff_ids`), its start-up warnings, its notifier and its routes. Declaring a
channel must stay cheap: the chat SDK is imported by `build`, only when the channel starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol, Sequence

from pydantic_settings import BaseSettings

from referbot.errors import ConfigError
from referbot.ports import NoteSender, Notifier

if TYPE_CHECKING:
    from aiohttp import web

    from referbot.app import Runtime
    from referbot.doctor import Finding
    from referbot.profile import Profile

log = logging.getLogger(__name__)

GROUP = "referbot.channels"


class RunningChannel(Protocol):
    """A channel built for one run of `referbot run`."""

    name: str

    def notifiers(self) -> list[Notifier]:
        """Outbox deliveries this channel can make (alerts, nudges); may be empty."""
        ...

    def mount(self, app: web.Application) -> bool:
        """Add inbound HTTP routes to the shared server; True if any were added."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def any_ids(values: list[Any]) -> list[str]:
    """The default staff-id validator: any non-empty ids, compared as text."""
    ids = [str(v).strip() for v in values]
    if not all(ids):
        raise ValueError("staff ids must not be empty")
    return ids


def _no_warnings(_profile: Profile, _settings: Any) -> list[str]:
    return []


def _never(_profile: Profile, _settings: Any) -> bool:
    return False


@dataclass(frozen=True)
class Channel:
    """What a channel package declares (module-level `CHANNEL`)."""

    name: str
    #: Its settings class: pydantic-settings with the channel's own env prefix.
    settings: type[BaseSettings]
    #: Whether these settings switch the channel on (e.g. a bot token is set).
    enabled: Callable[[Any], bool]
    #: Builds the running channel; imports the chat SDK, so it is only called when the channel starts.
    #: Raises ConfigError for settings that cannot work together.
    build: Callable[[Runtime, Any], RunningChannel]
    #: Validates and normalises the profile's `staff: <name>:` list; raises ValueError with a reason.
    staff_ids: Callable[[list[Any]], list[str]] = any_ids
    #: Start-up warnings a therapist can act on (`referbot check` and `referbot run` print them).
    warnings: Callable[[Profile, Any], list[str]] = _no_warnings
    #: Whether, configured like this, the channel delivers referral and crisis alerts to staff.
    alerts_staff: Callable[[Profile, Any], bool] = _never
    #: A link a referral source can hand out (`referbot sources link`), for a source code.
    source_link: Callable[[Any, str], Awaitable[str]] | None = None
    #: Optional live check of the settings for `referbot doctor`: reaches the upstream service (API,
    #: mail server) and says what it found, each `Finding` ok, warn or fail with what to fix. Only
    #: called for an enabled channel; it must not raise for anything the service answers.
    check: Callable[[Any], Awaitable[list[Finding]]] | None = None
    #: Optional URL of the upstream API, whose HTTP Date header the doctor compares this machine's clock with.
    time_source: Callable[[Any], str] | None = None
    #: How the running channel (what `build` returned) writes a note to a referrer: their user id on
    #: this channel, or an address (email). None when the channel cannot write to referrers.
    note_sender: Callable[[Any], NoteSender] | None = None
    #: Referrers can reach the practice through it (when none is configured, `run` offers the console).
    for_referrers: bool = True
    #: Delivery preference: the outbox hands each alert to the first channel (lowest order) that takes it.
    order: int = 100
    summary: str = field(default="", compare=False)


@dataclass(frozen=True)
class Configured:
    """An installed channel with the settings it read from the environment."""

    channel: Channel
    settings: Any

    @property
    def name(self) -> str:
        return self.channel.name

    @property
    def enabled(self) -> bool:
        return bool(self.channel.enabled(self.settings))


@cache
def installed() -> dict[str, Channel]:
    """Every channel in the entry-point group, by name, in delivery order. A plugin that fails to
    load is a configuration problem (a broken install), reported by name instead of a traceback."""
    found: list[Channel] = []
    for point in entry_points(group=GROUP):
        try:
            channel = point.load()
        except Exception as problem:
            raise ConfigError(f"The channel plugin {point.name!r} ({point.value}) cannot be loaded: {problem}. "
                              "Reinstall referbot (scripts/bootstrap).") from problem
        if not isinstance(channel, Channel) or channel.name != point.name:
            raise ConfigError(f"The entry point {point.name!r} ({point.value}) is not a referbot Channel "
                              f"named {point.name!r}.")
        found.append(channel)
    return {c.name: c for c in sorted(found, key=lambda c: (c.order, c.name))}


def channel_named(name: str) -> Channel:
    try:
        return installed()[name]
    except KeyError:
        raise ConfigError(f"No channel named {name!r} is installed; installed: {', '.join(installed())}.") from None


def validate_staff(name: str, values: list[Any]) -> list[str]:
    """The profile's `staff: <name>:` list, checked by the channel that owns the name."""
    if name not in installed():
        raise ValueError(f"no channel named {name!r} is installed (installed: {', '.join(installed())})")
    return installed()[name].staff_ids(list(values))


def configure(names: Sequence[str] | None = None) -> list[Configured]:
    """Every installed channel (or those named) with its settings read; SettingsError when unreadable."""
    from referbot.settings import load_settings

    channels = [channel_named(n) for n in names] if names is not None else list(installed().values())
    return [Configured(channel, load_settings(channel.settings)) for channel in channels]


def configure_each() -> tuple[list[Configured], dict[str, ConfigError]]:
    """Every installed channel whose settings can be read, and the problem of each one whose cannot:
    `check` and `doctor` report every unusable channel instead of stopping at the first."""
    configured: list[Configured] = []
    problems: dict[str, ConfigError] = {}
    for name in installed():
        try:
            configured += configure([name])
        except ConfigError as problem:
            problems[name] = problem
    return configured, problems


def enabled(configured: Sequence[Configured]) -> list[Configured]:
    return [c for c in configured if c.enabled]


def note_channels(configured: Sequence[Configured]) -> set[str]:
    """The enabled channels that can deliver a note to a referrer (see `referbot.sending`)."""
    return {c.name for c in enabled(configured) if c.channel.note_sender is not None}


def alerts_reach_staff(profile: Profile, configured: Sequence[Configured]) -> bool:
    """Whether some enabled channel delivers referral and crisis alerts to the practice's staff
    (a crisis reply only promises that the practice was alerted when this is true)."""
    return any(c.channel.alerts_staff(profile, c.settings) for c in enabled(configured))


def delivery_warnings(profile: Profile, configured: Sequence[Configured]) -> list[str]:
    """Each enabled channel's own warnings, and whether referral and crisis alerts reach anybody.

    Alerts are never lost (they wait in the outbox), but a practice must know nobody is told.
    """
    warnings = [w for c in enabled(configured) for w in c.channel.warnings(profile, c.settings)]
    if not alerts_reach_staff(profile, configured):
        warnings.append("No alert channel is set up (Slack with SLACK_ALERT_CHANNEL, or Telegram with staff ids "
                        "in the profile): referral and crisis alerts are stored and wait until one is; "
                        "`referbot referrals list` shows them meanwhile.")
    return warnings
