"""Fit against the example group practice: verdicts, readable reasons, ranking, refer-out."""

from __future__ import annotations

import pytest

from referbot.domain import FitVerdict, IntakeFacts, IssueMatch
from referbot.matching import Matcher
from referbot.profile import load_profile, parse_profile


@pytest.fixture(scope="module")
def profile():
    return load_profile("examples/practice.yaml")


@pytest.fixture(scope="module")
def matcher(profile) -> Matcher:
    return Matcher(profile)


def facts(*issue_ids: str, **kw) -> IntakeFacts:
    return IntakeFacts(issues=tuple(IssueMatch(i, 90.0, i) for i in issue_ids), **kw)


def test_good_fit_with_reasons(matcher, profile) -> None:
    result = matcher.assess(profile, facts("anxiety", "trauma_ptsd", age=30, payment="insurance",
                                           insurance_name="BCBS"))
    assert result.verdict is FitVerdict.GOOD_FIT
    assert result.clinicians[0].name == "Dr. Maya Okafor"
    [reasons] = result.reasons  # one line per clinician: the name once, then every reason
    assert reasons.startswith("Dr. Maya Okafor: specialises in anxiety and trauma / ptsd; sees ages 18–75")
    assert any("in network with Blue Cross Blue Shield" in r for r in result.reasons)
    assert result.refer_out == ()


def test_clinicians_are_ranked(matcher, profile) -> None:
    result = matcher.assess(profile, facts("relationship_issues", therapy_format="couples", language="Spanish"))
    assert [c.name for c in result.clinicians] == ["Luis Herrera", "Dr. Maya Okafor"]
    assert result.verdict is FitVerdict.POSSIBLE_FIT  # Herrera has a waitlist
    assert any("waitlist (about 3 weeks)" in r for r in result.reasons)
    assert "does not offer couples therapy" in result.clinicians[1].reasons


def test_not_a_fit_suggests_matching_colleagues(matcher, profile) -> None:
    result = matcher.assess(profile, facts("eating_disorders", age=15))
    assert result.verdict is FitVerdict.NOT_A_FIT
    assert "does not treat eating disorders" in result.reasons
    assert [c.name for c in result.refer_out] == ["Lakeshore Eating Disorder Center"]
    assert "(312) 555-0199" in result.refer_out[0].contact


def test_age_outside_the_whole_practice(matcher, profile) -> None:
    result = matcher.assess(profile, facts("anxiety", age=9))
    assert result.verdict is FitVerdict.NOT_A_FIT
    assert "age 9: practice sees 13–99" in result.reasons


def test_missing_facts_are_not_held_against_the_client(matcher, profile) -> None:
    assert matcher.assess(profile, facts("depression")).verdict is FitVerdict.GOOD_FIT


def test_out_of_network_is_possible_and_language_is_required(matcher, profile) -> None:
    out_of_network = matcher.assess(profile, facts("anxiety", payment="insurance", insurance_name="Humana"))
    assert out_of_network.verdict is FitVerdict.POSSIBLE_FIT
    assert any("not in network with Humana" in r for r in out_of_network.reasons)
    arabic = matcher.assess(profile, facts("anxiety", language="Arabic"))
    assert arabic.verdict is FitVerdict.NOT_A_FIT and "does not speak Arabic" in arabic.reasons


def test_closed_clinician_is_not_a_fit() -> None:
    profile = parse_profile("practice: {name: Solo}\nclinicians:\n  - name: Ann\n    specialties: [anxiety]\n"
                            "    availability: closed\n")
    result = Matcher(profile).assess(profile, facts("anxiety"))
    assert result.verdict is FitVerdict.NOT_A_FIT and "not taking new clients" in result.reasons


def test_assessment_from_free_text(matcher, profile) -> None:
    text = "hears voices, paranoid"
    result = matcher.assess(profile, IntakeFacts(issues_text=text, issues=tuple(matcher.find_issues(text))))
    assert result.verdict is FitVerdict.NOT_A_FIT
    assert "Dr. Priya Raman, MD (psychiatry)" in [c.name for c in result.refer_out]
