"""Risk through the service on SQLite and PostgreSQL: what is stored, alerted and said to the referrer."""

from __future__ import annotations

from sqlalchemy import select

from referbot.alerts import build_alert
from referbot.domain import ConversationStatus, FitVerdict, Inbound, OutboxKind
from referbot.engine import load_flow
from referbot.engine.machine import CONTINUE_CHOICE, SAFE_NO
from referbot.service import IntakeService
from referbot.store import UnitOfWork
from referbot.store.models import OutboxMessage
from tests.fakes import KeywordAssessor

TO_ISSUES = ["Dr. Ann Lee", "physician", "Lakeview", "ann@lakeview.example", "J.", "34"]
AFTER_SCREENING = ["skip", "individual", "either", "skip", "routine", "private pay", "yes", "(312) 555-0100",
                   "yes", "evenings only"]


def service_for(database, profile, clock, *, alerting: bool = True) -> IntakeService:
    return IntakeService(database, profile, load_flow(), KeywordAssessor(), clock, alerting=alerting)


async def say(service: IntakeService, user: str, *inputs: str):
    outcome = await service.handle(Inbound("console", user))
    for item in inputs:
        choice = item.removeprefix("choice:") if item.startswith("choice:") else None
        outcome = await service.handle(Inbound("console", user, text=None if choice else item, choice=choice))
    return outcome


async def outbox(database) -> list[tuple[str, str]]:
    async with UnitOfWork(database) as uow:
        rows = (await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [(row.kind, row.key) for row in rows]


async def test_a_false_alarm_completes_the_same_referral_and_keeps_the_crisis_alert(database, profile, clock) -> None:
    service = service_for(database, profile, clock)
    crisis = await say(service, "ann", *TO_ISSUES, "panic attacks; her sister's suicide last spring")
    assert crisis.state is ConversationStatus.CRISIS and crisis.verdict is FitVerdict.CRISIS
    assert "We have alerted the practice team urgently" in crisis.replies[0].text
    went_on = await say(service, "ann", f"choice:{CONTINUE_CHOICE}")
    assert went_on.state is ConversationStatus.ASKING and went_on.step == "current_risk"
    done = await say(service, "ann", "no", *AFTER_SCREENING, "send")
    assert done.state is ConversationStatus.DONE and done.referral_id == crisis.referral_id
    [closing] = done.replies  # one closing message, not two thank-yous
    assert closing.text.startswith(f"Thank you: referral #{done.referral_id} has been received.")
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(done.referral_id)
        assert referral.crisis and referral.crisis_kind == "self" and referral.crisis_evidence == "suicide"
        assert referral.verdict == FitVerdict.GOOD_FIT.value and referral.client_contact == "(312) 555-0100"
        assert [e["event"] for e in referral.risk] == ["crisis", "not_an_emergency"]
        alert = build_alert(referral)
        assert alert.crisis and "not an emergency" in alert.title and "risk to self" in alert.title
    assert await outbox(database) == [(OutboxKind.CRISIS_ALERT.value, f"crisis_alert:{done.referral_id}"),
                                      (OutboxKind.REFERRAL_ALERT.value, f"referral_alert:{done.referral_id}")]


async def test_a_second_crisis_after_a_false_alarm_is_alerted_again(database, profile, clock) -> None:
    service = service_for(database, profile, clock)
    first = await say(service, "bo", *TO_ISSUES, "suicide in the family years ago", f"choice:{CONTINUE_CHOICE}")
    second = await say(service, "bo", "choice:to_others")
    assert second.state is ConversationStatus.CRISIS and second.referral_id == first.referral_id
    assert "RISK TO SELF" not in second.replies[0].text
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(second.referral_id)
        assert referral.crisis_kind == "others"
        assert referral.crisis_evidence == 'suicide; referrer answered "Yes: to someone else (threats, violence)"'
    keys = [key for _, key in await outbox(database)]
    assert keys == [f"crisis_alert:{first.referral_id}", f"crisis_alert:{first.referral_id}:2"]


async def test_no_claim_of_an_alert_when_no_channel_can_deliver_one(database, profile, clock) -> None:
    service = service_for(database, profile, clock, alerting=False)
    crisis = await say(service, "cy", *TO_ISSUES, "panic attacks", "choice:from_others")
    text = crisis.replies[0].text
    assert crisis.state is ConversationStatus.CRISIS and "alerted" not in text
    assert "National Domestic Violence Hotline" in text and "contact the practice directly" in text
    assert "(312) 555-0142" in text


async def test_unsure_and_safety_answers_are_kept_on_the_referral(database, profile, clock) -> None:
    service = service_for(database, profile, clock)
    done = await say(service, "di", *TO_ISSUES, "sad, no point anymore", f"choice:{SAFE_NO}", "choice:not_sure",
                     *AFTER_SCREENING, "send")
    assert done.state is ConversationStatus.DONE
    async with UnitOfWork(database) as uow:
        referral = await uow.referrals.get(done.referral_id)
        assert referral.urgent_review and not referral.crisis
        assert [(e["event"], e.get("answer")) for e in referral.risk] == [("safety_question", "no"),
                                                                         ("screening", "Not sure")]
        alert = build_alert(referral)
        full = build_alert(referral, "full")
    assert alert.title.startswith("URGENT REVIEW: New referral")
    assert ("Safety check", 'asked about "no point anymore"; the referrer said no') in full.facts
    assert ("Safety check", "asked (words in the details); the referrer said no") in alert.facts  # minimal
    assert await outbox(database) == [(OutboxKind.REFERRAL_ALERT.value, f"referral_alert:{done.referral_id}")]


async def test_nothing_recognised_is_never_a_good_fit(database, profile, clock) -> None:
    service = service_for(database, profile, clock)
    done = await say(service, "ed", *TO_ISSUES, "200", "no", *AFTER_SCREENING, "send")
    [closing] = done.replies
    assert "good fit" not in closing.text.lower() and "a clinician will read it and reply" in closing.text
    assert done.verdict is FitVerdict.POSSIBLE_FIT
