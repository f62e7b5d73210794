"""`referbot doctor` for email: the mail server answers, TLS works as configured, and it accepts the
login, so a thank-you note does not wait in the outbox for a password typo."""

from __future__ import annotations

import aiosmtplib

from adapters.email import EmailSettings
from adapters.email.sender import TIMEOUT
from referbot.doctor import Finding, Status

SUBJECT = "email"


async def check(settings: EmailSettings) -> list[Finding]:
    """Connect (with TLS or STARTTLS as SMTP_SECURITY says) and log in when SMTP_USERNAME is set;
    nothing is sent (the channel's `check`)."""
    server = f"{settings.host}:{settings.port}"
    smtp = aiosmtplib.SMTP(hostname=settings.host, port=settings.port, use_tls=settings.security == "tls",
                           start_tls=settings.security == "starttls", timeout=TIMEOUT)
    try:
        await smtp.connect()
        if settings.username:
            await smtp.login(settings.username, settings.password or "")
    except aiosmtplib.SMTPAuthenticationError as problem:
        return [Finding(Status.FAIL, SUBJECT, f"the mail server {server} refused SMTP_USERNAME / SMTP_PASSWORD "
                        f"({problem.code} {problem.message.strip()})",
                        "Copy the mailbox's SMTP user name and password (or app password) again into .env.")]
    except (aiosmtplib.SMTPException, OSError) as problem:
        return [Finding(Status.FAIL, SUBJECT, f"cannot reach the mail server {server} ({str(problem).strip() or type(problem).__name__})",
                        "Check SMTP_HOST, SMTP_PORT and SMTP_SECURITY (starttls on 587, tls on 465) and this server's "
                        "access to it.")]
    finally:
        if smtp.is_connected:
            smtp.close()
    login = f"accepts the login of {settings.username}" if settings.username else "answers (no login configured)"
    return [Finding(Status.OK, SUBJECT, f"mail server {server} {login}; notes come from {settings.from_}")]
