"""Risk by concept: each kind in several registers, history against the present, ambiguous wording
that is asked about, and wording that must not alarm.

These pin the behaviour of each concept with a few examples; how well the matcher generalises is
measured by `referbot eval-matcher` on probes written in wording it was not tuned on
(tests/unit/test_matcher_probe.py guards those scores).
"""

from __future__ import annotations

import pytest

from referbot.domain import CrisisKind, RiskLevel
from referbot.matching import Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher()


def _crisis(matcher: Matcher, text: str, kind: CrisisKind) -> None:
    risk = matcher.assess_risk(text)
    assert (risk.level, risk.kind) == (RiskLevel.CRISIS, kind), (text, risk)
    assert risk.evidence and risk.evidence in text


@pytest.mark.parametrize("text", [
    "wants to die",  # plain
    "Pt endorses SI with plan",  # clinical shorthand
    "kms fr",  # texting
    "she's been stockpiling her sleeping pills",  # means gathered
    "keeps thinking about driving into a wall",  # method
    "my daughter is planning how to end things and has picked a date",  # a plan told indirectly
    "he bought a rope last week and wrote letters to his kids",  # means and a farewell
    "rang me from the cliffs saying he's going to jump",  # a drop and a height
    "told his wife he'll use the shotgun on himself",  # a means turned on oneself
    "SH - cuts on wrists, new ones this week",  # self-harm, clinical
    "been burning her forearms with a lighter",  # an act on one's own body
    "biting her own arm until it bleeds",  # an act until it shows
    "sucidal thoughts every night",  # a misspelling
    "says kms lol but means it",  # a joke taken back
    "bought two bottles of weed killer and has chosen the day",  # means and a chosen time
    "he's been asking how many of his gran's tablets it would take",  # a method researched
    "handed his bike and his games to his cousin, says he won't need them after the weekend",  # giving away, final
])
def test_danger_to_self(matcher: Matcher, text: str) -> None:
    _crisis(matcher, text, CrisisKind.SELF)


@pytest.mark.parametrize("text", [
    "says he'll stab his stepdad",
    "HI toward former CO, specific statements, owns firearms",  # clinical shorthand
    "he's going to bring a gun in and sort out his colleague",  # a weapon and a menace
    "Yr 9 boy drew a hit list of classmates",
    "my son says the voices are telling him to kill his neighbour",  # command hallucinations, a target
    "keeps planning how to hurt his manager",
    "lad has a list of teachers' names and says they will pay on Monday",  # a target list and a menace
    "the voices say her neighbour is evil and must be burned",  # commanding voices, someone else
])
def test_danger_to_others(matcher: Matcher, text: str) -> None:
    _crisis(matcher, text, CrisisKind.OTHERS)


@pytest.mark.parametrize("text", [
    "threatened to kill her if she leaves",  # a threat against the client
    "my husband said he'll kill me if I tell anyone",  # against the referrer
    "Child, 7, told teacher her stepdad hurts her at night",  # a child disclosing abuse
    "her ex turned up at her flat with a knife on Saturday",  # an ex, a weapon, at the door
    "she's being stalked by a former client",
    "partner choked her until she passed out, she still lives with him",  # strangulation
    "an adult online is asking her 12 year old for naked photos",  # grooming
    "he's in a violent marriage, she hit him with a pan yesterday",  # violence at home, lately
    "he keeps her passport and makes her see men at the flat",  # trafficking
    "a man she met online has nudes of her and says he'll post them unless she pays",  # sextortion
    "her boyfriend broke her arm at the weekend and says next time it'll be worse",  # a threat of more
])
def test_danger_from_others(matcher: Matcher, text: str) -> None:
    _crisis(matcher, text, CrisisKind.FROM_OTHERS)


