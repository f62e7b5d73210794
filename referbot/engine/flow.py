"""Conversation flows as data: `conversations/*.yaml` describes the questions, the engine asks them.

Keeping the questions in YAML lets a practice reword or reorder its intake without touching code;
the loader checks every step so a broken flow fails at start-up, not halfway through a referral.
"""

from __future__ import annotations

import enum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from referbot.errors import ConfigError

from referbot.domain import CrisisKind
from referbot.limits import CONTACT_LENGTH, MAX_ANSWER_LENGTH


class FlowError(ConfigError):
    """A flow file that cannot be used; the message names the file and the step."""


class StepType(str, enum.Enum):
    TEXT = "text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    NUMBER = "number"
    AGE = "age"
    EMAIL = "email"
    PHONE = "phone"
    CONTACT = "contact"  # a phone number or an email address
    DATE = "date"
    CONFIRM = "confirm"


_CONTACT_TYPES = frozenset({StepType.EMAIL.value, StepType.PHONE.value, StepType.CONTACT.value})

#: Step types whose text is free prose, so it is read for crisis language and summarised.
PROSE_TYPES = frozenset({StepType.TEXT, StepType.CHOICE, StepType.MULTI_CHOICE, StepType.YES_NO})


class FlowChoice(BaseModel):
    """One option. On a screening step, `crisis` makes picking it a crisis stop of that kind, and
    `urgent_review` lets the intake go on but marks the referral for urgent review."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    label: str
    synonyms: list[str] = Field(default_factory=list)
    crisis: CrisisKind | None = None
    urgent_review: bool = False


class Step(BaseModel):
    """One question. `when` maps earlier step ids to the answer(s) that make this step apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    type: StepType
    ask: str
    help: str = ""
    label: str = ""
    required: bool = True
    choices: list[FlowChoice] = Field(default_factory=list)
    when: dict[str, Any] = Field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    #: Defaults by type (see `_default_length`); never above what the storage holds.
    max_length: int = Field(MAX_ANSWER_LENGTH, ge=1, le=MAX_ANSWER_LENGTH)
    known_referrer: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_length(cls, data: Any) -> Any:
        """Contact steps default to the longest valid email address, other steps to the storage limit."""
        if isinstance(data, dict) and "max_length" not in data and data.get("type") in _CONTACT_TYPES:
            return {**data, "max_length": CONTACT_LENGTH}
        return data

    @model_validator(mode="after")
    def _choices_fit_type(self) -> "Step":
        needs_choices = self.type in (StepType.CHOICE, StepType.MULTI_CHOICE)
        if needs_choices and not self.choices:
            raise ValueError(f"step {self.id!r} is a {self.type.value} step without choices")
        if not needs_choices and self.choices:
            raise ValueError(f"step {self.id!r} has choices but is a {self.type.value} step")
        return self

    @property
    def title(self) -> str:
        """The short name used in summaries and edit menus."""
        return self.label or self.id.replace("_", " ").capitalize()

    def applies(self, answers: dict[str, Any]) -> bool:
        """Whether this step's `when` conditions hold for the answers given so far."""
        for step_id, wanted in self.when.items():
            have = answers.get(step_id)
            wanted_set = set(wanted) if isinstance(wanted, list) else {wanted}
            have_set = set(have) if isinstance(have, list) else {have}
            if not wanted_set & have_set:
                return False
        return True

    def choice(self, choice_id: str) -> FlowChoice | None:
        return next((c for c in self.choices if c.id == choice_id), None)


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    greeting: str
    welcome_back: str = "Welcome back, {name}."
    resume: str = "Let's pick up where we left off."
    help: str = ""
    done: str = "Thank you."
    cancelled: str = "Cancelled. Nothing was sent."
    steps: list[Step]

    @model_validator(mode="after")
    def _consistent(self) -> "Flow":
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            unknown = [k for k in step.when if k not in seen]
            if unknown:
                raise ValueError(f"step {step.id!r}: `when` refers to {unknown}, which are not earlier steps")
            seen.add(step.id)
        if not self.steps or self.steps[-1].type is not StepType.CONFIRM:
            raise ValueError("the last step must be a confirm step, so referrers review before sending")
        return self

    def for_practice(self, practice: str) -> "Flow":
        """The flow with `{practice}` in its messages replaced by the practice's name."""
        fields = ("greeting", "welcome_back", "resume", "help", "done", "cancelled")
        return self.model_copy(update={f: getattr(self, f).replace("{practice}", practice) for f in fields})

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def parse_flow(text: str, name: str) -> Flow:
    try:
        return Flow.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise FlowError(f"{name}: not valid YAML ({exc})") from None
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise FlowError(f"{name}: {details}") from None


def load_flow(flow_id: str = "referral_intake", directory: Path | None = None) -> Flow:
    """Load a flow by id from `directory`, or from the `conversations` package shipped with referbot."""
    filename = f"{flow_id}.yaml"
    if directory is not None:
        path = directory / filename
        if not path.exists():
            raise FlowError(f"{path}: no such flow file")
        return parse_flow(path.read_text(encoding="utf-8"), str(path))
    resource = resources.files("conversations").joinpath(filename)
    if not resource.is_file():
        raise FlowError(f"conversations/{filename}: no such flow")
    return parse_flow(resource.read_text(encoding="utf-8"), f"conversations/{filename}")
