"""The interfaces the core depends on and others implement: the matcher, and channel notifiers.

The core calls these; `referbot.matching` and the channel adapters provide them. Tests can pass
their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from referbot.domain import FitAssessment, IntakeFacts, IssueMatch, OutboxKind, RiskAssessment
from referbot.profile import Profile


class Assessor(Protocol):
    """Reads free text for issues and for danger (crisis, ask, none), and judges fit against the profile."""

    def find_issues(self, text: str) -> list[IssueMatch]: ...

    def assess_risk(self, text: str) -> RiskAssessment: ...

    def assess(self, profile: Profile, facts: IntakeFacts) -> FitAssessment: ...


class RetryLater(Exception):
    """Delivery failed for now (outage, rate limit); `after` seconds is the upstream's own hint."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


@dataclass(frozen=True)
class Envelope:
    """An outbox message as a notifier sees it: what to deliver, and where it was delivered before."""

    id: int
    kind: OutboxKind
    key: str
    payload: dict[str, Any]
    attempts: int
    delivered_to: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    """A channel that delivers outbox messages to the practice (Slack, Telegram staff chats)."""

    name: str

    def accepts(self, kind: OutboxKind) -> bool: ...

    async def deliver(self, envelope: Envelope) -> dict[str, Any]:
        """Send it; return where it went (e.g. channel and message ts) to be stored on the row.

        Raise RetryLater for temporary failures; any other exception is retried with backoff too.
        """
        ...


class NoteSender(Protocol):
    """A channel's way to write to a referrer (a nudge's note): one note to one address on it.

    Raise RetryLater (or anything) to be retried by the outbox.
    """

    async def send_note(self, to: str, subject: str, text: str) -> dict[str, Any]: ...
