"""A profile that is the practice's own: the blank template, a profile written from a few answers,
and what `referbot check` finds left over from the template or from the shipped example.

The example practice (examples/practice.yaml) is fictional: its Chicago colleagues, phone numbers,
staff ids and phrases must never reach a real practice's referrers, so anything recognisably from
it is reported, as is any `<placeholder>` of the template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

import yaml

from referbot.profile import Profile

TEMPLATE = "templates/practice.yaml"
#: The line of the template after which the optional sections start.
OPTIONAL_MARK = "# ---- everything below is optional ----"

_PLACEHOLDER = re.compile(r"<[^<>\n]{2,80}>")
#: Fictional values of the example practice (names, staff ids, a referrer phrase, a guideline).
EXAMPLE_VALUES = frozenset({
    "Riverbend Counseling Collective", "Dr. Maya Okafor", "Luis Herrera", "Lakeshore Eating Disorder Center",
    "Dr. Priya Raman, MD (psychiatry)", "Northside Recovery Services", "Little Oaks Child & Family Therapy",
    "U012AB3CD", "U045EF6GH", "123456789", "nerves are shot", "Clients must live in Illinois for telehealth.",
})
#: Reserved for fiction: `.example` domains and North American 555-0100…0199 numbers.
_FICTIONAL = re.compile(r"\.example\b|555[-. ]?01\d\d")


def template_text() -> str:
    return resources.files("referbot").joinpath(TEMPLATE).read_text(encoding="utf-8")


def placeholders(text: str) -> list[str]:
    """`line N: <…>` for every template placeholder still in a profile (comments ignored)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        found += [f"line {number}: {match} is still the template's placeholder" for match in _PLACEHOLDER.findall(content)]
    return found


def _strings(value: object, path: str = "") -> list[tuple[str, str]]:
    """Every string in a profile as (dotted path, value)."""
    if isinstance(value, dict):
        return [item for key, child in value.items() for item in _strings(child, f"{path}.{key}".lstrip("."))]
    if isinstance(value, (list, tuple)):
        return [item for i, child in enumerate(value) for item in _strings(child, f"{path}.{i}")]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [(path, str(value))]
    return []


def example_leftovers(profile: Profile) -> list[str]:
    """What in this profile comes from the fictional example practice, one line each."""
    found = []
    for path, value in _strings(profile.model_dump(mode="json")):
        if value in EXAMPLE_VALUES or _FICTIONAL.search(value):
            found.append(f"{path}: {value!r} is from the fictional example practice")
    return found


@dataclass
class ClinicianAnswers:
    name: str
    credentials: str = ""
    specialties: list[str] = field(default_factory=list)
    min_age: int = 18
    max_age: int = 120
    formats: list[str] = field(default_factory=lambda: ["individual"])


@dataclass
class PracticeAnswers:
    """What `referbot init` asks."""

    name: str
    timezone: str
    country: str = "US"
    phone: str = ""
    email: str = ""
    clinicians: list[ClinicianAnswers] = field(default_factory=list)


def profile_from_answers(answers: PracticeAnswers) -> str:
    """A complete, commented profile: the answers on top, the template's optional sections below."""
    contact = {k: v for k, v in (("phone", answers.phone), ("email", answers.email)) if v}
    practice = {"practice": {"name": answers.name, "contact": contact,
                             "office_hours": {"timezone": answers.timezone, "days": ["mon", "tue", "wed", "thu", "fri"],
                                              "start": "09:00", "end": "17:00"},
                             "response_time_business_days": 2}}
    clinicians = {"clinicians": [{"name": c.name, "credentials": c.credentials, "specialties": c.specialties,
                                  "not_accepted": [], "ages": {"min": c.min_age, "max": c.max_age},
                                  "formats": c.formats, "modalities": ["in_person", "telehealth"],
                                  "languages": ["English"], "availability": "accepting"}
                                 for c in answers.clinicians]}
    template = template_text()
    optional = template[template.index(OPTIONAL_MARK):]
    if answers.country.upper() != "US":
        crisis = optional[optional.index("crisis:\n"):optional.index("\n\n", optional.index("crisis:\n")) + 1]
        optional = optional.replace(crisis, _local_crisis(answers.country.upper()))
    return ("# Your practice profile, written by `referbot init`. Edit freely, then run `referbot check`.\n\n"
            f"{_yaml(practice)}\n{_yaml(clinicians)}\n{optional}")


def _local_crisis(country: str) -> str:
    """Crisis lines to fill in: the built-in ones are US numbers, wrong anywhere else."""
    return (f"crisis:\n  # Shown the moment someone may be in danger: your country's emergency number and helplines.\n"
            f"  country: {country}\n  resources:\n"
            "    - name: <emergency services>\n      contact: <emergency number>\n"
            "      description: if someone is in immediate danger\n"
            "    - name: <a 24/7 crisis line>\n      contact: <its number>\n")


def _yaml(data: dict[str, object]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)
