"""The service layer: one path for every message from every channel, one transaction per message.

`IntakeService.handle(inbound)` deduplicates the delivery, loads and locks the conversation (or takes
back the row it wrote last, checked by version: `referbot.store.recent`), runs
the engine, saves the state, stores the referral or crisis it produced, and enqueues the alerts —
all committed together, or none of it. Adapters only translate to and from `Inbound` / `Outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from referbot.admission import DEFERRED, Admission, Late
from referbot.domain import (Command, ConversationStatus, CrisisKind, FitAssessment, FitVerdict, Inbound,
                             IntakeFacts, IssueMatch, OutboxKind, ReferralStatus, Reply, RiskAssessment, SourceType,
                             TouchpointKind)
from referbot.engine import ConversationState, Engine, Flow, Turn
from referbot.limits import clean_inbound
from referbot.messages import crisis_message, verdict_message
from referbot.ports import Assessor
from referbot.profile import Profile
from referbot.store import Database, UnitOfWork
from referbot.store.conversations import ConversationRow
from referbot.store.models import Referral, Source
from referbot.store.recent import RecentConversations

Clock = Callable[[], datetime]

#: What a referrer reads when their turn is queued behind a burst; the real answer follows.
HOLDING_REPLY = "One moment — I have your message and will answer in a few seconds."
#: Seconds a turn waits for a free slot before its referrer is told to hold on.
DEFAULT_PATIENCE = 8.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Outcome:
    """What a channel shows after one inbound event."""

    replies: list[Reply]
    step: str | None
    state: ConversationStatus
    referral_id: int | None = None
    verdict: FitVerdict | None = None
    duplicate: bool = False
    started: bool = False  # this event began a new intake
    submitted: bool = False  # this event completed the intake (a referral was stored)
    crisis: bool = False  # this event's words stopped the intake for safety (a referral was stored)
    #: The turn is queued; these replies only ask the referrer to hold on (see `IntakeService.handle`).
    deferred: bool = False


def intake_facts(answers: dict[str, Any], assessor: Assessor) -> IntakeFacts:
    """The facts fit is judged on, from the intake answers."""
    text = answers.get("presenting_issues") or ""
    return IntakeFacts(
        issues_text=text, issues=tuple(assessor.find_issues(text)), age=answers.get("client_age"),
        therapy_format=answers.get("therapy_format"), modality=answers.get("modality"),
        payment=answers.get("payment"), insurance_name=answers.get("insurance_name"),
        language=answers.get("language"), urgency=answers.get("urgency"))


def issue_record(matches: Iterable[IssueMatch]) -> list[dict[str, Any]]:
    """Issue ids and scores for the plain `issues` column that stats read; the words they were seen
    in are the referrer's text about the client, which stays only in the encrypted columns."""
    return [{"id": match.id, "score": round(match.score, 1)} for match in matches]


def fit_record(assessment: FitAssessment) -> dict[str, Any]:
    return {
        "reasons": list(assessment.reasons),
        "clinicians": [{"name": c.name, "verdict": c.verdict.value, "score": round(c.score, 1),
                        "reasons": list(c.reasons)} for c in assessment.clinicians],
        "refer_out": [{"name": c.name, "contact": c.contact} for c in assessment.refer_out],
    }


