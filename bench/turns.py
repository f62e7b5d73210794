"""Intake turns under load, against the durable-write floor measured in the same run.

Each referrer is a task that sends a whole intake (the opening and 18 answers, the last one
"send"), one message after the other, as fast as replies come back; N referrers run at once.
A turn's latency is what its referrer waits: queueing for admission included. A turn that raises
is counted as failed and the referrer goes on with the next message.

The floor is the simplest durable write per turn through the same SQLAlchemy engine: one small
UPSERT and COMMIT, with the same number of tasks and turns — what any bot that persists each turn
must pay at least.

Client details are encrypted as a practice runs it. What encryption costs a turn is priced twice
at one referrer: the time spent inside the cipher per turn (against the whole turn), and the mean
turn against the same intakes on a database without a key.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from sqlalchemy import text

from bench.report import Result
from bench.servers import Databases, TimedCipher
from referbot.domain import Inbound
from referbot.engine import load_flow
from referbot.matching import Matcher
from referbot.profile import Profile
from referbot.service import IntakeService
from referbot.store import Database

INTAKE = ["Dr. Maya Chen", "physician", "Riverside Clinic", "maya.chen@riverside.example", "T.", "29",
          "panic attacks at work, not sleeping, low mood since the divorce", "no, none that I know of", "skip", "individual", "either",
          "skip", "routine", "private pay", "yes", "(312) 555-0142", "yes", "mornings are best", "send"]
TURNS_PER_INTAKE = len(INTAKE) + 1

Turn = Callable[[str, int], Awaitable[object]]


@dataclass
class Load:
    """What one load run did: turns attempted, failed, wall time, and each turn's latency."""

    turns: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return (self.turns - self.failed) / self.seconds if self.seconds else 0.0

    @property
    def mean_ms(self) -> float:
        return sum(self.latencies) * 1000 / len(self.latencies) if self.latencies else 0.0

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0


async def drive(turn: Turn, referrers: int, rounds: int, turns: int) -> Load:
    """`referrers` tasks at once, each running `rounds` conversations of `turns` turns in a row."""
    load = Load()

    async def referrer(index: int) -> None:
        for round_ in range(rounds):
            user = f"r{index}-{round_}"
            for step in range(turns):
                started = time.perf_counter()
                try:
                    await turn(user, step)
                except Exception:  # noqa: BLE001 — a failed turn is the measurement
                    load.failed += 1
                load.turns += 1
                load.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(referrer(i) for i in range(referrers)))
    load.seconds = time.perf_counter() - started
    return load


def intake_turn(service: IntakeService, prefix: str = "") -> Turn:
    """Turns of the intake; `prefix` makes the referrers of one batch new people to the service."""
    async def turn(user: str, step: int) -> object:
        if step == 0:
            return await service.handle(Inbound("bench", prefix + user))
        return await service.handle(Inbound("bench", prefix + user, text=INTAKE[step - 1]))
    return turn


async def floor_turn(database: Database) -> Turn:
    """The durable-write floor: one UPSERT of a small row per turn, committed."""
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS bench_floor (id VARCHAR(64) PRIMARY KEY, n INTEGER)"))
    upsert = text("INSERT INTO bench_floor (id, n) VALUES (:id, 1) ON CONFLICT (id) DO UPDATE SET n = bench_floor.n + 1")

    async def turn(user: str, _step: int) -> object:
        async with database.engine.begin() as connection:
            await connection.execute(upsert, {"id": user})
        return None
    return turn


@dataclass(frozen=True)
class Shape:
    """One load shape: how many referrers at once, conversations each, turns per conversation."""

    referrers: int
    rounds: int
    turns: int = TURNS_PER_INTAKE


def shapes(quick: bool) -> dict[int, Shape]:
    """Whole intakes in the full run; in the quick one, the first turns of each (the burst is the same)."""
    if quick:
        return {1: Shape(1, 2), 50: Shape(50, 1, 6), 1000: Shape(1000, 1, 2)}
    return {1: Shape(1, 20), 50: Shape(50, 1), 1000: Shape(1000, 1)}


async def measure(databases: Databases, profile: Profile, quick: bool) -> list[Result]:
    results: list[Result] = []
    matcher = Matcher(profile)
    for backend in ("sqlite", "postgresql"):
        for size, shape in shapes(quick).items():
            async with databases.fresh(backend) as database:
                service = IntakeService(database, profile, load_flow(), matcher)
                load = await drive(intake_turn(service), shape.referrers, shape.rounds, shape.turns)
                assert isinstance(database.cipher, TimedCipher)
                cipher_seconds = database.cipher.seconds
                floor = None
                if size != 1000:  # the floor has no admission; at 1,000 it would only measure pool timeouts
                    floor = await drive(await floor_turn(database), shape.referrers, shape.rounds, shape.turns)
            results += _results(backend, size, load, floor)
            if size == 1:
                async with databases.fresh(backend, encrypted=False) as plain_database:
                    service = IntakeService(plain_database, profile, load_flow(), matcher)
                    plain = await drive(intake_turn(service), shape.referrers, shape.rounds, shape.turns)
                results += _encryption_results(backend, load, cipher_seconds, plain)
    return results


def _encryption_results(backend: str, load: Load, cipher_seconds: float, plain: Load) -> list[Result]:
    return [
        Result(f"encryption_ms_per_turn_{backend}", cipher_seconds * 1000 / load.turns, "ms", load.mean_ms,
               "whole turn, encrypted"),
        Result(f"turn_ms_encrypted_{backend}_1", load.mean_ms, "ms", plain.mean_ms, "same turns, no key"),
    ]


def _results(backend: str, size: int, load: Load, floor: Load | None) -> list[Result]:
    note = "durable-write floor" if floor else ""
    return [
        Result(f"turns_per_s_{backend}_{size}", load.per_second, "turns/s", floor.per_second if floor else None, note),
        Result(f"p99_ms_{backend}_{size}", load.p99_ms, "ms", floor.p99_ms if floor else None, note),
        Result(f"turns_failed_{backend}_{size}", load.failed, "turns", None, f"of {load.turns}"),
    ]
