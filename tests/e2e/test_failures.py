"""Running it for real: every configuration or file problem is one line and a non-zero exit, an
unreachable Telegram or Slack is retried (one line per attempt) instead of killing the bot, and
`run` stops promptly at the end of its input and on SIGTERM / SIGINT."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.cli import REFERBOT, cli_env, referbot, referbot_async
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.fake_telegram import FakeTelegram

SUPPORTED = "use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def only_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    return lines[0]


@pytest.mark.parametrize(("args", "env", "code", "message"), [
    (["referrals", "list"], {"REFERBOT_DATABASE_URL": "mysql://u:p@db.example.org/referbot"}, 2,
     f"referbot: REFERBOT_DATABASE_URL: 'mysql' databases are not supported; {SUPPORTED}"),
    (["chat", "--jsonl"], {"REFERBOT_DATABASE_URL": "postgresql+psycopg2://u@h/d"}, 2,
     f"referbot: REFERBOT_DATABASE_URL: driver 'postgresql+psycopg2' is not available; {SUPPORTED}"),
    (["init", "/no/such/dir/p.yaml"], {}, 1,
     "referbot: cannot use /no/such/dir/p.yaml: the folder /no/such/dir does not exist."),
    (["eval-matcher", "/no/such/dir/labels.jsonl"], {}, 2,
     "referbot eval-matcher: /no/such/dir/labels.jsonl: cannot read (No such file or directory)"),
    (["match", "--batch", "missing.jsonl"], {}, 2, "referbot match: missing.jsonl: cannot read (No such file or directory)"),
    (["sources", "link", "Dr. Lee", "--type", "physician", "--qr", "/no/such/dir/lee.png"],
     {"TELEGRAM_BOT_USERNAME": "practice_bot"}, 1,
     "referbot: cannot write the QR code to /no/such/dir/lee.png: the folder /no/such/dir does not exist."),
    (["referrals", "list"], {"REFERBOT_PROFILE": "/no/such/practice.yaml"}, 2, None),
])
def test_problem_is_one_line(tmp_path: Path, args: list[str], env: dict[str, str], code: int,
                             message: str | None) -> None:
    result = referbot(tmp_path, *args, **env)
    assert result.returncode == code, result.stderr
    line = only_line(result.stderr)
    assert "Traceback" not in result.stderr
    if message is not None:
        assert line == message
    else:
        assert "/no/such/practice.yaml" in line


def test_bad_lines_in_a_labelled_file_are_named(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": 1, "text": "low mood", "issues": ["depression"]}\n\nnot json\n')
    result = referbot(tmp_path, "eval-matcher", str(labels))
    assert result.returncode == 2
    assert only_line(result.stderr) == f"referbot eval-matcher: {labels} line 3: not valid JSON (Expecting value)"
    labels.write_text('{"id": 1, "issues": []}\n')
    assert only_line(referbot(tmp_path, "eval-matcher", str(labels)).stderr) == \
        f'referbot eval-matcher: {labels} line 1: expected an object with a "text" string'


def test_the_qr_folder_is_checked_before_a_source_is_created(tmp_path: Path) -> None:
    referbot(tmp_path, "sources", "link", "Dr. Lee", "--type", "physician", "--qr", "/no/such/dir/lee.png",
             TELEGRAM_BOT_USERNAME="practice_bot")
    assert "Dr. Lee" not in referbot(tmp_path, "sources", "list").stdout


async def test_a_rejected_telegram_token_stops_run_with_one_line(tmp_path: Path, api: FakeTelegram) -> None:
    code, _, err = await referbot_async(tmp_path, "run", TELEGRAM_BOT_TOKEN="4242:garbage",
                                        TELEGRAM_API_URL=api.base_url)
    assert code == 2
    assert err.strip().splitlines()[-1] == ("referbot: TELEGRAM_BOT_TOKEN was rejected by Telegram: copy the token "
                                            "again from @BotFather (/mybots → your bot → API Token) into .env.")
    assert "Traceback" not in err and "garbage" not in err


async def test_a_rejected_slack_token_stops_run_with_one_line(tmp_path: Path) -> None:
    fake = FakeSlack(token="xoxb-right")
    await fake.start()
    try:
        code, _, err = await referbot_async(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-wrong", SLACK_API_URL=fake.url,
                                            SLACK_SIGNING_SECRET="secret", SLACK_ALERT_CHANNEL="C1")
    finally:
        await fake.stop()
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("referbot: SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)")


async def _stderr_lines(process: asyncio.subprocess.Process, wanted: str, count: int, timeout: float = 90) -> list[str]:
    """Read stderr until `count` lines contain `wanted`; returns every line read."""
    lines: list[str] = []

    async def read() -> None:
        while sum(wanted in line for line in lines) < count:
            line = await process.stderr.readline()
            assert line, f"run ended early: {lines}"
            lines.append(line.decode())

    await asyncio.wait_for(read(), timeout)
    return lines


@pytest.mark.parametrize(("platform", "env"), [
    ("telegram", lambda port: {"TELEGRAM_BOT_TOKEN": "4242:token", "TELEGRAM_API_URL": f"http://127.0.0.1:{port}/bot"}),
    ("slack", lambda port: {"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s", "SLACK_ALERT_CHANNEL": "C1",
                            "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
                            "REFERBOT_HTTP_PORT": str(closed_port())}),
])
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_an_unreachable_platform_is_retried_and_a_signal_stops_run(tmp_path: Path, platform: str, env,
                                                                        stop: signal.Signals) -> None:
    port = closed_port()
    process = await asyncio.create_subprocess_exec(REFERBOT, "run", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE, cwd=tmp_path,
                                                   env=cli_env(tmp_path, **env(port)))
    try:
        lines = await _stderr_lines(process, "failed, trying again", 2)
    finally:
        process.send_signal(stop)
        rest = await asyncio.wait_for(process.stderr.read(), 30)
        await asyncio.wait_for(process.wait(), 30)
    attempts = [line for line in lines if "failed, trying again" in line]
    name = "Telegram" if platform == "telegram" else "Slack"
    assert f"{platform}: cannot reach {name} at 127.0.0.1:{port} (" in attempts[0]
    assert "attempt 1 failed, trying again in 1 s" in attempts[0]
    assert "attempt 2 failed, trying again in 2 s" in attempts[1]
    assert process.returncode == 0
    assert "Traceback" not in "".join(lines) + rest.decode()


@pytest.mark.timeout(600)  # twenty start-ups on a loaded 2-core machine; a hang still fails
def test_run_with_piped_input_exits_after_the_input_ends(tmp_path: Path) -> None:
    """Twenty runs, five at a time: each must end by itself once its input is used up."""
    assert referbot(tmp_path, "db", "upgrade").returncode == 0  # five first-ever migrations at once would race
    for batch in range(4):
        runs = [subprocess.Popen([REFERBOT, "run", "--as", f"pat{batch}{n}"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                                 env=cli_env(tmp_path)) for n in range(5)]
        for process in runs:
            out, err = process.communicate("Pat Doe\n2\n", timeout=120)  # hangs here on a stuck shutdown
            assert process.returncode == 0, err
            assert out.rstrip().endswith("run `referbot chat` again to continue.")


def test_the_advice_after_scripts_run_works_in_a_fresh_clone(tmp_path: Path) -> None:
    """No practice.yaml and no REFERBOT_PROFILE: run and then chat both use the example practice."""
    env = {k: v for k, v in cli_env(tmp_path).items() if k != "REFERBOT_PROFILE"}
    first = subprocess.run([REFERBOT, "run", "--as", "pat"], input="Pat Doe\n", capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "Using the example practice (examples/practice.yaml)" in first.stderr
    advice = first.stdout.rstrip().splitlines()[-1]
    assert "run `referbot chat` again to continue" in advice
    again = subprocess.run([REFERBOT, "chat", "--as", "pat"], input="", capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "Which best describes you?" in again.stdout  # where the first run left off, not a new intake
    assert "First, what's your name?" not in again.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_socket_mode_retries_are_one_line_each(database, profile, clock, caplog) -> None:
    from adapters.slack import SlackSettings
    from adapters.slack.channel import SlackChannel
    from adapters.slack.reach import socket_mode_logger
    from referbot.app import Runtime
    from referbot.engine import load_flow
    from referbot.service import IntakeService
    from referbot.settings import Settings
    from tests.fakes import KeywordAssessor

    fake = FakeSlack()
    fake._apps_connections_open = lambda _args: {"ok": True, "url": f"ws://127.0.0.1:{closed_port()}/link"}
    await fake.start()
    settings = SlackSettings(_env_file=None, bot_token="xoxb-t", app_token="xapp-1-t", api_url=fake.url,
                             alert_channel="C1")
    runtime = Runtime(Settings(_env_file=None), profile, database,
                      IntakeService(database, profile, load_flow(), KeywordAssessor(), clock))
    channel = SlackChannel(runtime, settings)
    caplog.set_level("INFO", logger=socket_mode_logger().name)
    starting = asyncio.create_task(channel.start())
    try:
        await asyncio.sleep(3)  # the client's own first attempt fails; it retries every 10 s
    finally:
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await channel.stop()
        await fake.stop()
    retries = [r for r in caplog.records if "cannot reach Slack Socket Mode" in r.getMessage()]
    assert retries and all(r.exc_info is None and r.levelname == "WARNING" for r in retries)
    assert all("\n" not in r.getMessage() for r in retries)
