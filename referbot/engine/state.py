"""A conversation's state: plain data, so it can be saved after every turn and resumed anywhere."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from referbot.domain import ConversationStatus


@dataclass
class ConversationState:
    """Where one referrer is in one flow.

    `answers` holds every answer given (None for a skipped optional step); `history` is the stack
    of steps asked, for /back; `known` lists steps answered from a returning referrer's record;
    `draft` holds the toggles of a multi-choice step not yet confirmed; `editing` is set while
    the referrer changes one answer from the summary. `pending` holds an answer not yet taken
    while the referrer is asked about safety, or after a crisis stop, so that "no" or "not an
    emergency" carries on exactly where they were; `risk_log` records every screening answer,
    safety question, crisis stop and false alarm, and goes onto the referral.
    """

    flow_id: str
    step: str | None = None
    status: ConversationStatus = ConversationStatus.ASKING
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    draft: list[str] = field(default_factory=list)
    editing: bool = False
    choosing_edit: bool = False
    pending: dict[str, Any] | None = None
    risk_log: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as the JSON it is stored as. Made through the json module, four times faster
        than `dataclasses.asdict` (every turn makes two), and equal to what a reload will read."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["status"] = self.status.value
        return json.loads(json.dumps(data))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ConversationState":
        return cls(**{**data, "status": ConversationStatus(data["status"])})
