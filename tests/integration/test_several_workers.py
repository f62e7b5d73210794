"""Several worker processes on one PostgreSQL: every alert delivered exactly once, periodic jobs on
one leader, and a worker killed mid-claim loses nothing (its lease runs out, another delivers)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from referbot.domain import OutboxKind
from referbot.leader import Leadership
from referbot.store import Database, UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def enqueue_alerts(database: Database, count: int) -> list[str]:
    keys = [f"alert-{i:03d}" for i in range(count)]
    now = datetime.now(timezone.utc)
    async with UnitOfWork(database) as uow:
        for key in keys:
            await uow.outbox.enqueue(OutboxKind.REFERRAL_ALERT, key, {"referral_id": 1}, now)
        await uow.commit()
    return keys


def start_workers(url: str, log: Path, *extra: str) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-m", "tests.integration.outbox_workers", url, str(log), *extra],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(WORKERS)]


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        if process.poll() is None:
            process.terminate()
    for process in workers:
        process.wait(timeout=30)


def lines(log: Path, kind: str) -> list[list[str]]:
    if not log.exists():
        return []
    return [line.split()[1:] for line in log.read_text().splitlines() if line.startswith(kind + " ")]


async def until(condition, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def nothing_pending(database: Database) -> bool:
    async with UnitOfWork(database) as uow:
        return not await uow.outbox.pending()


@postgres_only
async def test_three_workers_deliver_each_alert_once_and_one_leads(database: Database, database_url: str,
                                                                   tmp_path: Path) -> None:
    keys = await enqueue_alerts(database, 150)
    log = tmp_path / "workers.log"
    workers = start_workers(database_url, log)
    try:
        await until(lambda: nothing_pending(database), "every alert to be delivered")
        await until(lambda: _true(len(lines(log, "leader")) >= 10), "leader ticks")
    finally:
        stop(workers)
    delivered = Counter(key for _pid, key in lines(log, "delivered"))
    assert sorted(delivered) == keys and set(delivered.values()) == {1}  # nothing twice, nothing missed
    assert len(lines(log, "started")) == WORKERS
    assert len({pid for (pid,) in lines(log, "leader")}) == 1  # periodic jobs ran on one worker only


@postgres_only
async def test_a_worker_killed_mid_claim_loses_nothing_and_leadership_moves(database: Database, database_url: str,
                                                                             tmp_path: Path) -> None:
    keys = await enqueue_alerts(database, 40)
    log = tmp_path / "workers.log"
    workers = start_workers(database_url, log, "--stall", keys[0], "--lease", "3")
    try:
        await until(lambda: _true(bool(lines(log, "stalled"))), "a worker to stall mid-delivery")
        await until(lambda: _true(bool(lines(log, "leader"))), "a leader")
        (stalled_pid, _key), = lines(log, "stalled")
        (leader_pid,) = lines(log, "leader")[0]
        os.kill(int(stalled_pid), signal.SIGKILL)
        if leader_pid != stalled_pid:
            os.kill(int(leader_pid), signal.SIGKILL)  # the leader dies too: another must take over
        killed = {stalled_pid, leader_pid}
        ticks_before = len(lines(log, "leader"))
        await until(lambda: nothing_pending(database), "the killed worker's claims to be delivered by another")
        await until(lambda: _true(any(pid not in killed for (pid,) in lines(log, "leader")[ticks_before:])),
                    "a surviving worker to lead")
    finally:
        stop(workers)
    delivered = Counter(key for _pid, key in lines(log, "delivered"))
    assert sorted(delivered) == keys and set(delivered.values()) == {1}
    assert all(pid != stalled_pid for pid, key in lines(log, "delivered") if key == keys[0])
    later_leaders = {pid for (pid,) in lines(log, "leader")[ticks_before:]} - killed
    assert len(later_leaders) == 1


async def test_one_leader_at_a_time_and_the_next_takes_over_when_it_steps_down(database: Database) -> None:
    first, second = Leadership(database), Leadership(database)
    try:
        assert await first.holds() and not await second.holds()
        assert await first.holds()  # re-checked, still held
        await first.release()
        assert await second.holds() and not await first.holds()
    finally:
        await first.release()
        await second.release()


async def _true(value: bool) -> bool:
    return value