@pytest.mark.parametrize("text", [
    "took a whole packet of paracetamol on Sunday",  # an overdose taken
    "swallowed about 30 of his mum's sertraline an hour ago",
    "OD'd on heroin last night, using again today",  # a street-drug overdose
    "has stopped his dialysis on purpose, says he's done",  # refusing life-sustaining treatment
    "17yo with anorexia has not eaten or drunk anything for four days",  # no food or fluids for days
    "drank a bottle of bleach after an argument",  # poisoning
    "found her unresponsive on the bathroom floor",  # an emergency in progress
    "took his whole month of lithium at once",  # a supply taken at once
    "on dialysis, has deliberately missed the last two sessions",  # life-sustaining treatment missed on purpose
    "we can't wake her, she drank half a bottle of gin with her sleeping pills",
])
def test_medical_danger(matcher: Matcher, text: str) -> None:
    _crisis(matcher, text, CrisisKind.MEDICAL)


@pytest.mark.parametrize(("text", "kind"), [
    ("doesn't see the point anymore", CrisisKind.SELF),
    ("just want it all to stop tbh", CrisisKind.SELF),
    ("keeps saying he might as well be dead", CrisisKind.SELF),
    ("I can't cope with anything at the moment", CrisisKind.SELF),
    ("can't stop washing her hands until they bleed", CrisisKind.SELF),
    ("he worries he might lose it and hurt someone at work", CrisisKind.OTHERS),
    ("her husband has a temper and she's scared of what he might do", CrisisKind.FROM_OTHERS),
    ("says she has become such a burden", CrisisKind.SELF),
    ("we all say kms when the bus is late lol", CrisisKind.SELF),  # a joke about one's own death is asked about
    ("keeps cleaning his pistol in the evenings", CrisisKind.SELF),  # lethal means, named now
    ("when the baby won't settle he feels like shaking her", CrisisKind.OTHERS),  # a new subject ends "won't"
    ("he said they'll all pay one day", CrisisKind.OTHERS),
])
def test_ambiguous_wording_is_asked_about(matcher: Matcher, text: str, kind: CrisisKind) -> None:
    risk = matcher.assess_risk(text)
    assert (risk.level, risk.kind) == (RiskLevel.ASK, kind), (text, risk)
    assert risk.evidence and not risk.is_crisis


@pytest.mark.parametrize(("past", "present"), [
    ("Hx of OD in 2015, stable on lithium", "overdosed two days ago and says she'll do it again"),
    ("self harmed as a teenager, nothing for ten years", "self harming again since the breakup, cut her thighs on Sunday"),
    ("sexually abused by an uncle as a child", "her uncle is still abusing her when the family visit"),
    ("grieving, his brother overdosed last year", "he overdosed last night and was in hospital"),
    ("attempted suicide aged 15; now 40", "attempted suicide on Friday"),
    ("threatened to stab a neighbour in 2018", "threatened his brother with a knife yesterday"),
])
def test_history_is_recorded_not_alarmed_on(matcher: Matcher, past: str, present: str) -> None:
    then = matcher.assess_risk(past)
    assert then.level is RiskLevel.NONE and then.history, (past, then)
    assert matcher.assess_risk(present).level is RiskLevel.CRISIS, present


@pytest.mark.parametrize(("text", "kind"), [
    ("Boy aged 9 told his teacher his dad hits him with a belt when he gets home", CrisisKind.FROM_OTHERS),
    ("woman aged 44 has not eaten or drunk anything for three days, barely conscious", CrisisKind.MEDICAL),
    ("Mum of two aged 31 says she has pills saved up and plans to take them Friday", CrisisKind.SELF),
])
def test_an_age_that_describes_the_person_now_is_not_history(matcher: Matcher, text: str, kind: CrisisKind) -> None:
    """Referrals open "boy aged 9", "father aged 78": only an age tied to an event ("abused aged 7",
    "attempted suicide aged 15") puts what the clause says in the past."""
    _crisis(matcher, text, kind)


@pytest.mark.parametrize("text", ["self harmed from 13 to 16, none since, now 25 and doing well",
                                  "was raped aged 19, now 35, nightmares"])
def test_a_span_of_ages_and_an_age_tied_to_an_event_are_history(matcher: Matcher, text: str) -> None:
    risk = matcher.assess_risk(text)
    assert risk.level is RiskLevel.NONE and risk.history, (text, risk)


