"""The engine's risk paths on the real intake flow: screening, the safety question, false alarms.

The assessor is a keyword fake (tests/fakes.py), so these tests pin the conversation, not the
matcher's judgement (that is measured with `referbot eval-matcher` on probes).
"""

from __future__ import annotations

import pytest

from referbot.domain import Command, ConversationStatus, CrisisKind, RiskLevel
from referbot.engine import Engine, Turn, load_flow
from referbot.engine.machine import CONTINUE_CHOICE, SAFE_NO, SAFE_UNSURE, SAFE_YES
from tests.fakes import KeywordAssessor

TO_ISSUES = ["Dr. Ann Lee", "physician", "Lakeview", "ann@lakeview.example", "J.", "34"]


def crisis_message(kind: CrisisKind | None) -> str:
    return f"RESOURCES FOR {kind.value if kind else 'ANY'}"


@pytest.fixture
def engine() -> Engine:
    return Engine(load_flow(), KeywordAssessor().assess_risk, crisis_message)


def at_issues(engine: Engine) -> Turn:
    turn = engine.start()
    for text in TO_ISSUES:
        turn = engine.handle(turn.state, text=text)
    assert turn.state.step == "presenting_issues"
    return turn


def at_screening(engine: Engine, issues: str = "panic attacks") -> Turn:
    turn = engine.handle(at_issues(engine).state, text=issues)
    assert turn.state.step == "current_risk"
    return turn


@pytest.mark.parametrize("choice, kind", [("to_self", CrisisKind.SELF), ("to_others", CrisisKind.OTHERS),
                                          ("from_others", CrisisKind.FROM_OTHERS)])
def test_any_risk_answer_takes_the_crisis_path_of_its_kind(engine: Engine, choice: str, kind: CrisisKind) -> None:
    turn = engine.handle(at_screening(engine).state, choice=choice)
    assert turn.state.status is ConversationStatus.CRISIS
    assert turn.crisis is not None and turn.crisis.kind is kind and turn.crisis.level is RiskLevel.CRISIS
    assert turn.replies[0].crisis and f"RESOURCES FOR {kind.value}" in turn.replies[0].text
    assert [c.id for c in turn.replies[0].choices] == [CONTINUE_CHOICE]


def test_a_typed_risk_answer_counts_too(engine: Engine) -> None:
    turn = engine.handle(at_screening(engine).state, text="yes, she's being abused at home")
    assert turn.crisis is not None and turn.crisis.kind is CrisisKind.FROM_OTHERS


def test_none_known_goes_on_without_a_mark(engine: Engine) -> None:
    turn = engine.handle(at_screening(engine).state, text="no")
    assert turn.state.step == "therapy_needs" and turn.state.answers["current_risk"] == "none_known"
    assert turn.crisis is None and turn.state.risk_log == []


def test_not_sure_goes_on_marked_for_urgent_review(engine: Engine) -> None:
    turn = engine.handle(at_screening(engine).state, choice="not_sure")
    assert turn.state.step == "therapy_needs" and turn.crisis is None
    assert turn.state.risk_log == [{"event": "screening", "step": "current_risk", "answer": "Not sure",
                                    "urgent_review": True}]


def test_a_crisis_answer_to_the_screening_can_be_taken_back(engine: Engine) -> None:
    crisis = engine.handle(at_screening(engine).state, choice="to_self")
    back = engine.handle(crisis.state, choice=CONTINUE_CHOICE)
    assert back.continued and back.state.status is ConversationStatus.ASKING
    assert back.state.step == "current_risk"  # asked again, so the referrer can answer it right
    assert "nothing is lost" in back.replies[0].text


def test_ambiguous_wording_asks_one_direct_question(engine: Engine) -> None:
    turn = engine.handle(at_issues(engine).state, text="low mood, says there's no point anymore")
    assert turn.crisis is None and turn.state.status is ConversationStatus.ASKING
    assert turn.state.step == "presenting_issues" and "presenting_issues" not in turn.state.answers
    [question] = turn.replies
    assert "in danger right now" in question.text and "no point anymore" in question.text
    assert [c.id for c in question.choices] == [SAFE_YES, SAFE_NO, SAFE_UNSURE]


