"""Configuration through the real command: init, check, migrations from empty, readable errors."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import referbot


def test_init_writes_a_blank_template_that_check_refuses_until_filled_in(tmp_path: Path) -> None:
    assert referbot(tmp_path, "init").returncode == 0  # not a terminal: the template, no questions
    written = (tmp_path / "practice.yaml").read_text()
    assert "Riverbend" not in written and "555-01" not in written and "<Your practice name>" in written
    assert referbot(tmp_path, "init").returncode == 1  # never overwrites silently
    checked = referbot(tmp_path, "check", REFERBOT_PROFILE=str(tmp_path / "practice.yaml"))
    assert checked.returncode == 1
    assert "practice.yaml line 11: <Your practice name> is still the template's placeholder" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_init_asks_and_check_passes_what_it_wrote(tmp_path: Path) -> None:
    answers = "Harbor Light Therapy\nMars/Olympus\nAmerica/Denver\n\n+1 303 555 1234\n\nAnn Smith\nLCSW\nPTSD, grief\n" \
              "13-65\nindividual\ny\nBo Lind\n\nanxiety\n18\ncouples\nn\n"
    made = referbot(tmp_path, "init", "--ask", input=answers)
    assert made.returncode == 0, made.stderr
    assert "is not a time zone" in made.stdout + made.stderr  # asked again, not a traceback
    profile = tmp_path / "practice.yaml"
    checked = referbot(tmp_path, "check", REFERBOT_PROFILE=str(profile))
    assert checked.returncode == 0, checked.stderr
    assert "✓ profile" in checked.stdout and "Harbor Light Therapy, 2 clinician(s)" in checked.stdout
    assert "'PTSD' read as trauma_ptsd" in checked.stdout
    assert "! No alert channel is set up" in checked.stdout  # referrals would reach nobody yet
    from referbot.profile import load_profile

    loaded = load_profile(profile)
    assert loaded.practice.office_hours.timezone == "America/Denver" and loaded.crisis.country == "US"
    assert [c.specialties for c in loaded.clinicians] == [["trauma_ptsd", "grief_loss"], ["anxiety"]]
    assert loaded.clinicians[0].ages.min == 13 and loaded.clinicians[1].ages.max == 120
    assert loaded.colleagues == [] and loaded.staff.ids("telegram") == []


def test_init_abroad_asks_for_the_countrys_crisis_lines(tmp_path: Path) -> None:
    answers = "Praxis Lindenhof\nEurope/Berlin\nDE\n\n\nAnn Smith\n\nanxiety\n18\nindividual\nn\n"
    assert referbot(tmp_path, "init", "--ask", input=answers).returncode == 0
    written = (tmp_path / "practice.yaml").read_text()
    assert "country: DE" in written and "988" not in written and "911" not in written
    checked = referbot(tmp_path, "check", REFERBOT_PROFILE=str(tmp_path / "practice.yaml"))
    assert checked.returncode == 1 and "<emergency number> is still the template's placeholder" in checked.stderr


def test_check_refuses_the_example_practice(tmp_path: Path) -> None:
    checked = referbot(tmp_path, "check")  # cli_env points at examples/practice.yaml
    assert checked.returncode == 1
    assert "colleagues.0.name: 'Lakeshore Eating Disorder Center' is from the fictional example practice" in checked.stderr
    assert "staff.telegram.0: '123456789'" in checked.stderr
    assert "This is still the example practice" in checked.stderr


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
