"""Memory and start-up: idle `referbot run`, 1,000 open conversations, and `referbot --help`.

Idle is `referbot run` with no channel token (the console channel waiting for a line, the outbox
worker and housekeeping running) on a database already at the newest schema, once its memory has
stopped growing.

Baselines from the same run: a bare python-telegram-bot Application built and idle (what any
Telegram bot costs), and a bare interpreter start (`python -c pass`).
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Result
from bench.servers import Databases
from bench.turns import drive, intake_turn
from referbot.engine import load_flow
from referbot.matching import Matcher
from referbot.profile import Profile
from referbot.service import IntakeService
from referbot.store.encryption import Cipher

PROFILE = Path(__file__).resolve().parent.parent / "examples" / "practice.yaml"
BARE_PTB = ("from telegram.ext import ApplicationBuilder\n"
            "app = ApplicationBuilder().token('1:bench').build()\n"
            "import time; time.sleep(120)\n")


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def settled_rss_mb(process: subprocess.Popen[bytes], timeout: float = 60.0) -> float:
    """The process's resident memory once it has stopped growing for two seconds."""
    deadline = time.monotonic() + timeout
    last, stable_since = 0.0, time.monotonic()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before it was idle")
        current = rss_mb(process.pid)
        if abs(current - last) > 0.2:
            last, stable_since = current, time.monotonic()
        elif time.monotonic() - stable_since > 2.0:
            return current
        time.sleep(0.25)
    return last


def idle_rss(command: list[str], env: dict[str, str]) -> float:
    # stdin is a pipe nobody writes to: the console channel waits for a line, idle
    process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        return settled_rss_mb(process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wall_seconds(command: list[str], repeats: int) -> float:
    """The median wall time of `repeats` starts after one warm-up start. Bytecode is written and
    read as an installed package has it (pip compiles at install): a PYTHONDONTWRITEBYTECODE in the
    developer's environment would otherwise make every start compile referbot from source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


async def conversations_mb(databases: Databases, profile: Profile, count: int, batches: int = 3) -> list[float]:
    """Process memory added by each of `batches` batches of `count` new referrers who each started
    an intake and answered once. The first batch also warms caches and the allocator's arenas; if
    open conversations cost process memory, the later batches grow as much as the first."""
    async with databases.fresh("sqlite") as database:
        service = IntakeService(database, profile, load_flow(), Matcher(profile))
        await drive(intake_turn(service), 10, 1, 3)  # warm every code path first
        growth = []
        for batch in range(batches):
            gc.collect()
            before = rss_mb()
            await drive(intake_turn(service, prefix=f"b{batch}-"), count, 1, 2)
            gc.collect()
            growth.append(rss_mb() - before)
        return growth


async def measure(databases: Databases, profile: Profile, quick: bool) -> list[Result]:
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="referbot-idle-") as directory:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "REFERBOT_"))}
        env.update(REFERBOT_DATABASE_URL=f"sqlite+aiosqlite:///{directory}/idle.db", REFERBOT_PROFILE=str(PROFILE),
                   REFERBOT_ENCRYPTION_KEY=Cipher.generate_key())
        # A practice restarts on its database far more often than it creates one: the schema is made
        # first, so the process measured is the steady state (no migration to run, alembic not loaded).
        subprocess.run([str(bindir / "referbot"), "db", "upgrade"], env=env, check=True, cwd=directory,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        idle = idle_rss([str(bindir / "referbot"), "run"], {**env, "PWD": directory})
        bare = idle_rss([sys.executable, "-c", BARE_PTB], env)
    repeats = 3 if quick else 7
    help_s = wall_seconds([str(bindir / "referbot"), "--help"], repeats)
    python_s = wall_seconds([sys.executable, "-c", "pass"], repeats)
    first, *later = await conversations_mb(databases, profile, 1000)
    return [Result("idle_rss_mb", idle, "MB", bare, "bare PTB Application, idle"),
            Result("rss_mb_per_1000_conversations", first, "MB", None, "each started and answered once"),
            Result("rss_mb_per_1000_more_conversations", later[-1], "MB", first, "the first 1,000 (warms caches)"),
            Result("startup_help_s", help_s, "s", python_s, "python -c pass")]
