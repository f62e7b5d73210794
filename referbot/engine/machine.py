"""The conversation state machine: a flow, a state and one input in; a new state and replies out.

Pure by design — no database, no clock, no channel — so every path (back, edit, cancel, resume,
crisis) is tested without I/O, and every channel gets exactly the same behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from referbot.domain import Choice, Command, ConversationStatus, CrisisKind, Reply, RiskAssessment, RiskLevel
from referbot.engine.answers import Invalid, display, is_skip, parse_answer, read_yes_no
from referbot.engine.flow import PROSE_TYPES, Flow, Step, StepType
from referbot.engine.state import ConversationState

RiskCheck = Callable[[str], RiskAssessment]
CrisisMessage = Callable[[CrisisKind | None], str]

DONE_CHOICE = "__done"
SKIP_CHOICE = "__skip"
EDIT_PREFIX = "edit:"
SUBMIT, EDIT, CANCEL = "submit", "edit", "cancel"
_SUBMIT_WORDS = frozenset({"submit", "send", "yes", "y", "confirm", "ok", "okay", "looks good", "1"})
_EDIT_WORDS = frozenset({"edit", "change", "2", "fix"})
_CANCEL_WORDS = frozenset({"cancel", "3"})
_EMAIL_LIKE = re.compile(r"\S+@\S+")
CONTINUE_CHOICE = "__not_an_emergency"
_CONTINUE_WORDS = frozenset({"not an emergency", "not urgent", "no emergency", "false alarm", "continue", "carry on",
                             "it's not an emergency", "its not an emergency", "not a crisis", "no crisis", "go on"})
SAFE_YES, SAFE_NO, SAFE_UNSURE = "yes", "no", "unsure"
_UNSURE_WORDS = frozenset({"not sure", "unsure", "don't know", "dont know", "maybe", "no idea", "idk", "possibly"})
_DANGER_WORDS = {
    CrisisKind.SELF: "thinking about ending their life or harming themselves",
    CrisisKind.OTHERS: "thinking about hurting someone",
    CrisisKind.FROM_OTHERS: "being hurt, threatened or followed by someone",
    CrisisKind.MEDICAL: "in medical danger (an overdose, not eating or drinking)",
}
_COMMANDS_HELP = ("Commands: /back (previous question), /edit (change an answer), /cancel (stop and "
                  "discard), /restart (start again), /help.")


@dataclass(frozen=True)
class Turn:
    """What one input did: the state to save, the replies to show, and what happened."""

    state: ConversationState
    replies: list[Reply]
    submitted: bool = False
    cancelled: bool = False
    crisis: RiskAssessment | None = None
    continued: bool = False
    started: bool = False


class Engine:
    """Runs one flow. `risk_check` reads every prose answer; `crisis_message` is what a crisis of
    a kind shows (resources for that kind, and what the practice will do)."""

    def __init__(self, flow: Flow, risk_check: RiskCheck, crisis_message: CrisisMessage) -> None:
        self.flow = flow
        self.risk_check = risk_check
        self.crisis_message = crisis_message

    # --- entry points -------------------------------------------------------------------------

    def start(self, known: dict[str, Any] | None = None, name: str | None = None) -> Turn:
        """A fresh intake; `known` pre-answers the steps a returning referrer was already asked."""
        known = {k: v for k, v in (known or {}).items() if self._is_known_step(k)}
        state = ConversationState(flow_id=self.flow.id, answers=dict(known), known=list(known))
        greeting = self.flow.welcome_back.replace("{name}", name) if known and name else self.flow.greeting
        state.step = self._next_step(state)
        return Turn(state, [Reply(greeting), self._ask(state)], started=True)

    def resume(self, state: ConversationState) -> Turn:
        """Re-ask whatever the referrer was last asked (after a restart, or a /start mid-intake)."""
        state = self._fit_to_flow(state)
        if state.status is ConversationStatus.CRISIS:
            return Turn(state, [self._crisis_reply(state)])
        if state.status is not ConversationStatus.ASKING:
            return self.start(self._known_answers(state))
        return Turn(state, [Reply(self.flow.resume), self._current_prompt(state)])

    def handle(self, state: ConversationState, *, text: str | None = None, choice: str | None = None,
               command: Command | None = None, argument: str | None = None) -> Turn:
        """Apply one input to a copy of `state`."""
        state = self._fit_to_flow(state)
        if command is Command.RESTART:
            return self.start(self._known_answers(state))
        if state.status is ConversationStatus.CRISIS:
            return self._after_crisis(state, text, choice, command)
        if state.status is not ConversationStatus.ASKING:
            return self.start(self._known_answers(state))
        if state.pending is not None:
            return self._safety_answer(state, text, choice, command, argument)
        if command is not None:
            return self._command(state, command, argument)
        if text is not None and self._reads_as_prose(state, text):
            risk = self.risk_check(text)
            self._note_history(state, risk)
            if risk.level is RiskLevel.CRISIS:
                return self._crisis(state, risk, "text", held=text)
            if risk.level is RiskLevel.ASK:
                return self._ask_safety(state, risk, text)
        if state.choosing_edit:
            return self._pick_edit(state, text, choice)
        return self._take_answer(state, text, choice)

    # --- risk: crisis stops, the safety question, false alarms ----------------------------------

    def _crisis(self, state: ConversationState, risk: RiskAssessment, via: str, held: str | None = None) -> Turn:
        """Stop for a crisis: resources for its kind at once; the answer that raised it is held so
        that "not an emergency" can carry on exactly where the referrer was."""
        state.status = ConversationStatus.CRISIS
        state.pending = {"step": state.step, "text": held} if held is not None else None
        state.risk_log.append({"event": "crisis", "via": via, "step": state.step,
                               "kind": risk.kind.value if risk.kind else None, "evidence": risk.evidence})
        return Turn(state, [self._crisis_reply(state)], crisis=risk)

    def _after_crisis(self, state: ConversationState, text: str | None, choice: str | None,
                      command: Command | None) -> Turn:
        """After a crisis stop only three ways on: not an emergency (continue), /cancel, /restart."""
        if command is Command.CANCEL:
            return self._command(state, command, None)
        said = (text or "").strip().lower().rstrip(".!")
        if choice == CONTINUE_CHOICE or said in _CONTINUE_WORDS:
            return self._continue_after_false_alarm(state)
        if text is not None and command is None:
            risk = self.risk_check(text)
            if risk.level is RiskLevel.CRISIS:
                return self._crisis(state, risk, "text", held=(state.pending or {}).get("text"))
        return Turn(state, [self._crisis_reply(state)])

    def _continue_after_false_alarm(self, state: ConversationState) -> Turn:
        """The referrer says it is not an emergency: the alert already sent stays (a person reviews
        it), the referral records both, and the intake goes on with the answer that was held."""
        held = state.pending or {}
        state.status = ConversationStatus.ASKING
        state.pending = None
        state.risk_log.append({"event": "not_an_emergency", "step": held.get("step") or state.step})
        note = Reply("Thank you. The practice will still look at what you wrote, so nothing is lost. "
                     "Let's carry on with the referral.")
        if held.get("text") is not None and held.get("step") == state.step and not state.choosing_edit:
            turn = self._take_answer(state, held["text"], None)
            return Turn(turn.state, [note, *turn.replies], continued=True)
        return Turn(state, [note, self._current_prompt(state)], continued=True)

    def _ask_safety(self, state: ConversationState, risk: RiskAssessment, text: str) -> Turn:
        """Wording that may or may not mean danger: one direct, kind question before going on."""
        kind = risk.kind or CrisisKind.SELF
        state.pending = {"step": state.step, "text": text, "kind": kind.value, "evidence": risk.evidence}
        return Turn(state, [self._safety_question(state)])

    def _safety_question(self, state: ConversationState) -> Reply:
        pending = state.pending or {}
        danger = _DANGER_WORDS[CrisisKind(pending.get("kind") or CrisisKind.SELF.value)]
        quoted = f'You wrote "{pending["evidence"]}". ' if pending.get("evidence") else ""
        return Reply(f"Before we go on, one direct question, because it matters: {quoted}"
                     f"Is the client in danger right now, for example {danger}?",
                     (Choice(SAFE_YES, "Yes, in danger now"), Choice(SAFE_NO, "No"), Choice(SAFE_UNSURE, "Not sure")))

    def _safety_answer(self, state: ConversationState, text: str | None, choice: str | None,
                       command: Command | None, argument: str | None) -> Turn:
        """The answer to the safety question: yes is a crisis; no and not sure carry on with the
        held answer (not sure marks the referral for urgent review); /back returns to the step."""
        pending = state.pending or {}
        if command is Command.HELP:
            return Turn(state, [Reply(self.flow.help or _COMMANDS_HELP), self._safety_question(state)])
        if command is not None:
            state.pending = None
            if command is Command.BACK:  # back to the question whose answer raised the doubt
                return Turn(state, [self._ask(state)])
            return self._command(state, command, argument)
        answer = choice if choice in (SAFE_YES, SAFE_NO, SAFE_UNSURE) else self._read_safety_text(text or "")
        kind = CrisisKind(pending.get("kind") or CrisisKind.SELF.value)
        if answer is None and text is not None:
            risk = self.risk_check(text)
            if risk.level is RiskLevel.CRISIS:
                return self._crisis(state, risk, "safety_question", held=pending.get("text"))
        if answer == SAFE_YES:
            return self._crisis(state, RiskAssessment(RiskLevel.CRISIS, kind, pending.get("evidence")),
                                "safety_question", held=pending.get("text"))
        if answer is None:
            return Turn(state, [Reply("Please answer yes, no or not sure."), self._safety_question(state)])
        state.pending = None
        state.risk_log.append({"event": "safety_question", "step": pending.get("step"), "kind": kind.value,
                               "evidence": pending.get("evidence"), "answer": answer,
                               "urgent_review": answer == SAFE_UNSURE})
        thanks = Reply("Thank you for checking. I'll note that with the referral.")
        turn = self._take_answer(state, pending.get("text") or "", None)
        return Turn(turn.state, [thanks, *turn.replies])

    @staticmethod
    def _read_safety_text(text: str) -> str | None:
        said = text.strip().lower().rstrip(".!")
        if said in _UNSURE_WORDS or said.startswith("not sure"):
            return SAFE_UNSURE
        verdict = read_yes_no(said)
        return None if verdict is None else (SAFE_YES if verdict else SAFE_NO)

    def _screened(self, state: ConversationState, step: Step, value: Any) -> Turn | None:
        """A screening option that means danger now is a crisis of its kind; "not sure" is noted
        for urgent review. Any other answer: None, and the intake goes on."""
        if step.type is not StepType.CHOICE or not isinstance(value, str):
            return None
        option = step.choice(value)
        if option is None or (option.crisis is None and not option.urgent_review):
            return None
        if option.crisis is None:
            state.risk_log.append({"event": "screening", "step": step.id, "answer": option.label,
                                   "urgent_review": True})
            return None
        return self._crisis(state, RiskAssessment(RiskLevel.CRISIS, option.crisis,
                                                  f"referrer answered \"{option.label}\""), "screening")

    @staticmethod
    def _note_history(state: ConversationState, risk: RiskAssessment) -> None:
        """Past risk is recorded, not alarmed on."""
        for evidence in risk.history:
            entry = {"event": "history", "step": state.step, "evidence": evidence}
            if entry not in state.risk_log:
                state.risk_log.append(entry)

    # --- commands -----------------------------------------------------------------------------

    def _command(self, state: ConversationState, command: Command, argument: str | None) -> Turn:
        if command is Command.START:
            return self.resume(state)
        if command is Command.HELP:
            step = self._step(state)
            text = "\n\n".join(t for t in (self.flow.help, step.help, _COMMANDS_HELP) if t)
            return Turn(state, [Reply(text), self._current_prompt(state)])
        if command is Command.CANCEL:
            known = self._known_answers(state)
            cancelled = ConversationState(flow_id=self.flow.id, status=ConversationStatus.CANCELLED,
                                          answers=known, known=list(known))
            return Turn(cancelled, [Reply(self.flow.cancelled)], cancelled=True)
        if command is Command.EDIT:
            if argument and argument in state.answers and argument not in ("confirm",):
                return self._begin_edit(state, argument)
            return self._edit_menu(state)
        return self._back(state)

    def _back(self, state: ConversationState) -> Turn:
        if state.editing or state.choosing_edit:
            state.editing = state.choosing_edit = False
            state.step = self._next_step(state)
            return Turn(state, [self._ask(state)])
        if not state.history:
            return Turn(state, [Reply("This is the first question."), self._ask(state)])
        previous = state.history.pop()
        state.answers.pop(previous, None)
        if previous in state.known:
            state.known.remove(previous)
        state.draft = []
        state.step = previous
        return Turn(state, [self._ask(state)])

    # --- editing from the summary -------------------------------------------------------------

    def _edit_menu(self, state: ConversationState) -> Turn:
        state.choosing_edit = True
        choices = tuple(Choice(EDIT_PREFIX + s.id, s.title) for s in self._answered_steps(state))
        return Turn(state, [Reply("Which answer would you like to change?", choices)])

    def _pick_edit(self, state: ConversationState, text: str | None, choice: str | None) -> Turn:
        steps = self._answered_steps(state)
        picked: Step | None = None
        if choice and choice.startswith(EDIT_PREFIX):
            picked = next((s for s in steps if s.id == choice[len(EDIT_PREFIX):]), None)
        elif text:
            wanted = text.strip().lower()
            if wanted.isdecimal() and 1 <= int(wanted) <= len(steps):
                picked = steps[int(wanted) - 1]
            else:
                picked = next((s for s in steps if wanted in (s.id, s.title.lower())), None)
        if picked is None:
            return Turn(state, [Reply("Please pick one of the answers below, or /back to the summary."),
                                self._edit_menu(state).replies[0]])
        return self._begin_edit(state, picked.id)

    def _begin_edit(self, state: ConversationState, step_id: str) -> Turn:
        state.choosing_edit = False
        state.editing = True
        state.draft = list(state.answers.get(step_id) or []) if self.flow.step(step_id).type is StepType.MULTI_CHOICE else []
        if step_id in state.known:
            state.known.remove(step_id)
        state.step = step_id
        return Turn(state, [self._ask(state)])

    # --- answering ----------------------------------------------------------------------------

    def _confirm(self, state: ConversationState, text: str | None, choice: str | None) -> Turn:
        word = (choice or text or "").strip().lower()
        if word in _SUBMIT_WORDS or word == SUBMIT:
            state.history.append(state.step or "")
            state.status = ConversationStatus.DONE
            state.step = None
            return Turn(state, [Reply(self.flow.done)], submitted=True)
        if word in _EDIT_WORDS or word == EDIT:
            return self._edit_menu(state)
        if word in _CANCEL_WORDS or word == CANCEL:
            return self._command(state, Command.CANCEL, None)
        return Turn(state, [Reply("Please choose: send the referral, change an answer, or cancel."),
                            self._ask(state)])

    def _take_answer(self, state: ConversationState, text: str | None, choice: str | None) -> Turn:
        """Parse and store an answer to the current step (already read for risk), then move on."""
        step = self._step(state)
        if step.type is StepType.CONFIRM:
            return self._confirm(state, text, choice)
        if step.type is StepType.MULTI_CHOICE and choice is not None:
            return self._toggle(state, step, choice)
        if is_skip(step, text, choice):
            return self._advance(state, step, None)
        try:
            value = parse_answer(step, text, choice)
        except Invalid as problem:
            return Turn(state, [Reply(str(problem)), self._ask(state)])
        screened = self._screened(state, step, value)
        if screened is not None:
            state.answers[step.id] = value
            return screened
        return self._advance(state, step, value)

    def _toggle(self, state: ConversationState, step: Step, choice: str) -> Turn:
        if choice == DONE_CHOICE:
            if not state.draft and step.required:
                return Turn(state, [Reply("Please pick at least one option, then Done."), self._ask(state)])
            value = [c.id for c in step.choices if c.id in state.draft]
            return self._advance(state, step, value)
        if step.choice(choice) is None:
            return Turn(state, [Reply("That button belongs to another question."), self._ask(state)])
        state.draft = [c for c in state.draft if c != choice] if choice in state.draft else [*state.draft, choice]
        return Turn(state, [self._ask(state)])

    def _advance(self, state: ConversationState, step: Step, value: Any) -> Turn:
        state.answers[step.id] = value
        state.draft = []
        self._prune(state)
        if not state.editing:
            state.history.append(step.id)
        state.step = self._next_step(state)
        if self._step(state).type is StepType.CONFIRM:
            state.editing = False
        return Turn(state, [self._ask(state)])

    # --- helpers ------------------------------------------------------------------------------

    def _fit_to_flow(self, saved: ConversationState) -> ConversationState:
        """A copy of a saved state that fits the flow as it is now: a practice may have edited its
        YAML (removed or renamed a step) while referrers were mid-intake. Answers to steps that no
        longer exist are dropped and a vanished current step becomes the next unanswered one."""
        state = ConversationState.from_dict(saved.to_dict())
        ids = {step.id for step in self.flow.steps}
        state.answers = {k: v for k, v in state.answers.items() if k in ids}
        state.history = [s for s in state.history if s in ids]
        state.known = [s for s in state.known if s in ids]
        if state.status is ConversationStatus.ASKING and state.step not in ids:
            state.step, state.editing, state.choosing_edit, state.draft = self._next_step(state), False, False, []
        return state

    def _step(self, state: ConversationState) -> Step:
        return self.flow.step(state.step or self.flow.steps[-1].id)

    def _next_step(self, state: ConversationState) -> str:
        """The first step that applies and has no answer yet; the summary once all are answered."""
        for step in self.flow.steps:
            if step.type is StepType.CONFIRM or (step.id not in state.answers and step.applies(state.answers)):
                return step.id
        return self.flow.steps[-1].id

    def _prune(self, state: ConversationState) -> None:
        """Forget answers to steps that no longer apply (e.g. client contact after consent is withdrawn)."""
        for step in self.flow.steps:
            if step.id in state.answers and not step.applies(state.answers):
                del state.answers[step.id]
                state.history = [s for s in state.history if s != step.id]

    def _reads_as_prose(self, state: ConversationState, text: str) -> bool:
        """Whether typed text must be read for crisis language: anything but a valid structured answer
        (an age, an email…), so "I want to die" typed at the age question is still caught."""
        step = self._step(state)
        if state.choosing_edit or step.type in PROSE_TYPES or step.type is StepType.CONFIRM:
            return True
        try:
            parse_answer(step, text, None)
        except Invalid:
            return True
        # A valid answer with words around it ("mom's cell 503…", "she's 14 and…") is still read.
        return len(re.findall(r"[^\W\d_]{2,}", _EMAIL_LIKE.sub(" ", text))) > 1

    def _is_known_step(self, step_id: str) -> bool:
        return any(s.id == step_id and s.known_referrer for s in self.flow.steps)

    def _known_answers(self, state: ConversationState) -> dict[str, Any]:
        return {k: state.answers[k] for k in state.known if k in state.answers}

    def _answered_steps(self, state: ConversationState) -> list[Step]:
        return [s for s in self.flow.steps if s.id in state.answers and s.applies(state.answers)]

    def _current_prompt(self, state: ConversationState) -> Reply:
        return self._edit_menu(state).replies[0] if state.choosing_edit else self._ask(state)

    def _crisis_reply(self, state: ConversationState) -> Reply:
        """The crisis resources for the latest crisis kind, and the way on if it is a false alarm."""
        kinds = [e.get("kind") for e in state.risk_log if e.get("event") == "crisis"]
        kind = CrisisKind(kinds[-1]) if kinds and kinds[-1] else None
        text = (f"{self.crisis_message(kind)}\n\nIf this is not an emergency (for example the danger is in the past), "
                "choose \"Not an emergency\" to carry on with the referral; /restart starts a new one.")
        return Reply(text, (Choice(CONTINUE_CHOICE, "Not an emergency: continue the referral"),), crisis=True)

    def _ask(self, state: ConversationState) -> Reply:
        step = self._step(state)
        if step.type is StepType.CONFIRM:
            return self._summary(state, step)
        text = step.ask
        if state.editing and step.id in state.answers:
            text += f"\n(Current answer: {display(step, state.answers[step.id])})"
        choices: list[Choice] = []
        if step.type is StepType.YES_NO:
            choices = [Choice("yes", "Yes"), Choice("no", "No")]
        elif step.type is StepType.CHOICE:
            choices = [Choice(c.id, c.label) for c in step.choices]
        elif step.type is StepType.MULTI_CHOICE:
            choices = [Choice(c.id, c.label, selected=c.id in state.draft) for c in step.choices]
            choices.append(Choice(DONE_CHOICE, "Done"))
        if not step.required:
            text += "\n(Optional — type skip to leave it out.)"
            choices.append(Choice(SKIP_CHOICE, "Skip"))
        return Reply(text, tuple(choices), multi=step.type is StepType.MULTI_CHOICE)

    def _summary(self, state: ConversationState, step: Step) -> Reply:
        lines = [step.ask, ""]
        lines += [f"• {s.title}: {display(s, state.answers[s.id])}" for s in self._answered_steps(state)]
        choices = (Choice(SUBMIT, "Send referral"), Choice(EDIT, "Change an answer"), Choice(CANCEL, "Cancel"))
        return Reply("\n".join(lines), choices)
