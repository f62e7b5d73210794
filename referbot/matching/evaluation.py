"""Scoring the matcher against a labelled file (the format of shared/eval/match_dev.jsonl).

Micro precision/recall/F1 over issue ids, where an id listed as `acceptable` is neither required
nor a false positive. Risk is scored on the items whose `crisis` is not null, against the three
levels the bot acts on: a crisis item is caught at level crisis, and "caught counting ask" when the
bot would at least have asked about safety; an item labelled `"risk": "ask"` (ambiguous wording)
is caught by either; on the rest (no risk) a crisis is a false alarm and an ask is a question the
referrer did not need. An optional `crisis_kind` (self/others/from_others/medical) gives recall per
kind. Every miss is kept so a person can read why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from referbot.domain import IssueMatch, RiskAssessment, RiskLevel


class _Matches(Protocol):
    def find_issues(self, text: str) -> list[IssueMatch]: ...
    def assess_risk(self, text: str) -> RiskAssessment: ...


class LabelledFileError(ValueError):
    """A labelled file that cannot be read; the message names the file and the line."""


@dataclass
class CrisisTally:
    """Crisis items (all, or of one kind): how many, caught as crisis, caught counting ask, kind right."""

    positives: int = 0
    crisis: int = 0
    caught: int = 0
    kind_right: int = 0

    def count(self, risk: RiskAssessment, kind: str | None) -> None:
        self.positives += 1
        self.crisis += risk.level is RiskLevel.CRISIS
        self.caught += risk.level is not RiskLevel.NONE
        self.kind_right += risk.level is not RiskLevel.NONE and risk.kind is not None and risk.kind.value == kind


@dataclass
class Report:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    crises: CrisisTally = field(default_factory=CrisisTally)
    crisis_false_alarms: int = 0
    crisis_negatives: int = 0
    asks_on_negatives: int = 0
    ambiguous: int = 0
    ambiguous_caught: int = 0
    kinds: dict[str, CrisisTally] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def crisis_positives(self) -> int:
        return self.crises.positives

    @property
    def crisis_recall(self) -> float:
        return _ratio(self.crises.crisis, self.crises.positives, empty=1.0)

    @property
    def crisis_recall_with_ask(self) -> float:
        return _ratio(self.crises.caught, self.crises.positives, empty=1.0)

    @property
    def crisis_false_positive_rate(self) -> float:
        return _ratio(self.crisis_false_alarms, self.crisis_negatives)

    @property
    def ask_rate(self) -> float:
        return _ratio(self.asks_on_negatives, self.crisis_negatives)

    def summary(self) -> str:
        lines = [f"issues: precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
                 f"(tp {self.true_positives}, fp {self.false_positives}, fn {self.false_negatives})",
                 f"crisis: recall {self.crisis_recall:.3f} ({self.crises.crisis}/{self.crises.positives})  "
                 f"recall counting ask {self.crisis_recall_with_ask:.3f} ({self.crises.caught}/{self.crises.positives})  "
                 f"false-positive rate {self.crisis_false_positive_rate:.3f} "
                 f"({self.crisis_false_alarms}/{self.crisis_negatives})",
                 f"ask: rate on non-crisis texts {self.ask_rate:.3f} ({self.asks_on_negatives}/{self.crisis_negatives})"
                 + (f"  ambiguous texts caught (ask or crisis) {self.ambiguous_caught}/{self.ambiguous}"
                    if self.ambiguous else "")]
        for kind, tally in sorted(self.kinds.items()):
            lines.append(f"crisis kind {kind}: recall {_ratio(tally.crisis, tally.positives):.3f} "
                         f"({tally.crisis}/{tally.positives})  counting ask {tally.caught}/{tally.positives}  "
                         f"kind named right {tally.kind_right}/{tally.positives}")
        return "\n".join(lines)


def _ratio(part: int, whole: int, empty: float = 0.0) -> float:
    return part / whole if whole else empty


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The labelled items of a JSONL file; any unreadable line is one `LabelledFileError`."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = list(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelledFileError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledFileError(f"{path} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise LabelledFileError(f"{path} line {number}: expected an object with a \"text\" string")
        items.append(item)
    return items


def evaluate(matcher: _Matches, items: Iterable[dict[str, Any]]) -> Report:
    report = Report()
    for item in items:
        _score_issues(report, item, {m.id for m in matcher.find_issues(item["text"])})
        if item.get("crisis") is not None:
            _score_risk(report, item, matcher.assess_risk(item["text"]))
    return report


def _score_issues(report: Report, item: dict[str, Any], found: set[str]) -> None:
    expected = set(item.get("issues", []))
    allowed = expected | set(item.get("acceptable", []))
    missed, extra = expected - found, found - allowed
    report.true_positives += len(expected & found)
    report.false_negatives += len(missed)
    report.false_positives += len(extra)
    if missed or extra:
        report.misses.append(f"{item.get('id', '?')}: missed {sorted(missed)} extra {sorted(extra)} | {item['text']}")


def _score_risk(report: Report, item: dict[str, Any], risk: RiskAssessment) -> None:
    label = "crisis" if item["crisis"] else item.get("risk") or "none"
    seen = f"{risk.level.value} {risk.kind.value if risk.kind else ''} on {risk.evidence!r}"
    if label == "crisis":
        _score_crisis_item(report, item, risk, seen)
    elif label == "ask":
        report.ambiguous += 1
        report.ambiguous_caught += risk.level is not RiskLevel.NONE
        if risk.level is RiskLevel.NONE:
            report.misses.append(f"{item.get('id', '?')}: AMBIGUOUS NOT ASKED | {item['text']}")
    else:
        report.crisis_negatives += 1
        report.crisis_false_alarms += risk.level is RiskLevel.CRISIS
        report.asks_on_negatives += risk.level is RiskLevel.ASK
        if risk.level is not RiskLevel.NONE:
            what = "crisis false alarm" if risk.level is RiskLevel.CRISIS else "unneeded ask"
            report.misses.append(f"{item.get('id', '?')}: {what}: {seen} | {item['text']}")


def _score_crisis_item(report: Report, item: dict[str, Any], risk: RiskAssessment, seen: str) -> None:
    kind = item.get("crisis_kind")
    report.crises.count(risk, kind)
    if kind:
        report.kinds.setdefault(kind, CrisisTally()).count(risk, kind)
    if risk.level is RiskLevel.NONE:
        report.misses.append(f"{item.get('id', '?')}: CRISIS MISSED | {item['text']}")
    elif risk.level is RiskLevel.ASK:
        report.misses.append(f"{item.get('id', '?')}: crisis only asked ({seen}) | {item['text']}")
    elif kind and (risk.kind is None or risk.kind.value != kind):
        report.misses.append(f"{item.get('id', '?')}: crisis kind {seen}, labelled {kind} | {item['text']}")
