"""Turning what a referrer typed or tapped into a validated answer, or a helpful re-ask.

Each parser returns the stored value or raises `Invalid` with a sentence that tells the referrer
what to type instead; the engine shows that sentence and asks the same step again.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable

from rapidfuzz import fuzz, process

from referbot.engine.flow import FlowChoice, Step, StepType

SKIP_WORDS = frozenset({"skip", "-", "none", "n/a", "na", "no answer", "pass"})
_YES = frozenset({"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "true", "correct", "agreed", "si", "sí"})
_NO = frozenset({"no", "n", "nope", "nah", "false", "not yet", "not"})
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")
_TYPO_SCORE = 80  # rapidfuzz ratio at which a typed option is taken as a misspelling of it
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
    """A choice by its number, id, label or a synonym; then by a label or synonym said inside a
    sentence ("I used to see Jane" → former client), the longest one winning and negated ones
    ("not at risk to themselves") ignored; then by a typo-tolerant rapidfuzz match ("urgnet")."""
    wanted = _plain(raw).rstrip(".")
    if wanted.isdecimal() and 1 <= int(wanted) <= len(step.choices):
        return step.choices[int(wanted) - 1]
    for choice in step.choices:
        if wanted in _names(choice) or wanted.replace(" ", "_") == choice.id:
            return choice
    prefixed = [c for c in step.choices if c.label.lower().startswith(wanted) and len(wanted) >= 3]
    if len(prefixed) == 1:
        return prefixed[0]
    return _said_within(step, wanted) or _close_spelling(step, wanted)


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'").strip().lower())


def _names(choice: FlowChoice) -> list[str]:
    return [choice.id.lower(), _plain(choice.label), *(_plain(s) for s in choice.synonyms)]


_NEGATION = re.compile(r"\b(?:not|no|never|isn't|isnt|aren't|arent|don't|dont|doesn't|doesnt|without)\b")


def _said_within(step: Step, wanted: str) -> FlowChoice | None:
    best: dict[str, int] = {}
    for choice in step.choices:
        for name in _names(choice):
            name = name.replace("_", " ")
            if len(name) < 2 or _NEGATION.fullmatch(name):  # a bare "no" inside a sentence says nothing
                continue
            for found in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", wanted):
                before = " ".join(wanted[:found.start()].split()[-3:])
                if _NEGATION.search(before) and not _NEGATION.search(name):
                    continue
                best[choice.id] = max(best.get(choice.id, 0), len(name))
    if not best:
        return None
    longest = max(best.values())
    winners = [cid for cid, length in best.items() if length == longest]
    return step.choice(winners[0]) if len(winners) == 1 else None


def _close_spelling(step: Step, wanted: str) -> FlowChoice | None:
    if len(wanted) < 4:
        return None
    names = {name: choice for choice in step.choices for name in _names(choice) if len(name) >= 4}
    found = process.extractOne(wanted, list(names), scorer=fuzz.ratio, score_cutoff=_TYPO_SCORE)
    return names[found[0]] if found else None


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


def read_yes_no(raw: str) -> bool | None:
    """Yes or no as people type it ("yes", "nope", "no, she's fine"); None when it is neither."""
    word = raw.strip().lower().rstrip(".!")
    if word in _YES:
        return True
    if word in _NO:
        return False
    first = re.split(r"[\s,;:.!-]+", word, maxsplit=1)[0]
    if first in _YES - {"si", "sí", "ok", "okay", "sure"} and first != word:
        return True
    if first in _NO - {"not"} and first != word:
        return False
    return None


def _yes_no(step: Step, raw: str) -> bool:
    verdict = read_yes_no(raw)
    if verdict is None:
        raise Invalid("Please answer yes or no.")
    return verdict


def _number(step: Step, raw: str, what: str = "a number") -> float | int:
    cleaned = raw.replace(",", ".").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise Invalid(f"Please type {what}, e.g. 3.") from None
    if step.min is not None and value < step.min or step.max is not None and value > step.max:
        raise Invalid(f"Please type {what} between {step.min:g} and {step.max:g}.")
    return int(value) if value.is_integer() else value


_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_WORD_NUMBER = re.compile(rf"\b(?:({'|'.join(_TENS)})(?:[\s-]+({'|'.join(_UNITS)}))?|({'|'.join(_UNITS)}))\b")
#: Words around an age that say nothing more ("she's 14 years old", "aged about 30").
_AGE_FILLER = frozenset("""years year yrs yr yo y o old age aged is she he they client's client the patient pt
    about around approx approximately roughly turning turned just almost nearly only maybe probably i think
    s she's he's they're it's now currently in her his their a an of""".split())
_DECADE = re.compile(r"\b(?:(early|mid|middle|late)[\s-]*)?(\d)0'?s\b")
_TEENS = re.compile(r"\b(?:(early|mid|middle|late)[\s-]*)?teen(?:s|ager|age)?\b")
_PART_OF_DECADE = {"early": 2, "mid": 5, "middle": 5, "late": 8, None: 5}
_TEEN_AGE = {"early": 13, "mid": 15, "middle": 15, "late": 18, None: 15}
_MONTHS = re.compile(r"^(\d{1,3})\s*(?:months?|mos?|mths?|m/o)\b")
_WEEKS = re.compile(r"^(\d{1,2})\s*(?:weeks?|wks?)\b")
_RANGE = re.compile(r"^(\d{1,3})\s*(?:-|–|to|or)\s*(\d{1,3})\b")
_NUMBER = re.compile(r"^(\d{1,3})(?:\s*(?:[.,]\d+|1/2|½|and a half))?(?!\w)")


def _age(step: Step, raw: str) -> int:
    """An age in whole years as people type it: "34", "14 years old", "nine", "twenty-two",
    "18 months" (1), "mid 30s" (35), "30-35" (32), "2,5" (2). A negative or garbled answer ("-3",
    "2O") or two unrelated numbers are refused with a question back, never guessed."""
    low, high = int(step.min if step.min is not None else 0), int(step.max if step.max is not None else 120)
    text = _WORD_NUMBER.sub(_spell_out, raw.strip().lower().replace("’", "'"))
    text = re.sub(r"(\d)(yo|yrs?|y|years?|mos?|months?|m/o|y/o)\b", r"\1 \2", text)  # "14yo", "18mo"
    if re.search(r"(?:^|[\s(])(?:-|−|minus\s*)\d", text):
        raise Invalid("An age can't be negative. How old is the client, in years?")
    age = _read_age(text)
    if age is None:
        raise Invalid(f"I couldn't read \"{raw.strip()[:40]}\" as an age. How old is the client? "
                      "A number of years is best (e.g. 34); \"18 months\" or \"mid 30s\" work too.")
    if not low <= age <= high:
        raise Invalid(f"An age between {low} and {high}, please.")
    return age


def _spell_out(match: re.Match[str]) -> str:
    tens, unit, alone = match.groups()
    return str(_TENS[tens] + (_UNITS[unit] if unit else 0)) if tens else str(_UNITS[alone])


def _read_age(text: str) -> int | None:
    """The age in `text`, or None when anything in it is not an age or a word around one."""
    for pattern, value in ((_DECADE, lambda m: int(m.group(2)) * 10 + _PART_OF_DECADE[m.group(1)]),
                           (_TEENS, lambda m: _TEEN_AGE[m.group(1)])):
        found = pattern.search(text)
        if found:
            return value(found) if _only_filler(text[:found.start()] + " " + text[found.end():]) else None
    start = re.search(r"\d", text)
    if start is None or not _only_filler(text[:start.start()]):
        return None
    rest = text[start.start():]
    for pattern, value in ((_MONTHS, lambda m: int(m.group(1)) // 12), (_WEEKS, lambda m: 0),
                           (_RANGE, _range_age), (_NUMBER, lambda m: int(m.group(1)))):
        found = pattern.match(rest)
        if found:
            age = value(found)
            return age if age is not None and _only_filler(rest[found.end():]) else None
    return None


def _range_age(match: re.Match[str]) -> int | None:
    """"30-35" is about 32; a wide or backwards range is not an age."""
    first, last = int(match.group(1)), int(match.group(2))
    return (first + last) // 2 if 0 < last - first <= 10 else None


def _only_filler(text: str) -> bool:
    words = re.findall(r"[a-z']+|\S", text.replace("y/o", " yo "))
    return all(w.strip(".,;:!?'()~") in _AGE_FILLER or not w.strip(".,;:!?'()~") for w in words)


def _email(step: Step, raw: str) -> str:
    if not _EMAIL.match(raw):
        raise Invalid("That doesn't look like an email address (name@example.com).")
    return raw


_PHONE_IN_TEXT = re.compile(r"\+?\(?\d[\d\s().\-]{5,}\d(?:\s*(?:ext\.?|x)\s*\d{1,5})?")
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>(),;:]+@[^@\s<>(),;:]+\.[A-Za-z]{2,}")
_MAX_CONTACT_NOTE = 60  # "(mom)", "mom's cell", "after 5pm": a note, not a paragraph


def _phone(step: Step, raw: str) -> str:
    if _find_contact(raw, _PHONE_IN_TEXT, _is_phone) is None:
        raise Invalid("That doesn't look like a phone number; please include the area code, e.g. (312) 555-0142.")
    return raw


def _contact(step: Step, raw: str) -> str:
    """A phone number or an email address, kept with a short note ("503 555 0123 (mom)")."""
    if _find_contact(raw, _EMAIL_IN_TEXT, lambda _: True) is None and \
            _find_contact(raw, _PHONE_IN_TEXT, _is_phone) is None:
        raise Invalid("Please give a phone number (with area code) or an email address.")
    return raw


def _is_phone(candidate: str) -> bool:
    return 7 <= len(re.sub(r"\D", "", candidate)) <= 15


def _find_contact(raw: str, pattern: re.Pattern[str], valid: Callable[[str], bool]) -> str | None:
    """The phone number or email in `raw` if what is left around it is a short note at most."""
    for found in pattern.finditer(raw):
        if valid(found.group()):
            note = (raw[:found.start()] + raw[found.end():]).strip(" ,;:-()")
            leftovers = _EMAIL_IN_TEXT.sub("", _PHONE_IN_TEXT.sub("", note))
            if len(leftovers.strip()) <= _MAX_CONTACT_NOTE:
                return found.group()
    return None


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
