"""The database tables. Alembic migrations in `referbot/migrations` create them; never `create_all`.

Client-identifying fields and free text are `EncryptedText` / `EncryptedJSON` (see
`store/encryption.py`); answer-holding columns are unbounded text, so no answer a flow accepts
(`referbot/limits.py`) can be too long for the database.

Everything a referral needs to survive a crash lives here: the conversation state (saved every
turn), the referral with its status history, the sources and their touchpoints, and the outbox
of messages still to be delivered.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, MetaData, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from referbot.domain import (ConversationStatus, CrisisKind, FitVerdict, NudgeKind, NudgeState, OutboxKind, ReferralStatus,
                             SourceType, TouchpointKind)
from referbot.store.encryption import EncryptedJSON, EncryptedText

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps go in and come out as aware UTC datetimes, on SQLite (which has no time zones) as on
    PostgreSQL, so time arithmetic in the nudger and stats never mixes naive and aware values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def _enum(enum_cls: type) -> String:
    """Enums are stored as their string values: readable in SQL, no ALTER TYPE to add a value."""
    return String(max(len(m.value) for m in enum_cls) + 8)


class Source(Base):
    """A person or organisation that refers clients (or that we refer to)."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(_enum(SourceType), default=SourceType.OTHER.value)
    organisation: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    tier: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(EncryptedText)
    #: A colleague the practice refers clients out to (from the profile's `colleagues:`), listed
    #: apart from the sources who refer to the practice.
    colleague: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    #: The source's latest activity, so the nudger and the stats pick the sources where something
    #: can be due from these columns instead of looking up each source's history: the latest
    #: touchpoint of any kind, of the kinds they look up, and the latest referral. Kept by
    #: `Touchpoints.add`, `Referrals.add` and the moves of referrals between sources (see
    #: `referbot.nudges.scope` for why they can be trusted).
    last_touch_at: Mapped[datetime | None]
    last_thanked_at: Mapped[datetime | None]
    last_referred_back_at: Mapped[datetime | None]
    last_update_sent_at: Mapped[datetime | None]
    last_referral_at: Mapped[datetime | None]
    #: What the nudger remembers, so that it leaves out what has ended without looking it up (see
    #: `referbot.nudges.scope`). Per periodic nudge kind, the anchor (start of the period, see
    #: `referbot.nudges.rules`) of its last nudge found done or skipped; per referral nudge kind
    #: with a source, the instant up to which every referral of the source has that nudge behind
    #: it (thanked, updated, or done or skipped). NULL: nothing known (yet).
    stay_in_touch_ended_anchor: Mapped[datetime | None]
    reciprocity_ended_anchor: Mapped[datetime | None]
    lapsed_source_ended_anchor: Mapped[datetime | None]
    thank_source_settled_through: Mapped[datetime | None]
    close_loop_settled_through: Mapped[datetime | None]
    #: Counts the changes that can bring back a nudge of the source's that was settled: a referral
    #: arriving, changing or moving, its nudges erased. The nudger writes what it remembers only
    #: where this has not changed since it read the source, so a tick never records a stale view.
    story_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    identities: Mapped[list["SourceIdentity"]] = relationship(back_populates="source", lazy="selectin")
    aliases: Mapped[list["SourceAlias"]] = relationship(lazy="selectin", order_by="SourceAlias.id")


#: Where the nudger remembers, per periodic nudge kind, the anchor of the last one that ended.
ENDED_ANCHOR = {NudgeKind.STAY_IN_TOUCH: Source.stay_in_touch_ended_anchor,
                NudgeKind.RECIPROCITY: Source.reciprocity_ended_anchor,
                NudgeKind.LAPSED_SOURCE: Source.lapsed_source_ended_anchor}
#: Where the nudger remembers, per referral nudge kind it tracks by source, how far it is settled.
SETTLED_THROUGH = {NudgeKind.THANK_SOURCE: Source.thank_source_settled_through,
                   NudgeKind.CLOSE_LOOP: Source.close_loop_settled_through}


