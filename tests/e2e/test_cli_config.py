"""Configuration through the real command: init, check, migrations from empty, readable errors."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import referbot


def test_init_writes_a_template_that_check_accepts(tmp_path: Path) -> None:
    assert referbot(tmp_path, "init").returncode == 0
    assert (tmp_path / "practice.yaml").exists()
    assert referbot(tmp_path, "init").returncode == 1  # never overwrites silently
    checked = referbot(tmp_path, "check", REFERBOT_PROFILE=str(tmp_path / "practice.yaml"))
    assert checked.returncode == 0, checked.stderr
    assert "✓ profile" in checked.stdout
    assert "! No alert channel is set up" in checked.stdout  # referrals would reach nobody yet


def test_broken_profile_is_reported_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "practice.yaml"
    bad.write_text("practice:\n  name: X\nclinicians:\n  - name: Y\n    ages:\n      min: twelve\n")
    for args in (["check"], ["chat", "--jsonl"], ["referrals", "list"]):
        result = referbot(tmp_path, *args, REFERBOT_PROFILE=str(bad), input="")
        assert result.returncode != 0
        assert f"{bad} line 6: clinicians.0.ages.min must be a whole number" in result.stderr
        assert "Traceback" not in result.stderr


def test_db_upgrade_from_empty_and_again(tmp_path: Path) -> None:
    first = referbot(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "referbot.db").stat().st_mode & 0o777 == 0o600  # clients' details: owner only
    assert referbot(tmp_path, "db", "upgrade").returncode == 0


def test_bad_database_url_is_a_message(tmp_path: Path) -> None:
    result = referbot(tmp_path, "referrals", "list", REFERBOT_DATABASE_URL="not a url")
    assert result.returncode == 2 and "REFERBOT_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_run_without_tokens_chats_in_the_console(tmp_path: Path) -> None:
    result = referbot(tmp_path, "run", "--as", "pat", input="Pat Doe\n2\n")
    assert result.returncode == 0, result.stderr
    assert "console channel" in result.stdout
    assert "First, what's your name?" in result.stdout and "1. Physician or medical provider" in result.stdout
    assert "How can we reach you" not in result.stdout  # therapists are asked their organisation first
    assert "Which practice, school or organisation" in result.stdout
    assert "answers are saved" in result.stdout
