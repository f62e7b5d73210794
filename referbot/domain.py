"""The shared vocabulary of referbot: enums and value objects every layer speaks.

Channels, the engine, matching and storage exchange these types and nothing channel-specific, so
that a new channel or a new matcher plugs in without the others noticing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class SourceType(str, enum.Enum):
    """Who sends referrals; also the choice ids of the intake's `referrer_role` step."""

    PHYSICIAN = "physician"
    THERAPIST = "therapist"
    SCHOOL = "school"
    FORMER_CLIENT = "former_client"
    COMMUNITY_ORG = "community_org"
    ONLINE_PLATFORM = "online_platform"
    OTHER = "other"


class FitVerdict(str, enum.Enum):
    GOOD_FIT = "good_fit"
    POSSIBLE_FIT = "possible_fit"
    NOT_A_FIT = "not_a_fit"
    CRISIS = "crisis"


class ReferralStatus(str, enum.Enum):
    """The referral lifecycle; every change is recorded with who made it and when."""

    NEW = "new"
    CONTACTED = "contacted"
    CONSULT_BOOKED = "consult_booked"
    BECAME_CLIENT = "became_client"
    NOT_A_FIT = "not_a_fit"
    REFERRED_OUT = "referred_out"
    NO_RESPONSE = "no_response"
    DECLINED_BY_CLIENT = "declined_by_client"


#: Before any record: the "last contact" of a source never contacted, or its last thank-you.
NEVER = datetime(1900, 1, 1, tzinfo=timezone.utc)

#: The funnel's stages after "referral", in order. A referral has reached a stage if it ever had
#: that status or a later one (a client booked straight from `new` still counts as contacted).
FUNNEL = (ReferralStatus.CONTACTED, ReferralStatus.CONSULT_BOOKED, ReferralStatus.BECAME_CLIENT)


def funnel_stage(status: str) -> int:
    """How far down the funnel a status is: 0 for none of its stages, 3 for became_client."""
    return next((i for i, stage in enumerate(FUNNEL, start=1) if stage.value == status), 0)


class TouchpointKind(str, enum.Enum):
    """A contact with a source; any of them resets the stay-in-touch clock."""

    THANKED = "thanked"
    CHECK_IN = "check_in"
    UPDATE_SENT = "update_sent"
    REFERRED_BACK = "referred_back"
    EVENT = "event"
    REFERRAL_RECEIVED = "referral_received"


class ConversationStatus(str, enum.Enum):
    ASKING = "asking"
    DONE = "done"
    CANCELLED = "cancelled"
    CRISIS = "crisis"


class Command(str, enum.Enum):
    """Commands a referrer can give at any step, on any channel."""

    START = "start"
    BACK = "back"
    CANCEL = "cancel"
    RESTART = "restart"
    HELP = "help"
    EDIT = "edit"

    @classmethod
    def typed(cls, text: str, *, bare_words: bool = False) -> "tuple[Command, str | None] | None":
        """`/back` or `/edit client_age` as (command, argument); None for anything else. With
        `bare_words`, `back` alone counts too (for channels that do not deliver slash commands)."""
        stripped = text.strip()
        name, _, argument = stripped.removeprefix("/").partition(" ")
        if not (stripped.startswith("/") or (bare_words and not argument and name.lower() != cls.START.value)):
            return None
        try:
            return cls(name.lower()), argument.strip() or None
        except ValueError:
            return None


class OutboxKind(str, enum.Enum):
    """What an outbox row asks a notifier to deliver."""

    REFERRAL_ALERT = "referral_alert"
    CRISIS_ALERT = "crisis_alert"
    NUDGE = "nudge"
    SOURCE_NOTE = "source_note"  # a note the therapist sends a referrer (from a nudge), by chat or email


class NudgeKind(str, enum.Enum):
    """Why the practice should reach out now: to a source, or to a client still waiting."""

    THANK_SOURCE = "thank_source"
    FIRST_CONTACT = "first_contact"
    CLOSE_LOOP = "close_loop"
    STAY_IN_TOUCH = "stay_in_touch"
    RECIPROCITY = "reciprocity"
    LAPSED_SOURCE = "lapsed_source"