@pytest.mark.parametrize("text", [
    "Pt denies SI, HI, AVH.",
    "no thoughts of ending her life, no self harm, mainly exhausted",
    "terrified of dying, lies awake thinking about what happens after we die",  # fear of death
    "I keep thinking about my grandad's death and what happens to us when we die, it scares me",
    "had a nightmare that I killed my dad and woke up screaming",  # a dream
    "My sister's drug addiction is tearing the family apart",  # a relative's addiction
    "works as a paramedic, sees overdoses every week",  # other people's overdoses
    "Her cousin overdosed and died in March",  # someone else's death
    "Lost my husband to suicide in March",
    "this job is killing me",
    "the kids are driving me up the wall, I'll kill them lol",  # jest
    "cut his hand badly at work on a saw",  # an accident
    "They've set a date for the wedding and she's stressed",  # a date is not a plan
    "deer hunter, owns rifles, referred for insomnia",  # a weapon without a menace
    "Was assaulted by a stranger last month, not sleeping",  # past, not ongoing
    "SI: denies. SH: nil. Low mood since the divorce.",  # a labelled field's verdict after a colon
    "screams 'I'll kill you' at the screen when he's on a shooter game",  # said into a game
    "36M, OD 2016, none since; wants help with work stress",  # a bare year is history
])
def test_no_alarm(matcher: Matcher, text: str) -> None:
    risk = matcher.assess_risk(text)
    assert risk.level is RiskLevel.NONE, (text, risk)


def test_a_game_far_back_in_the_sentence_does_not_excuse_a_weapon(matcher: Matcher) -> None:
    _crisis(matcher, "plays video games all day and last night held a knife to his brother's throat",
            CrisisKind.OTHERS)


def test_crisis_outranks_ask_and_history_is_kept_beside_it(matcher: Matcher) -> None:
    risk = matcher.assess_risk("hx of cutting in her teens; can't go on, has been giving her things away")
    assert risk.level is RiskLevel.CRISIS and risk.history == ("cutting",)


def test_risk_is_also_a_presenting_issue(matcher: Matcher) -> None:
    assert "suicidal_ideation" in {m.id for m in matcher.find_issues("i just don't want to be here anymore")}
    assert "self_harm" in {m.id for m in matcher.find_issues("been carving words into her thighs with a razor")}
    assert "depression" in {m.id for m in matcher.find_issues("she's had enough of everything")}
    threatened = {m.id for m in matcher.find_issues("her ex threatened to kill her")}
    assert "trauma_ptsd" in threatened and "anger_management" not in threatened


@pytest.mark.parametrize(("text", "kind"), [
    # a corrosive is a weapon; aimed at a bare "her", the client is the one in danger
    ("he says he is coming back tonight with acid for her face", CrisisKind.FROM_OTHERS),
    ("said he is coming back with a knife to sort out the supervisor", CrisisKind.OTHERS),
    ("threatened to take the children away and end it for all of them before she gets custody", CrisisKind.FROM_OTHERS),
    ("someone has my intimate video and says it goes to my family tonight unless i pay", CrisisKind.FROM_OTHERS),
])
def test_threats_by_means_by_family_and_by_extortion(matcher: Matcher, text: str, kind: CrisisKind) -> None:
    _crisis(matcher, text, kind)


@pytest.mark.parametrize(("text", "kind"), [
    ("been taking ghb every couple of hours for weeks and has just run out", CrisisKind.MEDICAL),
    ("my cousin cyaan tek it no more, him seh him tired", CrisisKind.SELF),
    ("texted me from the bridge, standing on the bridge right now", CrisisKind.SELF),
])
def test_withdrawal_that_kills_dialect_and_a_height_now_are_asked_about(matcher: Matcher, text: str,
                                                                        kind: CrisisKind) -> None:
    risk = matcher.assess_risk(text)
    assert risk.level is not RiskLevel.NONE and risk.kind is kind, (text, risk)


@pytest.mark.parametrize("text", ["the plumber is coming back with a hammer drill tomorrow, she is stressed",
                                  "came back from hunting with his rifle, low mood since the divorce",
                                  "he quit benzos under his gp two years ago and is doing well"])
def test_everyday_returns_and_past_withdrawal_are_not_crises(matcher: Matcher, text: str) -> None:
    assert matcher.assess_risk(text).level is not RiskLevel.CRISIS, text


