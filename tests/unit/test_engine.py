"""The pure conversation engine: every step type, every command, branching and the summary."""

from __future__ import annotations

import pytest

from referbot.domain import Command, ConversationStatus, CrisisKind, RiskAssessment, RiskLevel
from tests.fakes import KeywordAssessor
from referbot.engine import ConversationState, Engine, load_flow
from referbot.engine.flow import FlowError, parse_flow

ALL_TYPES_FLOW = """
id: all_types
title: Every step type
greeting: Hi
steps:
  - {id: name, type: text, ask: "Name?"}
  - {id: pick, type: choice, ask: Pick one, choices: [{id: a, label: Apple}, {id: b, label: Banana}]}
  - {id: many, type: multi_choice, ask: Pick many, choices: [{id: x, label: Xylophone}, {id: y, label: Yacht}, {id: z, label: Zebra}]}
  - {id: ok, type: yes_no, ask: "OK?"}
  - {id: why, type: text, ask: "Why not?", when: {ok: false}}
  - {id: count, type: number, ask: "How many?", min: 1, max: 10}
  - {id: age, type: age, ask: "Age?", min: 0, max: 110}
  - {id: mail, type: email, ask: "Email?"}
  - {id: tel, type: phone, ask: "Phone?", required: false}
  - {id: day, type: date, ask: "When?"}
  - {id: confirm, type: confirm, ask: "Send?"}
"""


crisis_check = KeywordAssessor().assess_risk


def crisis_message(kind: CrisisKind | None) -> str:
    return f"CALL 988 ({kind.value if kind else 'any'})"


@pytest.fixture
def engine() -> Engine:
    return Engine(parse_flow(ALL_TYPES_FLOW, "test"), crisis_check, crisis_message)


def run(engine: Engine, inputs: list[dict]):
    turn = engine.start()
    for item in inputs:
        turn = engine.handle(turn.state, **item)
    return turn


def test_every_step_type_is_parsed_and_stored(engine: Engine) -> None:
    turn = run(engine, [{"text": "Robin"}, {"choice": "b"}, {"choice": "x"}, {"choice": "z"}, {"choice": "__done"},
                        {"text": "yes"}, {"text": "3"}, {"text": "34 years"}, {"text": "r@example.org"},
                        {"text": "skip"}, {"text": "2026-03-14"}])
    assert turn.state.step == "confirm"
    assert turn.state.answers == {"name": "Robin", "pick": "b", "many": ["x", "z"], "ok": True, "count": 3,
                                  "age": 34, "mail": "r@example.org", "tel": None, "day": "2026-03-14"}
    summary = turn.replies[-1].text
    assert "Pick: Banana" in summary and "Many: Xylophone, Zebra" in summary
    done = engine.handle(turn.state, choice="submit")
    assert done.submitted and done.state.status is ConversationStatus.DONE


@pytest.mark.parametrize("step_inputs, bad, hint", [
    ([], "", "didn't catch"),
    ([{"text": "R"}], "cherry", "pick one of the options"),
    ([{"text": "R"}, {"text": "1"}, {"text": "x"}, {"text": "maybe"}], "maybe", "yes or no"),
    ([{"text": "R"}, {"text": "1"}, {"text": "x"}, {"text": "y"}], "eleven", "number"),
    ([{"text": "R"}, {"text": "1"}, {"text": "x"}, {"text": "y"}], "11", "between 1 and 10"),
    ([{"text": "R"}, {"text": "1"}, {"text": "x"}, {"text": "y"}, {"text": "2"}], "200", "between 0 and 110"),
    ([{"text": "R"}, {"text": "1"}, {"text": "x"}, {"text": "y"}, {"text": "2"}, {"text": "9"}], "not-an-email", "email"),
    ([{"text": "R"}, {"text": "1"}, {"text": "x"}, {"text": "y"}, {"text": "2"}, {"text": "9"}, {"text": "a@b.co"}],
     "12", "phone number"),
    ([{"text": "R"}, {"text": "1"}, {"text": "x"}, {"text": "y"}, {"text": "2"}, {"text": "9"}, {"text": "a@b.co"},
      {"text": "skip"}], "next tuesday-ish", "date like"),
])
def test_invalid_answers_are_re_asked_with_a_hint(engine: Engine, step_inputs, bad, hint) -> None:
    before = run(engine, step_inputs)
    after = engine.handle(before.state, text=bad)
    assert after.state.step == before.state.step
    assert hint in after.replies[0].text.lower()
    assert after.replies[-1].text == before.replies[-1].text  # the same question again


