"""Matching: presenting issues, crisis detection and explained fit against the practice profile.

The engine talks to this package only through `Matcher` and `issue_label`. A Matcher is built
once (vocabulary, typo index, patterns) and then answers per message without I/O.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from referbot.domain import (FitAssessment, IntakeFacts, IssueMatch, RiskAssessment,
                             RiskLevel)
from referbot.matching.analysis import Analysis, analyse
from referbot.matching.fit import assess_fit
from referbot.matching.issues import IssueFinder, IssueHit, drop_contained
from referbot.matching.learned import RiskModel, load_model
from referbot.matching.lexicon import Lookup, TokenCorrector, rapidfuzz_lookup
from referbot.matching.risk import KIND_PRECEDENCE, Finding, RiskDetector
from referbot.matching.vocabulary import NOT_AN_ISSUE, build_vocabulary, context_rules, taxonomy_labels
from referbot.profile import Profile

__all__ = ["Matcher", "issue_label"]

# Readings kept for texts just seen (immutable, so sharing them is safe).
_RECENT_TEXTS = 64
# Current risk found by the risk detector is also a presenting issue (suicidal ideation for a crisis,
# depression for despair that is only asked about).
_RISK_ISSUE_SCORE = 95.0
# What the issue vocabulary (with its misspellings and lay phrasings) recognises as suicidal ideation
# or self-harm is never silently ignored: the risk detector judges it as its backstop (an `ask`).
_RISK_ISSUES = frozenset({"suicidal_ideation", "self_harm"})
# An issue only the learned model sees ranks below every phrase the vocabulary matched.
_LEARNED_ISSUE_SCORE = 72.0
# A crisis the rules see in a text the learned model reads as almost surely safe is asked about
# instead of stopping the intake: two readings disagree, so one direct question decides. Below this
# probability no crisis in any probe or the dev set fell; false alarms did.
_DOUBT = 0.05
# The mirror image: where the rules judged some wording of risk not meant (sport, a joke, negated),
# the learned model may still ask about the rest of the text only when it reads it as almost surely
# risk, since the rules have already looked at it.
_SURE = 1 - _DOUBT


class _Reading(NamedTuple):
    """What one text says: its analysis, the issue vocabulary's finds and the risk findings."""

    analysis: Analysis
    hits: list[IssueHit]
    findings: list[Finding]
    dismissed: tuple[tuple[int, int], ...]  # token spans of risk wording judged away by its context


def unprotected_corrector() -> TokenCorrector:
    """The typo corrector over the shipped vocabulary with no word protected: what
    `words_to_protect` tries real words against."""
    rules = context_rules()
    return TokenCorrector(build_vocabulary(None, rules).words() | RiskDetector.words(), ())


