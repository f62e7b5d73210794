"""One `referbot run`-like worker process for the several-workers tests.

It delivers referral alerts from the shared outbox by appending `delivered <pid> <key>` to a log
file, and, while it is the leader, appends `leader <pid>` at every tick. A `--stall KEY` makes the
first worker to get that alert hang mid-delivery (after logging `stalled <pid> <key>`), so the test
can kill it while it holds a claim.

    python -m tests.integration.outbox_workers URL LOG [--stall KEY] [--lease SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from referbot.domain import OutboxKind
from referbot.leader import Leadership
from referbot.outbox import OutboxWorker
from referbot.ports import Envelope
from referbot.store import Database


def append(log: Path, line: str) -> None:
    """One short O_APPEND write per line: lines from several processes never interleave."""
    with log.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


class LoggingNotifier:
    name = "log"

    def __init__(self, log: Path, stall: str | None) -> None:
        self.log = log
        self.stall = stall

    def accepts(self, kind: OutboxKind) -> bool:
        return kind is OutboxKind.REFERRAL_ALERT

    async def deliver(self, envelope: Envelope) -> dict[str, Any]:
        if envelope.key == self.stall and self._first_to_stall():
            append(self.log, f"stalled {os.getpid()} {envelope.key}")
            await asyncio.Event().wait()  # until the test kills this process
        append(self.log, f"delivered {os.getpid()} {envelope.key}")
        return {}

    def _first_to_stall(self) -> bool:
        try:
            os.close(os.open(f"{self.log}.stalled", os.O_CREAT | os.O_EXCL))
            return True
        except FileExistsError:
            return False


async def lead(leadership: Leadership, log: Path, interval: float) -> None:
    while True:
        if await leadership.holds():
            append(log, f"leader {os.getpid()}")
        await asyncio.sleep(interval)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("log", type=Path)
    parser.add_argument("--stall")
    parser.add_argument("--lease", type=float, default=120.0)
    args = parser.parse_args()
    database = Database(args.url)
    worker = OutboxWorker(database, [LoggingNotifier(args.log, args.stall)], lease=timedelta(seconds=args.lease))
    append(args.log, f"started {os.getpid()}")
    await asyncio.gather(worker.run_forever(interval=0.05), lead(Leadership(database), args.log, 0.1))


if __name__ == "__main__":
    asyncio.run(main())
