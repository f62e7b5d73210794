"""Issue matching: typos, abbreviations, negation, idioms, several issues, odd input."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from referbot.cli.match import register
from referbot.domain import RiskLevel
from referbot.matching import Matcher, issue_label
from referbot.profile import load_profile


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher()


def ids(matcher: Matcher, text: str) -> set[str]:
    return {m.id for m in matcher.find_issues(text)}


@pytest.mark.parametrize(("text", "expected"), [
    ("depresed and anxeity", {"depression", "anxiety"}),
    ("insomia for months", {"sleep_insomnia"}),
    ("drinking alchohol every night", {"substance_use"}),
    ("bipolor II", {"bipolar"}),
    ("greiving her dad", {"grief_loss"}),
])
def test_typos_are_tolerated(matcher: Matcher, text: str, expected: set[str]) -> None:
    assert ids(matcher, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("32F GAD+MDD on sertraline", {"anxiety", "depression"}),
    ("AUD, 8 months sober", {"substance_use"}),
    ("ED hx, purging again", {"eating_disorders"}),
    ("possible ASD", {"autism"}),
    ("5 wks PP, ?PPD", {"perinatal"}),
])
def test_clinical_abbreviations(matcher: Matcher, text: str, expected: set[str]) -> None:
    assert ids(matcher, text) == expected


def test_abbreviations_only_count_in_capitals(matcher: Matcher) -> None:
    assert ids(matcher, "Hi, can you add me to the list") == set()
    assert "eating_disorders" not in ids(matcher, "seen in ED last night after a fall")


def test_word_order_and_gaps(matcher: Matcher) -> None:
    assert "sleep_insomnia" in ids(matcher, "problems with sleep since March")
    assert "life_transitions" in ids(matcher, "lost his job in May")


@pytest.mark.parametrize(("text", "present", "absent"), [
    ("not depressed, mostly anxious", {"anxiety"}, {"depression"}),
    ("Pt denies SI, HI, AVH. Chief complaint: irritability", {"anger_management"},
     {"suicidal_ideation", "psychosis"}),
    ("no self-harm or anything like that, just lonely after the move", set(), {"self_harm"}),
    ("Loves her job, no stress there. Issue is her marriage.", {"relationship_issues"}, {"stress_burnout"}),
    ("PHQ-9 17, item 9 negative", {"depression"}, {"suicidal_ideation"}),
])
def test_negation(matcher: Matcher, text: str, present: set[str], absent: set[str]) -> None:
    found = ids(matcher, text)
    assert present <= found and not absent & found


def test_negation_inside_a_phrase_is_the_symptom(matcher: Matcher) -> None:
    assert "sleep_insomnia" in ids(matcher, "can't sleep")
    assert "depression" in ids(matcher, "no energy, no motivation")


@pytest.mark.parametrize("text", ["killing it at work, honestly", "lol im dying 💀", "dying to get started",
                                  "lost my husband to suicide in March"])
def test_idioms_and_others_deaths_are_not_risk(matcher: Matcher, text: str) -> None:
    assert not {"suicidal_ideation", "self_harm"} & ids(matcher, text)


@pytest.mark.parametrize(("text", "absent", "present"), [
    ("a couple of months of low mood", "relationship_issues", "depression"),
    ("she came out of hospital last week, anxious", "lgbtq_identity", "anxiety"),
    ("told him to crack on with the job, stressed", "substance_use", "stress_burnout"),
    ("hair loss from chemo, low mood", "grief_loss", "chronic_illness_pain"),
    ("attended ED twice this month with panic", "eating_disorders", "anxiety"),
    ("the kids will be the death of me, so anxious", "grief_loss", "anxiety"),
    ("i feel like such an imposter at work, constantly anxious", "psychosis", "anxiety"),
    ("bedtime is a war zone every night, I am so stressed", "trauma_ptsd", "stress_burnout"),
    ("he cracked a tooth grinding at night from work stress", "substance_use", "stress_burnout"),
])
def test_a_word_in_its_everyday_sense_is_not_the_issue(matcher: Matcher, text: str, absent: str, present: str) -> None:
    """'couple of', 'came out of', 'crack on', 'hair loss', 'attended ED' (the emergency department),
    'the death of me', feeling an imposter, a war zone at home, a cracked tooth: the issue's word, another
    sense."""
    found = ids(matcher, text)
    assert absent not in found and present in found, (text, found)


@pytest.mark.parametrize(("text", "issue"), [("came out as gay to his parents", "lgbtq_identity"),
                                             ("smoking crack daily", "substance_use"),
                                             ("binge eating and purging, ED for years", "eating_disorders")])
def test_the_issue_sense_still_counts(matcher: Matcher, text: str, issue: str) -> None:
    assert issue in ids(matcher, text)


@pytest.mark.parametrize(("text", "issue"), [
    ("parents put a lot of pressure on him over grades", "family_parenting"),
    ("single dad of two, completely overwhelmed since the move", "family_parenting"),
    ("nine year old struggling since his parents split up", "family_parenting"),
    ("had a huge row with her mum last night", "family_parenting"),
    ("since the chemo ended she lives in fear of it coming back", "anxiety"),
])
def test_family_and_fear_concepts_in_everyday_words(matcher: Matcher, text: str, issue: str) -> None:
    assert issue in ids(matcher, text), text


def test_in_a_row_is_not_a_row(matcher: Matcher) -> None:
    assert "family_parenting" not in ids(matcher, "his dad says he skipped school three days in a row")


def test_several_issues_in_one_text(matcher: Matcher) -> None:
    found = ids(matcher, "CFO, ADHD dx last yr, sleeping 5 hrs a night, wife threatening divorce, burnt out")
    assert {"adhd", "sleep_insomnia", "relationship_issues", "stress_burnout"} <= found


def test_results_are_sorted_and_carry_evidence(matcher: Matcher) -> None:
    matches = matcher.find_issues("ptsd frm car crash and panic attacks")
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert all(0 < m.score <= 100 for m in matches)
    assert {m.id: m.evidence for m in matches}["anxiety"] == "panic attacks"


@pytest.mark.parametrize("text", ["", "   ", "asdfgh", "!!!", "12345"])
def test_empty_and_meaningless_input(matcher: Matcher, text: str) -> None:
    assert matcher.find_issues(text) == []
    assert matcher.assess_risk(text).level is RiskLevel.NONE


def test_huge_input_is_handled(matcher: Matcher) -> None:
    text = ("she has been anxious at work and not sleeping well. " * 2000)[:100_000]
    assert {"anxiety", "sleep_insomnia"} <= ids(matcher, text)


@pytest.mark.parametrize("text", ["Он в депрессии и не спит", "يعاني من القلق والاكتئاب", "她最近很焦虑，睡不着",
                                  "depressão e ansiedade 😔", "ℌ𝔢𝔩𝔭"])
def test_non_latin_scripts_do_not_crash(matcher: Matcher, text: str) -> None:
    assert isinstance(matcher.find_issues(text), list)
    matcher.assess_risk(text)


def test_profile_phrases_and_custom_specialties() -> None:
    profile = load_profile("examples/practice.yaml")
    custom = Matcher(profile)
    assert "anxiety" in ids(custom, "her nerves are shot")
    assert "divorce_recovery" in ids(custom, "she is going through a divorce")
    assert custom.label("divorce_recovery") == "Divorce recovery"
    assert "divorce_recovery" not in ids(Matcher(), "she is going through a divorce")


def test_issue_labels() -> None:
    assert issue_label("trauma_ptsd") == "Trauma / PTSD"
    assert issue_label("divorce_recovery") == "Divorce recovery"


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_cli_match_json() -> None:
    result = CliRunner().invoke(_cli(), ["match", "ptsd, kms vibes lately", "--json"])
    payload = json.loads(result.stdout)
    assert payload["crisis"] is True and payload["crisis_evidence"] == "kms"
    assert payload["risk"] == {"level": "crisis", "kind": "self", "evidence": "kms", "history": []}
    assert {"id", "score", "evidence"} == set(payload["issues"][0])


def test_cli_match_json_says_ask_without_claiming_a_crisis() -> None:
    payload = json.loads(CliRunner().invoke(_cli(), ["match", "hx of OD 2019; doesn't see the point anymore",
                                                     "--json"]).stdout)
    assert payload["crisis"] is False and payload["crisis_evidence"] is None
    assert payload["risk"] == {"level": "ask", "kind": "self", "evidence": "doesn't see the point",
                               "history": ["OD"]}


def test_cli_match_readable_names_the_kind_and_the_history() -> None:
    out = CliRunner().invoke(_cli(), ["match", "grieving, his brother overdosed last year"]).stdout
    assert "CRISIS" not in out and 'History (not alarmed on): "overdosed"' in out


def test_cli_eval_reports_ask_rate_and_recall_per_kind(tmp_path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    rows = [{"text": "took an overdose an hour ago", "crisis": True, "crisis_kind": "medical"},
            {"text": "doesn't see the point anymore", "crisis": True, "crisis_kind": "self"},
            {"text": "just want it all to stop", "crisis": False, "risk": "ask"},
            {"text": "can't cope with anything", "crisis": False},
            {"text": "OCD rituals", "crisis": False}]
    labelled.write_text("".join(json.dumps({"id": str(i), "issues": [], **row}) + "\n" for i, row in enumerate(rows)))
    out = CliRunner().invoke(_cli(), ["eval-matcher", str(labelled)]).stdout
    assert "crisis: recall 0.500 (1/2)  recall counting ask 1.000 (2/2)" in out
    assert "ask: rate on non-crisis texts 0.500 (1/2)  ambiguous texts caught (ask or crisis) 1/1" in out
    assert "crisis kind medical: recall 1.000 (1/1)" in out and "crisis kind self: recall 0.000 (0/1)  counting ask 1/1" in out


@pytest.mark.parametrize(("content", "expected"), [
    (None, "missing.jsonl: cannot read (No such file or directory)"),
    ('{"text": "ok", "issues": []}\n{"text": "broken"\n', "labelled.jsonl line 2: not valid JSON"),
    ('{"text": "ok"}\n\n["a list"]\n', "labelled.jsonl line 3: expected an object with a \"text\" string"),
])
def test_cli_bad_labelled_file_is_one_line_naming_file_and_line(tmp_path, content: str | None, expected: str) -> None:
    path = tmp_path / ("missing.jsonl" if content is None else "labelled.jsonl")
    if content is not None:
        path.write_text(content)
    for command in (["eval-matcher", str(path)], ["match", "--batch", str(path)]):
        result = CliRunner().invoke(_cli(), command)
        assert result.exit_code == 2 and expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_cli_batch_and_eval(tmp_path) -> None:
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"id": "a", "text": "wants to die"}\n{"id": "b", "text": "OCD rituals"}\n')
    lines = CliRunner().invoke(_cli(), ["match", "--batch", str(batch)]).stdout.splitlines()
    assert [json.loads(line)["crisis"] for line in lines] == [True, False]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text('{"id": "x", "text": "OCD rituals", "issues": ["ocd"], "acceptable": [], "crisis": false}\n'
                        '{"id": "y", "text": "help", "issues": ["anxiety"], "acceptable": [], "crisis": null}\n')
    out = CliRunner().invoke(_cli(), ["eval-matcher", str(labelled)]).stdout
    assert "precision 1.000" in out and "recall 0.500" in out and "y: missed ['anxiety']" in out
