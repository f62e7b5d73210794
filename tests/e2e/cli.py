"""Running the real `referbot` command in a subprocess, against a temporary database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from referbot.store import Database
from referbot.store.encryption import Cipher
from tests.conftest import EXAMPLE_PROFILE

REFERBOT = str(Path(sys.executable).parent / "referbot")
#: Every command a test runs encrypts client data, as a real practice's would.
TEST_KEY = Cipher.generate_key()


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFERBOT_", "TELEGRAM_", "SLACK_"))}
    env.update({"REFERBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'referbot.db'}",
                "REFERBOT_PROFILE": str(EXAMPLE_PROFILE), "REFERBOT_ENCRYPTION_KEY": TEST_KEY, "REFERBOT_HTTP_PORT": "0",
                **extra})
    return env


def cli_database(tmp_path: Path) -> Database:
    """The database the commands use, opened with their key (to seed it or read what they wrote)."""
    env = cli_env(tmp_path)
    return Database(env["REFERBOT_DATABASE_URL"], Cipher.from_setting(env["REFERBOT_ENCRYPTION_KEY"]))


def referbot(tmp_path: Path, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([REFERBOT, *args], input=input, capture_output=True, text=True, cwd=tmp_path,
                          env=cli_env(tmp_path, **env), timeout=120)


class JsonlChat:
    """`referbot chat --jsonl` kept running, so a test can answer line by line (and kill it)."""

    def __init__(self, tmp_path: Path, user: str) -> None:
        self.process = subprocess.Popen([REFERBOT, "chat", "--jsonl", "--as", user], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                                        env=cli_env(tmp_path), bufsize=1)
        self.first = self._read()

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"referbot chat ended: {self.process.stderr.read()}")
        return json.loads(line)

    def send(self, item: dict[str, Any]) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(item) + "\n")
        self.process.stdin.flush()
        return self._read()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def close(self) -> int:
        self.process.stdin.close()
        return self.process.wait(timeout=30)


async def referbot_async(tmp_path: Path, *args: str, input: str = "", **env: str) -> tuple[int, str, str]:
    """`referbot` in a subprocess without blocking the event loop, so fakes served by this test's
    loop (Telegram, Slack) can answer it. Returns (exit code, stdout, stderr)."""
    import asyncio

    process = await asyncio.create_subprocess_exec(REFERBOT, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE, cwd=tmp_path, env=cli_env(tmp_path, **env))
    out, err = await asyncio.wait_for(process.communicate(input.encode()), 120)
    return process.returncode or 0, out.decode(), err.decode()
