"""Sending one note by email (aiosmtplib).

A server that is down or refuses for now becomes `RetryLater`, so the outbox tries again; nothing
is retried here.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

from adapters.email import EmailSettings
from referbot.ports import RetryLater

TIMEOUT = 30.0


class EmailSender:
    """Sends one plain-text email per note from SMTP_FROM."""

    def __init__(self, settings: EmailSettings) -> None:
        assert settings.host and settings.from_, "only built when email is configured"
        self.settings = settings

    def message(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.settings.from_, to, subject
        message["Message-ID"] = make_msgid(domain=self.settings.from_.rpartition("@")[2] or None)
        message.set_content(text)
        return message

    async def send_note(self, to: str, subject: str, text: str) -> dict[str, Any]:
        settings = self.settings
        message = self.message(to, subject, text)
        try:
            await aiosmtplib.send(message, hostname=settings.host, port=settings.port,
                                  username=settings.username, password=settings.password,
                                  use_tls=settings.security == "tls",
                                  start_tls=True if settings.security == "starttls" else False,
                                  timeout=TIMEOUT)
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                OSError) as problem:
            raise RetryLater(f"mail server {settings.host}:{settings.port} unreachable: {problem}") from problem
        return {"to": to, "message_id": message["Message-ID"]}
