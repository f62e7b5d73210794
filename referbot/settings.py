"""Runtime settings from environment variables and an optional `.env` file.

Only names documented in the README are read, so a typo in `.env` is visible in `referbot check`
rather than silently ignored.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """Settings that cannot be used; the message says which variable and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite+aiosqlite:///referbot.db", alias="REFERBOT_DATABASE_URL")
    profile: Path = Field(Path("practice.yaml"), alias="REFERBOT_PROFILE")
    http_host: str = Field("127.0.0.1", alias="REFERBOT_HTTP_HOST")
    http_port: int = Field(8080, alias="REFERBOT_HTTP_PORT", ge=1, le=65535)

    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: str | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_bot_username: str | None = Field(None, alias="TELEGRAM_BOT_USERNAME")

    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_alert_channel: str | None = Field(None, alias="SLACK_ALERT_CHANNEL")

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)


def load_settings() -> Settings:
    """Read settings; raise SettingsError naming the variable instead of a pydantic traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"])
            lines.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
        raise SettingsError("\n".join(lines)) from None