class IntakeService:
    """Runs intakes for every channel against one database."""

    def __init__(self, database: Database, profile: Profile, flow: Flow, assessor: Assessor,
                 clock: Clock = utcnow, *, alerting: bool = True,
                 admission: Admission[Outcome] | None = None) -> None:
        """`alerting` says whether any channel can deliver alerts to staff: only then does the
        crisis message tell the referrer that the practice was alerted. `admission` bounds the
        turns in flight (default: as many as the database usefully writes at once)."""
        self.database = database
        self.admission = admission or Admission(database.concurrent_writers, DEFAULT_PATIENCE)
        self.profile = profile
        self.assessor = assessor
        self.clock = clock
        self.engine = Engine(flow.for_practice(profile.practice.name), assessor.assess_risk,
                             lambda kind: crisis_message(profile, kind, alerting))
        #: Rows this service committed last: a referrer's next turn skips reading its row.
        self.recent = RecentConversations()
        #: Called after a commit that enqueued an alert, so the outbox worker delivers it at once.
        self.on_alert: Callable[[], None] = lambda: None
        #: Called with every handled event and its outcome (metrics count intakes and crises here).
        self.on_outcome: Callable[[Inbound, Outcome], None] = lambda _inbound, _outcome: None

    async def handle(self, inbound: Inbound, late: Late[Outcome] | None = None) -> Outcome:
        """Handle one event exactly once, after the user's earlier events, within the in-flight limit.

        A channel that can speak later passes `late`: if the turn is still queued after the
        admission's patience, the referrer gets HOLDING_REPLY now and the turn's own outcome goes
        to `late` once it has run. Without `late` the caller simply waits. Every event is first
        cleaned to what the storage can hold, whichever channel it came from.
        """
        inbound = clean_inbound(inbound)
        result = await self.admission.run((inbound.channel, inbound.user_id), lambda: self._handle_retrying(inbound),
                                          late)
        if result is DEFERRED:
            return Outcome([Reply(HOLDING_REPLY)], None, ConversationStatus.ASKING, deferred=True)
        assert isinstance(result, Outcome)
        return result

    async def _handle_retrying(self, inbound: Inbound) -> Outcome:
        """Run the turn again when nothing of it can have been committed: concurrent first messages
        of one user (in several processes) race on a unique constraint, and the loser then sees
        the winner's state (or its event id); a row written elsewhere since this process wrote it
        is read afresh; a pooled connection the server dropped (connections are not pinged before
        each turn, see `Database`) fails at its first statement and is replaced. A connection lost
        while committing is not retried (`CommitInDoubt`): the turn may have been committed."""
        for attempt in range(3):
            try:
                outcome = await self._handle_once(inbound)
                self.on_outcome(inbound, outcome)
                return outcome
            except (DBAPIError, StaleDataError) as error:
                if attempt == 2 or not _uncommitted(error):
                    raise
        raise AssertionError("unreachable")

    async def _handle_once(self, inbound: Inbound) -> Outcome:
        now = self.clock()
        async with UnitOfWork(self.database) as uow:
            if inbound.event_id is not None and not await uow.events.record_first(inbound.channel, inbound.event_id,
                                                                                  now):
                return Outcome([], None, ConversationStatus.ASKING, duplicate=True)
            conversation = (self.recent.take(inbound.channel, inbound.user_id)
                            or await uow.conversations.get_for_update(inbound.channel, inbound.user_id))
            turn = await self._turn(uow, conversation, inbound)
            if conversation is None:
                conversation = ConversationRow(channel=inbound.channel, user_id=inbound.user_id,
                                               flow=self.engine.flow.id, status=turn.state.status.value,
                                               created_at=now, updated_at=now)
            if turn.started:
                conversation.referral_id = None
                conversation.source_code = inbound.source_code or conversation.source_code
            replies = list(turn.replies)
            verdict: FitVerdict | None = None
            if turn.submitted or turn.crisis is not None:
                referral, assessment = await self._store_referral(uow, conversation, turn, now)
                conversation.referral_id = referral.id
                verdict = FitVerdict(referral.verdict)
                if assessment is not None:  # the one closing message replaces the flow's "done"
                    replies = [Reply(verdict_message(self.profile, assessment, referral.id))]
            elif turn.continued and conversation.referral_id is not None:
                await self._record_risk(uow, conversation.referral_id, turn.state, now)
            self._save_state(conversation, turn.state, now)
            if turn.submitted:  # (after a crisis stop the intake may go on, so its answers stay)
                self._forget_answers(conversation)
            await uow.conversations.save(conversation)
            await uow.commit()
            self.recent.keep(conversation)
            if conversation.referral_id is not None and (turn.submitted or turn.crisis is not None):
                self.on_alert()
            asking = turn.state.status is ConversationStatus.ASKING
            return Outcome(replies, turn.state.step if asking else None, turn.state.status,
                           conversation.referral_id, verdict or self._last_verdict(turn.state),
                           started=turn.started, submitted=turn.submitted, crisis=turn.crisis is not None)

    async def _turn(self, uow: UnitOfWork, conversation: ConversationRow | None, inbound: Inbound) -> Turn:
        """Start (recognising a returning referrer), resume, or step the conversation."""
        finished = conversation is not None and conversation.status in (ConversationStatus.DONE.value,
                                                                        ConversationStatus.CANCELLED.value)
        if conversation is None or finished or inbound.command is Command.RESTART:
            name, known = await self._known_referrer(uow, inbound)
            return self.engine.start(known, name)
        state = ConversationState.from_dict(conversation.state)
        if inbound.text is None and inbound.choice is None and inbound.command is None:
            return self.engine.resume(state)
        return self.engine.handle(state, text=inbound.text, choice=inbound.choice, command=inbound.command,
                                  argument=inbound.argument)

    async def _known_referrer(self, uow: UnitOfWork, inbound: Inbound) -> tuple[str | None, dict[str, Any]]:
        """A returning referrer's answers about themselves, so they are not asked again."""
        source = await uow.sources.by_identity(inbound.channel, inbound.user_id)
        if source is None:
            return None, {}
        known = {"referrer_name": source.name, "referrer_role": source.type, "referrer_contact": source.contact,
                 "referrer_organisation": source.organisation}
        return source.name, {k: v for k, v in known.items() if v is not None or k == "referrer_organisation"}

    def _save_state(self, conversation: ConversationRow, state: ConversationState, now: datetime) -> None:
        """Every turn writes the row (`Conversations.save`), even when nothing in it changed, so its
        version is always checked: a turn on a row taken from `recent` never answers from a state
        someone replaced."""
        conversation.state = state.to_dict()
        conversation.answers = dict(state.answers)
        conversation.step = state.step
        conversation.status = state.status.value
        conversation.updated_at = now

    @staticmethod
    def _forget_answers(conversation: ConversationRow) -> None:
        """Once the referral holds the answers, the conversation keeps only where it stands: the
        client's details then live in one place, which erasure and retention can reach."""
        conversation.answers = {}
        conversation.state = {**conversation.state, "answers": {}, "history": [], "known": [], "draft": [],
                              "risk_log": []}

    @staticmethod
    def _last_verdict(state: ConversationState) -> FitVerdict | None:
        return FitVerdict.CRISIS if state.status is ConversationStatus.CRISIS else None

    # --- referrals ------------------------------------------------------------------------------

    async def _store_referral(self, uow: UnitOfWork, conversation: ConversationRow, turn: Turn,
                              now: datetime) -> tuple[Referral, FitAssessment | None]:
        """Record the referral with its source, and enqueue the alert in the same transaction.

        A crisis stop records the referral at once (the urgent alert must not wait for the rest of
        the intake). If the referrer then says it is not an emergency and completes the intake,
        the same referral is completed: it keeps the crisis and gains the fit, and a second alert
        (the completed referral) follows the crisis alert.
        """
        answers = dict(turn.state.answers)
        existing = await uow.referrals.get(conversation.referral_id) if conversation.referral_id else None
        assessment = None
        if turn.crisis is None:
            facts = intake_facts(answers, self.assessor)
            assessment = self.assessor.assess(self.profile, facts)
            issues, verdict, fit = issue_record(facts.issues), assessment.verdict, fit_record(assessment)
        else:
            text = answers.get("presenting_issues") or ""
            issues, verdict, fit = issue_record(self.assessor.find_issues(text)), FitVerdict.CRISIS, {}
        consent = bool(answers.get("consent_to_contact"))
        fields = dict(
            client_name=answers.get("client_name"), client_age=answers.get("client_age"),
            presenting_issues=answers.get("presenting_issues"), issues=issues,
            therapy_format=answers.get("therapy_format"), modality=answers.get("modality"),
            urgency=answers.get("urgency"), payment=answers.get("payment"), consent_to_contact=consent,
            consent_to_update=consent and bool(answers.get("consent_to_update")),
            client_contact=answers.get("client_contact") if consent else None, answers=answers,
            risk=list(turn.state.risk_log), urgent_review=_needs_urgent_review(turn.state.risk_log),
            updated_at=now)
        if turn.crisis is not None:
            fields.update(_crisis_fields(turn.crisis, existing))
        else:
            fields.update(verdict=verdict.value, fit=fit)
        if existing is None:
            source = await self._source_for(uow, conversation, answers, now)
            values = {"crisis": False, "verdict": verdict.value, "fit": fit, **fields}
            referral = Referral(source_id=source.id if source else None, channel=conversation.channel,
                                referrer_user_id=conversation.user_id, status=ReferralStatus.NEW.value,
                                created_at=now, **values)
            await uow.referrals.add(referral, by=f"{conversation.channel}:{conversation.user_id}")
            if source is not None:
                await uow.touchpoints.add(source, TouchpointKind.REFERRAL_RECEIVED, at=now, referral_id=referral.id)
        else:
            referral = existing
            for name, value in fields.items():
                setattr(referral, name, value)
        crises = sum(1 for entry in turn.state.risk_log if entry.get("event") == "crisis")
        kind = OutboxKind.CRISIS_ALERT if turn.crisis else OutboxKind.REFERRAL_ALERT
        # Each crisis stop is its own alert; the completed referral is alerted once.
        key = f"{kind.value}:{referral.id}" + (f":{crises}" if turn.crisis and crises > 1 else "")
        await uow.outbox.enqueue(kind, key, {"referral_id": referral.id}, now)
        return referral, assessment

    async def _record_risk(self, uow: UnitOfWork, referral_id: int, state: ConversationState, now: datetime) -> None:
        """Keep the referral's risk record current when the referrer says a crisis stop was a false alarm."""
        referral = await uow.referrals.get(referral_id)
        if referral is not None:
            referral.risk = list(state.risk_log)
            referral.updated_at = now

    async def _source_for(self, uow: UnitOfWork, conversation: ConversationRow, answers: dict[str, Any],
                          now: datetime) -> Source | None:
        """Who sent this: the chat identity we know, else the tracking link they came by, else a new
        source from what they told us.

        Only a source this identity already belongs to, or one made from its own answers, is linked
        to it for next time. A typed email or a tracking link (printed on cards anyone may hold)
        credits a referral but never makes a stranger "the same person": otherwise they would be
        welcomed back by someone else's name and shown that referrer's details. A typed contact
        that matches another source makes a separate source, for staff to merge."""
        source = await uow.sources.by_identity(conversation.channel, conversation.user_id)
        if source is not None:
            self._refresh_source(source, answers)
            return source
        if conversation.source_code:
            credited = await uow.sources.by_code(conversation.source_code)
            if credited is not None:
                return credited
        name = answers.get("referrer_name")
        if not name:
            return None
        source = await uow.sources.create(
            name=name, type=SourceType(answers.get("referrer_role") or "other"), now=now,
            organisation=answers.get("referrer_organisation"), contact=answers.get("referrer_contact"))
        await uow.sources.link_identity(source, conversation.channel, conversation.user_id)
        return source

    @staticmethod
    def _refresh_source(source: Source, answers: dict[str, Any]) -> None:
        """Fill in what the referrer told us that the source record lacks (never overwrite)."""
        source.contact = source.contact or answers.get("referrer_contact")
        source.organisation = source.organisation or answers.get("referrer_organisation")


def _crisis_fields(risk: RiskAssessment, existing: Referral | None) -> dict[str, Any]:
    """A crisis keeps every piece of evidence seen during the intake, newest last."""
    evidence = risk.evidence or ""
    if existing is not None and existing.crisis_evidence and evidence not in existing.crisis_evidence:
        evidence = f"{existing.crisis_evidence}; {evidence}" if evidence else existing.crisis_evidence
    kind = (risk.kind or CrisisKind.SELF).value
    return {"crisis": True, "crisis_evidence": evidence or None, "crisis_kind": kind,
            "verdict": FitVerdict.CRISIS.value, "fit": {}}


def _uncommitted(error: DBAPIError | StaleDataError) -> bool:
    """The turn failed before its commit was sent, for a reason a fresh attempt can get past."""
    return isinstance(error, (IntegrityError, StaleDataError)) or error.connection_invalidated


def _needs_urgent_review(risk_log: list[dict[str, Any]]) -> bool:
    return any(entry.get("urgent_review") for entry in risk_log)
