"""Training the learned second opinion against the rules it backs up (`referbot train-matcher`).

The thresholds are set on held-apart texts as the matcher will answer them: the rules first, the
model only where they are silent. So this module needs the rules-only Matcher, which the model
itself (learned.py, loaded by the Matcher) must not import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from referbot.domain import RiskLevel
from referbot.matching import Matcher
from referbot.matching.learned import RiskModel, calibrate, calibrate_issues, example, risk_label, train
from referbot.matching.vocabulary import taxonomy_labels


@dataclass(frozen=True)
class Trained:
    """The calibrated model and what set its risk threshold."""

    model: RiskModel
    negatives: int  # held-apart texts without risk
    flagged: int  # of those, already asked about or alarmed on by the rules


def train_and_calibrate(items: Sequence[dict[str, Any]], held_apart: Sequence[dict[str, Any]],
                        max_ask_rate: float, provenance: dict[str, Any]) -> Trained:
    """Learn from `items`; set the issue threshold for F1 and the risk threshold so that rules and
    model together ask about at most `max_ask_rate` of the held-apart texts without risk."""
    rules = Matcher(learned=False)
    model = train([example(rules.analyse(item["text"]), item) for item in items], provenance, taxonomy_labels())
    model = calibrate_issues(model, [(rules.analyse(i["text"]), {m.id for m in rules.find_issues(i["text"])},
                                      set(i.get("issues") or ()), set(i.get("acceptable") or ())) for i in held_apart])
    negatives = [i for i in held_apart if risk_label(i) == "none"]
    judged = [rules.assess_risk(i["text"]) for i in negatives]
    silent = [model.opinion(rules.analyse(i["text"])) for i, risk in zip(negatives, judged)
              if risk.level is RiskLevel.NONE and not risk.history]
    flagged = sum(risk.level is not RiskLevel.NONE for risk in judged)
    model = calibrate(model, silent, max(0, int(max_ask_rate * len(negatives)) - flagged))
    return Trained(model, len(negatives), flagged)
