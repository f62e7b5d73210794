"""Test doubles for the core's ports, so engine and service tests do not depend on the vocabulary."""

from __future__ import annotations

from referbot.domain import CrisisKind, CrisisSignal, FitAssessment, FitVerdict, IntakeFacts, IssueMatch
from referbot.profile import Profile


class KeywordAssessor:
    """Finds issues by exact keyword, flags crisis on a few words, and calls every adult a good fit."""

    ISSUES = {"panic": "anxiety", "anxious": "anxiety", "sad": "depression", "binge": "eating_disorders"}
    CRISIS = ("kill myself", "suicide", "end it all")

    def find_issues(self, text: str) -> list[IssueMatch]:
        lowered = text.lower()
        return [IssueMatch(issue, 100.0, word) for word, issue in self.ISSUES.items() if word in lowered]

    def detect_crisis(self, text: str) -> CrisisSignal | None:
        lowered = text.lower()
        hit = next((w for w in self.CRISIS if w in lowered), None)
        return CrisisSignal(hit, CrisisKind.SELF) if hit else None

    def assess(self, profile: Profile, facts: IntakeFacts) -> FitAssessment:
        if facts.age is not None and facts.age < 18:
            return FitAssessment(FitVerdict.NOT_A_FIT, (f"age {facts.age}: adults only",))
        return FitAssessment(FitVerdict.GOOD_FIT, ("specialises in anxiety",))
