"""The web channel: the referral intake as a page on the practice's own website.

A physician's office, a school or a community organisation refers without installing anything:
`/refer` runs the same flow as the chat channels, one step per screen, on the project's one HTTP
server; `/guidelines` shows who the practice sees and how to refer. This module only declares the
channel; the pages (`channel`, `pages`, `guard`) are imported when it starts.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from referbot.channels import Channel, RunningChannel
from referbot.settings import SettingsError


class WebSettings(BaseSettings):
    """REFERBOT_WEB_* variables; the page is served when REFERBOT_WEB_ENABLED is true."""

    model_config = SettingsConfigDict(env_prefix="REFERBOT_WEB_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    enabled: bool = False
    #: Signs the session cookie and derives the forms' CSRF tokens: keep it secret and stable, or
    #: every half-finished web referral loses its session at the next restart.
    secret: str | None = None
    #: Where the pages are served, under the HTTP server's root (e.g. "/referbot" behind a proxy).
    base_path: str = ""
    #: The address the public reaches the pages at (https://…), for `referbot sources link`.
    public_url: str | None = None
    #: Sites allowed to show the page in a frame (e.g. "https://www.example-practice.org"); none by default.
    frame_ancestors: str = ""
    #: Mark the cookie Secure (HTTPS only). Turn off only for a plain-HTTP test on one machine.
    secure_cookie: bool = True
    #: Read the client's address from X-Forwarded-For (only behind a reverse proxy that sets it).
    trust_proxy: bool = False
    #: Form posts allowed per minute from one address and from one session.
    posts_per_minute: int = Field(30, ge=1, le=10_000)

    @field_validator("base_path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.rstrip("/")
        if value and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", value):
            raise ValueError("must look like /referbot (letters, digits, . _ ~ -), or be empty")
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _origins(cls, value: str) -> str:
        bad = [o for o in value.split() if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?", o)]
        if bad:
            raise ValueError(f"list site origins like https://www.example-practice.org separated by spaces; not {bad}")
        return " ".join(value.split())

    @model_validator(mode="after")
    def _needs_secret(self) -> "WebSettings":
        if self.enabled and len(self.secret or "") < 32:
            raise ValueError("REFERBOT_WEB_ENABLED is on, so REFERBOT_WEB_SECRET must be set to at least 32 random "
                             "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`).")
        return self


def staff_ids(values: list[Any]) -> list[str]:
    """The web page has no staff sign-in: staff use Slack, Telegram or the command line."""
    if values:
        raise ValueError("the web page has no staff sign-in; list staff under slack: or telegram: instead")
    return []


def warnings(_profile: Any, settings: WebSettings) -> list[str]:
    if not settings.public_url:
        return ["REFERBOT_WEB_PUBLIC_URL is not set: `referbot sources link` cannot print the web page's "
                "links for referral sources. Set it to the address referrers open (https://…)."]
    return []


async def source_link(settings: WebSettings, code: str) -> str:
    """The page with the source's code: a referral made through it is credited to the source."""
    if not settings.public_url:
        raise SettingsError("Set REFERBOT_WEB_PUBLIC_URL (the address referrers open, https://…) to make web links.")
    return f"{settings.public_url.rstrip('/')}{settings.base_path}/refer?source={code}"


def _build(runtime: Any, settings: WebSettings) -> RunningChannel:
    from adapters.web.channel import WebChannel

    return WebChannel(runtime, settings)


CHANNEL = Channel(
    name="web",
    summary="Web: the referral form on the practice's website (/refer) and its referral guidelines (/guidelines)",
    settings=WebSettings,
    enabled=lambda s: s.enabled,
    build=_build,
    staff_ids=staff_ids,
    warnings=warnings,
    source_link=source_link,
    order=30,
)
