"""One pass over a text shared by the issue matcher and the crisis detector.

Both need the same things: corrected words, where clauses begin and end, and which words sit in
the scope of a negation ("denies SI, HI", "no self-harm or anything like that") or in a past
("hx of cutting in teens"). Computing them once keeps every message cheap.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property

from referbot.matching.lexicon import TokenCorrector
from referbot.matching.text import Token, stem, tokenize

# Negation scope ends at a comma only when what follows is more than a short list item ("SI, HI").
_LIST_ITEM_MAX = 3
_SCOPE_MAX = 10


@dataclass(frozen=True)
class ContextRules:
    """Words that change what a mention means; loaded from data/context.yaml."""

    rewrites: dict[str, tuple[str, ...]]
    negation_cues: frozenset[str]
    negation_pairs: frozenset[tuple[str, str]]
    post_negations: frozenset[str]
    asked: re.Pattern[str]
    answers_no: frozenset[str]
    answer_words: frozenset[str]
    scope_breakers: frozenset[str]
    scope_breaker_pairs: frozenset[tuple[str, str]]
    new_subjects: frozenset[str]
    reporting_words: frozenset[str]
    historical: re.Pattern[str]
    recent: re.Pattern[str]
    joking: re.Pattern[str]
    idioms: re.Pattern[str]
    protected: frozenset[str]


@dataclass(frozen=True)
class Analysis:
    text: str
    tokens: list[Token]
    words: list[str]
    stems: list[str]
    similarity: list[float]
    joined: str
    offsets: list[int]
    negated_by: list[int | None]
    clause_of: list[int]
    idiom_spans: list[tuple[int, int]]

    def tokens_at(self, start: int, end: int) -> tuple[int, int]:
        """First and last token covered by a character span of `joined`."""
        first = bisect.bisect_right(self.offsets, start) - 1
        last = bisect.bisect_left(self.offsets, end) - 1
        return max(first, 0), max(last, first, 0)

    def evidence(self, first: int, last: int) -> str:
        return self.text[self.tokens[first].start:self.tokens[last].end]

    def clause(self, index: int) -> str:
        clause = self.clause_of[index]
        return " ".join(w for w, c in zip(self.words, self.clause_of) if c == clause)

    def sentence_start(self, index: int) -> int:
        """The first token of the sentence the token at `index` is in."""
        while index > 0 and self.tokens[index].brk != "hard":
            index -= 1
        return index

    def sentence_around(self, first: int, last: int) -> str:
        """The sentence of a span; a form's label and its answer are one ("Firearms in home: yes,
        licensed shotgun for the farm")."""
        start = self.sentence_start(first)
        end = last + 1
        while end < len(self.tokens) and (self.tokens[end].brk != "hard" or _after_label(self, end)):
            end += 1
        return " ".join(self.words[start:end])

    @cached_property
    def sentences(self) -> list[tuple[int, int]]:
        """Character spans of `joined`, one per sentence (hard breaks: full stops, new lines, brackets)."""
        bounds, begin = [], 0
        for i, token in enumerate(self.tokens):
            if token.brk == "hard" and i > begin:
                bounds.append((begin, i))
                begin = i
        if self.tokens:
            bounds.append((begin, len(self.tokens)))
        return [(self.offsets[a], self.offsets[b - 1] + len(self.words[b - 1])) for a, b in bounds]

    def in_idiom(self, first: int, last: int) -> bool:
        return any(a <= last and first <= b for a, b in self.idiom_spans)


def analyse(text: str, rules: ContextRules, corrector: TokenCorrector) -> Analysis:
    tokens = tokenize(text, rules.rewrites)
    corrected = [corrector.correct(t.norm) for t in tokens]
    words = [w for w, _ in corrected]
    offsets, position = [], 0
    for word in words:
        offsets.append(position)
        position += len(word) + 1
    joined = " ".join(words)
    partial = Analysis(text, tokens, words, [stem(w) for w in words], [s for _, s in corrected], joined,
                       offsets, [], _clauses(tokens), [])
    idioms = [partial.tokens_at(m.start(), m.end()) for m in rules.idioms.finditer(joined)]
    return Analysis(text, tokens, words, partial.stems, partial.similarity, joined, offsets,
                    _negation_scopes(tokens, words, rules), partial.clause_of, idioms)


def _clauses(tokens: list[Token]) -> list[int]:
    clause, result = 0, []
    for token in tokens:
        if token.brk:
            clause += 1
        result.append(clause)
    return result


