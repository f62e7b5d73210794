"""Scoring the matcher against a labelled file (the format of shared/eval/match_dev.jsonl).

Micro precision/recall/F1 over issue ids, where an id listed as `acceptable` is neither required
nor a false positive; crisis recall and false-positive rate over the items whose `crisis` is not
null. Every miss is kept so a person can read why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from referbot.domain import CrisisSignal, IssueMatch


class _Matches(Protocol):
    def find_issues(self, text: str) -> list[IssueMatch]: ...
    def detect_crisis(self, text: str) -> CrisisSignal | None: ...


@dataclass
class Report:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    crisis_hits: int = 0
    crisis_positives: int = 0
    crisis_false_alarms: int = 0
    crisis_negatives: int = 0
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
    def crisis_recall(self) -> float:
        return _ratio(self.crisis_hits, self.crisis_positives, empty=1.0)

    @property
    def crisis_false_positive_rate(self) -> float:
        return _ratio(self.crisis_false_alarms, self.crisis_negatives)

    def summary(self) -> str:
        return (f"issues: precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
                f"(tp {self.true_positives}, fp {self.false_positives}, fn {self.false_negatives})\n"
                f"crisis: recall {self.crisis_recall:.3f} ({self.crisis_hits}/{self.crisis_positives})  "
                f"false-positive rate {self.crisis_false_positive_rate:.3f} "
                f"({self.crisis_false_alarms}/{self.crisis_negatives})")


def _ratio(part: int, whole: int, empty: float = 0.0) -> float:
    return part / whole if whole else empty


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(matcher: _Matches, items: Iterable[dict[str, Any]]) -> Report:
    report = Report()
    for item in items:
        _score_issues(report, item, {m.id for m in matcher.find_issues(item["text"])})
        if item.get("crisis") is not None:
            _score_crisis(report, item, matcher.detect_crisis(item["text"]))
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


def _score_crisis(report: Report, item: dict[str, Any], signal: CrisisSignal | None) -> None:
    if item["crisis"]:
        report.crisis_positives += 1
        report.crisis_hits += signal is not None
        if signal is None:
            report.misses.append(f"{item.get('id', '?')}: CRISIS MISSED | {item['text']}")
    else:
        report.crisis_negatives += 1
        report.crisis_false_alarms += signal is not None
        if signal is not None:
            report.misses.append(f"{item.get('id', '?')}: crisis false alarm on {signal.evidence!r} "
                                 f"({signal.kind.value}) | {item['text']}")
