"""Turning what a referrer typed or tapped into a validated answer, or a helpful re-ask.

Each parser returns the stored value or raises `Invalid` with a sentence that tells the referrer
what to type instead; the engine shows that sentence and asks the same step again.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable

from referbot.engine.flow import FlowChoice, Step, StepType

SKIP_WORDS = frozenset({"skip", "-", "none", "n/a", "na", "no answer", "pass"})
_YES = frozenset({"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "true", "correct", "agreed", "si", "sí"})
_NO = frozenset({"no", "n", "nope", "nah", "false", "not yet", "not"})
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%B %d %Y", "%d %B %Y", "%b %d %Y")


class Invalid(ValueError):
    """The input does not answer the step; the message is shown to the referrer."""


def parse_answer(step: Step, text: str | None, choice: str | None) -> Any:
    """Validate a typed text or a tapped choice id for `step`; returns the value to store."""
    if choice is not None:
        return _parse_choice_id(step, choice)
    raw = (text or "").strip()
    if not raw:
        raise Invalid("I didn't catch an answer there.")
    if len(raw) > step.max_length:
        raise Invalid(f"That's longer than I can take here ({len(raw):,} characters; "
                      f"please keep it under {step.max_length:,}).")
    return _PARSERS[step.type](step, raw)


def is_skip(step: Step, text: str | None, choice: str | None) -> bool:
    """An optional step answered with 'skip' (typed or tapped) is stored as no answer."""
    if step.required:
        return False
    return choice == "__skip" or (text is not None and text.strip().lower() in SKIP_WORDS)


def display(step: Step, value: Any) -> str:
    """The answer as the referrer would read it back in the summary."""
    if value is None:
        return "—"
    if step.type is StepType.YES_NO:
        return "Yes" if value else "No"
    if step.type is StepType.CHOICE:
        found = step.choice(value)
        return found.label if found else str(value)
    if step.type is StepType.MULTI_CHOICE:
        return ", ".join(display(step.model_copy(update={"type": StepType.CHOICE}), v) for v in value) or "—"
    return str(value)


def _parse_choice_id(step: Step, choice: str) -> Any:
    if step.type is StepType.YES_NO:
        if choice in ("yes", "no"):
            return choice == "yes"
    elif step.type is StepType.CHOICE and step.choice(choice):
        return choice
    raise Invalid("That button belongs to another question; please use the options below.")


def _match_choice(step: Step, raw: str) -> FlowChoice | None:
    """A choice by its number, id, label, or a synonym; case and surrounding words ignored."""
    wanted = raw.strip().lower().rstrip(".")
    if wanted.isdigit() and 1 <= int(wanted) <= len(step.choices):
        return step.choices[int(wanted) - 1]
    for choice in step.choices:
        names = [choice.id.lower(), choice.label.lower(), *(s.lower() for s in choice.synonyms)]
        if wanted in names or wanted.replace(" ", "_") == choice.id:
            return choice
    prefixed = [c for c in step.choices if c.label.lower().startswith(wanted) and len(wanted) >= 3]
    return prefixed[0] if len(prefixed) == 1 else None


def _choice(step: Step, raw: str) -> str:
    found = _match_choice(step, raw)
    if found is None:
        raise Invalid("Please pick one of the options (tap a button or type its number).")
    return found.id


def _multi_choice(step: Step, raw: str) -> list[str]:
    picked: list[str] = []
    for part in re.split(r"[,;/]|\band\b", raw):
        if not part.strip():
            continue
        found = _match_choice(step, part)
        if found is None:
            raise Invalid(f"I don't know the option {part.strip()!r}. Type numbers separated by commas, e.g. 1,3.")
        if found.id not in picked:
            picked.append(found.id)
    return picked


def _yes_no(step: Step, raw: str) -> bool:
    word = raw.strip().lower().rstrip(".!")
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise Invalid("Please answer yes or no.")


def _number(step: Step, raw: str, what: str = "a number") -> float | int:
    cleaned = raw.replace(",", ".").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise Invalid(f"Please type {what}, e.g. 3.") from None
    if step.min is not None and value < step.min or step.max is not None and value > step.max:
        raise Invalid(f"Please type {what} between {step.min:g} and {step.max:g}.")
    return int(value) if value.is_integer() else value


def _age(step: Step, raw: str) -> int:
    match = re.search(r"\d{1,3}", raw)
    if match is None:
        raise Invalid("Please type the client's age in years, as a number (e.g. 34).")
    age = int(match.group())
    low, high = int(step.min if step.min is not None else 0), int(step.max if step.max is not None else 120)
    if not low <= age <= high:
        raise Invalid(f"An age between {low} and {high}, please.")
    return age


def _email(step: Step, raw: str) -> str:
    if not _EMAIL.match(raw):
        raise Invalid("That doesn't look like an email address (name@example.com).")
    return raw


def _phone(step: Step, raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if not re.fullmatch(r"[\d\s()+.\-ext]+", raw.lower()) or not 7 <= len(digits) <= 15:
        raise Invalid("That doesn't look like a phone number; please include the area code, e.g. (312) 555-0142.")
    return raw


def _contact(step: Step, raw: str) -> str:
    if "@" in raw:
        return _email(step, raw)
    try:
        return _phone(step, raw)
    except Invalid:
        raise Invalid("Please give a phone number (with area code) or an email address.") from None


def _date(step: Step, raw: str) -> str:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise Invalid("Please type a date like 2026-03-14.") from None


def _text(step: Step, raw: str) -> str:
    return raw


_PARSERS: dict[StepType, Callable[[Step, str], Any]] = {
    StepType.TEXT: _text,
    StepType.CHOICE: _choice,
    StepType.MULTI_CHOICE: _multi_choice,
    StepType.YES_NO: _yes_no,
    StepType.NUMBER: _number,
    StepType.AGE: _age,
    StepType.EMAIL: _email,
    StepType.PHONE: _phone,
    StepType.CONTACT: _contact,
    StepType.DATE: _date,
}
