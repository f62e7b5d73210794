"""Matching: presenting issues, crisis detection and explained fit against the practice profile.

The engine talks to this package only through `Matcher` and `issue_label`. A Matcher is built
once (vocabulary, typo index, patterns) and then answers per message without I/O.
"""

from __future__ import annotations

from referbot.domain import (CrisisKind, CrisisSignal, FitAssessment, IntakeFacts, IssueMatch, RiskAssessment,
                             RiskLevel)
from referbot.matching.analysis import Analysis, analyse, is_historical
from referbot.matching.crisis import CrisisDetector, CrisisHit
from referbot.matching.fit import assess_fit
from referbot.matching.issues import IssueFinder, IssueHit, drop_contained
from referbot.matching.lexicon import Lookup, TokenCorrector, rapidfuzz_lookup
from referbot.matching.vocabulary import NOT_AN_ISSUE, build_vocabulary, context_rules, taxonomy_labels
from referbot.profile import Profile

__all__ = ["Matcher", "issue_label"]

# A risk found by the crisis detector is also a presenting issue.
_ISSUE_OF_CRISIS = {"suicide": "suicidal_ideation", "self_harm": "self_harm",
                    "harm_to_others": "anger_management", "danger": "trauma_ptsd"}
_CRISIS_ISSUE_SCORE = 95.0
# ... and the other way round: what the issue vocabulary (with its misspellings and lay phrasings)
# recognises as suicidal ideation or self-harm, not negated and not historical, is a crisis too.
_CRISIS_OF_ISSUE = {"suicidal_ideation": "suicide", "self_harm": "self_harm"}
# Who is in danger, by the detector's pattern family.
_KIND_OF_FAMILY = {"suicide": CrisisKind.SELF, "self_harm": CrisisKind.SELF,
                   "harm_to_others": CrisisKind.OTHERS, "danger": CrisisKind.FROM_OTHERS}


class Matcher:
    def __init__(self, profile: Profile | None = None, *, lookup: Lookup = rapidfuzz_lookup,
                 cache_size: int = 50_000) -> None:
        self._rules = context_rules()
        self._vocabulary = build_vocabulary(profile, self._rules)
        words = self._vocabulary.words() | CrisisDetector.words()
        self._corrector = TokenCorrector(words, self._rules.protected, lookup, cache_size)
        self._issues = IssueFinder(self._vocabulary, self._rules)
        self._crisis = CrisisDetector(self._rules)

    def label(self, issue_id: str) -> str:
        """Label of a taxonomy id or of one of this practice's custom specialties."""
        return self._vocabulary.labels.get(issue_id) or issue_label(issue_id)

    def find_issues(self, text: str) -> list[IssueMatch]:
        analysis = self._analyse(text)
        risks = [IssueHit(_ISSUE_OF_CRISIS[c.kind], _CRISIS_ISSUE_SCORE, c.first, c.last, risk=True)
                 for c in self._crisis.hits(analysis)]
        best: dict[str, IssueMatch] = {}
        # Per issue, the best-scored mention; on a tie the fuller one ("panic attacks" over "panic").
        kept = [h for h in drop_contained([*self._issues.find(analysis), *risks]) if h.issue_id != NOT_AN_ISSUE]
        for hit in sorted(kept, key=lambda h: (h.score, h.last - h.first), reverse=True):
            best.setdefault(hit.issue_id, IssueMatch(hit.issue_id, hit.score, analysis.evidence(hit.first, hit.last)))
        return sorted(best.values(), key=lambda m: (-m.score, m.id))

    def detect_crisis(self, text: str) -> CrisisSignal | None:
        """The crisis patterns first; the issue vocabulary as a backstop, so that a wording one of
        them knows ("sucidal thoughts") can never be a crisis miss because the other does not."""
        analysis = self._analyse(text)
        hits = self._crisis.hits(analysis)
        if not hits:
            hits = [CrisisHit(_CRISIS_OF_ISSUE[h.issue_id], h.first, h.last) for h in self._issues.find(analysis)
                    if h.issue_id in _CRISIS_OF_ISSUE and not is_historical(analysis, h.first, self._rules)]
        return _signal(hits[0], analysis) if hits else None

    def assess_risk(self, text: str) -> RiskAssessment:
        """Crisis, ask or none for one free-text answer, with who is in danger and the words seen."""
        signal = self.detect_crisis(text)
        if signal is None:
            return RiskAssessment()
        return RiskAssessment(RiskLevel.CRISIS, signal.kind, signal.evidence)

    def assess(self, profile: Profile, facts: IntakeFacts) -> FitAssessment:
        return assess_fit(profile, facts, self.label)

    def _analyse(self, text: str) -> Analysis:
        return analyse(text or "", self._rules, self._corrector)


def issue_label(issue_id: str) -> str:
    """Human label of an issue id; an unknown (custom) id is spelt out from its words."""
    return taxonomy_labels().get(issue_id) or issue_id.replace("_", " ").strip().capitalize()


def _signal(hit: CrisisHit, analysis: Analysis) -> CrisisSignal:
    return CrisisSignal(evidence=analysis.evidence(hit.first, hit.last), kind=_KIND_OF_FAMILY[hit.kind])
