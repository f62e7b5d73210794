"""Channels: each module translates one chat platform to and from the core's Inbound / Reply.

A channel module exposes `configure(runtime) -> Channel | None` (None when its settings are not
set) and is listed in `adapters.runner.CHANNEL_MODULES`; nothing else needs to change to add one.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from referbot.ports import Notifier


class Channel(Protocol):
    """A running chat platform connection."""

    name: str

    def notifiers(self) -> list[Notifier]:
        """Outbox deliveries this channel can make (alerts, nudges); may be empty."""
        ...

    def mount(self, app: web.Application) -> bool:
        """Add inbound HTTP routes to the shared server; True if any were added."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