def test_yes_to_the_safety_question_is_a_crisis(engine: Engine) -> None:
    asked = engine.handle(at_issues(engine).state, text="no point anymore")
    turn = engine.handle(asked.state, choice=SAFE_YES)
    assert turn.crisis is not None and turn.crisis.kind is CrisisKind.SELF
    assert turn.state.status is ConversationStatus.CRISIS
    assert turn.state.risk_log[-1] == {"event": "crisis", "via": "safety_question", "step": "presenting_issues",
                                       "kind": "self", "evidence": "no point anymore"}


@pytest.mark.parametrize("answer", [{"choice": SAFE_NO}, {"text": "no"}, {"text": "No, she's safe"}])
def test_no_goes_on_and_keeps_the_answer_on_record(engine: Engine, answer: dict) -> None:
    asked = engine.handle(at_issues(engine).state, text="no point anymore, sad")
    turn = engine.handle(asked.state, **answer)
    assert turn.crisis is None and turn.state.step == "current_risk"
    assert turn.state.answers["presenting_issues"] == "no point anymore, sad"
    assert turn.state.risk_log == [{"event": "safety_question", "step": "presenting_issues", "kind": "self",
                                    "evidence": "no point anymore", "answer": "no", "urgent_review": False}]


def test_not_sure_to_the_safety_question_marks_urgent_review(engine: Engine) -> None:
    asked = engine.handle(at_issues(engine).state, text="no point anymore")
    turn = engine.handle(asked.state, text="not sure")
    assert turn.state.step == "current_risk" and turn.state.risk_log[-1]["urgent_review"] is True


def test_a_crisis_reply_to_the_safety_question_is_a_crisis(engine: Engine) -> None:
    asked = engine.handle(at_issues(engine).state, text="no point anymore")
    turn = engine.handle(asked.state, text="she told me she wants to kill myself tonight")
    assert turn.crisis is not None and turn.state.status is ConversationStatus.CRISIS


def test_back_from_the_safety_question_returns_to_the_step(engine: Engine) -> None:
    asked = engine.handle(at_issues(engine).state, text="no point anymore")
    turn = engine.handle(asked.state, command=Command.BACK)
    assert turn.state.pending is None and turn.state.step == "presenting_issues"
    assert "presenting_issues" not in turn.state.answers and "own words" in turn.replies[0].text


def test_an_unclear_reply_to_the_safety_question_asks_again(engine: Engine) -> None:
    asked = engine.handle(at_issues(engine).state, text="no point anymore")
    turn = engine.handle(asked.state, text="hmm")
    assert turn.state.pending is not None and "yes, no or not sure" in turn.replies[0].text


def test_a_false_alarm_goes_on_where_the_referrer_was_and_records_both(engine: Engine) -> None:
    crisis = engine.handle(at_issues(engine).state, text="worried about suicide risk in his family, he is fine")
    assert crisis.state.status is ConversationStatus.CRISIS
    repeat = engine.handle(crisis.state, text="hello?")
    assert repeat.replies[0].crisis and repeat.crisis is None  # the resources again, not a new alert
    turn = engine.handle(repeat.state, text="It's not an emergency")
    assert turn.continued and turn.state.status is ConversationStatus.ASKING
    assert turn.state.answers["presenting_issues"] == "worried about suicide risk in his family, he is fine"
    assert turn.state.step == "current_risk"
    assert [e["event"] for e in turn.state.risk_log] == ["crisis", "not_an_emergency"]


def test_past_risk_is_recorded_not_alarmed(engine: Engine) -> None:
    turn = engine.handle(at_issues(engine).state, text="grieving, his brother overdosed last year")
    assert turn.crisis is None and turn.state.step == "current_risk"
    assert turn.state.risk_log == [{"event": "history", "step": "presenting_issues",
                                    "evidence": "overdosed last year"}]


def test_crisis_language_in_a_contact_with_words_is_still_read(engine: Engine) -> None:
    turn = engine.start()
    for text in ["Dr. Ann Lee", "physician", "Lakeview"]:
        turn = engine.handle(turn.state, text=text)
    hit = engine.handle(turn.state, text="503 555 0123, she said she will kill myself")
    assert hit.crisis is not None
