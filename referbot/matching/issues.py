"""Presenting issues in free text: vocabulary phrases found word by word, then judged in context.

A phrase is found when all its (stemmed, typo-corrected) words occur close together in one clause,
in order or not ("sleep problems" ~ "problems with sleep"). A find is dropped when negated ("not
depressed"), when it sits inside someone else's words for something bigger ("imposter syndrome"
is not a delusion of an impostor), or, for risk issues, inside an idiom ("killing it at work").
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from referbot.matching.analysis import Analysis, ContextRules, concept_spans, is_negated
from referbot.matching.vocabulary import Phrase, Vocabulary

REPORT_THRESHOLD = 70.0
_IDIOM_SENSITIVE = frozenset({"suicidal_ideation", "self_harm", "anger_management"})
_OUT_OF_ORDER_PENALTY = 5.0
_GAP_PENALTY = 2.0
# A concept is weaker evidence than a listed phrase: a listed phrase wins as the evidence shown.
_CONCEPT_SCORE = 80.0


@dataclass(frozen=True)
class IssueHit:
    issue_id: str
    score: float
    first: int
    last: int
    risk: bool = False  # found by the risk detector
    supporting: bool = False  # evidence only beside another mention of the same issue
    concept: bool = False  # found by its parts across a sentence, so it contains other mentions


class IssueFinder:
    def __init__(self, vocabulary: Vocabulary, rules: ContextRules) -> None:
        self._vocabulary = vocabulary
        self._rules = rules
        self._by_anchor: dict[str, list[Phrase]] = defaultdict(list)
        for phrase in vocabulary.phrases:
            self._by_anchor[max(phrase.stems, key=len)].append(phrase)
        # All abbreviations in one pattern, one named group per issue, so a message is scanned once.
        by_issue: dict[str, list[str]] = defaultdict(list)
        for issue_id, pattern in vocabulary.abbreviations:
            by_issue[issue_id].append(pattern.pattern)
        self._group_issue = {f"g{i}": issue_id for i, issue_id in enumerate(by_issue)}
        self._abbreviations = re.compile("|".join(f"(?P<g{i}>{'|'.join(patterns)})"
                                                  for i, patterns in enumerate(by_issue.values())))

    def find(self, analysis: Analysis) -> list[IssueHit]:
        """Every credible mention; several per issue are possible (see `drop_contained`)."""
        hits = [*self._phrase_hits(analysis), *self._abbreviation_hits(analysis), *self._clause_final_hits(analysis),
                *self._concept_hits(analysis)]
        credible = [h for h in hits if h.score >= REPORT_THRESHOLD and self._credible(h, analysis)]
        supported = {h.issue_id for h in credible if not h.supporting}
        return [h for h in credible if not h.supporting or h.issue_id in supported]

    def _credible(self, hit: IssueHit, analysis: Analysis) -> bool:
        # A concept carries its own negations ("won't listen", "haven't spoken"); it is not flipped.
        if not hit.concept and is_negated(analysis, hit.first, hit.last, self._rules):
            return False
        return not (hit.issue_id in _IDIOM_SENSITIVE and analysis.in_idiom(hit.first, hit.last))

    def _phrase_hits(self, analysis: Analysis) -> list[IssueHit]:
        hits = []
        for anchor_at, anchor in enumerate(analysis.stems):
            for phrase in self._by_anchor.get(anchor, ()):
                hit = _match_at(phrase, anchor_at, analysis)
                if hit is not None:
                    hits.append(hit)
        return hits

    def _abbreviation_hits(self, analysis: Analysis) -> list[IssueHit]:
        hits = []
        for match in self._abbreviations.finditer(analysis.text):
            span = _tokens_of_chars(analysis, match.start(), match.end())
            if span is not None and match.lastgroup:
                hits.append(IssueHit(self._group_issue[match.lastgroup], 100.0, *span))
        return hits

    def _concept_hits(self, analysis: Analysis) -> list[IssueHit]:
        """An issue told in the referrer's own words: its parts together in one sentence."""
        return [IssueHit(issue_id, _CONCEPT_SCORE, *span, concept=True) for issue_id, slots in self._vocabulary.concepts
                for span in concept_spans(slots, analysis)]

    def _clause_final_hits(self, analysis: Analysis) -> list[IssueHit]:
        """Words like "down" that mean a mood only when they close a clause ("anxious and down")."""
        hits = []
        for i, word_stem in enumerate(analysis.stems):
            issue_id = self._vocabulary.clause_final.get(word_stem)
            if issue_id is None or i == 0:
                continue
            closes_clause = i + 1 == len(analysis.stems) or analysis.tokens[i + 1].brk
            if closes_clause and analysis.words[i - 1] not in self._vocabulary.clause_final_blockers:
                hits.append(IssueHit(issue_id, 80.0, i, i))
        return hits


def _match_at(phrase: Phrase, anchor_at: int, analysis: Analysis) -> IssueHit | None:
    """The phrase around one occurrence of its anchor word, if all its words are near enough."""
    size = len(phrase.stems)
    window = size + (0 if size == 1 else 1 if size == 2 else 2)
    anchor_index = phrase.stems.index(analysis.stems[anchor_at])
    positions = {anchor_index: anchor_at}
    lo, hi = max(0, anchor_at - window + 1), min(len(analysis.stems), anchor_at + window)
    for k, wanted in enumerate(phrase.stems):
        if k == anchor_index:
            continue
        candidates = [j for j in range(lo, hi) if analysis.stems[j] == wanted and j not in positions.values()]
        if not candidates:
            return None
        positions[k] = min(candidates, key=lambda j: abs(j - anchor_at))
    first, last = min(positions.values()), max(positions.values())
    if last - first + 1 > window or any(analysis.tokens[j].brk for j in range(first + 1, last + 1)):
        return None
    ordered = [positions[k] for k in range(size)] == sorted(positions.values())
    similarity = min(analysis.similarity[j] for j in positions.values())
    score = (100.0 * similarity - (0 if ordered else _OUT_OF_ORDER_PENALTY)
             - _GAP_PENALTY * (last - first + 1 - size))
    return IssueHit(phrase.issue_id, score, first, last, supporting=phrase.supporting)


def _tokens_of_chars(analysis: Analysis, start: int, end: int) -> tuple[int, int] | None:
    covered = [i for i, t in enumerate(analysis.tokens) if t.start < end and start < t.end]
    return (covered[0], covered[-1]) if covered else None


def drop_contained(hits: list[IssueHit]) -> list[IssueHit]:
    """A mention inside a longer mention of another issue belongs to the longer one
    ("hoarding" inside "the pills he's been hoarding" is a risk, not OCD)."""
    def inside(small: IssueHit, big: IssueHit) -> bool:
        if big.concept or (big.risk and small.last > small.first):
            return False  # a risk statement swallows single words only ("voices telling him..." stays psychosis)
        return (small.issue_id != big.issue_id and big.first <= small.first and small.last <= big.last
                and big.last - big.first > small.last - small.first)
    return [h for h in hits if not any(inside(h, other) for other in hits)]
