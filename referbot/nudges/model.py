"""`Nudge`: one reminder as every surface sees it (chat, CLI, outbox payload)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from referbot.domain import NudgeKind, NudgeState

TITLES = {
    NudgeKind.THANK_SOURCE: "Thank the referrer",
    NudgeKind.FIRST_CONTACT: "Reach out to a waiting client",
    NudgeKind.CLOSE_LOOP: "Tell the referrer how it went",
    NudgeKind.STAY_IN_TOUCH: "Stay in touch",
    NudgeKind.RECIPROCITY: "Refer back",
    NudgeKind.LAPSED_SOURCE: "Reconnect with a quiet referrer",
}


@dataclass(frozen=True)
class Nudge:
    """A due reminder: `text` is the reminder with its context, `draft` a note ready to adapt and send."""

    id: int
    kind: NudgeKind
    source: str
    due_at: datetime
    text: str
    draft: str
    state: NudgeState = NudgeState.PENDING
    snoozed_until: datetime | None = None
    source_id: int | None = None
    referral_id: int | None = None

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def payload(self) -> dict[str, Any]:
        """The outbox payload of a single nudge: all a notifier needs to render it and its buttons."""
        return {"nudge_id": self.id, "kind": self.kind.value, "title": self.title, "source": self.source,
                "text": self.text, "draft": self.draft}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind.value, "title": self.title, "source": self.source,
                "due_at": self.due_at.isoformat(), "text": self.text, "draft": self.draft,
                "state": self.state.value,
                "snoozed_until": self.snoozed_until.isoformat() if self.snoozed_until else None,
                "source_id": self.source_id, "referral_id": self.referral_id}