def test_multi_choice_toggles_show_their_state_and_need_one_pick(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}, {"choice": "y"}])
    assert [c.selected for c in turn.replies[-1].choices[:3]] == [False, True, False]
    turn = engine.handle(turn.state, choice="y")
    assert not any(c.selected for c in turn.replies[-1].choices)
    turn = engine.handle(turn.state, choice="__done")
    assert turn.state.step == "many" and "at least one" in turn.replies[0].text


def test_multi_choice_accepts_typed_numbers(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}, {"text": "1, 3"}])
    assert turn.state.answers["many"] == ["x", "z"]


def test_when_branches_and_pruning_forgets_answers_that_no_longer_apply(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}, {"text": "1"}, {"text": "no"}])
    assert turn.state.step == "why"
    turn = engine.handle(turn.state, text="too busy")
    turn = engine.handle(turn.state, command=Command.BACK)
    assert turn.state.step == "why"
    turn = engine.handle(turn.state, command=Command.BACK)
    assert turn.state.step == "ok"
    turn = engine.handle(turn.state, text="yes")
    assert "why" not in turn.state.answers and turn.state.step == "count"


def test_back_at_first_question_stays(engine: Engine) -> None:
    turn = engine.handle(engine.start().state, command=Command.BACK)
    assert turn.state.step == "name" and "first question" in turn.replies[0].text


def test_edit_from_summary_returns_to_summary_without_asking_again(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}, {"text": "1"}, {"text": "y"}, {"text": "2"}, {"text": "9"},
                        {"text": "a@b.co"}, {"text": "skip"}, {"text": "2026-01-01"}])
    turn = engine.handle(turn.state, choice="edit")
    assert any(c.id == "edit:count" for c in turn.replies[0].choices)
    turn = engine.handle(turn.state, choice="edit:count")
    assert turn.state.step == "count" and "Current answer: 2" in turn.replies[-1].text
    turn = engine.handle(turn.state, text="7")
    assert turn.state.step == "confirm" and "Count: 7" in turn.replies[-1].text


def test_editing_into_a_new_branch_asks_the_newly_needed_step(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}, {"text": "1"}, {"text": "y"}, {"text": "2"}, {"text": "9"},
                        {"text": "a@b.co"}, {"text": "skip"}, {"text": "2026-01-01"}])
    turn = engine.handle(turn.state, command=Command.EDIT, argument="ok")
    turn = engine.handle(turn.state, text="no")
    assert turn.state.step == "why"
    turn = engine.handle(turn.state, text="reasons")
    assert turn.state.step == "confirm"


def test_cancel_discards_answers_and_next_message_starts_over(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}])
    turn = engine.handle(turn.state, command=Command.CANCEL)
    assert turn.cancelled and turn.state.status is ConversationStatus.CANCELLED and turn.state.answers == {}
    turn = engine.handle(turn.state, text="hello again")
    assert turn.started and turn.state.step == "name"


def test_restart_and_help(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}])
    helped = engine.handle(turn.state, command=Command.HELP)
    assert "/back" in helped.replies[0].text and helped.state.step == "many"
    restarted = engine.handle(turn.state, command=Command.RESTART)
    assert restarted.state.step == "name" and restarted.state.answers == {}


