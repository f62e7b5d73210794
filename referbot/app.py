"""Composition root: settings + profile + database + matcher → a ready IntakeService.

Every CLI command and `referbot run` build their objects here, so each respects
REFERBOT_DATABASE_URL and REFERBOT_PROFILE the same way. Channels read their own settings
(`referbot.channels.configure`) only where they are used: `run`, `check`, `sources link`.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from referbot.admission import Admission
from referbot.channels import alerts_reach_staff, configure
from referbot.domain import FitAssessment, IntakeFacts, IssueMatch, RiskAssessment
from referbot.engine import load_flow
from referbot.ports import Assessor
from referbot.profile import Profile, load_profile
from referbot.service import Clock, IntakeService, Outcome, utcnow
from referbot.settings import Settings, SettingsError, load_settings
from referbot.store import Database
from referbot.store.encryption import KEY_VARIABLE, Cipher


@dataclass
class Runtime:
    settings: Settings
    profile: Profile
    database: Database
    service: IntakeService


def load_config() -> tuple[Settings, Profile]:
    """Settings and the validated profile; raises SettingsError / ProfileError with readable messages."""
    settings = load_settings()
    return settings, load_profile(settings.profile)


class LazyMatcher:
    """The matcher, built on first use: commands that only read the database (lists, cards,
    stats) then start without paying for the vocabulary and typo index."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._matcher: Assessor | None = None

    def _built(self) -> Assessor:
        if self._matcher is None:
            from referbot.matching import Matcher

            self._matcher = Matcher(self._profile)
        return self._matcher

    def find_issues(self, text: str) -> list[IssueMatch]:
        return self._built().find_issues(text)

    def assess_risk(self, text: str) -> RiskAssessment:
        return self._built().assess_risk(text)

    def assess(self, profile: Profile, facts: IntakeFacts) -> FitAssessment:
        return self._built().assess(profile, facts)


def storage_cipher(settings: Settings, *, stores_client_data: bool) -> Cipher | None:
    """The key client data is encrypted with. A command that takes in new referrals refuses to run
    without one unless plaintext storage was explicitly allowed (the console demo does)."""
    cipher = Cipher.from_setting(settings.encryption_key.get_secret_value() if settings.encryption_key else None)
    if cipher is None and stores_client_data and not settings.allow_plaintext:
        raise SettingsError(f"{KEY_VARIABLE} is not set, so clients' details would be stored unencrypted. "
                            "Run `referbot keys generate` and put the key in .env "
                            "(or set REFERBOT_ALLOW_PLAINTEXT=true for a demo with made-up clients).")
    return cipher


@asynccontextmanager
async def open_runtime(*, upgrade: bool = True, clock: Clock = utcnow,
                       stores_client_data: bool = False) -> AsyncIterator[Runtime]:
    """Open the database (migrating it first unless told not to) and wire the service."""
    settings, profile = load_config()
    alerting = alerts_reach_staff(profile, configure())  # crisis replies promise an alert only if one goes out
    database = Database(settings.database_url, storage_cipher(settings, stores_client_data=stores_client_data),
                        pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow,
                        pool_timeout=settings.database_pool_timeout)
    try:
        if upgrade:
            await database.upgrade()
        admission: Admission[Outcome] = Admission(settings.turns_in_flight or database.concurrent_writers,
                                                  settings.turn_patience)
        service = IntakeService(database, profile, load_flow(), LazyMatcher(profile), clock,
                                alerting=alerting, admission=admission)
        yield Runtime(settings, profile, database, service)
    finally:
        await database.dispose()
