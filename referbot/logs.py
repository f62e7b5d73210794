"""Logging for `referbot run`: readable lines for a terminal, one JSON object per line for a server.

JSON lines carry time, level, logger and message (plus the exception's type and traceback when
there is one) and nothing else: no record attributes that a library may have stuffed with request
data. Which words may appear in a message, and which libraries are too chatty to log below
WARNING, is the redaction module's business (`referbot.redaction`): its filter masks the message and
the traceback before this formatter sees them. `configure_logging` keeps every filter already
installed on the root logger's handlers and moves it onto the new handler, so replacing the handler
never drops them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for journald, Loki, CloudWatch and friends."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            # exc_text is the traceback as the redaction filter left it (tokens masked)
            entry["traceback"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


#: Loggers `--verbose` turns to DEBUG: referbot's own, which log ids and states, never what was said.
OWN = ("referbot", "adapters")


def configure_logging(*, json_lines: bool = False, verbose: bool = False, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to `stream` (stderr) as text or JSON; returns the handler.

    Filters installed earlier on the root logger or its handlers (redaction) stay in force, and the
    libraries that log payloads, SQL parameters or token URLs stay quiet even with `verbose`.
    """
    from referbot.redaction import quiet_chatty_libraries

    root = logging.getLogger()
    kept = [f for handler in root.handlers for f in handler.filters]
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    for kept_filter in dict.fromkeys([*kept, *root.filters]):  # root-logger filters skip propagated records
        handler.addFilter(kept_filter)
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    quiet_chatty_libraries()
    for name in OWN:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler
