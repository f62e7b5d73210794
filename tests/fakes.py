"""Test doubles for the core's ports, so engine and service tests do not depend on the vocabulary."""

from __future__ import annotations

from referbot.domain import CrisisKind, FitAssessment, FitVerdict, IntakeFacts, IssueMatch, RiskAssessment, RiskLevel
from referbot.profile import Profile


class KeywordAssessor:
    """Finds issues by exact keyword, flags crisis (and ask) on a few words, calls every adult a good fit."""

    ISSUES = {"panic": "anxiety", "anxious": "anxiety", "sad": "depression", "binge": "eating_disorders"}
    CRISIS = {"kill myself": CrisisKind.SELF, "suicide": CrisisKind.SELF, "end it all": CrisisKind.SELF,
              "knife to her": CrisisKind.OTHERS, "hits her every night": CrisisKind.FROM_OTHERS}
    ASK = {"no point anymore": CrisisKind.SELF}
    HISTORY = ("overdosed last year",)

    def find_issues(self, text: str) -> list[IssueMatch]:
        lowered = text.lower()
        return [IssueMatch(issue, 100.0, word) for word, issue in self.ISSUES.items() if word in lowered]

    def assess_risk(self, text: str) -> RiskAssessment:
        lowered = text.lower()
        history = tuple(w for w in self.HISTORY if w in lowered)
        for level, words in ((RiskLevel.CRISIS, self.CRISIS), (RiskLevel.ASK, self.ASK)):
            hit = next((w for w in words if w in lowered), None)
            if hit:
                return RiskAssessment(level, words[hit], hit, history)
        return RiskAssessment(history=history)

    def assess(self, profile: Profile, facts: IntakeFacts) -> FitAssessment:
        if facts.age is not None and facts.age < 18:
            return FitAssessment(FitVerdict.NOT_A_FIT, (f"age {facts.age}: adults only",))
        if not facts.issues:
            return FitAssessment(FitVerdict.POSSIBLE_FIT, ("no presenting issue recognised",), issues_recognised=False)
        return FitAssessment(FitVerdict.GOOD_FIT, ("specialises in anxiety",))