def test_resume_re_asks_the_pending_step(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}])
    resumed = engine.resume(turn.state)
    assert resumed.state.step == "pick" and resumed.replies[-1].text == "Pick one"


def test_crisis_language_stops_the_intake_at_any_step(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}, {"text": "1"}, {"text": "y"}])
    hit = engine.handle(turn.state, text="she said she wants to kill myself")  # at a number step
    assert hit.crisis is not None and hit.state.status is ConversationStatus.CRISIS
    assert hit.replies[0].crisis and "988" in hit.replies[0].text
    again = engine.handle(hit.state, text="hello?")
    assert again.replies[0].crisis and again.crisis is None


def test_valid_structured_answers_are_not_read_as_crisis() -> None:
    engine = Engine(parse_flow(ALL_TYPES_FLOW, "t"),
                    lambda t: RiskAssessment(RiskLevel.CRISIS, CrisisKind.SELF, t) if "kms" in t else RiskAssessment(),
                    crisis_message)
    turn = run(engine, [{"text": "R"}, {"text": "1"}, {"text": "1"}, {"text": "y"}, {"text": "2"}, {"text": "9"}])
    assert engine.handle(turn.state, text="kms@example.org").crisis is None


def test_returning_referrer_is_not_asked_who_they_are() -> None:
    engine = Engine(load_flow(), crisis_check, crisis_message)
    turn = engine.start({"referrer_name": "Dr. Lee", "referrer_role": "physician", "referrer_contact": "l@x.org",
                         "referrer_organisation": "Clinic", "client_name": "not a known step"}, name="Dr. Lee")
    assert "Welcome back, Dr. Lee" in turn.replies[0].text
    assert turn.state.step == "client_name" and "client_name" not in turn.state.answers


def test_intake_flow_has_the_required_steps() -> None:
    ids = [s.id for s in load_flow().steps]
    for required in ("referrer_name", "referrer_role", "referrer_contact", "client_name", "client_age",
                     "presenting_issues", "therapy_format", "modality", "urgency", "payment",
                     "consent_to_contact", "client_contact", "notes", "confirm"):
        assert required in ids


def test_client_contact_is_only_asked_with_consent() -> None:
    engine = Engine(load_flow(), crisis_check, crisis_message)
    turn = engine.start()
    for text in ["Ann", "physician", "skip", "ann@x.org", "J", "30", "panic", "no", "skip", "individual", "either",
                 "skip", "routine", "private pay", "no"]:
        turn = engine.handle(turn.state, text=text)
    assert turn.state.step == "notes"


@pytest.mark.parametrize("text, message", [
    ("id: x\ntitle: t\ngreeting: g\nsteps:\n  - {id: a, type: text, ask: A}\n", "last step must be a confirm"),
    ("id: x\ntitle: t\ngreeting: g\nsteps:\n  - {id: a, type: choice, ask: A}\n  - {id: c, type: confirm, ask: C}\n",
     "without choices"),
    ("id: x\ntitle: t\ngreeting: g\nsteps:\n  - {id: a, type: text, ask: A, when: {b: 1}}\n  - {id: b, type: confirm, ask: C}\n",
     "not earlier steps"),
    ("id: x\n  bad: [", "not valid YAML"),
])
def test_broken_flows_are_rejected_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(FlowError, match=message):
        parse_flow(text, "broken.yaml")


def test_a_saved_state_survives_the_flow_being_edited(engine: Engine) -> None:
    turn = run(engine, [{"text": "R"}, {"text": "1"}])
    saved = turn.state.to_dict()
    saved["step"] = "a_step_the_practice_removed"
    saved["answers"]["another_removed_step"] = "x"
    resumed = engine.resume(ConversationState.from_dict(saved))
    assert resumed.state.step == "many" and "another_removed_step" not in resumed.state.answers
    assert engine.handle(ConversationState.from_dict(saved), text="1").state.answers["many"] == ["x"]