def _negation_scopes(tokens: list[Token], words: list[str], rules: ContextRules) -> list[int | None]:
    """For each word, the index of the negation cue whose scope it lies in, if any."""
    segment_lengths = _segment_lengths(tokens)
    result: list[int | None] = []
    active: int | None = None
    for i, (token, word) in enumerate(zip(tokens, words)):
        following = words[i + 1] if i + 1 < len(words) else ""
        if token.brk == "hard" or word in rules.scope_breakers or (word, following) in rules.scope_breaker_pairs:
            active = None
        elif active is not None and _starts_new_clause(words, i, active, rules):
            active = None
        elif token.brk == "soft" and segment_lengths[i] > _LIST_ITEM_MAX:
            active = None
        if active is not None and i - active > _SCOPE_MAX:
            active = None
        result.append(active)
        if word in rules.negation_cues or (word, following) in rules.negation_pairs:
            active = i
    return result


def _starts_new_clause(words: list[str], i: int, cue: int, rules: ContextRules) -> bool:
    """A subject pronoun some words after a negation starts a statement of its own ("when she won't
    stop crying he feels like shaking her"), unless it is what was reported or denied ("denies that
    she has SI", "doesn't think he is safe")."""
    return words[i] in rules.new_subjects and i - cue > 1 and words[i - 1] not in rules.reporting_words


def _segment_lengths(tokens: list[Token]) -> list[int]:
    """Length of the punctuation-delimited segment each token starts (only meaningful at breaks)."""
    lengths = [0] * len(tokens)
    run = 0
    for i in range(len(tokens) - 1, -1, -1):
        run += 1
        lengths[i] = run
        if tokens[i].brk:
            run = 0
    return lengths


def concept_spans(slots: tuple[re.Pattern[str], ...], analysis: Analysis) -> list[tuple[int, int]]:
    """Token spans of the sentences where every slot of a concept occurs (a weapon and a menace; a
    family member and strain between them), from the first slot found to the last."""
    if not all(slot.search(analysis.joined) for slot in slots):
        return []  # most texts: some slot is nowhere at all
    spans = []
    for start, end in analysis.sentences:
        text = analysis.joined[start:end]
        matches = [slot.search(text) for slot in slots]
        if all(matches):
            lo = min(m.start() for m in matches if m) + start
            hi = max(m.end() for m in matches if m) + start
            spans.append(analysis.tokens_at(lo, hi))
    return spans


def is_negated(analysis: Analysis, first: int, last: int, rules: ContextRules) -> bool:
    """Negated by a cue before the mention ("denies SI") or a verdict after it ("item 9 negative").

    A mention that itself starts with a negation ("wouldn't still be here", "doesn't want to live")
    carries its own meaning and is not flipped by an earlier one ("if I didn't have the dog...").
    """
    cue = analysis.negated_by[first]
    if cue is not None and cue < first and analysis.words[first] not in rules.negation_cues:
        return True
    for j in range(last + 1, min(last + 4, len(analysis.words))):
        if analysis.tokens[j].brk == "hard" and not _after_label(analysis, j):
            break
        if analysis.words[j] in rules.post_negations:
            return True
        if analysis.words[j] in rules.answers_no and _after_label(analysis, j):
            return True  # a form's field answered "no": "Suicidal thoughts: no"
    return _answered_no(analysis, first, last, rules)


def _answered_no(analysis: Analysis, first: int, last: int, rules: ContextRules) -> bool:
    """A screening question reported with its answer: "asked if she was thinking of hurting herself
    and she said no". Only an answer that comes first counts, so "asked if he wanted to die and he
    said yes, no plan" stays a finding."""
    if not rules.asked.search(" ".join(analysis.words[analysis.sentence_start(first):first])):
        return False
    for j in range(last + 1, len(analysis.words)):
        if analysis.tokens[j].brk == "hard" and j > last + 1 and not _after_label(analysis, j):
            return False
        if analysis.words[j] not in rules.answer_words:
            return analysis.words[j] in rules.answers_no
    return False


def _after_label(analysis: Analysis, index: int) -> bool:
    """Whether only a colon separates this word from the one before: the verdict of a labelled field
    in a case note ("SI: denies", "SH: nil")."""
    gap = analysis.text[analysis.tokens[index - 1].end:analysis.tokens[index].start]
    return gap.strip() == ":"


def is_historical(analysis: Analysis, first: int, rules: ContextRules) -> bool:
    """A past mention with nothing in its clause saying it is happening now. A bracketed aside is
    read with the clause it explains: "Hx SH (cutting) age 14-17"."""
    clause = analysis.clause(first)
    if rules.recent.search(clause):
        return False
    explained = _explained_by_aside(analysis, first)
    return bool(rules.historical.search(clause) or explained is not None and rules.historical.search(analysis.clause(explained)))


def _explained_by_aside(analysis: Analysis, index: int) -> int | None:
    """The last word before the opening bracket of the aside that `index` is in, if it is in one."""
    start = analysis.clause_of.index(analysis.clause_of[index])
    if start == 0:
        return None
    gap = analysis.text[analysis.tokens[start - 1].end:analysis.tokens[start].start]
    return start - 1 if "(" in gap or "[" in gap else None
