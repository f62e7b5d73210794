"""The console channel: the intake in a terminal, and a JSON-lines form of it for scripts and tests.

Like every adapter it only translates: typed lines become `Inbound` events, `Outcome` replies
become text (numbered choices) or one JSON object per input.
"""

from __future__ import annotations

import asyncio
import json
import threading
from functools import partial
from typing import Any, Awaitable, Callable, TextIO

from referbot.domain import Command, ConversationStatus, Inbound, Reply
from referbot.service import Outcome

CHANNEL = "console"
Handler = Callable[[Inbound], Awaitable[Outcome]]


def parse_typed(line: str, user: str, last_choices: list[str]) -> Inbound:
    """A typed line: `/back` etc. is a command, a bare number picks the numbered choice, else text."""
    stripped = line.strip()
    command = Command.typed(stripped)
    if command is not None:
        return Inbound(CHANNEL, user, command=command[0], argument=command[1])
    if stripped.isdecimal() and 1 <= int(stripped) <= len(last_choices):
        return Inbound(CHANNEL, user, choice=last_choices[int(stripped) - 1])
    return Inbound(CHANNEL, user, text=line)


def render_text(replies: list[Reply]) -> tuple[str, list[str]]:
    """Replies as terminal text with numbered choices; returns the text and the choice ids in order."""
    parts: list[str] = []
    choice_ids: list[str] = []
    for reply in replies:
        parts.append(reply.text)
        for choice in reply.choices:
            choice_ids.append(choice.id)
            mark = "[x] " if choice.selected else ("[ ] " if reply.multi and not choice.id.startswith("__") else "")
            parts.append(f"  {len(choice_ids)}. {mark}{choice.label}")
    return "\n".join(parts), choice_ids


async def read_line(read: Callable[[str], str], prompt: str) -> str:
    """`read(prompt)` in a daemon thread. asyncio's own threads are joined at exit, so a reader
    blocked in `input()` would keep a stopped bot (SIGTERM, Ctrl-C) alive until someone typed."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver(outcome: Callable[[], None]) -> None:
        if not answer.done():
            outcome()

    def reader() -> None:
        try:
            outcome = partial(answer.set_result, read(prompt))
        except BaseException as problem:  # EOFError, KeyboardInterrupt: the caller decides
            outcome = partial(answer.set_exception, problem)
        try:
            loop.call_soon_threadsafe(deliver, outcome)
        except RuntimeError:  # the loop closed while we waited for input: nobody wants the line
            pass

    threading.Thread(target=reader, name="console-input", daemon=True).start()
    return await answer


async def run_interactive(handle: Handler, user: str, read: Callable[[str], str] = input,
                          write: Callable[[str], Any] = print) -> None:
    """Chat in the terminal until end of input (Ctrl-D) or Ctrl-C; the intake is saved every turn."""
    outcome = await handle(Inbound(CHANNEL, user))
    text, choices = render_text(outcome.replies)
    write(text)
    while True:
        try:
            line = await read_line(read, "> ")
        except (EOFError, KeyboardInterrupt):
            in_progress = outcome.state is ConversationStatus.ASKING
            write("\nBye — your answers are saved; run `referbot chat` again to continue." if in_progress else "\nBye.")
            return
        if not line.strip():
            continue
        outcome = await handle(parse_typed(line, user, choices))
        text, choices = render_text(outcome.replies)
        write(text)


def _string(data: dict[str, Any], key: str) -> str:
    """A field as text: a string, or a number as a referrer would type it (`{"text": 34}`)."""
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f'"{key}" must be a string')
    return str(value)


def parse_json_line(line: str, user: str) -> Inbound:
    """`{"text": ...}`, `{"choice": ...}` or `{"command": ...}` (with an optional string "argument").
    Anything else, however malformed or deeply nested, is a ValueError, never a crash."""
    try:
        data = json.loads(line)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    if "command" in data:
        argument = data.get("argument")
        if argument is not None and not isinstance(argument, str):
            raise ValueError('"argument" must be a string')
        return Inbound(CHANNEL, user, command=Command(_string(data, "command").lower()), argument=argument)
    if "choice" in data:
        return Inbound(CHANNEL, user, choice=_string(data, "choice"))
    if "text" in data:
        return Inbound(CHANNEL, user, text=_string(data, "text"))
    raise ValueError('expected one of "text", "choice" or "command"')


def outcome_json(outcome: Outcome) -> str:
    return json.dumps({
        "step": outcome.step,
        "messages": [{"text": r.text, "choices": [{"id": c.id, "label": c.label} for c in r.choices]}
                     for r in outcome.replies],
        "state": outcome.state.value,
        "referral_id": outcome.referral_id,
        "verdict": outcome.verdict.value if outcome.verdict else None,
    }, ensure_ascii=False)


async def run_jsonl(handle: Handler, user: str, stdin: TextIO, stdout: TextIO) -> None:
    """One JSON line out after start and after each input line; a bad line gets an error object."""
    stdout.write(outcome_json(await handle(Inbound(CHANNEL, user))) + "\n")
    stdout.flush()
    for line in stdin:
        if not line.strip():
            continue
        try:
            inbound = parse_json_line(line, user)
        except ValueError as problem:
            stdout.write(json.dumps({"error": f"bad input line: {problem}"}) + "\n")
        else:
            stdout.write(outcome_json(await handle(inbound)) + "\n")
        stdout.flush()
