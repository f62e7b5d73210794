"""Practice profiles: the example is valid, and every mistake is reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from referbot.domain import CrisisKind
from referbot.profile import Availability, ProfileError, load_profile, parse_profile
from tests.conftest import EXAMPLE_PROFILE

MINIMAL = """practice:
  name: Solo Practice
clinicians:
  - name: Sam Rivera
"""


def test_example_profile_is_a_complete_group_practice() -> None:
    profile = load_profile(EXAMPLE_PROFILE)
    assert len(profile.clinicians) == 2 and profile.colleagues and profile.crisis.resources
    assert all(s.startswith("U") for s in profile.staff.ids("slack")) and profile.staff.ids("telegram")
    assert profile.clinicians[1].availability is Availability.WAITLIST
    assert profile.staff.includes("slack", "U012AB3CD") and profile.staff.includes("telegram", "123456789")
    assert not profile.staff.includes("slack", "U999") and not profile.staff.includes("console", "U012AB3CD")


def test_defaults_give_us_crisis_resources_per_kind() -> None:
    profile = parse_profile(MINIMAL)
    by_kind = {kind: " ".join(r.contact for r in profile.crisis.for_kind(kind)) for kind in CrisisKind}
    assert "988" in by_kind[CrisisKind.SELF] and "911" in by_kind[CrisisKind.SELF]
    assert "1-800-799-7233" in by_kind[CrisisKind.FROM_OTHERS] and "911" in by_kind[CrisisKind.FROM_OTHERS]
    assert "1-800-222-1222" in by_kind[CrisisKind.MEDICAL]
    assert all(contacts.startswith("911") for contacts in by_kind.values())  # emergency services first


def test_a_practice_elsewhere_replaces_the_lines_per_kind() -> None:
    profile = parse_profile(MINIMAL + """
crisis:
  country: GB
  resources: [{name: Emergency services, contact: "999"}]
  by_kind:
    self: [{name: Samaritans, contact: "116 123"}]
""")
    assert [r.name for r in profile.crisis.for_kind(CrisisKind.SELF)] == ["Emergency services", "Samaritans"]
    assert [r.name for r in profile.crisis.for_kind(CrisisKind.OTHERS)] == ["Emergency services"]


def test_us_lines_are_never_shown_outside_the_us() -> None:
    with pytest.raises(ProfileError, match="list your country's emergency lines"):
        parse_profile(MINIMAL + "crisis: {country: IE}\n")
    irish = parse_profile(MINIMAL + "crisis: {country: IE, resources: [{name: Emergency, contact: '112'}]}\n")
    assert [r.contact for r in irish.crisis.for_kind(CrisisKind.SELF)] == ["112"]


@pytest.mark.parametrize("text, expected", [
    (MINIMAL + "    ages: {min: twelve}\n", "practice.yaml line 5: clinicians.0.ages.min must be a whole number"),
    (MINIMAL + "    ages: {min: 30, max: 20}\n", "line 5: clinicians.0.ages min (30) is greater than max (20)"),
    (MINIMAL + "    formats: [individual, telepathy]\n", "line 5: clinicians.0.formats.1 'telepathy' is not allowed"),
    (MINIMAL + "    availabilty: accepting\n", "line 5: clinicians.0.availabilty is not a known setting"),
    ("practice:\n  name: X\n", "clinicians is required but missing"),
    (MINIMAL + "staff:\n  slack: [bob]\n", "line 6: staff.slack Slack user ids look like U012AB3CD"),
    (MINIMAL + "staff:\n  telegram: [dana]\n", "line 6: staff.telegram Telegram user ids are numbers"),
    (MINIMAL + "staff:\n  fax: [123]\n", "line 6: staff.fax no channel named 'fax' is installed"),
    (MINIMAL + "practice_hours: 3\n", "line 5: practice_hours is not a known setting"),
    ("practice:\n  name: X\n  office_hours: {timezone: Mars/Olympus}\n" + MINIMAL.split("\n", 2)[2],
     "line 3: practice.office_hours.timezone unknown time zone 'Mars/Olympus'"),
    ("practice: [\n", "practice.yaml line 2: not valid YAML"),
    ("- just\n- a list\n", "expected sections like `practice:`"),
])
def test_errors_name_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "practice.yaml")
    assert expected in str(caught.value)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="referbot init"):
        load_profile(tmp_path / "nope.yaml")


@pytest.mark.parametrize("extra, expected", [
    ("    specialties: [anxiety, traumaptsd]\n", "line 5: clinicians.0.specialties.1 'traumaptsd' is not an issue id; "
                                               "did you mean 'trauma_ptsd'?"),
    ("issue_phrases:\n  anxeity: [nerves]\n", "line 6: issue_phrases.anxeity 'anxeity' is not an issue id; "
                                              "did you mean 'anxiety'?"),
])
def test_misspelt_issue_ids_are_caught(extra: str, expected: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(MINIMAL + extra, "practice.yaml")
    assert expected in str(caught.value)


def test_specialty_words_are_read_as_issue_ids_with_a_note() -> None:
    """`PTSD` to a PTSD specialist must not become "not a listed specialty": words the matcher knows
    become ids (a phrase naming two issues becomes both), and the therapist is told how each was read."""
    profile = parse_profile(MINIMAL + "    specialties: [PTSD, Anxiety, grief, anxiety and depression]\n"
                                      "    not_accepted: [eating_disorder]\n", "practice.yaml")
    assert profile.clinicians[0].specialties == ["trauma_ptsd", "anxiety", "grief_loss", "depression"]
    assert profile.clinicians[0].not_accepted == ["eating_disorders"]
    notes = "\n".join(profile.notes)
    assert "practice.yaml line 5: clinicians.0.specialties: 'PTSD' read as trauma_ptsd (Trauma / PTSD)" in notes
    assert "'anxiety and depression' read as anxiety (Anxiety), depression (Depression)" in notes
    assert "'eating_disorder' read as eating_disorders" in notes
    assert "'Anxiety'" not in notes  # only the capital differs: nothing to say


def test_a_genuinely_custom_specialty_is_kept_with_a_warning_listing_the_ids() -> None:
    profile = parse_profile(MINIMAL + "    specialties: [anxiety, equine therapy, teens]\n", "practice.yaml")
    assert profile.clinicians[0].specialties == ["anxiety", "equine therapy", "teens"]
    custom, teens = profile.notes
    assert "'equine therapy' is not an issue referbot recognises, so it is kept as a custom specialty" in custom
    assert "use its id: adhd, anger_management, anxiety," in custom and "trauma_ptsd" in custom
    assert "'teens' is not a presenting issue; say whom a clinician sees with `ages:`" in teens


def test_a_custom_specialty_named_by_its_label_is_its_id() -> None:
    profile = parse_profile(MINIMAL + "    specialties: [Divorce recovery]\ncustom_specialties:\n"
                                      "  - {id: divorce_recovery, label: Divorce recovery}\n")
    assert profile.clinicians[0].specialties == ["divorce_recovery"]


def test_the_example_profile_needs_no_notes() -> None:
    assert load_profile(EXAMPLE_PROFILE).notes == ()