@pytest.mark.parametrize("text", ["she has been purging after every meal and her heart keeps skipping and racing",
                                  "laxatives every day for a month, fainted twice this week"])
def test_purging_with_the_heart_or_fainting_is_a_medical_crisis(matcher: Matcher, text: str) -> None:
    _crisis(matcher, text, CrisisKind.MEDICAL)


def test_being_sick_once_is_not_purging(matcher: Matcher) -> None:
    assert matcher.assess_risk("she threw up after the rollercoaster and nearly passed out lol").level \
        is not RiskLevel.CRISIS


@pytest.mark.parametrize(("text", "kind"), [
    ("bought a hose for the exhaust today, i dont think i will change my mind", CrisisKind.SELF),
    ("elevated, driving at 120mph 'to see if God wants me alive', stopped lithium", CrisisKind.SELF),
    ("my uncle who i stay with has been coming inside my room at night since i was 14, now im 17", CrisisKind.FROM_OTHERS),
])
def test_a_method_made_ready_death_dared_and_a_relative_at_night(matcher: Matcher, text: str, kind: CrisisKind) -> None:
    _crisis(matcher, text, kind)


def test_a_hose_and_an_exhaust_in_a_garage_are_not_a_method(matcher: Matcher) -> None:
    assert matcher.assess_risk("cleaned the exhaust and fitted a new hose on the radiator, stressed at work").level \
        is RiskLevel.NONE


def test_the_speakers_own_joking_threat_is_not_abuse_from_someone_else(matcher: Matcher) -> None:
    joke = "swear if my boss books one more 8am meeting ill strangle him with his lanyard haha, im burnt out"
    assert matcher.assess_risk(joke).level is not RiskLevel.CRISIS
    _crisis(matcher, "he chokes her when he drinks", CrisisKind.FROM_OTHERS)


@pytest.mark.parametrize(("text", "kind"), [
    ("burned my arm with a lighter again and now it is blistered and still bleeding through the plaster", CrisisKind.SELF),
    ("she says she wants to vanish for good and has written the kids' routines down for her mum", CrisisKind.SELF),
    ("her ex has been standing outside the school gate every afternoon this week", CrisisKind.FROM_OTHERS),
    ("he text her saying he will chop her into pieces if she goes to the police", CrisisKind.FROM_OTHERS),
    ("mi baby fada seh him a go chop mi up", CrisisKind.FROM_OTHERS),
])
def test_a_wound_that_will_not_stop_leaving_for_good_a_watcher_and_a_threat_in_dialect(
        matcher: Matcher, text: str, kind: CrisisKind) -> None:
    _crisis(matcher, text, kind)


@pytest.mark.parametrize("text", [
    "sliced my thumb on the mandoline while cooking and it would not stop bleeding, stressed about work",
    "my coach is going to kill me when he sees I skipped leg day again, feel like a failure",
    "my dad is honestly going to kill me when he finds out I failed the test",
    "he yells I'm going to kill you at his teammates on Fortnite every night, otherwise he's a sweet kid",
    "still grieving my cousin's fatal overdose two summers ago",
])
def test_mishaps_hyperbole_games_and_someone_elses_death_do_not_alarm(matcher: Matcher, text: str) -> None:
    assert matcher.assess_risk(text).level is not RiskLevel.CRISIS


def test_a_harm_thought_the_person_abhors_is_asked_about_and_intent_is_not(matcher: Matcher) -> None:
    abhorred = "new mum keeps having thoughts of smothering the baby, they disgust her and she avoids being alone with him"
    intended = "keeps having thoughts of smothering the baby and says he deserves it"
    assert matcher.assess_risk(abhorred).level is RiskLevel.ASK
    assert matcher.assess_risk(intended).level is RiskLevel.CRISIS


