"""Crisis detection is tuned for recall; negated, historical and idiomatic mentions are explicit exceptions."""

from __future__ import annotations

import pytest

from referbot.matching import Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher()


@pytest.mark.parametrize(("text", "kind"), [
    ("wants to die", "self"),
    ("she's been saying she wants to end it all", "self"),
    ("doesn't see the point anymore", "self"),
    ("says his family would be better off without him", "self"),
    ("worth more dead for the insurance", "self"),
    ("kms fr", "self"),
    ("wrote 'i want to unalive myself'", "self"),
    ("talks about suicidle thoughts", "self"),
    ("has been stockpiling her sleeping pills", "self"),
    ("took a whole packet of paracetamol on Sunday", "self"),
    ("Pt endorses SI with plan", "self"),
    ("keeps thinking about driving into a wall", "self"),
    ("if things don't change she'll kill herself", "self"),
    ("SH - cuts on wrists, new ones this week", "self"),
    ("been burning herself with a lighter", "self"),
    ("hits her thighs until they bruise", "self"),
    ("says he'll stab his stepdad", "others"),
    ("HI toward his brother", "others"),
    ("threatened to kill her if she leaves", "from_others"),
    ("an adult he met online is threatening to share the photos", "from_others"),
])
def test_crisis_is_detected(matcher: Matcher, text: str, kind: str) -> None:
    signal = matcher.detect_crisis(text)
    assert signal is not None and signal.kind.value == kind and signal.evidence


@pytest.mark.parametrize("text", [
    "Pt denies SI, HI, AVH.",
    "Not suicidal.",
    "no self-harm or anything like that",
    "Denies wanting to hurt himself.",
    "she has no thoughts of harming herself or the children",
    "attempt in 2009, none since, denies current SI",
    "hx of cutting in teens, none in 8 yrs",
    "PHQ-9 item 9 negative",
    "lol im dying this workload is insane",
    "killing it at work",
    "Lost my husband to suicide in March",
    "he jokes he'll murder the ref but has never been violent",
    "dead on my feet since the promotion",
    "cutting back on drinking",
])
def test_no_crisis(matcher: Matcher, text: str) -> None:
    assert matcher.detect_crisis(text) is None


def test_current_risk_beats_history(matcher: Matcher) -> None:
    assert matcher.detect_crisis("history of self-harm, cutting again this week") is not None


def test_crisis_is_also_a_presenting_issue(matcher: Matcher) -> None:
    assert "suicidal_ideation" in {m.id for m in matcher.find_issues("i just don't want to be here anymore")}


@pytest.mark.parametrize("text", [
    "he bought a rope last week and wrote letters to his kids",  # means + farewell
    "took a bunch of her mum's sleeping tablets on Sunday",  # a recent overdose, words in between
    "keeps googling how many pills it takes",  # researching a method
    "he looked up how many paracetamol would be enough",
    "has a gun at home and says nobody will miss him",  # means + burden
    "she said no one would miss her if she was gone",
    "sucidal thoughts every night",  # a misspelling only the issue vocabulary knows: the backstop
])
def test_warning_signs_in_other_words_are_crises(matcher: Matcher, text: str) -> None:
    assert matcher.detect_crisis(text) is not None


@pytest.mark.parametrize("text", [
    "she was asking how much sessions cost and whether you take Aetna",
    "researching methods of coping with panic",
    "dad keeps a rifle for hunting, client feels sorry for missing school",
    "googled how many sessions of EMDR it takes",
    "nobody would notice if she changed schools, she's so shy",
])
def test_the_new_warning_sign_patterns_do_not_fire_on_ordinary_words(matcher: Matcher, text: str) -> None:
    assert matcher.detect_crisis(text) is None
