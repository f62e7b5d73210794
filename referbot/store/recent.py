"""The conversation rows this process wrote last, so a referrer's next turn need not read its row.

A referrer's next message usually reaches the process that answered the one before. Its turn takes
the row back as this process committed it instead of reading and locking it first: one round trip
less on every turn. That is safe because the row's UPDATE still names the version it was written
at (`Conversations.save`): if another worker, an erasure or retention changed or deleted the row
since, the UPDATE finds nothing and raises StaleDataError, nothing of the turn is committed, and the
turn is retried from a fresh, locked read (`IntakeService._handle_retrying`).
"""

from __future__ import annotations

from collections import OrderedDict

from referbot.store.conversations import ConversationRow

#: Enough for every referrer in the middle of an intake at a busy practice; bounded, so open
#: conversations cost rows, not process memory.
RECENT_CONVERSATIONS = 512


class RecentConversations:
    """Committed conversation rows by (channel, user), least recently written dropped first."""

    def __init__(self, size: int = RECENT_CONVERSATIONS) -> None:
        self.size = size
        self._rows: OrderedDict[tuple[str, str], ConversationRow] = OrderedDict()

    def take(self, channel: str, user_id: str) -> ConversationRow | None:
        """The row as this process last committed it, removed: a turn that then fails leaves no
        entry behind, and the next one reads the row afresh."""
        return self._rows.pop((channel, user_id), None)

    def keep(self, conversation: ConversationRow) -> None:
        """Remember a row right after the commit that wrote it."""
        key = (conversation.channel, conversation.user_id)
        self._rows[key] = conversation
        self._rows.move_to_end(key)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)