@pytest.mark.parametrize(("text", "kind"), [
    ("she dropped two pills at the festival and is now overheating and not making sense, mates are scared", CrisisKind.MEDICAL),
    ("Pt 23M, says just black coffee for 5 days, BMI falling, lightheaded", CrisisKind.MEDICAL),
    ("her brother-in-law poured petrol by the back door and told her it would be a shame if the house caught fire",
     CrisisKind.FROM_OTHERS),
])
def test_a_drug_and_the_body_in_danger_a_water_fast_and_a_fire_threatened_as_an_accident(
        matcher: Matcher, text: str, kind: CrisisKind) -> None:
    _crisis(matcher, text, kind)


def test_dowry_harassment_is_asked_about(matcher: Matcher) -> None:
    risk = matcher.assess_risk("her in-laws keep taunting her about the dowry and she cries every night")
    assert (risk.level, risk.kind) == (RiskLevel.ASK, CrisisKind.FROM_OTHERS)


def test_the_fear_of_harming_by_mistake_is_not_a_threat(matcher: Matcher) -> None:
    worry = "pharmacist, checks every label five times, sure an error of mine will kill someone one day"
    assert matcher.assess_risk(worry).level is RiskLevel.NONE


@pytest.mark.parametrize("text", [
    "vet had to shoot the old sheepdog after the accident, my son is not coping and is withdrawn",
    "he wants to shoot his shot with a colleague but gets tongue-tied, very low confidence",
    "i recheck the taps and the plugs for an hour, nobody is in danger but i cant stop",
    "my nan will literally murder me if I miss Sunday dinner again, anyway work has been stressful",
    "binged on crisps and hate myself for it, eating is all over the place",
    "saw a documentary where a man poisons his whole family and now cannot stop checking the locks",
    "dad is in intensive care after a car accident, I can't focus at uni",
    "ready to quit this time, cutting down weed from daily, sleep is poor",
    "my brother says he'll kill me if I forget his birthday again, anyway I forget everything and lose my keys daily",
    "terrified a candle will set the flat on fire and kill my dog, I check every wick ten times",
    "Mum decided to stop dialysis after talking it through with her renal team, palliative care are involved, I cannot concentrate",
    "Suicidal thoughts: no. Self harm: no. Main worry is panic on the motorway",
    "since my cousin drowned I think about death a lot, not wanting it, just scared of how sudden it is",
    "Guns in the house: yes, two rifles in a locked cabinet, husband is a licensed gamekeeper. Referral is for his drinking",
    "I shoot clays on Sundays, that's the only gun in my life, your form asked. Mainly here for panic attacks",
    "Hx of DSH (burning) aged 15-16, nothing since. Now 30 and struggling after the divorce",
    "goes deer stalking with his grandad in the Highlands, referral is for his stammer and exam nerves",
    "petrified of the anaesthetic and not waking up before her knee operation, otherwise well",
    "honestly I am at the end of my tether with the twins, no sleep for weeks",
    "the GP asked about thoughts of ending his life and he was clear: no. Wants help with grief",
])
def test_contexts_that_take_risk_wording_away_are_not_asked_about(matcher: Matcher, text: str) -> None:
    """Animals, idioms and hyperbole, self-hatred, films, accidents, quitting, care-team decisions,
    forms answered "no", guns told for a form, history in brackets: each line a concept, in wording
    none of the probes used."""
    assert matcher.assess_risk(text).level is RiskLevel.NONE


def test_a_threat_to_a_person_near_an_animal_is_still_asked_about(matcher: Matcher) -> None:
    assert matcher.assess_risk("says he will shoot the neighbour over the dog barking").level is not RiskLevel.NONE


@pytest.mark.parametrize(("text", "kind"), [
    ("he drank sniper last night after the exam results, vomiting now", CrisisKind.MEDICAL),
    ("keeps insecticide hidden in her wardrobe and says the family will finally be at peace from her", CrisisKind.SELF),
    ("told his brothers you lot will be better off when I'm not around", CrisisKind.SELF),
])
def test_a_household_poison_and_a_family_at_peace_without_them(matcher: Matcher, text: str, kind: CrisisKind) -> None:
    _crisis(matcher, text, kind)


