"""Fixtures for the end-to-end channel tests."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from tests.e2e.fake_telegram import FakeTelegram


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegram]:
    """A running fake Telegram Bot API on 127.0.0.1."""
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.close()
