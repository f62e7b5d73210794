"""The web page's translation: a posted form to an `Inbound`, and the core's replies to a screen.

Both directions are plain functions on plain data, so they are unit-tested without a server; the
templates only lay out a `Screen` (Jinja2 escapes every string the core or a referrer wrote).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import parse_qsl

from adapters.web.guard import MAX_ANSWER
from referbot.domain import Command, ConversationStatus, Inbound, Reply
from referbot.engine.flow import StepType
from referbot.errors import BadRequest

CHANNEL = "web"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_STEP_ID = re.compile(r"[A-Za-z0-9_]{1,64}")
_FIELDS = frozenset({"csrf", "turn", "text", "choice", "command", "argument", "source"})

#: The commands offered under every question, as (command, button label).
COMMANDS: tuple[tuple[Command, str], ...] = (
    (Command.BACK, "Back"), (Command.EDIT, "Change an answer"), (Command.CANCEL, "Cancel this referral"),
    (Command.RESTART, "Start over"))
#: How each step type is typed: (HTML input kind, inputmode, autocomplete).
INPUTS: dict[StepType, tuple[str, str, str]] = {
    StepType.TEXT: ("textarea", "text", "off"), StepType.AGE: ("input", "numeric", "off"),
    StepType.NUMBER: ("input", "numeric", "off"), StepType.EMAIL: ("input", "email", "email"),
    StepType.PHONE: ("input", "tel", "tel"), StepType.CONTACT: ("input", "email", "off"),
    StepType.DATE: ("input", "text", "off"),
}


@dataclass(frozen=True)
class Posted:
    """A validated form post: the CSRF token, the form's turn id, and what the referrer did."""

    csrf: str
    turn: str
    text: str | None = None
    choice: str | None = None
    command: Command | None = None
    argument: str | None = None
    source: str | None = None


def parse_form(body: bytes) -> Posted:
    """An `application/x-www-form-urlencoded` body as a `Posted`; BadRequest for anything else
    (unknown or repeated fields, no answer or two buttons, an answer over MAX_ANSWER characters)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                          max_num_fields=len(_FIELDS))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The form could not be read.") from None
    names = [name for name, _ in pairs]
    if set(names) - _FIELDS or len(names) != len(set(names)):
        raise BadRequest("The form has fields it should not have.")
    form = dict(pairs)
    csrf, turn = form.get("csrf", ""), form.get("turn", "")
    if not _TOKEN.fullmatch(turn) or not csrf:
        raise BadRequest("The form is incomplete; please reload the page.")
    buttons = [name for name in ("choice", "command") if name in form]
    if len(buttons) > 1 or not (buttons or "text" in form):
        raise BadRequest("Send one answer at a time.")
    if buttons:  # a button pressed in a form that also has a text box: the button is the answer
        form.pop("text", None)
    source = form.get("source") or None
    if source is not None and not _SOURCE.fullmatch(source):
        raise BadRequest("That referral link is not valid.")
    if "text" in form:
        text = form["text"].replace("\r\n", "\n")
        if len(text) > MAX_ANSWER:
            raise BadRequest(f"Please keep an answer under {MAX_ANSWER:,} characters.")
        return Posted(csrf, turn, text=text, source=source)
    if "choice" in form:
        if not 0 < len(form["choice"]) <= 200:
            raise BadRequest("That choice is not valid.")
        return Posted(csrf, turn, choice=form["choice"], source=source)
    try:
        command = Command(form["command"])
    except ValueError:
        raise BadRequest("That command is not valid.") from None
    argument = form.get("argument") or None
    if argument is not None and not _STEP_ID.fullmatch(argument):
        raise BadRequest("That answer cannot be changed.")
    return Posted(csrf, turn, command=command, argument=argument, source=source)


def source_code(text: str | None) -> str | None:
    """A `?source=` code as the core takes it (a source's code), or None when it cannot be one."""
    return text if text is not None and _SOURCE.fullmatch(text) else None


def to_inbound(posted: Posted, session: str) -> Inbound:
    """The post as the core's event; the form's turn id makes a double submit count once."""
    return Inbound(CHANNEL, session, text=posted.text, choice=posted.choice, command=posted.command,
                   argument=posted.argument, event_id=f"{session}:{posted.turn}",
                   source_code=posted.source if posted.command in (None, Command.START, Command.RESTART) else None)


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    selected: bool


@dataclass(frozen=True)
class Message:
    text: str
    crisis: bool


@dataclass(frozen=True)
class Screen:
    """One screen of the intake: what the practice says, and how the referrer can answer."""

    messages: list[Message]
    options: list[Option] = field(default_factory=list)
    multi: bool = False
    #: "textarea", "input" or None (buttons only).
    input: str | None = None
    inputmode: str = "text"
    autocomplete: str = "off"
    asking: bool = True
    crisis: bool = False


def screen(replies: Sequence[Reply], status: ConversationStatus, step_type: StepType | None) -> Screen:
    """The core's replies for one turn as a screen. Choices become buttons; the last reply's
    choices are the ones that answer the question (after a crisis: the way on from a false alarm).
    Crisis replies are flagged to be shown first."""
    messages = [Message(reply.text, reply.crisis) for reply in replies if reply.text.strip()]
    asking = status is ConversationStatus.ASKING
    last = replies[-1] if replies else None
    answerable = asking or status is ConversationStatus.CRISIS  # a crisis offers "not an emergency: continue"
    options = [Option(c.id, c.label, c.selected) for c in last.choices] if last is not None and answerable else []
    kind, inputmode, autocomplete = INPUTS.get(step_type, (None, "text", "off")) if asking and step_type else (
        None, "text", "off")
    crisis = any(m.crisis for m in messages) or status is ConversationStatus.CRISIS
    messages.sort(key=lambda m: not m.crisis)  # crisis resources come first, whatever the order of replies
    return Screen(messages, options, bool(last and last.multi), kind, inputmode, autocomplete, asking, crisis)