@pytest.mark.parametrize(("text", "level"), [
    ("the nurse asked whether he had thought about ending his life and he firmly said no, just exhausted", RiskLevel.NONE),
    ("I asked if she wanted to kill herself. She said no, she wants help with sleep", RiskLevel.NONE),
    ("asked him if he was thinking of killing himself and he said yes, no plan yet", RiskLevel.CRISIS),
])
def test_a_screening_question_reported_with_its_answer(matcher: Matcher, text: str, level: RiskLevel) -> None:
    assert matcher.assess_risk(text).level is level


@pytest.mark.parametrize("text", [
    "had dark suicidal thoughts in second year of uni, they have not come back since the counselling, now just procrastinating",
    "dairy farmer with a rifle licence for vermin, low since the herd was sold, denies any thoughts of ending it",
])
def test_a_past_year_of_study_and_a_licensed_farm_gun_are_not_asked_about(matcher: Matcher, text: str) -> None:
    assert matcher.assess_risk(text).level is RiskLevel.NONE


@pytest.mark.parametrize(("text", "kind"), [
    ("her boyfriend pressed a cushion over her face during the row on Sunday, she laughed it off", CrisisKind.FROM_OTHERS),
    ("after the eviction he texted the landlord 'you'll find out what happens to your family'", CrisisKind.OTHERS),
])
def test_smothering_by_someone_close_and_a_veiled_threat_to_a_family(matcher: Matcher, text: str,
                                                                     kind: CrisisKind) -> None:
    _crisis(matcher, text, kind)


def test_knowing_where_someone_lives_in_a_grievance_is_asked_about(matcher: Matcher) -> None:
    risk = matcher.assess_risk("sacked last week, keeps telling people he knows where the manager parks")
    assert (risk.level, risk.kind) == (RiskLevel.ASK, CrisisKind.OTHERS)


def test_skin_picking_to_bleeding_is_asked_about_not_alarmed_on(matcher: Matcher) -> None:
    assert matcher.assess_risk("picks at her cuticles until they bleed during exams").level is RiskLevel.ASK


@pytest.mark.parametrize("text", [
    "says the court can keep the kids from him but nobody will ever find them and end it for the lot of them",
    "a Year 11 pupil posted that he has made a homemade bomb and the sixth form block is first",
])
def test_an_act_after_a_negated_clause_and_an_explosive_made(matcher: Matcher, text: str) -> None:
    assert matcher.assess_risk(text).level is RiskLevel.CRISIS


@pytest.mark.parametrize("text", ["made a bath bomb with her niece, anxious about her driving test",
                                  "there was a bomb scare at the station and he has panicked on trains since"])
def test_bath_bombs_and_bomb_scares_are_not_threats(matcher: Matcher, text: str) -> None:
    assert matcher.assess_risk(text).level is not RiskLevel.CRISIS


@pytest.mark.parametrize(("text", "kind"), [
    ("A&E note: 34M brought in 3h after ingestion of approx 30 paracetamol, treated, went home before mental health saw him",
     CrisisKind.MEDICAL),
    ("survived the tablets on Friday, told the crisis nurse next time he will take more and not tell anyone",
     CrisisKind.SELF),
    ("she lit charcoal in the bathroom last night with the door shut, her flatmate smelled it", CrisisKind.SELF),
    ("me cousin seh him a go bring the piece to the shop tomorrow an finish it with the manager", CrisisKind.OTHERS),
])
def test_an_ingestion_a_next_attempt_charcoal_in_a_closed_room_and_a_weapon_brought(
        matcher: Matcher, text: str, kind: CrisisKind) -> None:
    _crisis(matcher, text, kind)


@pytest.mark.parametrize(("text", "kind"), [
    ("keeps saying the kids would be fine from the life insurance, he is 52 and lost the business", CrisisKind.SELF),
    ("picked up two bags of charcoal on her way home and locked her door, not answering", CrisisKind.SELF),
    ("since the funeral he says his wife keeps calling him at night to come and be with her", CrisisKind.SELF),
    ("her last message to me was please stop worrying about me now, phone is off", CrisisKind.SELF),
    ("police asked to do a welfare check on my brother, no word from him since Tuesday", CrisisKind.SELF),
    ("Mr D, 84, lives with his grandson who has taken his bank cards; daughter says grandson won't let the district nurses in",
     CrisisKind.FROM_OTHERS),
    ("throwing up after eating around six times a day, keep feeling faint at work", CrisisKind.MEDICAL),
])
def test_insurance_charcoal_a_dead_loved_one_calling_a_welfare_check_a_gun_asked_for_an_elder_kept_from_help(
        matcher: Matcher, text: str, kind: CrisisKind) -> None:
    risk = matcher.assess_risk(text)
    assert risk.level is not RiskLevel.NONE and risk.kind is kind


