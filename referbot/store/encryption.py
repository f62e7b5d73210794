"""Encryption at rest of what identifies a client and of free text, with Fernet keys that rotate.

A referral names someone who has agreed to nothing yet, so the database file (and every backup of
it) must not be readable on its own. Columns declared `EncryptedText` / `EncryptedJSON` are
encrypted with the key in REFERBOT_ENCRYPTION_KEY as they are written and decrypted as they are
read, so the rest of the code never sees ciphertext. What stats and search need (status, verdict,
issue ids, source, dates) stays in plain columns and holds nothing about who the client is.

REFERBOT_ENCRYPTION_KEY is a comma-separated list: the first key encrypts, every key decrypts
(`MultiFernet`), which is how keys rotate without downtime. A stored value carries a prefix, so
rows written before a key was set still read, and `rotate` encrypts them too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, Integer, MetaData, Table, Text, TypeDecorator, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from referbot.errors import ConfigError

PREFIX = "enc1:"
KEY_VARIABLE = "REFERBOT_ENCRYPTION_KEY"


class EncryptionError(ConfigError):
    """Encrypted data cannot be read or written; the message says which key to check (a
    configuration problem: the key in the environment does not fit the data)."""


@dataclass(frozen=True)
class Cipher:
    """The practice's keys: the first encrypts, all of them decrypt."""

    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise EncryptionError(f"{KEY_VARIABLE} is empty.")
        try:
            fernets = [Fernet(key.encode("ascii")) for key in self.keys]
        except (ValueError, UnicodeEncodeError):
            raise EncryptionError(f"{KEY_VARIABLE} holds something that is not a key; make one with "
                                  "`referbot keys generate`.") from None
        object.__setattr__(self, "_fernet", MultiFernet(fernets))

    @classmethod
    def from_setting(cls, value: str | None) -> "Cipher | None":
        """The cipher for the setting's value (keys separated by commas); None when it is unset."""
        keys = tuple(part.strip() for part in (value or "").split(",") if part.strip())
        return cls(keys) if keys else None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        return PREFIX + self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")  # type: ignore[attr-defined]

    def decrypt(self, stored: str) -> str:
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")  # type: ignore[attr-defined]
        except InvalidToken:
            raise EncryptionError(f"Stored client data was encrypted with a key that is not in {KEY_VARIABLE}; "
                                  "add the old key after the new one (comma-separated).") from None

    def rotate(self, stored: str) -> str:
        """The value encrypted with the first key (a plaintext value is encrypted for the first time)."""
        return self.encrypt(self.decrypt(stored) if is_encrypted(stored) else stored)


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def attach_cipher(engine: AsyncEngine, cipher: Cipher | None) -> None:
    """Give the engine's columns their key. It lives on the engine's own dialect object, which every
    bind and result of that engine is processed with, so two databases in one process (tests, a
    restore) never share a key by accident."""
    engine.sync_engine.dialect.referbot_cipher = cipher  # type: ignore[attr-defined]


def _cipher(dialect: Dialect) -> Cipher | None:
    return getattr(dialect, "referbot_cipher", None)


def _seal(value: str, dialect: Dialect) -> str:
    cipher = _cipher(dialect)
    return cipher.encrypt(value) if cipher is not None else value


def _open(stored: str, dialect: Dialect) -> str:
    if not is_encrypted(stored):
        return stored
    cipher = _cipher(dialect)
    if cipher is None:
        raise EncryptionError(f"The database holds encrypted client data but {KEY_VARIABLE} is not set.")
    return cipher.decrypt(stored)


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted when the database has a key."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _seal(value, dialect)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _open(value, dialect)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document (answers, conversation state, payloads) stored as encrypted text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else _seal(json.dumps(value, ensure_ascii=False), dialect)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(_open(value, dialect))


def encrypted_columns(metadata: MetaData) -> Iterator[tuple[str, str]]:
    """(table, column) of every encrypted column in the schema."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (EncryptedText, EncryptedJSON)):
                yield table.name, column.name


async def rotate_all(session: AsyncSession, metadata: MetaData, cipher: Cipher) -> int:
    """Re-encrypt every stored value with the first key (and encrypt any left in plain text).

    Reads the raw column text, not the decorated type, so values move from key to key without
    being parsed; returns how many values were rewritten. The caller commits.
    """
    rewritten = 0
    for table_name, column_name in encrypted_columns(metadata):
        raw = Table(table_name, MetaData(), Column("id", Integer, primary_key=True), Column(column_name, Text))
        rows = (await session.execute(select(raw.c.id, raw.c[column_name])
                                      .where(raw.c[column_name].is_not(None)))).all()
        for row_id, stored in rows:
            await session.execute(update(raw).where(raw.c.id == row_id).values({column_name: cipher.rotate(stored)}))
            rewritten += 1
    return rewritten
