"""Email: notes to referrers over SMTP, for referrers the bot cannot reach by chat.

A channel that only writes to referrers (a nudge's thank-you or close-the-loop note, sent to an
email address in the source's contact); nobody refers through it and it carries no alerts.
Configured with SMTP_HOST, SMTP_PORT, SMTP_SECURITY (starttls, tls or none), SMTP_USERNAME,
SMTP_PASSWORD and SMTP_FROM; on when SMTP_HOST and SMTP_FROM are set. aiosmtplib is imported
when the channel starts (`sender`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from referbot.channels import Channel, RunningChannel
from referbot.ports import NoteSender, Notifier


class EmailSettings(BaseSettings):
    """SMTP_* variables."""

    model_config = SettingsConfigDict(env_prefix="SMTP_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", populate_by_name=True)

    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    #: The sender address notes come from (the practice's own).
    from_: str | None = Field(None, alias="SMTP_FROM")


class EmailChannel:
    """Nothing to start or mount: each note is one SMTP session (see `sender`)."""

    name = "email"

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    def notifiers(self) -> list[Notifier]:
        return []

    def mount(self, _app: Any) -> bool:
        return False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def note_sender(self) -> NoteSender:
        from adapters.email.sender import EmailSender

        return EmailSender(self.settings)


async def _check(settings: EmailSettings) -> list[Any]:
    from adapters.email.doctor import check

    return await check(settings)


CHANNEL = Channel(
    name="email",
    summary="Email: notes to referrers (thank-yous, close-the-loop) over the practice's SMTP server",
    settings=EmailSettings,
    enabled=lambda s: bool(s.host and s.from_),
    build=lambda _runtime, settings: EmailChannel(settings),
    check=_check,
    note_sender=lambda running: running.note_sender(),
    for_referrers=False,
    order=900,
)