class NudgeState(str, enum.Enum):
    """A nudge is pending until done or skipped; a snoozed one comes back when its snooze ends."""

    PENDING = "pending"
    SNOOZED = "snoozed"
    DONE = "done"
    SKIPPED = "skipped"


# --- messages between channels and the core -------------------------------------------------


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class Reply:
    """One message to show the user. `text` is plain text: each adapter escapes it for its channel."""

    text: str
    choices: tuple[Choice, ...] = ()
    multi: bool = False
    crisis: bool = False


@dataclass(frozen=True)
class Inbound:
    """One user event from any channel, already translated by its adapter.

    Exactly one of `text`, `choice`, `command` is set (or none, to start or resume). `event_id`
    is the channel's delivery id, used to handle each delivery once. `source_code` credits a
    referral source (a deep link or QR code) without asking.
    """

    channel: str
    user_id: str
    text: str | None = None
    choice: str | None = None
    command: Command | None = None
    argument: str | None = None
    event_id: str | None = None
    display_name: str | None = None
    source_code: str | None = None


# --- matching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueMatch:
    """One presenting issue found in free text: a taxonomy id, a 0-100 score and the words seen."""

    id: str
    score: float
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": round(self.score, 1), "evidence": self.evidence}


class CrisisKind(str, enum.Enum):
    """Who is in danger. Each kind has its own crisis resources in the profile."""

    SELF = "self"  # suicide, self-harm
    OTHERS = "others"  # threats, homicidal ideation, a weapon and a target
    FROM_OTHERS = "from_others"  # ongoing abuse or violence, strangulation, stalking
    MEDICAL = "medical"  # overdose, refusing life-sustaining treatment, not eating or drinking for days


class RiskLevel(str, enum.Enum):
    """Three answers, not two: a crisis stops the intake; `ask` puts one kind, direct question about
    safety to the referrer before going on; `none` goes on."""

    CRISIS = "crisis"
    ASK = "ask"
    NONE = "none"


@dataclass(frozen=True)
class RiskAssessment:
    """What free text says about danger right now. `kind` and `evidence` are set for crisis and ask;
    `history` keeps past risk that was seen and deliberately not alarmed on ("hx of OD 2019")."""

    level: RiskLevel = RiskLevel.NONE
    kind: CrisisKind | None = None
    evidence: str | None = None
    history: tuple[str, ...] = ()

    @property
    def is_crisis(self) -> bool:
        return self.level is RiskLevel.CRISIS

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level.value, "kind": self.kind.value if self.kind else None,
                "evidence": self.evidence, "history": list(self.history)}


NO_RISK = RiskAssessment()


@dataclass(frozen=True)
class IntakeFacts:
    """What fit is judged on, lifted out of the intake answers (all optional: referrers skip)."""

    issues_text: str = ""
    issues: tuple[IssueMatch, ...] = ()
    age: int | None = None
    therapy_format: str | None = None  # individual | couples | family | group
    modality: str | None = None  # in_person | telehealth | either
    payment: str | None = None  # insurance | private_pay | sliding_scale | unsure
    insurance_name: str | None = None
    language: str | None = None
    urgency: str | None = None


@dataclass(frozen=True)
class Colleague:
    """A trusted colleague suggested when the practice is not the right fit."""

    name: str
    specialties: tuple[str, ...]
    contact: str


@dataclass(frozen=True)
class ClinicianFit:
    name: str
    verdict: FitVerdict
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FitAssessment:
    """The honest answer: a verdict, readable reasons, ranked clinicians, and where else to go."""

    verdict: FitVerdict
    reasons: tuple[str, ...]
    clinicians: tuple[ClinicianFit, ...] = ()
    refer_out: tuple[Colleague, ...] = field(default_factory=tuple)
    issues_recognised: bool = True