class SourceAlias(Base):
    """A name or tracking code a source had before a rename or a merge: typing the old name still
    finds it, and a QR code printed with a merged source's code still credits the right source."""

    __tablename__ = "source_aliases"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class SourceIdentity(Base):
    """A chat identity (channel + user id) known to belong to a source: how returning referrers are recognised."""

    __tablename__ = "source_identities"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_source_identities_channel_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[Source] = relationship(back_populates="identities")


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_source_created", "source_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    referrer_user_id: Mapped[str] = mapped_column(String(128))
    client_name: Mapped[str | None] = mapped_column(EncryptedText)
    client_age: Mapped[int | None] = mapped_column(Integer)
    presenting_issues: Mapped[str | None] = mapped_column(EncryptedText)
    issues: Mapped[list[Any]] = mapped_column(default=list)
    therapy_format: Mapped[str | None] = mapped_column(String(32))
    modality: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str | None] = mapped_column(String(32))
    payment: Mapped[str | None] = mapped_column(String(32))
    consent_to_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_to_update: Mapped[bool] = mapped_column(Boolean, default=False)
    client_contact: Mapped[str | None] = mapped_column(EncryptedText)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    verdict: Mapped[str] = mapped_column(_enum(FitVerdict))
    fit: Mapped[dict[str, Any]] = mapped_column(default=dict)
    crisis: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    crisis_evidence: Mapped[str | None] = mapped_column(EncryptedText)
    crisis_kind: Mapped[str | None] = mapped_column(_enum(CrisisKind), nullable=True)
    #: Set when the referrer was not sure about the client's safety: the practice looks first.
    urgent_review: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The risk record: screening answer, safety questions asked and answered, crisis stops, false
    #: alarms, and past risk noted without alarm (the engine's risk log).
    risk: Mapped[list[Any]] = mapped_column(EncryptedJSON, default=list)
    status: Mapped[str] = mapped_column(_enum(ReferralStatus), default=ReferralStatus.NEW.value, index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    first_contact_at: Mapped[datetime | None]
    #: The furthest funnel stage (`referbot.domain.funnel_stage`) its status history reached since its
    #: last forced correction: kept by `record_change`, so the stats read one column, not the history.
    reached: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the client's details were erased (by `forget` or retention); the row stays for stats.
    erased_at: Mapped[datetime | None]

    source: Mapped[Source | None] = relationship(lazy="selectin")
    events: Mapped[list["ReferralEvent"]] = relationship(
        back_populates="referral", lazy="selectin", order_by="ReferralEvent.id")


class ReferralEvent(Base):
    """One change of a referral: a status change, or a corrected field (`field`, `old_value`,
    `new_value`; `status` is then the unchanged status). `forced` marks a status change outside the
    normal lifecycle, made as a correction."""

    __tablename__ = "referral_events"
    __table_args__ = (Index("ix_referral_events_referral_status_at", "referral_id", "status", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(_enum(ReferralStatus))
    by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(EncryptedText)
    at: Mapped[datetime] = mapped_column(index=True)
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(EncryptedText)  # a corrected client name is client data
    new_value: Mapped[str | None] = mapped_column(EncryptedText)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    referral: Mapped[Referral] = relationship(back_populates="events")


class Conversation(Base):
    """One referrer's conversation on one channel, saved on every turn so nothing is asked twice.

    Turns read and write it as a plain `ConversationRow` with single Core statements
    (`referbot.store.conversations`); this class serves the rest (erasure, retention, metrics)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_conversations_channel_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(_enum(ConversationStatus))
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    source_code: Mapped[str | None] = mapped_column(String(64))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)

    __mapper_args__ = {"version_id_col": version}


class Touchpoint(Base):
    """A contact with a source: thanked, checked in, update sent, referred back, or a referral received."""

    __tablename__ = "touchpoints"
    __table_args__ = (Index("ix_touchpoints_source_at", "source_id", "at"),
                      Index("ix_touchpoints_source_kind_at", "source_id", "kind", "at"),
                      Index("ix_touchpoints_kind_at", "kind", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(_enum(TouchpointKind))
    note: Mapped[str | None] = mapped_column(EncryptedText)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    by: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime]


class OutboxMessage(Base):
    """Something to deliver later (an alert, a nudge), written in the same transaction as its cause.

    `key` is unique so the same fact is never enqueued twice; a worker claims a row by setting
    `claimed_until` in one atomic UPDATE, so two workers never send the same one.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(_enum(OutboxKind))
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_to: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ProcessedEvent(Base):
    """Channel delivery ids already handled, so a redelivered update or retried event does nothing twice."""

    __tablename__ = "processed_events"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)


class NudgeRecord(Base):
    """A relationship reminder, materialised once it is due so that it has an id to act on.

    `key` names the fact it is about (`thank_source:referral:17`, `stay_in_touch:source:4:2026-03-02`)
    and is unique, so recomputing due nudges — in any number of processes — never duplicates one.
    `notified_at` is set when it is handed to the outbox and cleared by a snooze, so it comes back.
    """

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_state_due", "state", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(_enum(NudgeKind))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(_enum(NudgeState), default=NudgeState.PENDING.value)
    snoozed_until: Mapped[datetime | None]
    snoozes: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[datetime | None]
    text: Mapped[str] = mapped_column(EncryptedText, default="")
    draft: Mapped[str] = mapped_column(EncryptedText, default="")
    acted_by: Mapped[str | None] = mapped_column(String(128))
    acted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who looked at, exported, changed or erased client data, when, and through which channel.

    `target` names a record (`referral:17`, `source:4`, `export:referrals`), never its contents,
    so the audit log itself holds no client data and is kept when the data is erased.
    """

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))


# --- running counts for all-time stats (kept by `referbot.store.tallies`) --------------------------


#: The `SourceTally.source_key` of referrals with no known source (source ids start at 1).
NO_SOURCE = 0


class SourceTally(Base):
    """Per source, every referral it ever sent and how far they went, and the clients referred
    back to it: what an all-time report reads instead of all history (see `referbot.store.tallies`)."""

    __tablename__ = "source_tallies"
    #: The source's id, or NO_SOURCE; no foreign key, so referrals without a source have a row too.
    source_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    referrals: Mapped[int] = mapped_column(Integer, default=0)
    good_fit: Mapped[int] = mapped_column(Integer, default=0)
    contacted: Mapped[int] = mapped_column(Integer, default=0)  # reached contacted or a later stage
    consult_booked: Mapped[int] = mapped_column(Integer, default=0)  # reached consult_booked or later
    became_client: Mapped[int] = mapped_column(Integer, default=0)
    good_fit_clients: Mapped[int] = mapped_column(Integer, default=0)  # good fit AND became a client
    referred_back: Mapped[int] = mapped_column(Integer, default=0)  # `referred_back` touchpoints with it


class ChannelTally(Base):
    """Every referral ever, per channel it came through and fit verdict."""

    __tablename__ = "channel_tallies"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    verdict: Mapped[str] = mapped_column(_enum(FitVerdict), primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer, default=0)


class WaitTally(Base):
    """Every contacted referral ever, per whole minutes from its arrival to its first contact: the
    median time to first contact over all time is read from these counts."""

    __tablename__ = "wait_tallies"
    minutes: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    referrals: Mapped[int] = mapped_column(Integer, default=0)
