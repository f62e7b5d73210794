"""Free text as tokens that keep their place in the original, so evidence quotes the referrer's words.

Referrals are written in shorthand, slang and texting style ("he'll", "w/", "bc", "OD'd"). Each word
is normalised once here (case, apostrophes, contractions, a small rewrite table from the data) so
that vocabulary and crisis patterns are written against one plain form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A sentence-level break between two words: full stops, semicolons, new lines, spaced dashes, brackets.
_HARD_GAP = re.compile(r"[.;!?\n()\[\]:]|\s[-–—]+\s|[–—]")
_SOFT_GAP = re.compile(r"[,]")
_PRONOUNS = frozenset({"i", "he", "she", "they", "we", "you", "it", "who", "that", "there"})
_CONTRACTIONS = {"ll": "will", "re": "are", "ve": "have", "m": "am", "d": "would"}
# -ing words that name something else than their verb ("parenting" is not "parents").
_WHOLE_WORDS = frozenset({"parenting", "meeting", "evening", "morning", "building", "wedding", "clothing",
                          "ceiling", "during", "nothing", "something", "anything", "everything"})
_MIN_ROOT = 4


@dataclass(frozen=True)
class Token:
    """One normalised word; `start`/`end` locate the original word it came from."""

    norm: str
    start: int
    end: int
    brk: str  # what separates it from the previous token: "hard", "soft" or ""


def tokenize(text: str, rewrites: dict[str, tuple[str, ...]]) -> list[Token]:
    """Split text into normalised tokens; one original word may yield several ("he'll" -> he will)."""
    tokens: list[Token] = []
    previous_end = 0
    for match in _WORD.finditer(text):
        gap = text[previous_end:match.start()]
        brk = "hard" if _HARD_GAP.search(gap) else "soft" if _SOFT_GAP.search(gap) else ""
        if not tokens:
            brk = ""
        for i, norm in enumerate(_normalise_word(match.group(), rewrites)):
            tokens.append(Token(norm, match.start(), match.end(), brk if i == 0 else ""))
        previous_end = match.end()
    return tokens


def _normalise_word(word: str, rewrites: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    lowered = unicodedata.normalize("NFKC", word).casefold().replace("’", "'")
    if lowered in rewrites:
        return rewrites[lowered]
    if "'" in lowered:
        base, _, suffix = lowered.rpartition("'")
        if base in _PRONOUNS and suffix in _CONTRACTIONS:
            return (base, _CONTRACTIONS[suffix])
        lowered = lowered.replace("'", "")
        if lowered in rewrites:
            return rewrites[lowered]
    return (lowered,)


def stem(word: str) -> str:
    """A light suffix stripper, applied alike to vocabulary and text so inflections meet.

    Roots shorter than four letters are left whole: "raped" must not become "rap", nor "dating" "dat".
    """
    if len(word) <= _MIN_ROOT or not word.isalpha() or word in _WHOLE_WORDS:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 5:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            root = word[: -len(suffix)]
            if len(root) > _MIN_ROOT and root[-1] == root[-2] and root[-1] not in "lsz":
                root = root[:-1]
            return root if len(root) >= _MIN_ROOT else word
    if word.endswith(("ses", "xes", "zes", "shes", "ches")) and len(word) > 5:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
