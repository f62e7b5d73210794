"""A throwaway PostgreSQL server for the test session, started from the installed binaries.

PostgreSQL refuses to run as root, so under root (as in CI containers) the server runs as the
`postgres` system user. Nothing here skips: if the server cannot start, the run fails loudly.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(subprocess.run([pg_config, "--bindir"], check=True, capture_output=True, text=True).stdout.strip())
        if (found / "pg_ctl").exists():
            return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).resolve().parent
    raise RuntimeError("PostgreSQL binaries (pg_ctl, initdb) not found; install PostgreSQL 15 server binaries")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    directory: Path
    port: int
    bindir: Path
    as_user: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://referbot@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    @classmethod
    def start(cls) -> "PostgresServer":
        bindir = _bindir()
        directory = Path(tempfile.mkdtemp(prefix="referbot-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(directory, _free_port(), bindir, as_user)
        data = directory / "data"
        server._run(str(bindir / "initdb"), "-D", str(data), "-U", "referbot", "--auth=trust", "-E", "UTF8",
                    "--no-sync")
        options = f"-p {server.port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        server._run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"),
                    "-w", "-t", "60", "start")
        return server

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
