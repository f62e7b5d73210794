"""Logs of a real `referbot run` (JSON, verbose) through a whole Telegram intake, an upstream error,
and a stop: every line is a JSON object, and none carries a client's details or a token."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import subprocess
from pathlib import Path

from referbot.logs import JsonFormatter, configure_logging
from tests.e2e.cli import REFERBOT, cli_env
from tests.e2e.fake_telegram import FakeTelegram, FakeUser

CLIENT = "Zebulon"
CONTACT = "zebulon.marker@example.org"
STORY = "quokka-marker panic attacks"


async def test_json_logs_of_a_whole_intake_carry_no_client_data_or_token(tmp_path: Path, api: FakeTelegram) -> None:
    env = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.base_url, REFERBOT_LOG_FORMAT="json")
    process = await asyncio.create_subprocess_exec(REFERBOT, "run", "--verbose", stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    try:
        await api.wait_for(lambda: bool(api.calls_to("getUpdates")), timeout=90)
        ann = FakeUser(api, 777, "Ann")
        await ann.say("/start")
        for answer in ("Dr. Ann Lee", "Therapist or counselor", "Hillside", CONTACT, CLIENT, "34", STORY):
            if answer in ann.buttons():
                await ann.press(answer)
            else:
                await ann.say(answer)
        api.fail_next("sendMessage", 500, count=1)  # an upstream error is logged, by update id only
        await ann.say("he keeps saying he wants to end it all", expect=0)
        await asyncio.sleep(1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    lines = err.decode().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any("telegram: @referbot_test_bot polling" in e["message"] for e in entries)
    failed = [e for e in entries if e["level"] == "error" and e["message"].startswith("telegram: update ")]
    assert failed and failed[0]["error"] == "NetworkError"  # the type and traceback, not the words
    text = err.decode()
    for secret in (api.token, api.token.split(":")[1], CLIENT, CONTACT, "quokka-marker", "end it all"):
        assert secret not in text, f"{secret!r} leaked into the logs"


def test_configure_logging_keeps_filters_installed_before_it() -> None:
    """The redaction filter (installed by whoever starts first) survives the handler being replaced."""
    class Redact(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = str(record.msg).replace("secret", "[redacted]")
            return True

    root = logging.getLogger()
    saved = list(root.handlers), list(root.filters), root.level
    previous = logging.StreamHandler()
    redact = Redact()
    previous.addFilter(redact)
    root.handlers[:] = [previous]
    try:
        import io

        out = io.StringIO()
        handler = configure_logging(json_lines=True, stream=out)
        assert redact in handler.filters and root.handlers == [handler]
        logging.getLogger("referbot.test").warning("the secret word")
        entry = json.loads(out.getvalue())
        assert entry["message"] == "the [redacted] word" and entry["level"] == "warning"
        assert entry["logger"] == "referbot.test"
    finally:
        root.handlers[:], root.filters[:], _ = saved[0], saved[1], root.setLevel(saved[2])


def test_json_formatter_puts_an_exception_in_fields() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed %s", ("once",),
                                                    exc_info=__import__("sys").exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed once" and entry["error"] == "ValueError" and "boom" in entry["traceback"]


def test_json_lines_are_redacted_tracebacks_included() -> None:
    """The redaction filter of `referbot run` masks secrets in JSON lines too, in the traceback as well."""
    import io

    from referbot.redaction import MASK, install_redaction

    root = logging.getLogger()
    saved = list(root.handlers), root.level
    token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789ab"
    try:
        out = io.StringIO()
        configure_logging(json_lines=True, stream=out)
        install_redaction(["smtp-password-77"])
        try:
            raise ConnectionError(f"https://api.telegram.org/bot{token}/getMe refused; password smtp-password-77")
        except ConnectionError:
            logging.getLogger("referbot.test").exception("call failed with smtp-password-77")
        entry = json.loads(out.getvalue())
        assert token not in out.getvalue() and "smtp-password-77" not in out.getvalue()
        assert entry["message"] == f"call failed with {MASK}" and MASK in entry["traceback"]
        assert entry["error"] == "ConnectionError"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
