"""A learned second opinion on risk and presenting issues, for wording no rule models.

The rules (data/risk.yaml) say *why*: a concept, its evidence, its context. On wording nobody wrote
a rule for they stay silent; scored on probes written by people who never saw them, they missed
a third or more of the crises. A linear model over the words of a text (stems, stem pairs, and
stems inside a negation marked as such), trained on invented referrals (training/risk_corpus), reads
those texts as a whole and catches many of them.

It is only ever allowed to *ask*: it lifts "none" to "ask" when confident, never to "crisis", and
never overrides the rules where they saw risk and judged it past or negated. Its evidence is the
words that weighed most, so a person can see why the bot asked. In the same way it may add a
presenting issue the vocabulary did not find, at a lower score than any phrase.

The weights ship as data/risk_model.json, made by `referbot train-matcher` (numpy, seconds);
scoring is a sum of dictionary lookups, so a turn stays cheap. In memory and on disk every model's
weights are one float32 array over a vocabulary the models share (see `PackedWeights`).
"""

from __future__ import annotations

import base64
import json
import math
from array import array
from collections.abc import Iterable, Mapping, Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from referbot.domain import CrisisKind
from referbot.matching.analysis import Analysis

MODEL_FILE = "risk_model.json"
# Fewer words than this are an answer to a question ("not sure", "he is ok"), not a description of
# someone: the model was not made to read them and stays silent (the rules still read every answer).
MIN_WORDS = 5
KINDS = tuple(kind.value for kind in CrisisKind)


@dataclass(frozen=True)
class Feature:
    """One feature of a text and the tokens it came from (to quote as evidence)."""

    name: str
    first: int
    last: int


def features(analysis: Analysis) -> list[Feature]:
    """Stems ("s:"), stems in a negation's scope ("n:"), and adjacent stem pairs in one clause ("b:")."""
    found = []
    stems = analysis.stems
    for i, stem in enumerate(stems):
        found.append(Feature(("n:" if analysis.negated_by[i] is not None else "s:") + stem, i, i))
        if i + 1 < len(stems) and not analysis.tokens[i + 1].brk:
            found.append(Feature(f"b:{stem} {stems[i + 1]}", i, i + 1))
    return found


# Words that carry a text's weight without saying anything by themselves: a therapist reading why the
# bot asked should see "rope" or "goodbye", never "he" or "said", even when those weighed most.
_UNTELLING = frozenset({"he", "she", "they", "i", "we", "you", "it", "hes", "shes", "im", "his", "her", "him",
                        "them", "me", "my", "our", "their", "said", "say", "says", "saying", "told", "tell",
                        "tells", "what", "that", "this", "is", "was", "be", "been", "has", "have", "had", "and",
                        "the", "a", "an", "to", "of", "for", "in", "on", "at", "with", "about", "some", "or",
                        "not", "do", "does", "did", "get", "got", "can", "will", "would", "want", "wants",
                        "going", "just", "so", "really"})


def _telling(feature: Feature) -> bool:
    """Whether a feature names something a person would recognise as a reason (see `_UNTELLING`)."""
    words = feature.name[2:].split()
    return not all(word in _UNTELLING for word in words)


def _readable_features(analysis: Analysis) -> list[Feature]:
    """The features of a text long enough to be a description (see MIN_WORDS), else none."""
    return features(analysis) if len(analysis.words) >= MIN_WORDS else []


@dataclass(frozen=True)
class Linear:
    """A logistic model: a bias and a weight per feature name (absent names weigh nothing)."""

    bias: float
    weights: Mapping[str, float]

    def score(self, names: Iterable[str]) -> float:
        """Names must be distinct: a feature counts once however often the text says it."""
        return self.bias + sum(self.weights.get(name, 0.0) for name in names)