@pytest.mark.parametrize("text", [
    "Y8 girl scratched her hand with scissors in one lesson in October, says she has stopped since, form tutor keeping an eye",
    "was held up at gunpoint in a shop in March, jumpy in crowds since, no safety worries now",
    "vet came out and we put our old pony down with the rifle, the kids are heartbroken",
    "has a firearms certificate for deer stalking, off work with his back, low and bored",
    "honestly id rather die than do another group icebreaker, anyway the social anxiety is bad",
    "we got charcoal in for the braai on Saturday and my husband still wont talk to me",
    "she moved into a womens refuge with the baby two years ago and has her own flat, struggling with exam nerves",
])
def test_history_stopped_since_a_put_down_animal_a_certificate_a_preference_and_a_braai_do_not_alarm(
        matcher: Matcher, text: str) -> None:
    assert matcher.assess_risk(text).level is RiskLevel.NONE


def test_a_month_named_for_a_plan_is_not_history(matcher: Matcher) -> None:
    plan = "says she is planning to end her life in June after her exams, has picked the bridge"
    assert matcher.assess_risk(plan).level is RiskLevel.CRISIS


def test_not_drinking_since_a_day_is_not_stopped_since(matcher: Matcher) -> None:
    refusing = "he hasnt drunk anything since friday and is confused this morning"
    assert matcher.assess_risk(refusing).level is RiskLevel.CRISIS


def test_someone_in_a_bad_way_asking_for_a_gun_is_asked_about(matcher: Matcher) -> None:
    asking = "my mate keeps asking if he can borrow my hunting rifle, hes been a mess since she left him"
    assert matcher.assess_risk(asking).level is RiskLevel.ASK


@pytest.mark.parametrize("text", [
    "honestly I no longer care whether I wake up, I go through the motions",
    "cant do it. dont want another day of this",
])
def test_indifference_to_going_on_is_asked_about(matcher: Matcher, text: str) -> None:
    assert matcher.assess_risk(text).level is RiskLevel.ASK


def test_a_form_answered_yes_still_alarms(matcher: Matcher) -> None:
    assert matcher.assess_risk("Self harm: yes, cutting most nights this week").level is RiskLevel.CRISIS


def test_treatment_stopped_to_die_without_a_care_team_is_still_a_crisis(matcher: Matcher) -> None:
    refusing = "he stopped his dialysis on Monday because he wants to die, the renal nurse is worried"
    assert matcher.assess_risk(refusing).level is RiskLevel.CRISIS


@pytest.mark.parametrize(("text", "kind"), [
    ("said at the end of the session 'we both know how this ends', two attempts last year", CrisisKind.SELF),
    ("she says she can't see how things will ever get better since the baby, cries all day", CrisisKind.SELF),
    ("he has been living off energy drinks and nothing else for three weeks, dizzy at work", CrisisKind.MEDICAL),
])
def test_the_end_foreseen_no_way_things_get_better_and_living_on_nothing_are_asked_about(
        matcher: Matcher, text: str, kind: CrisisKind) -> None:
    risk = matcher.assess_risk(text)
    assert risk.level is not RiskLevel.NONE and risk.kind is kind, risk


def test_a_gun_in_a_labelled_answer_without_sport_is_still_asked_about(matcher: Matcher) -> None:
    assert matcher.assess_risk("Access to firearms: yes, he keeps a pistol in the bedside drawer").level is not RiskLevel.NONE


def test_asking_where_the_gun_cabinet_key_is_kept_is_not_sport(matcher: Matcher) -> None:
    seeking = "Y10 boy asked a classmate if his uncle still keeps the locked gun cabinet key in the kitchen drawer"
    assert matcher.assess_risk(seeking).level is not RiskLevel.NONE
