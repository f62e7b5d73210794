"""The practice profile (`practice.yaml`): who the practice is, whom it serves, who may see what.

Loaded once at start-up and validated with pydantic; every error is reported with the file, the
line and the field so a therapist can fix it without reading a traceback.
"""

from __future__ import annotations

import difflib
import enum
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel, ValidationError, field_validator, model_validator

from referbot.domain import CrisisKind, SourceType
from referbot.errors import ConfigError


class ProfileError(ConfigError):
    """A profile that cannot be used; `str()` is a message for the therapist, one problem a line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class TherapyFormat(str, enum.Enum):
    INDIVIDUAL = "individual"
    COUPLES = "couples"
    FAMILY = "family"
    GROUP = "group"


class Modality(str, enum.Enum):
    IN_PERSON = "in_person"
    TELEHEALTH = "telehealth"


class Availability(str, enum.Enum):
    ACCEPTING = "accepting"
    WAITLIST = "waitlist"
    CLOSED = "closed"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Model):
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    address: str | None = None

    def one_line(self) -> str:
        """All known contact details on one line, for messages."""
        return " · ".join(v for v in (self.phone, self.email, self.website, self.address) if v)


class AgeRange(_Model):
    min: int = Field(0, ge=0, le=120)
    max: int = Field(120, ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> "AgeRange":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def contains(self, age: int) -> bool:
        return self.min <= age <= self.max

    def describe(self) -> str:
        if self.max >= 120:
            return f"{self.min}+"
        return f"{self.min}–{self.max}"


class Payment(_Model):
    insurance_panels: list[str] = Field(default_factory=list)
    private_pay: bool = True
    sliding_scale: bool = False
    fee: str | None = None


class Clinician(_Model):
    name: str
    credentials: str = ""
    specialties: list[str] = Field(default_factory=list)
    not_accepted: list[str] = Field(default_factory=list)
    ages: AgeRange = Field(default_factory=AgeRange)
    formats: list[TherapyFormat] = Field(default_factory=lambda: [TherapyFormat.INDIVIDUAL])
    modalities: list[Modality] = Field(default_factory=lambda: [Modality.IN_PERSON, Modality.TELEHEALTH])
    languages: list[str] = Field(default_factory=lambda: ["English"])
    payment: Payment = Field(default_factory=Payment)
    availability: Availability = Availability.ACCEPTING
    waitlist_weeks: int | None = Field(None, ge=0)


_HHMM = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class OfficeHours(_Model):
    timezone: str = "America/New_York"
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: str = "09:00"
    end: str = "17:00"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use a name like America/Chicago)") from None
        return value

    @field_validator("days")
    @classmethod
    def _known_days(cls, value: list[str]) -> list[str]:
        days = [d.strip().lower()[:3] for d in value]
        bad = [d for d in days if d not in _DAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use mon, tue, wed, thu, fri, sat, sun")
        return days

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _HHMM.match(str(value)):
            raise ValueError(f"{value!r} is not a time of day like 09:00")
        return str(value)

    @model_validator(mode="after")
    def _ordered(self) -> "OfficeHours":
        if self.opens() >= self.closes():
            raise ValueError(f"start ({self.start}) must be before end ({self.end})")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def opens(self) -> time:
        return time.fromisoformat(self.start.zfill(5))

    def is_workday(self, day: date) -> bool:
        return _DAYS[day.weekday()] in self.days

    def closes(self) -> time:
        return time.fromisoformat(self.end.zfill(5))

    def describe(self) -> str:
        return f"{', '.join(d.capitalize() for d in self.days)} {self.start}–{self.end} ({self.timezone})"


class Guidelines(_Model):
    steps: list[str] = Field(default_factory=list)
    documentation: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)


class TrustedColleague(_Model):
    name: str
    specialties: list[str] = Field(default_factory=list)
    contact: Contact = Field(default_factory=Contact)
    notes: str | None = None


class CrisisResource(_Model):
    name: str
    contact: str
    description: str = ""


def _default_crisis_resources() -> list[CrisisResource]:
    return [CrisisResource(name="Emergency services", contact="911",
                           description="if someone is in immediate danger")]


def _default_resources_by_kind() -> dict[CrisisKind, list[CrisisResource]]:
    """Common US lines for each kind of danger; a practice elsewhere replaces them in its profile."""
    lifeline = CrisisResource(name="988 Suicide & Crisis Lifeline", contact="call or text 988",
                              description="24/7, free and confidential")
    return {
        CrisisKind.SELF: [lifeline, CrisisResource(name="Crisis Text Line", contact="text HOME to 741741")],
        CrisisKind.OTHERS: [lifeline],
        CrisisKind.FROM_OTHERS: [
            CrisisResource(name="National Domestic Violence Hotline", contact="1-800-799-7233 or text START to 88788",
                           description="24/7, for anyone being hurt, threatened or stalked"),
            CrisisResource(name="Childhelp National Child Abuse Hotline", contact="1-800-422-4453",
                           description="24/7, when a child is being hurt")],
        CrisisKind.MEDICAL: [CrisisResource(name="Poison Control", contact="1-800-222-1222",
                                            description="24/7, for an overdose or a poisoning")],
    }


class Crisis(_Model):
    """Where people in danger are sent: `resources` for every kind of danger (emergency services),
    `by_kind` the lines for danger to self, to others, from others, and medical danger."""

    country: str = "US"
    resources: list[CrisisResource] = Field(default_factory=_default_crisis_resources)
    by_kind: dict[CrisisKind, list[CrisisResource]] = Field(default_factory=_default_resources_by_kind)

    @field_validator("resources")
    @classmethod
    def _not_empty(cls, value: list[CrisisResource]) -> list[CrisisResource]:
        if not value:
            raise ValueError("list at least one crisis resource; people in danger must be told where to turn")
        return value

    @model_validator(mode="after")
    def _us_defaults_only_in_the_us(self) -> "Crisis":
        """The built-in lines are US numbers: a practice elsewhere must name its own."""
        if self.country.upper() != "US":
            if "resources" not in self.model_fields_set:
                raise ValueError(f"country is {self.country}: list your country's emergency lines under "
                                 "crisis: resources (the built-in ones are US numbers)")
            if "by_kind" not in self.model_fields_set:
                return self.model_copy(update={"by_kind": {}})
        return self

    def for_kind(self, kind: CrisisKind | None) -> list[CrisisResource]:
        """Emergency lines first, then those for this kind (every kind's when unknown); each once."""
        extra = self.by_kind.get(kind, []) if kind else [r for rs in self.by_kind.values() for r in rs]
        chosen: dict[str, CrisisResource] = {}
        for resource in [*self.resources, *extra]:
            chosen.setdefault(resource.name, resource)
        return list(chosen.values())


class Staff(RootModel[dict[str, list[str]]]):
    """Chat identities allowed to see referrals, stats and nudges, per channel name. Everyone else
    is a referrer. The core accepts any channel name; the channel that owns a name checks its ids
    when the profile is loaded (`referbot.channels.validate_staff`)."""

    model_config = ConfigDict(frozen=True)
    root: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("root", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        """Ids are compared as text whatever the channel (Telegram's are numbers in YAML)."""
        if isinstance(value, dict):
            return {str(k): [str(v) for v in ids] if isinstance(ids, list) else ids for k, ids in value.items()}
        return value

    def ids(self, channel: str) -> list[str]:
        return list(self.root.get(channel, []))

    def includes(self, channel: str, user_id: str) -> bool:
        return str(user_id) in self.root.get(channel, [])


class CustomSpecialty(_Model):
    id: str
    label: str
    phrases: list[str] = Field(default_factory=list)


class PracticeInfo(_Model):
    name: str
    contact: Contact = Field(default_factory=Contact)
    office_hours: OfficeHours = Field(default_factory=OfficeHours)
    response_time_business_days: int = Field(2, ge=0, le=30)


class ThankSourceRule(_Model):
    enabled: bool = True
    after_business_days: int = Field(1, ge=0, le=30)


class RuleSwitch(_Model):
    """A rule with nothing to tune but whether it runs."""

    enabled: bool = True


class StayInTouchRule(_Model):
    """No contact with a source for `days`; `by_type` / `by_tier` override it (a tier beats a type)."""

    enabled: bool = True
    days: int = Field(90, ge=1, le=3650)
    by_type: dict[SourceType, int] = Field(default_factory=dict)
    by_tier: dict[str, int] = Field(default_factory=dict)

    def days_for(self, source_type: str, tier: str | None) -> int:
        if tier is not None and tier in self.by_tier:
            return self.by_tier[tier]
        return next((d for t, d in self.by_type.items() if t.value == source_type), self.days)


class ReciprocityRule(_Model):
    enabled: bool = True
    referrals: int = Field(3, ge=1, le=100)


class LapsedSourceRule(_Model):
    enabled: bool = True
    days: int = Field(180, ge=1, le=3650)
    min_referrals: int = Field(1, ge=1, le=100)


class NudgeRules(_Model):
    """When the bot reminds the practice to tend its referral relationships (`nudges:` in practice.yaml)."""

    delivery: Literal["each", "digest"] = "each"
    thank_source: ThankSourceRule = Field(default_factory=ThankSourceRule)
    first_contact: RuleSwitch = Field(default_factory=RuleSwitch)
    close_loop: RuleSwitch = Field(default_factory=RuleSwitch)
    stay_in_touch: StayInTouchRule = Field(default_factory=StayInTouchRule)
    reciprocity: ReciprocityRule = Field(default_factory=ReciprocityRule)
    lapsed_source: LapsedSourceRule = Field(default_factory=LapsedSourceRule)


class Retention(_Model):
    """How long client details are kept (`privacy: retention:`); `null` keeps them until `forget`."""

    #: Client details of referrals that did not become clients are erased this many days after arrival.
    client_details_days: int | None = Field(90, ge=1, le=3650)
    #: Intakes a referrer started and never sent are deleted after this many days without a reply.
    abandoned_intake_days: int | None = Field(30, ge=1, le=3650)


class Privacy(_Model):
    """What alerts carry and how long client data is kept (`privacy:` in practice.yaml)."""

    #: `minimal`: initials, age band, issue categories, fit, urgency; details on request, to staff,
    #: audited. `full` adds the first name, exact age and crisis words (for practices with a BAA with Slack).
    alerts: Literal["minimal", "full"] = "minimal"
    retention: Retention = Field(default_factory=Retention)


class Profile(_Model):
    practice: PracticeInfo
    clinicians: list[Clinician]
    guidelines: Guidelines = Field(default_factory=Guidelines)
    colleagues: list[TrustedColleague] = Field(default_factory=list)
    crisis: Crisis = Field(default_factory=Crisis)
    staff: Staff = Field(default_factory=Staff)
    issue_phrases: dict[str, list[str]] = Field(default_factory=dict)
    custom_specialties: list[CustomSpecialty] = Field(default_factory=list)
    nudges: NudgeRules = Field(default_factory=NudgeRules)
    _notes: tuple[str, ...] = PrivateAttr(default=())

    @property
    def notes(self) -> tuple[str, ...]:
        """What loading changed or doubted (a specialty read as an issue id, a custom specialty), one
        line each with file and line, for `referbot check` and the start-up log."""
        return self._notes
    privacy: Privacy = Field(default_factory=Privacy)

    @field_validator("clinicians")
    @classmethod
    def _at_least_one(cls, value: list[Clinician]) -> list[Clinician]:
        if not value:
            raise ValueError("list at least one clinician")
        return value

    @property
    def accepting_new_clients(self) -> bool:
        return any(c.availability is Availability.ACCEPTING for c in self.clinicians)


# --- loading with line numbers -------------------------------------------------------------


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile file; raise ProfileError with file:line messages."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError([f"{path}: no such file. Run `referbot init` to write a template, "
                            "or set REFERBOT_PROFILE to your practice.yaml."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([f"{path}: cannot be read ({exc})"]) from None
    return parse_profile(text, str(path))


def parse_profile(text: str, filename: str = "practice.yaml") -> Profile:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f" line {mark.line + 1}" if mark else ""
        raise ProfileError([f"{filename}{line}: not valid YAML ({exc.problem})"]) from None
    if not isinstance(data, dict):
        raise ProfileError([f"{filename}: expected sections like `practice:` and `clinicians:` at the top"])
    profile = _validated(data, root, filename)
    profile, notes = _with_specialties_read(profile, data, root, filename)
    mistakes = _misspelt_issue_ids(profile) + _staff_mistakes(profile)
    if mistakes:
        raise ProfileError([f"{filename} line {_line_of(root, loc)}: {'.'.join(map(str, loc))} {message}"
                            for loc, message in mistakes])
    profile._notes = tuple(notes)
    return profile


def _staff_mistakes(profile: Profile) -> list[tuple[tuple[Any, ...], str]]:
    """Each `staff:` entry checked by the channel that owns its name (the core knows no id formats)."""
    from referbot.channels import validate_staff

    found: list[tuple[tuple[Any, ...], str]] = []
    for name, ids in profile.staff.root.items():
        try:
            validate_staff(name, ids)
        except ValueError as problem:
            found.append((("staff", name), str(problem)))
    return found


def _validated(data: dict[str, Any], root: yaml.Node | None, filename: str) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError([_describe(error, root, filename) for error in exc.errors()]) from None


def _with_specialties_read(profile: Profile, data: dict[str, Any], root: yaml.Node | None,
                           filename: str) -> tuple[Profile, list[str]]:
    """Replace specialty names with the issue ids they name (`PTSD` → trauma_ptsd); say what was
    read and warn about what stays custom (see `referbot.specialties`)."""
    from referbot.matching.vocabulary import taxonomy_labels
    from referbot.specialties import describe_reading, read_specialties

    labels = taxonomy_labels()
    readings = read_specialties(profile, set(labels) | {c.id for c in profile.custom_specialties})
    notes = [describe_reading(r, labels, f"{filename} line {_line_of(root, r.loc)}: {'.'.join(map(str, r.loc[:-1]))}")
             for r in readings if r.ids != (r.written.strip().lower().replace(" ", "_"),)]
    replaced = {r.loc: r.ids for r in readings if r.ids}
    if not replaced:
        return profile, notes
    for path in {loc[:-1] for loc in replaced}:
        entries = data
        for part in path:
            entries = entries[part]
        new = [i for j, value in enumerate(entries) for i in replaced.get((*path, j), (value,))]
        entries[:] = list(dict.fromkeys(new))
    return _validated(data, root, filename), notes


def _misspelt_issue_ids(profile: Profile) -> list[tuple[tuple[Any, ...], str]]:
    """Issue ids that look like a typo of a real one ("anxeity"), which would otherwise silently
    become a custom specialty nobody's referrals ever match. Phrases with spaces are custom on purpose."""
    from referbot.matching.vocabulary import taxonomy_labels

    known = set(taxonomy_labels()) | {c.id for c in profile.custom_specialties}
    found: list[tuple[tuple[Any, ...], str]] = []

    def check(loc: tuple[Any, ...], value: str, strict: bool) -> None:
        if value in known or (not strict and " " in value.strip()):
            return
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.75)
        if strict or close:
            hint = f"; did you mean {close[0]!r}?" if close else f"; use one of: {', '.join(sorted(known))}"
            found.append((loc, f"{value!r} is not an issue id{hint}"))

    for issue_id in profile.issue_phrases:
        check(("issue_phrases", issue_id), issue_id, strict=True)
    groups = [(("clinicians", i, field), getattr(c, field)) for i, c in enumerate(profile.clinicians)
              for field in ("specialties", "not_accepted")]
    groups += [(("colleagues", i, "specialties"), c.specialties) for i, c in enumerate(profile.colleagues)]
    for loc, values in groups:
        for index, value in enumerate(values):
            check((*loc, index), value, strict=False)
    return found


def _describe(error: Any, root: yaml.Node | None, filename: str) -> str:
    loc = tuple(error["loc"])
    line = _line_of(root, loc)
    where = f"{filename} line {line}" if line else filename
    field_name = ".".join(str(p) for p in loc) or "(top)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required but missing"
    elif error["type"] == "extra_forbidden":
        message = "is not a known setting (check the spelling)"
    elif error["type"] in ("int_parsing", "int_type"):
        message = f"must be a whole number, not {error.get('input')!r}"
    elif error["type"] == "enum":
        message = f"{error.get('input')!r} is not allowed; {message.lower()}"
    return f"{where}: {field_name} {message}"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node the pydantic error path reaches."""
    best = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
            if child is None:
                break
            key = next(k for k, v in node.value if v is child)
            node, best = child, key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            best = node.start_mark.line + 1
        else:
            break
    return best
