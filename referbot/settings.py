"""Runtime settings from environment variables and an optional `.env` file.

The core reads only its own names (REFERBOT_DATABASE_URL and its pool, REFERBOT_PROFILE, the HTTP
address, how many turns run at once);
each channel declares its own settings class with its own prefix (TELEGRAM_, SLACK_, REFERBOT_WEB_)
and loads it with `load_settings(ChannelSettings)`, so adding a channel never touches this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from referbot.errors import ConfigError

S = TypeVar("S", bound=BaseSettings)


class SettingsError(ConfigError):
    """Settings that cannot be used; the message says which variable and why."""


#: The complete example practice in a source checkout (absent from an installed package).
EXAMPLE_PROFILE = Path(__file__).resolve().parent.parent / "examples" / "practice.yaml"


def default_profile() -> Path:
    """`practice.yaml` in the working directory; in a checkout without one, the example practice.

    Every command resolves the profile here, so `scripts/run` and the `referbot chat` it suggests
    afterwards continue the same conversation on the same practice in a fresh clone.
    """
    own = Path("practice.yaml")
    return EXAMPLE_PROFILE if not own.exists() and EXAMPLE_PROFILE.exists() else own


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite+aiosqlite:///referbot.db", alias="REFERBOT_DATABASE_URL")
    profile: Path = Field(default_factory=default_profile, alias="REFERBOT_PROFILE")
    http_host: str = Field("127.0.0.1", alias="REFERBOT_HTTP_HOST")
    http_port: int = Field(8080, alias="REFERBOT_HTTP_PORT", ge=0, le=65535)  # 0: any free port
    log_format: Literal["text", "json"] = Field("text", alias="REFERBOT_LOG_FORMAT")

    database_pool_size: int = Field(5, alias="REFERBOT_DATABASE_POOL_SIZE", ge=1, le=1000)
    database_max_overflow: int = Field(10, alias="REFERBOT_DATABASE_MAX_OVERFLOW", ge=0, le=1000)
    database_pool_timeout: float = Field(30.0, alias="REFERBOT_DATABASE_POOL_TIMEOUT", gt=0)
    turns_in_flight: int | None = Field(None, alias="REFERBOT_TURNS_IN_FLIGHT", ge=1, le=1000)
    turn_patience: float = Field(8.0, alias="REFERBOT_TURN_PATIENCE", gt=0)

    #: Fernet keys, comma-separated: the first encrypts, all decrypt (`referbot keys generate`).
    encryption_key: SecretStr | None = Field(None, alias="REFERBOT_ENCRYPTION_KEY")
    #: Store client details unencrypted when no key is set (the console demo); off by default.
    allow_plaintext: bool = Field(False, alias="REFERBOT_ALLOW_PLAINTEXT")

    @property
    def uses_example_profile(self) -> bool:
        """True when no profile was configured and the example practice stands in for one."""
        return "profile" not in self.model_fields_set and self.profile == EXAMPLE_PROFILE


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
