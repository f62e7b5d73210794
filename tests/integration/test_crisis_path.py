"""Crisis language at every free-text step, through the real matcher, stops the intake at once."""

from __future__ import annotations

import pytest

from referbot.domain import ConversationStatus, FitVerdict, Inbound, OutboxKind
from referbot.engine import load_flow
from referbot.engine.flow import StepType
from referbot.matching import Matcher
from referbot.service import IntakeService
from referbot.store import UnitOfWork

ANSWERS = {"referrer_name": "Dr. Ann Lee", "referrer_role": "physician", "referrer_organisation": "Lakeview",
           "referrer_contact": "ann@lakeview.example", "client_name": "J.", "client_age": "34",
           "presenting_issues": "panic attacks", "current_risk": "none known",
           "therapy_needs": "CBT", "therapy_format": "individual",
           "modality": "either", "language": "English", "urgency": "routine", "payment": "insurance",
           "insurance_name": "Aetna", "consent_to_contact": "yes", "client_contact": "(312) 555-0100",
           "consent_to_update": "yes", "notes": "mornings"}
FREE_TEXT_STEPS = [s.id for s in load_flow().steps if s.type is StepType.TEXT]
CRISIS_TEXTS = ["he told me he wants to kill himself", "she's been cutting again this week",
                "doesn't see the point anymore and has been giving his things away", "says kms lol but means it"]


@pytest.fixture(scope="module")
def matcher(profile) -> Matcher:
    return Matcher(profile)


@pytest.mark.parametrize("step_id", FREE_TEXT_STEPS)
async def test_crisis_at_every_free_text_step(step_id, database, profile, clock, matcher) -> None:
    service = IntakeService(database, profile, load_flow(), matcher, clock)
    user = f"u-{step_id}"
    outcome = await service.handle(Inbound("console", user))
    while outcome.step != step_id:
        outcome = await service.handle(Inbound("console", user, text=ANSWERS[outcome.step]))
    text = CRISIS_TEXTS[FREE_TEXT_STEPS.index(step_id) % len(CRISIS_TEXTS)]
    outcome = await service.handle(Inbound("console", user, text=text))
    assert outcome.state is ConversationStatus.CRISIS and outcome.verdict is FitVerdict.CRISIS
    assert outcome.replies[0].crisis and "988" in outcome.replies[0].text
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(outcome.referral_id)
        assert referral.crisis and referral.crisis_evidence
        pending = await uow.outbox.pending()
        assert [m.kind for m in pending] == [OutboxKind.CRISIS_ALERT.value]


async def test_ordinary_answers_never_trigger_the_crisis_path(database, profile, clock, matcher) -> None:
    service = IntakeService(database, profile, load_flow(), matcher, clock)
    outcome = await service.handle(Inbound("console", "calm"))
    while outcome.step != "confirm":
        outcome = await service.handle(Inbound("console", "calm", text=ANSWERS[outcome.step]))
    assert outcome.state is ConversationStatus.ASKING
