"""Risk to life in free text, tuned for recall: a missed crisis is far worse than a false alarm.

Patterns (data/crisis.yaml) cover direct, indirect, slang and misspelt wording. A hit is dropped
only for an explicit reason: negated ("denies SI"), plainly in the past with nothing current in
its clause ("attempt in 2009"), inside an idiom or someone else's death ("lost him to suicide"),
or, for threats towards others only, said in jest ("jokes he'll murder the ref").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from referbot.matching.analysis import Analysis, ContextRules, is_historical, is_negated
from referbot.matching.vocabulary import expand_macros, load_data, whole_word

# Most severe first: the first surviving hit is the one reported.
KINDS = ("suicide", "self_harm", "harm_to_others", "danger")


@dataclass(frozen=True)
class CrisisHit:
    kind: str
    first: int
    last: int


class CrisisDetector:
    def __init__(self, rules: ContextRules) -> None:
        data = load_data("crisis")
        self._rules = rules
        self._patterns = {kind: [re.compile(expand_macros(p, data["macros"])) for p in data[kind]["patterns"]]
                          for kind in KINDS}
        # One scan per kind finds whether any pattern can hit; most messages stop there.
        self._any = {kind: re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
                     for kind, patterns in self._patterns.items()}
        self._abbreviations = [(kind, whole_word(p)) for kind in KINDS for p in data[kind].get("abbreviations", [])]

    @staticmethod
    def words() -> set[str]:
        """Words the patterns spell out: typos of them are corrected towards them, and they
        themselves are never "corrected" into something else ("living" must stay "living")."""
        data = load_data("crisis")
        patterns = [p for kind in KINDS for p in data[kind]["patterns"]] + list(data["macros"].values())
        spelt = {w for p in patterns for w in re.findall(r"[a-z]{4,}", re.sub(r"\\[a-zA-Z]", " ", p))}
        return spelt | set(data["words"])

    def hits(self, analysis: Analysis) -> list[CrisisHit]:
        found = []
        for kind, patterns in self._patterns.items():
            if not self._any[kind].search(analysis.joined):
                continue
            for pattern in patterns:
                for match in pattern.finditer(analysis.joined):
                    found.append(CrisisHit(kind, *analysis.tokens_at(match.start(), match.end())))
        for kind, pattern in self._abbreviations:
            for match in pattern.finditer(analysis.text):
                covered = [i for i, t in enumerate(analysis.tokens) if t.start < match.end() and match.start() < t.end]
                if covered:
                    found.append(CrisisHit(kind, covered[0], covered[-1]))
        kept = [hit for hit in found if self._stands(hit, analysis)]
        return sorted(kept, key=lambda hit: (KINDS.index(hit.kind), hit.first))

    def _stands(self, hit: CrisisHit, analysis: Analysis) -> bool:
        if analysis.in_idiom(hit.first, hit.last):
            return False
        if is_negated(analysis, hit.first, hit.last, self._rules):
            return False
        if is_historical(analysis, hit.first, self._rules):
            return False
        if hit.kind == "harm_to_others":
            return not self._rules.joking.search(analysis.sentence_around(hit.first, hit.last))
        return True