class Matcher:
    def __init__(self, profile: Profile | None = None, *, lookup: Lookup = rapidfuzz_lookup,
                 cache_size: int = 50_000, learned: bool = True) -> None:
        """`learned=False` leaves out the learned second opinion on risk (to train or score it)."""
        self._rules = context_rules()
        self._vocabulary = build_vocabulary(profile, self._rules)
        words = self._vocabulary.words() | RiskDetector.words()
        self._corrector = TokenCorrector(words, self._rules.protected, lookup, cache_size)
        self._issues = IssueFinder(self._vocabulary, self._rules)
        self._risk = RiskDetector(self._rules)
        self._model: RiskModel | None = load_model() if learned else None
        self._recent = lru_cache(maxsize=_RECENT_TEXTS)(self._read_text)

    def label(self, issue_id: str) -> str:
        """Label of a taxonomy id or of one of this practice's custom specialties."""
        return self._vocabulary.labels.get(issue_id) or issue_label(issue_id)

    def find_issues(self, text: str) -> list[IssueMatch]:
        analysis, hits, findings, _ = self._read(text)
        risks = [IssueHit(f.issue, _RISK_ISSUE_SCORE, f.first, f.last, risk=True)
                 for f in findings if f.issue and not f.historical]
        best: dict[str, IssueMatch] = {}
        # Per issue, the best-scored mention; on a tie the fuller one ("panic attacks" over "panic").
        kept = [h for h in drop_contained([*hits, *risks]) if h.issue_id != NOT_AN_ISSUE]
        for hit in sorted(kept, key=lambda h: (h.score, h.last - h.first), reverse=True):
            best.setdefault(hit.issue_id, IssueMatch(hit.issue_id, hit.score, analysis.evidence(hit.first, hit.last)))
        if self._model is not None:
            for opinion in self._model.issue_opinions(analysis):
                best.setdefault(opinion.issue_id, IssueMatch(opinion.issue_id, _LEARNED_ISSUE_SCORE,
                                                             analysis.evidence(opinion.first, opinion.last)))
        return sorted(best.values(), key=lambda m: (-m.score, m.id))

    def assess_risk(self, text: str) -> RiskAssessment:
        """Crisis, ask or none for one free-text answer: who is in danger, the words seen, and the
        past risk that was seen and deliberately not alarmed on."""
        analysis, _, findings, dismissed = self._read(text)
        current = [f for f in findings if not f.historical]
        past = tuple(dict.fromkeys(analysis.evidence(f.first, f.last) for f in findings if f.historical))
        if not current:
            return self._second_opinion(analysis, past, dismissed)
        top = min(current, key=lambda f: (f.level is not RiskLevel.CRISIS, KIND_PRECEDENCE.index(f.kind), f.first))
        return RiskAssessment(self._doubted(top.level, analysis), top.kind, analysis.evidence(top.first, top.last), past)

    def analyse(self, text: str) -> Analysis:
        """The reading both the rules and the learned model work from (words corrected, clauses, negation)."""
        return self._read(text).analysis

    def _doubted(self, level: RiskLevel, analysis: Analysis) -> RiskLevel:
        if level is RiskLevel.CRISIS and self._model is not None:
            opinion = self._model.opinion(analysis)
            if opinion is not None and opinion.probability < _DOUBT:
                return RiskLevel.ASK
        return level

    def _second_opinion(self, analysis: Analysis, past: tuple[str, ...],
                        dismissed: tuple[tuple[int, int], ...]) -> RiskAssessment:
        """Where the rules saw nothing, the learned model may ask (never alarm). Where they saw risk and
        judged it past, that judgement stands; where they judged it negated or not meant, it stands for
        the sentence they judged, and the model may still ask about the others when almost sure: "Dad
        has a shotgun certificate" is sport, and says nothing about the boy's list of names and "making
        them all pay Friday" in the sentence before."""
        if self._model is None or past:
            return RiskAssessment(history=past)
        opinion = self._model.opinion(analysis)
        if opinion is None or not self._model.asks(opinion):
            return RiskAssessment(history=past)
        judged = {analysis.sentence_start(first) for first, _ in dismissed}
        if judged and (analysis.sentence_start(opinion.first) in judged or opinion.probability < _SURE):
            return RiskAssessment(history=past)
        return RiskAssessment(RiskLevel.ASK, opinion.kind, analysis.evidence(opinion.first, opinion.last), past)

    def assess(self, profile: Profile, facts: IntakeFacts) -> FitAssessment:
        return assess_fit(profile, facts, self.label)

    def _read(self, text: str) -> _Reading:
        """One reading per text: the engine asks for the issues and the risk of an answer in a row."""
        return self._recent(text or "")

    def _read_text(self, text: str) -> _Reading:
        analysis = analyse(text, self._rules, self._corrector)
        hits = self._issues.find(analysis)
        backstop = [(h.first, h.last) for h in hits if h.issue_id in _RISK_ISSUES]
        return _Reading(analysis, hits, *self._risk.findings(analysis, backstop))


def issue_label(issue_id: str) -> str:
    """Human label of an issue id; an unknown (custom) id is spelt out from its words."""
    return taxonomy_labels().get(issue_id) or issue_id.replace("_", " ").strip().capitalize()