class PackedWeights(Mapping[str, float]):
    """One model's weights as a float32 array indexed by a vocabulary all the models share, with NaN
    where this model has no weight. Every running process holds the model: as dictionaries of
    Python floats its 28 × ~100k weights took 10 MB, packed they take about 1 MB."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: array) -> None:
        self._index = index
        self._values = values

    def get(self, name: str, default: float | None = None) -> float | None:  # type: ignore[override]
        position = self._index.get(name)
        if position is None:
            return default
        value = self._values[position]
        return default if value != value else value  # NaN: no weight in this model

    def __contains__(self, name: object) -> bool:
        """Asked for every feature of every answer: a lookup, not Mapping's raise-and-catch KeyError."""
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> float:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, position in self._index.items() if self._values[position] == self._values[position])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _pack(vocabulary: Sequence[str], model: Linear) -> dict[str, Any]:
    values = array("f", (model.weights.get(name, math.nan) for name in vocabulary))
    return {"bias": model.bias, "weights": base64.b64encode(values.tobytes()).decode("ascii")}


def _unpack(index: Mapping[str, int], data: dict[str, Any]) -> Linear:
    values = array("f")
    values.frombytes(base64.b64decode(data["weights"]))
    if len(values) != len(index):
        raise ValueError(f"{MODEL_FILE}: a model has {len(values)} weights for {len(index)} features")
    return Linear(float(data["bias"]), PackedWeights(index, values))


@dataclass(frozen=True)
class LearnedOpinion:
    """How likely the text describes someone at risk, the likeliest kind, and the words behind it."""

    probability: float
    kind: CrisisKind
    first: int
    last: int


@dataclass(frozen=True)
class IssueOpinion:
    """A presenting issue the model finds likely, and the word that weighed most for it."""

    issue_id: str
    probability: float
    first: int
    last: int


