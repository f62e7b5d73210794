"""The practice's commands for client data, run as a therapist runs them: hostile lines into
`chat --jsonl`, the refusal to store client data unencrypted, keys, audit, forget, purge, and
private, formula-safe exports."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from referbot.store.encryption import Cipher
from tests.e2e.cli import JsonlChat, referbot
from tests.e2e.test_cli_chat import INTAKE

HOSTILE_NAME = '=HYPERLINK("https://evil.example","x")'


def test_hostile_lines_never_end_chat_jsonl(tmp_path: Path) -> None:
    chat = JsonlChat(tmp_path, "ann")
    try:
        assert chat.send({"text": "Dr. Ann\ud800 Lee\x00"})["step"] == "referrer_role"
        for raw in ("[" * 100_000, '{"command": "edit", "argument": ["client_age"]}', '{"text": {"a": 1}}'):
            chat.process.stdin.write(raw + "\n")
            chat.process.stdin.flush()
            assert "error" in chat._read()
        assert chat.send({"choice": "\udc80"})["step"] == "referrer_role"  # re-asked, still alive
        outcome = chat.send({"command": "edit", "argument": "\ud800"})
        assert outcome["state"] == "asking"
    finally:
        assert chat.close() == 0


def test_run_refuses_to_store_client_data_without_a_key(tmp_path: Path) -> None:
    refused = referbot(tmp_path, "chat", "--jsonl", input="", REFERBOT_ENCRYPTION_KEY="")
    assert refused.returncode == 2 and "REFERBOT_ENCRYPTION_KEY" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) <= 2
    allowed = referbot(tmp_path, "chat", "--jsonl", input="", REFERBOT_ENCRYPTION_KEY="",
                       REFERBOT_ALLOW_PLAINTEXT="true")
    assert allowed.returncode == 0, allowed.stderr
    bad = referbot(tmp_path, "referrals", "list", REFERBOT_ENCRYPTION_KEY="not-a-key")
    assert bad.returncode == 2 and "referbot keys generate" in bad.stderr and "Traceback" not in bad.stderr


def _referral(tmp_path: Path) -> int:
    intake = [{"text": HOSTILE_NAME}, *INTAKE[1:], {"choice": "submit"}]
    done = referbot(tmp_path, "chat", "--jsonl", "--as", "ann", input="\n".join(map(json.dumps, intake)) + "\n")
    return json.loads(done.stdout.splitlines()[-1])["referral_id"]


def test_exports_are_private_and_formula_safe(tmp_path: Path) -> None:
    _referral(tmp_path)
    export = tmp_path / "out.csv"
    assert referbot(tmp_path, "export", "referrals", "--include-contact", "-o", str(export)).returncode == 0
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    sources = tmp_path / "sources.csv"
    assert referbot(tmp_path, "export", "sources", "-o", str(sources)).returncode == 0
    [row] = list(csv.DictReader(sources.open()))
    assert row["name"] == "'" + HOSTILE_NAME  # shown as text, never run as a formula
    audit = json.loads(referbot(tmp_path, "audit", "--json").stdout)
    assert [entry["target"].rsplit(":", 1)[0] for entry in audit if entry["action"] == "export"] == \
        ["export:referrals+contact", "export:sources"]


@pytest.mark.timeout(300)  # nine commands, each a fresh process
def test_keys_rotate_forget_purge_and_audit(tmp_path: Path) -> None:
    key = referbot(tmp_path, "keys", "generate").stdout.strip()
    Cipher((key,))  # a usable Fernet key
    referral_id = _referral(tmp_path)
    assert referbot(tmp_path, "referrals", "show", str(referral_id)).returncode == 0

    rotated = referbot(tmp_path, "keys", "rotate", REFERBOT_ENCRYPTION_KEY=f"{key},{_test_key(tmp_path)}")
    assert rotated.returncode == 0, rotated.stderr
    shown = referbot(tmp_path, "referrals", "show", str(referral_id), "--json", REFERBOT_ENCRYPTION_KEY=key)
    assert json.loads(shown.stdout)["client_name"] == "J."  # readable with the new key alone

    dry = referbot(tmp_path, "purge", "--dry-run", REFERBOT_ENCRYPTION_KEY=key)
    assert dry.returncode == 0 and "Would erase the client details of 0 referral(s)" in dry.stdout
    forgot = referbot(tmp_path, "forget", "referral", str(referral_id), REFERBOT_ENCRYPTION_KEY=key)
    assert forgot.returncode == 0, forgot.stderr
    shown = json.loads(referbot(tmp_path, "referrals", "show", str(referral_id), "--json",
                                REFERBOT_ENCRYPTION_KEY=key).stdout)
    assert shown["client_name"] is None and shown["client_contact"] is None and shown["answers"] == {}

    audit = json.loads(referbot(tmp_path, "audit", "--json", REFERBOT_ENCRYPTION_KEY=key).stdout)
    actions = [(entry["action"], entry["target"].split(":")[0], entry["channel"]) for entry in audit]
    for expected in [("view", "referral", "cli"), ("rotate_keys", "values", "cli"),
                     ("erase", "referral", "cli")]:
        assert expected in actions
    assert all(entry["actor"].startswith("cli:") for entry in audit)


def _test_key(tmp_path: Path) -> str:
    from tests.e2e.cli import cli_env

    return cli_env(tmp_path)["REFERBOT_ENCRYPTION_KEY"]
