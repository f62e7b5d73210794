"""Typo tolerance: map a misspelt word onto the vocabulary word it was meant to be.

Referrals are typed fast on phones ("depresed", "insomia", "suicidle"). Correcting word by word
against the words the vocabulary and crisis patterns actually use keeps the lookup small and the
result explainable. Guards keep real words from being "corrected" into clinical ones ("mornings"
is not "mourning"): short words are never corrected, the first letter must agree, and a list of
common words that sit one edit away from a vocabulary word is protected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from referbot.matching.text import stem

# (word, choices, max edits) -> (choice, edits) or None. Swappable so the benchmark can time a
# plain-difflib baseline through the very same lookups.
Lookup = Callable[[str, list[str], int], tuple[str, int] | None]

MIN_FUZZY_LENGTH = 6


def rapidfuzz_lookup(word: str, choices: list[str], max_edits: int) -> tuple[str, int] | None:
    """Closest choice by edits (transpositions count one); ties go to the one sharing most letters."""
    hits = process.extract(word, choices, scorer=OSA.distance, score_cutoff=max_edits, limit=8)
    if not hits:
        return None
    best = min(hits, key=lambda hit: (hit[1], Indel.distance(word, hit[0]), hit[0]))
    return best[0], int(best[1])


class TokenCorrector:
    """Corrects single words; results are cached because referral language repeats itself."""

    def __init__(self, words: Iterable[str], protected: Iterable[str], lookup: Lookup = rapidfuzz_lookup,
                 cache_size: int = 50_000) -> None:
        self._known = frozenset(words)
        self._known_stems = frozenset(stem(w) for w in self._known)
        self._protected = frozenset(protected)
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(self._known):
            if len(word) >= MIN_FUZZY_LENGTH - 1 and word.isalpha():
                self._by_initial.setdefault(word[0], []).append(word)
        self._lookup = lookup
        self._cache: dict[str, tuple[str, float]] = {}
        self._cache_size = cache_size

    def correct(self, word: str) -> tuple[str, float]:
        """The intended vocabulary word and a similarity in (0, 1]; unknown words come back as is."""
        if (word in self._known or word in self._protected or len(word) < MIN_FUZZY_LENGTH or not word.isalpha()
                or stem(word) in self._known_stems):
            return word, 1.0
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        max_edits = 1 if len(word) <= 8 else 2
        hit = self._lookup(word, self._by_initial.get(word[0], []), max_edits)
        result = (hit[0], 1.0 - 0.08 * hit[1]) if hit else (word, 1.0)
        if len(self._cache) < self._cache_size:
            self._cache[word] = result
        return result


def words_to_protect(corrector: TokenCorrector, candidates: Iterable[str]) -> list[str]:
    """The real words `corrector` (built without protection) would turn into a vocabulary word of
    another root. `data/protected_words.txt` is this list over an English word list; it goes stale
    whenever the vocabulary grows, since a new clinical word has new neighbours ("hangover" put
    "handover" at risk), so `referbot protect-words` regenerates it."""
    words = {w for w in candidates if w.isalpha() and w.islower()}
    return sorted(w for w in words if stem(corrector.correct(w)[0]) != stem(w))
