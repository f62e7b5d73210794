"""Runtime settings from environment variables and an optional `.env` file.

The core reads only its own names (REFERBOT_DATABASE_URL, REFERBOT_PROFILE, the HTTP address);
each channel declares its own settings class with its own prefix (TELEGRAM_, SLACK_, REFERBOT_WEB_)
and loads it with `load_settings(ChannelSettings)`, so adding a channel never touches this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from referbot.errors import ConfigError

S = TypeVar("S", bound=BaseSettings)


class SettingsError(ConfigError):
    """Settings that cannot be used; the message says which variable and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite+aiosqlite:///referbot.db", alias="REFERBOT_DATABASE_URL")
    profile: Path = Field(Path("practice.yaml"), alias="REFERBOT_PROFILE")
    http_host: str = Field("127.0.0.1", alias="REFERBOT_HTTP_HOST")
    http_port: int = Field(8080, alias="REFERBOT_HTTP_PORT", ge=1, le=65535)

    #: Fernet keys, comma-separated: the first encrypts, all decrypt (`referbot keys generate`).
    encryption_key: SecretStr | None = Field(None, alias="REFERBOT_ENCRYPTION_KEY")
    #: Store client details unencrypted when no key is set (the console demo); off by default.
    allow_plaintext: bool = Field(False, alias="REFERBOT_ALLOW_PLAINTEXT")


def load_settings(kind: type[S] = Settings) -> S:  # type: ignore[assignment]
    """Read settings of `kind`; raise SettingsError naming the variable instead of a pydantic traceback."""
    try:
        return kind()
    except ValidationError as exc:
        prefix = kind.model_config.get("env_prefix", "")
        lines = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if not field:  # a rule about several variables together: its message names them
                lines.append(message)
                continue
            name = field if field.isupper() else f"{prefix}{field}".upper()
            lines.append(f"{name}: {message} (got {error.get('input')!r})")
        raise SettingsError("\n".join(lines)) from None
