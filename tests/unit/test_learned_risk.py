"""The learned second opinion on risk: what it reads, how it is trained and calibrated, and the limits
the matcher puts on it (it may ask, never alarm; the rules' judgement of history stands).

How well it generalises is measured with `referbot eval-matcher` on probes it never saw (README).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from referbot.cli import app
from referbot.domain import CrisisKind, RiskLevel
from referbot.matching import Matcher
from referbot.matching.learned import (Example, Linear, RiskModel, calibrate, example, features, fit_logistic,
                                       load_model, train)


@pytest.fixture(scope="module")
def rules() -> Matcher:
    return Matcher(learned=False)


def test_features_mark_what_a_negation_covers(rules: Matcher) -> None:
    names = {f.name for f in features(rules.analyse("denies plans but hopeless"))}
    assert "n:plan" in names and "s:hopeless" in names and "s:plan" not in names


def test_features_pair_neighbours_within_a_clause_only(rules: Matcher) -> None:
    names = {f.name for f in features(rules.analyse("took pills. slept"))}
    assert "b:took pill" in names and not any(n.startswith("b:pill") for n in names)


def test_a_logistic_fit_separates_what_it_was_shown() -> None:
    rows = [("s:rope", "s:tonight")] * 6 + [("s:garden", "s:tonight")] * 6
    model = fit_logistic(rows, [True] * 6 + [False] * 6)
    assert model.score(["s:rope"]) > 0 > model.score(["s:garden"])
    assert "s:tonight" not in model.weights or abs(model.weights["s:tonight"]) < abs(model.weights["s:rope"])


def test_a_feature_seen_once_teaches_nothing() -> None:
    model = fit_logistic([("s:once", "s:x"), ("s:x",), ("s:x",)], [True, False, False])
    assert "s:once" not in model.weights


def test_calibration_keeps_the_asks_on_texts_without_risk_within_budget() -> None:
    model = RiskModel(Linear(0.0, {}), {}, 0.5, {})
    opinions = [_opinion(p) for p in (0.99, 0.95, 0.9, 0.8, 0.7, 0.2)]
    calibrated = calibrate(model, opinions, budget=2)
    assert [calibrated.asks(o) for o in opinions] == [True, True, False, False, False, False]
    assert calibrate(model, opinions, budget=10).threshold == 0.5  # never below an even chance


def test_training_learns_risk_and_kind_from_labelled_items(rules: Matcher) -> None:
    items = ([{"text": f"he has a rope and says tonight is {w}", "risk": "crisis", "crisis_kind": "self"}
              for w in ("it", "the night", "goodbye")]
             + [{"text": f"her stepdad hits her and she must go home {w}", "risk": "crisis", "crisis_kind": "from_others"}
                for w in ("today", "tonight", "now")]
             + [{"text": f"struggling with {w} and sleep", "risk": "none"} for w in ("exams", "work", "moving")])
    model = train([example(rules.analyse(i["text"]), i) for i in items], {"test": True})
    opinion = model.opinion(rules.analyse("my stepdad hits me and I have to go home"))
    assert model.opinion(rules.analyse("hits me tonight")) is None  # an answer, not a description
    assert opinion is not None and opinion.kind is CrisisKind.FROM_OTHERS and opinion.probability > 0.5
    calm = model.opinion(rules.analyse("struggling with work and sleep"))
    assert calm is not None and calm.probability < 0.5


def test_the_shipped_model_loads_and_says_where_it_came_from() -> None:
    model = load_model()
    assert model is not None and model.provenance["items"] > 1000 and 0.5 <= model.threshold < 1
    assert set(model.kinds) == {k.value for k in CrisisKind}


def test_the_learned_opinion_only_ever_asks(rules: Matcher) -> None:
    always = RiskModel(Linear(10.0, {"s:garden": 0.1}), {k.value: Linear(0.0, {}) for k in CrisisKind}, 0.5, {})
    matcher = Matcher(learned=False)
    matcher._model = always
    risk = matcher.assess_risk("spends every weekend in the garden")
    assert risk.level is RiskLevel.ASK and risk.evidence == "garden"


def test_the_evidence_is_a_word_that_tells_not_the_heaviest_pronoun(rules: Matcher) -> None:
    """A therapist reads why the bot asked: "shed", not "he", even when "he" weighed more."""
    weighs = RiskModel(Linear(10.0, {"s:he": 3.0, "s:said": 2.5, "b:he said": 2.0, "s:shed": 0.5, "s:garden": 0.1}),
                       {k.value: Linear(0.0, {}) for k in CrisisKind}, 0.5, {})
    matcher = Matcher(learned=False)
    matcher._model = weighs
    assert matcher.assess_risk("he said he spends hours in the shed").evidence == "shed"


def test_history_the_rules_recognised_is_not_overruled(rules: Matcher) -> None:
    always = RiskModel(Linear(10.0, {"s:overdose": 0.1}), {k.value: Linear(0.0, {}) for k in CrisisKind}, 0.5, {})
    matcher = Matcher(learned=False)
    matcher._model = always
    assert matcher.assess_risk("Hx of overdose in 2012, stable").history
    for judged in ("Hx of overdose in 2012, stable", "denies overdose", "this job is killing me"):
        assert matcher.assess_risk(judged).level is RiskLevel.NONE, judged


def test_train_matcher_writes_a_model_the_matcher_can_load(tmp_path: Path) -> None:
    corpus, validation, out = tmp_path / "corpus.jsonl", tmp_path / "validate.jsonl", tmp_path / "model.json"
    texts = [("has a rope ready for tonight", "crisis", "self"), ("keeps a rope in the car for tonight", "crisis", "self"),
             ("moving house and stressed", "none", None), ("stressed about moving house", "none", None)]
    corpus.write_text("".join(json.dumps({"text": t, "risk": r, "crisis_kind": k}) + "\n" for t, r, k in texts))
    validation.write_text(json.dumps({"text": "stressed at work", "risk": "none"}) + "\n")
    result = CliRunner().invoke(app, ["train-matcher", str(corpus), "--validate", str(validation),
                                            "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained on 4 texts" in result.output
    model = RiskModel.from_dict(json.loads(out.read_text()))
    assert model.provenance["items"] == 4 and "s:rope" in model.risk.weights


def test_train_matcher_names_a_bad_line_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    result = CliRunner().invoke(app, ["train-matcher", str(bad), "--validate", str(bad)])
    assert result.exit_code != 0 and "bad.jsonl" in result.output and "Traceback" not in result.output


def _opinion(probability: float):
    from referbot.matching.learned import LearnedOpinion

    return LearnedOpinion(probability, CrisisKind.SELF, 0, 0)


def test_an_example_reads_the_eval_matcher_shape(rules: Matcher) -> None:
    labelled = example(rules.analyse("x"), {"text": "x", "crisis": True, "crisis_kind": "self"})
    assert labelled == Example(labelled.names, True, "self")
    assert not example(rules.analyse("x"), {"text": "x", "crisis": False}).at_risk


@pytest.mark.parametrize(("bias", "level"), [(10.0, RiskLevel.ASK), (1.0, RiskLevel.NONE)])
def test_a_judgement_of_one_sentence_leaves_the_others_to_a_model_that_is_almost_sure(bias: float,
                                                                                     level: RiskLevel) -> None:
    """'Dad has a shotgun certificate' is sport; the threat in the sentence before is not the rules'
    to silence, so a model almost sure of it (p >= 0.95, here 0.99996) asks; a model that merely
    leans that way (p 0.73) stays silent where the rules have looked."""
    model = RiskModel(Linear(bias, {"s:friday": 0.1}), {k.value: Linear(0.0, {}) for k in CrisisKind}, 0.5, {})
    matcher = Matcher(learned=False)
    matcher._model = model
    text = "Y9 boy drew the hall with crosses on it and says Friday is the day. Dad has a shotgun certificate."
    assert matcher.assess_risk(text).level is level
    assert matcher.assess_risk("Dad has a shotgun certificate and shoots on Friday.").level is RiskLevel.NONE


def test_a_crisis_the_model_reads_as_surely_safe_is_asked_about_instead() -> None:
    never = RiskModel(Linear(-10.0, {"s:kill": 0.1}), {k.value: Linear(0.0, {}) for k in CrisisKind}, 0.5, {})
    matcher = Matcher(learned=False)
    assert matcher.assess_risk("he says he will kill himself").level is RiskLevel.CRISIS
    matcher._model = never
    doubted = matcher.assess_risk("he says he will kill himself")
    assert doubted.level is RiskLevel.ASK and doubted.kind is CrisisKind.SELF


def test_with_the_shipped_model_a_plain_crisis_stays_a_crisis() -> None:
    matcher = Matcher()
    for text in ("he says he will kill himself tonight", "she took 40 paracetamol an hour ago",
                 "her partner strangled her last night and she is going back to him today"):
        assert matcher.assess_risk(text).level is RiskLevel.CRISIS, text


@pytest.mark.parametrize("answer", ["not sure", "I am not sure", "he is ok now", "the client is my patient",
                                    "she is fine with that", "Not sure", "as soon as possible please",
                                    "she prefers a female therapist", "evenings after school if possible"])
def test_everyday_answers_to_the_intake_questions_are_not_asked_about(answer: str) -> None:
    assert Matcher().assess_risk(answer).level is RiskLevel.NONE, answer


def test_a_saved_model_loads_with_the_same_weights_and_no_others(tmp_path: Path) -> None:
    """The file packs every model over one shared vocabulary; a weight one model lacks stays absent
    in that model (not 0.0 or another model's weight), so evidence is only ever a weighing word."""
    kinds = {k.value: Linear(0.0, {"s:knife": 0.7} if k is CrisisKind.OTHERS else {}) for k in CrisisKind}
    saved = RiskModel(Linear(-1.5, {"s:rope": 2.25, "n:rope": -1.0}), kinds, 0.6, {"items": 3},
                      {"anxiety": Linear(0.5, {"s:panic": 1.75})}, 0.85)
    saved.save(tmp_path / "model.json")
    loaded = RiskModel.from_dict(json.loads((tmp_path / "model.json").read_text()))
    assert dict(loaded.risk.weights) == {"s:rope": 2.25, "n:rope": -1.0} and loaded.risk.bias == -1.5
    assert dict(loaded.kinds["others"].weights) == {"s:knife": pytest.approx(0.7)}
    assert "s:knife" not in loaded.risk.weights and loaded.risk.weights.get("s:panic", 0.0) == 0.0
    assert dict(loaded.issues["anxiety"].weights) == {"s:panic": 1.75}
    assert (loaded.threshold, loaded.issue_threshold, loaded.provenance) == (0.6, 0.85, {"items": 3})
    assert loaded.risk.score({"s:rope", "s:panic"}) == pytest.approx(0.75)


def test_protect_words_lists_real_words_the_corrector_would_change(tmp_path: Path) -> None:
    words, out = tmp_path / "words", tmp_path / "protected.txt"
    words.write_text("handover\nartistic\ngarden\ndepression\nHandover\nit's\n")
    result = CliRunner().invoke(app, ["protect-words", str(words), "--out", str(out)])
    assert result.exit_code == 0, result.output
    listed = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert listed == ["artistic", "handover"]  # not 'garden' (no neighbour), not 'depression' (itself)
    missing = CliRunner().invoke(app, ["protect-words", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "nope" in missing.output and "Traceback" not in missing.output


def test_the_shipped_protection_keeps_real_words_real() -> None:
    matcher = Matcher()
    for word in ("handover", "artistic", "infected"):
        assert matcher.analyse(f"the {word} was fine").words[1] == word