@dataclass(frozen=True)
class RiskModel:
    """Everything the model learned: risk or not, which kind, each issue, and where each starts to count."""

    risk: Linear
    kinds: dict[str, Linear]
    threshold: float
    provenance: dict[str, Any]
    issues: dict[str, Linear] = field(default_factory=dict)
    issue_threshold: float = 1.0

    def issue_opinions(self, analysis: Analysis) -> list[IssueOpinion]:
        """Every issue the model finds at least `issue_threshold` likely in this text."""
        found = _readable_features(analysis)
        names = {f.name for f in found}
        opinions = []
        for issue_id, model in self.issues.items():
            probability = _sigmoid(model.score(names))
            if probability >= self.issue_threshold:
                weighed = [f for f in found if model.weights.get(f.name, 0.0) > 0]
                if weighed:
                    strongest = max(weighed, key=lambda f: (_telling(f), model.weights[f.name]))
                    opinions.append(IssueOpinion(issue_id, probability, strongest.first, strongest.last))
        return opinions

    def opinion(self, analysis: Analysis) -> LearnedOpinion | None:
        """The model's view of one text, or None when it has nothing to go on (too short, no known words)."""
        found = _readable_features(analysis)
        known = [f for f in found if f.name in self.risk.weights]
        if not known:
            return None
        names = {f.name for f in found}
        probability = _sigmoid(self.risk.score(names))
        kind = max(self.kinds, key=lambda k: self.kinds[k].score(names))
        strongest = max(known, key=lambda f: (_telling(f), self.risk.weights[f.name]))
        return LearnedOpinion(probability, CrisisKind(kind), strongest.first, strongest.last)

    def asks(self, opinion: LearnedOpinion | None) -> bool:
        return opinion is not None and opinion.probability >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        """The file's shape: the shared vocabulary, then each model's bias and packed weights."""
        models = {"risk": self.risk, **{f"kind:{k}": m for k, m in self.kinds.items()},
                  **{f"issue:{k}": m for k, m in self.issues.items()}}
        vocabulary = sorted(set().union(*(m.weights.keys() for m in models.values())))
        return {"threshold": self.threshold, "issue_threshold": self.issue_threshold, "provenance": self.provenance,
                "vocabulary": vocabulary, "models": {name: _pack(vocabulary, m) for name, m in models.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RiskModel":
        index = {name: position for position, name in enumerate(data["vocabulary"])}
        models = {name: _unpack(index, packed) for name, packed in data["models"].items()}
        return cls(models["risk"], {k: models[f"kind:{k}"] for k in KINDS}, float(data["threshold"]),
                   dict(data.get("provenance", {})),
                   {name.removeprefix("issue:"): m for name, m in models.items() if name.startswith("issue:")},
                   float(data.get("issue_threshold", 1.0)))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                        encoding="utf-8")


def load_model() -> RiskModel | None:
    """The shipped model, or None when there is none (the rules then work alone)."""
    resource = resources.files("referbot.matching") / "data" / MODEL_FILE
    if not resource.is_file():
        return None
    return RiskModel.from_dict(json.loads(resource.read_text(encoding="utf-8")))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# Weights smaller than this are dropped: they change no decision and would triple the shipped file.
_SMALLEST_WEIGHT = 0.05


def fit_logistic(rows: Sequence[Sequence[str]], labels: Sequence[bool], **options: Any) -> Linear:
    """One logistic model (see `fit_many`)."""
    return fit_many(rows, {"y": list(labels)}, **options)["y"]


def fit_many(rows: Sequence[Sequence[str]], columns: dict[str, Sequence[bool | None]], *, min_count: int = 2,
             l2: float = 1.0, rounds: int = 400) -> dict[str, Linear]:
    """Logistic models for several labels of the same texts at once, by full-batch gradient descent
    (Nesterov momentum) on the mean log loss with L2 and balanced classes, in numpy. A label of None
    teaches that model nothing about that text. Features seen in fewer than `min_count` texts are
    dropped: one invented sentence must not teach a word.
    """
    import numpy as np

    counts: dict[str, int] = {}
    for row in rows:
        for name in set(row):
            counts[name] = counts.get(name, 0) + 1
    vocabulary = sorted(name for name, count in counts.items() if count >= min_count)
    index = {name: i for i, name in enumerate(vocabulary)}
    x = np.zeros((len(rows), len(vocabulary)), dtype=np.float32)
    for r, row in enumerate(rows):
        x[r, [index[name] for name in set(row) if name in index]] = 1.0
    names = list(columns)
    y = np.asarray([[1.0 if columns[n][r] else 0.0 for n in names] for r in range(len(rows))], dtype=np.float32)
    taught = np.asarray([[columns[n][r] is not None for n in names] for r in range(len(rows))], dtype=np.float32)
    positives = np.maximum((y * taught).sum(axis=0), 1.0)
    negatives = np.maximum(((1 - y) * taught).sum(axis=0), 1.0)
    total = taught.sum(axis=0)
    weight = taught * np.where(y > 0, total / (2 * positives), total / (2 * negatives))
    w = np.zeros((len(vocabulary), len(names)), dtype=np.float32)
    b = np.zeros(len(names), dtype=np.float32)
    velocity_w, velocity_b, step = np.zeros_like(w), np.zeros_like(b), 0.5
    scale = np.maximum(total, 1.0)
    for _ in range(rounds):
        look_w, look_b = w + 0.9 * velocity_w, b + 0.9 * velocity_b
        p = 1.0 / (1.0 + np.exp(-(x @ look_w + look_b)))
        error = (p - y) * weight
        velocity_w = 0.9 * velocity_w - step * ((x.T @ error) + l2 * look_w) / scale
        velocity_b = 0.9 * velocity_b - step * error.sum(axis=0) / scale
        w, b = w + velocity_w, b + velocity_b
    return {name: Linear(float(b[j]), {v: round(float(w[i, j]), 3) for v, i in index.items()
                                       if abs(w[i, j]) >= _SMALLEST_WEIGHT})
            for j, name in enumerate(names)}


@dataclass(frozen=True)
class Example:
    """One labelled text as the trainer sees it: its features, whether anyone is at risk, and the kind."""

    names: tuple[str, ...]
    at_risk: bool
    kind: str | None
    issues: frozenset[str] = frozenset()
    acceptable: frozenset[str] = frozenset()


def risk_label(item: dict[str, Any]) -> str:
    """crisis, ask or none: the item's `risk`, or for older files its `crisis` flag."""
    return item.get("risk") or ("crisis" if item.get("crisis") else "none")


def example(analysis: Analysis, item: dict[str, Any]) -> Example:
    """A labelled item (the eval-matcher JSONL shape: `risk` crisis|ask|none, `crisis_kind`)."""
    return Example(tuple(f.name for f in features(analysis)), risk_label(item) != "none", item.get("crisis_kind"),
                   frozenset(item.get("issues") or ()), frozenset(item.get("acceptable") or ()))


def train(examples: Sequence[Example], provenance: dict[str, Any], issue_ids: Iterable[str] = ()) -> RiskModel:
    """The risk model, one kind model per crisis kind (trained on the texts with risk only) and one
    model per issue (a text where the issue is only `acceptable` teaches neither way). Thresholds
    start out closed; `calibrate` and `calibrate_issues` set them from texts the model did not learn from."""
    rows = [e.names for e in examples]
    columns: dict[str, list[bool | None]] = {"risk": [e.at_risk for e in examples]}
    for kind in KINDS:
        columns[f"kind:{kind}"] = [e.kind == kind if e.at_risk and e.kind in KINDS else None for e in examples]
    for issue_id in issue_ids:
        if sum(issue_id in e.issues for e in examples) >= _MIN_ISSUE_EXAMPLES:
            columns[f"issue:{issue_id}"] = [None if issue_id in e.acceptable else issue_id in e.issues for e in examples]
    fitted = fit_many(rows, columns)
    return RiskModel(fitted["risk"], {kind: fitted[f"kind:{kind}"] for kind in KINDS}, 0.5, provenance,
                     {name.removeprefix("issue:"): model for name, model in fitted.items() if name.startswith("issue:")})


# An issue needs this many texts that name it before the model may learn it.
_MIN_ISSUE_EXAMPLES = 8


def calibrate(model: RiskModel, silent_negatives: Sequence[LearnedOpinion | None], budget: int) -> RiskModel:
    """The threshold at which the model asks about at most `budget` of the texts without risk that the
    rules left silent (their ask rate is the product's promise to referrers, so it is set, not hoped for)."""
    scores = sorted((o.probability for o in silent_negatives if o is not None), reverse=True)
    threshold = 0.5 if budget >= len(scores) else max(0.5, scores[budget] + 1e-6)
    return replace(model, threshold=round(threshold, 6))


def calibrate_issues(model: RiskModel, validation: Sequence[tuple[Analysis, set[str], set[str], set[str]]]) -> RiskModel:
    """The issue threshold for micro-F1 on validation texts, counted as the matcher would answer: what
    the rules found plus what the model adds. Each item is (reading, found by the rules, required,
    acceptable). Where thresholds score within `_F1_TIE` of the best, the highest wins: a wrong issue
    shown to a therapist costs more than a missed one the referrer's own words still carry."""
    scores = {t: _micro_f1(model, validation, t) for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)}
    best = max(scores.values())
    return replace(model, issue_threshold=max(t for t, f1 in scores.items() if f1 >= best - _F1_TIE))


# Validation F1 differences smaller than this are noise on a few hundred texts.
_F1_TIE = 0.01


def _micro_f1(model: RiskModel, validation: Sequence[tuple[Analysis, set[str], set[str], set[str]]],
              threshold: float) -> float:
    trial = replace(model, issue_threshold=threshold)
    tp = fp = fn = 0
    for analysis, found, required, acceptable in validation:
        answered = found | {o.issue_id for o in trial.issue_opinions(analysis)}
        tp += len(answered & required)
        fp += len(answered - required - acceptable)
        fn += len(required - answered)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
