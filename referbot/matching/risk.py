"""Risk in free text: who is in danger, how sure the words are, and what is only history.

data/risk.yaml models risk as families, one concept each (suicide, self-harm, overdose, medical
danger, harm to others, abuse), each with a kind (who is in danger) and evidence at two levels:
`crisis` wording says danger now; `ask` wording may or may not ("doesn't see the point anymore"),
so the bot asks. `concepts` are slots that mean danger only together in one sentence (a weapon and a
menace; stopped treatment and meaning it; no food or fluids and a span of days), so a new wording
of a known concept is caught without a new phrase.

A finding is then judged in context, each rule for an explicit reason: negated ("denies SI"),
inside an idiom or someone else's death ("lost him to suicide"), said of a dream or a story, a
threat said in jest, a thought of death that is fear of death, an injury by accident — dropped; in
the past with nothing current in its clause ("hx of OD in 2015", "was abused as a child") — kept
as history, never alarmed on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from referbot.domain import CrisisKind, RiskLevel
from referbot.matching.analysis import Analysis, ContextRules, concept_spans, is_historical, is_negated
from referbot.matching.vocabulary import expand_macros, load_data, whole_word

# Which kind is reported when several are found: the most urgent help first.
KIND_PRECEDENCE = (CrisisKind.MEDICAL, CrisisKind.SELF, CrisisKind.OTHERS, CrisisKind.FROM_OTHERS)
# Targets that mean the client (or the referrer) is the one threatened: "said he'll kill me/her".
_THREATENED_PERSON = frozenset({"me", "us", "her", "him", "them", "client", "patient", "pt"})
# An actor before a threat that makes it the client's own: "client says he will kill him".
_CLIENT_ACTOR = frozenset({"i", "client", "patient", "pt"})
_NON_FAMILY_KEYS = frozenset({"macros", "slots", "context", "words"})
# How many words either side of a finding a game may be named for the finding to be play ("on a shooter game
# screaming I'm going to kill you").
_PLAY_REACH = 12
# The family that judges the issue vocabulary's finds of suicidal ideation or self-harm.
BACKSTOP = "vocabulary_backstop"


@dataclass(frozen=True)
class Family:
    """One concept of risk, as data/risk.yaml describes it."""

    name: str
    kind: CrisisKind
    issue: str | None
    ask_issue: str | None
    crisis: re.Pattern[str] | None
    ask: re.Pattern[str] | None
    past: re.Pattern[str] | None
    concepts: tuple[tuple[re.Pattern[str], ...], ...]
    abbreviations: tuple[re.Pattern[str], ...]
    jest: bool
    fear: bool
    accident: bool
    sport: bool
    intrusive: bool
    care_plan: bool
    threatened_issue: str | None  # set for threats: the issue when the client is the one threatened


@dataclass(frozen=True)
class Finding:
    """One piece of evidence of risk that survived its context; `historical` ones are history only."""

    family: Family
    level: RiskLevel
    kind: CrisisKind
    first: int
    last: int
    historical: bool
    issue: str | None  # the presenting issue this finding also is


class RiskDetector:
    def __init__(self, rules: ContextRules) -> None:
        data = load_data("risk")
        macros = data["macros"]
        self._rules = rules
        slots = {name: re.compile(expand_macros(p, macros)) for name, p in data["slots"].items()}
        self._families = tuple(_family(name, entry, macros, slots) for name, entry in data.items()
                               if name not in _NON_FAMILY_KEYS)
        self._unreal = re.compile(data["context"]["unreal"])
        self._fear = re.compile(data["context"]["fear"])
        self._ongoing = re.compile(data["context"]["ongoing"])
        self._ceased = re.compile(data["context"]["ceased"])
        self._accident = re.compile(data["context"]["accident"])
        self._play = re.compile(data["context"]["play"])
        self._earnest = re.compile(data["context"]["earnest"])
        self._sport = re.compile(data["context"]["sport"])
        self._care_plan = re.compile(data["context"]["care_plan"])
        self._thought = re.compile(data["context"]["thought"])
        self._abhorrent = re.compile(data["context"]["abhorrent"])
        self._household_threat = re.compile(rf"\b(?:{macros['household_threat']})$")

    @staticmethod
    def words() -> set[str]:
        """Words the patterns spell out: typos of them are corrected towards them, and they
        themselves are never "corrected" into something else ("living" must stay "living")."""
        data = load_data("risk")
        patterns = [*data["macros"].values(), *data["slots"].values()]
        for name, entry in data.items():
            if name not in _NON_FAMILY_KEYS:
                patterns += [*entry.get("crisis", []), *entry.get("ask", []), *entry.get("past", [])]
        spelt = {w for p in patterns for w in re.findall(r"[a-z]{4,}", re.sub(r"\\[a-zA-Z]", " ", p))}
        return spelt | set(data["words"])

    def findings(self, analysis: Analysis,
                 backstop: Iterable[tuple[int, int]] = ()) -> tuple[list[Finding], tuple[tuple[int, int], ...]]:
        """Every finding that stands in its context, current and historical alike, and the token spans
        of wording of risk that was seen and dismissed by its context (negated, an idiom, a dream, a joke...).
        `backstop` spans are the issue vocabulary's own finds of risk, judged here as an `ask` of the
        backstop family."""
        found: list[Finding] = []
        dismissed: list[tuple[int, int]] = []
        for family in self._families:
            spans = _raw(family, analysis)
            if family.name == BACKSTOP:
                spans += [(RiskLevel.ASK, first, last, False) for first, last in backstop]
            for level, first, last, past in spans:
                if not self._stands(family, analysis, first, last):
                    dismissed.append((first, last))
                else:
                    level = self._in_jest(family, level, analysis, first, last)
                    level = self._abhorred(family, level, analysis, first, last)
                    kind, issue = self._who(family, level, analysis, first, last)
                    found.append(Finding(family, level, kind, first, last, self._historical(analysis, first, past), issue))
        return found, tuple(dismissed)

    def _historical(self, analysis: Analysis, first: int, past: bool) -> bool:
        """A `past` pattern ("was abused") is history unless its clause says it goes on ("was hit
        again", "still living with him"); any other is history when its clause says it is past ("hx of",
        "in 2015", "as a teen"), or when its sentence says it has stopped since ("cut her arm last
        month, has stopped since") and its clause does not say it goes on."""
        if past:
            return not self._ongoing.search(analysis.clause(first))
        if self._ceased.search(analysis.sentence_around(first, first)) and not self._ongoing.search(analysis.clause(first)):
            return True
        return is_historical(analysis, first, self._rules)

    def _stands(self, family: Family, analysis: Analysis, first: int, last: int) -> bool:
        if analysis.in_idiom(first, last) or is_negated(analysis, first, last, self._rules):
            return False
        before = _sentence_before(analysis, first)
        if self._unreal.search(before) or self._in_play(analysis, first, last):
            return False
        sentence = analysis.sentence_around(first, last)
        if family.jest and self._said_in_jest(sentence):
            return False
        if family.accident and self._accident.search(sentence):
            return False
        if family.sport and self._sport.search(sentence):
            return False
        if family.care_plan and self._care_plan.search(sentence):
            return False
        return not (family.fear and self._fear.search(sentence))

    def _in_play(self, analysis: Analysis, first: int, last: int) -> bool:
        """Said into a game a few words away ("screams I'll kill you when he's on a shooter game"), unless
        something current stands between ("plays games all day and last night held a knife to ...")."""
        words = analysis.words
        around = " ".join(words[max(0, first - _PLAY_REACH):first] + words[last + 1:last + 1 + _PLAY_REACH])
        return bool(self._play.search(around)) and not self._rules.recent.search(around)

    def _in_jest(self, family: Family, level: RiskLevel, analysis: Analysis, first: int, last: int) -> RiskLevel:
        """Talk of one's own death said in jest ("we say kms about everything lol") is asked about,
        never ignored: a joke is a common way to say it the first time."""
        if family.kind is CrisisKind.SELF and level is RiskLevel.CRISIS and not family.jest \
                and self._said_in_jest(analysis.sentence_around(first, last)):
            return RiskLevel.ASK
        return level

    def _abhorred(self, family: Family, level: RiskLevel, analysis: Analysis, first: int, last: int) -> RiskLevel:
        """A thought of harm the person abhors ("thoughts about stabbing my girlfriend ... they horrify
        me, I avoid the kitchen") is how OCD's intrusive thoughts are told: asked about, not alarmed on,
        since the same words without the horror are intent."""
        if not family.intrusive or level is not RiskLevel.CRISIS:
            return level
        told_as_thought = self._thought.search(" ".join(analysis.words[max(0, first - 4):last + 1]))
        if told_as_thought and self._abhorrent.search(analysis.joined) and not self._earnest.search(analysis.joined):
            return RiskLevel.ASK
        return level

    def _said_in_jest(self, sentence: str) -> bool:
        return bool(self._rules.joking.search(sentence)) and not self._earnest.search(sentence)

    def _who(self, family: Family, level: RiskLevel, analysis: Analysis, first: int,
             last: int) -> tuple[CrisisKind, str | None]:
        """Who is in danger, and the presenting issue that makes. A threat against a bare "her" is
        the client in danger from someone else (unless the client is named as the one threatening),
        and so is anyone threatened by a partner or parent ("dad threatens to hurt mum"): their issue
        is not anger. A threat against "me" puts the referrer in danger from the client."""
        if level is RiskLevel.ASK:
            return family.kind, family.ask_issue
        if family.threatened_issue is None:
            return family.kind, family.issue
        before = _sentence_before(analysis, first)
        if self._household_threat.search(" ".join(before.split()[-3:])):
            return CrisisKind.FROM_OTHERS, family.threatened_issue
        words = analysis.words
        target = words[last] if words[last] in _THREATENED_PERSON else words[last + 1] if last + 1 < len(words) else ""
        if target in {"me", "us"}:
            return CrisisKind.FROM_OTHERS, family.issue
        if target in _THREATENED_PERSON and not (set(before.split()) | set(words[first:first + 2])) & _CLIENT_ACTOR:
            return CrisisKind.FROM_OTHERS, family.threatened_issue
        return family.kind, family.issue


def _family(name: str, entry: dict[str, Any], macros: dict[str, str], slots: dict[str, re.Pattern[str]]) -> Family:
    def joined(key: str) -> re.Pattern[str] | None:
        patterns = [expand_macros(p, macros) for p in entry.get(key, [])]
        return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    return Family(name, CrisisKind(entry["kind"]), entry.get("issue"), entry.get("ask_issue"), joined("crisis"), joined("ask"), joined("past"),
                  tuple(tuple(slots[s] for s in concept) for concept in entry.get("concepts", [])),
                  tuple(whole_word(p) for p in entry.get("abbreviations", [])),
                  *(bool(entry.get(flag)) for flag in ("jest", "fear", "accident", "sport", "intrusive", "care_plan")),
                  entry.get("threatened_issue"))


def _raw(family: Family, analysis: Analysis) -> list[tuple[RiskLevel, int, int, bool]]:
    """Level, token span and whether it is told in the past, for every match of one family."""
    spans = []
    for level, pattern, past in ((RiskLevel.CRISIS, family.crisis, False), (RiskLevel.ASK, family.ask, False),
                                 (RiskLevel.CRISIS, family.past, True)):
        if pattern is not None:
            spans += [(level, *analysis.tokens_at(m.start(), m.end()), past) for m in pattern.finditer(analysis.joined)]
    for abbreviation in family.abbreviations:
        for match in abbreviation.finditer(analysis.text):
            covered = [i for i, t in enumerate(analysis.tokens) if t.start < match.end() and match.start() < t.end]
            if covered:
                spans.append((RiskLevel.CRISIS, covered[0], covered[-1], False))
    for slots in family.concepts:
        spans += [(RiskLevel.CRISIS, *span, False) for span in concept_spans(slots, analysis)]
    return spans


def _sentence_before(analysis: Analysis, index: int) -> str:
    return " ".join(analysis.words[analysis.sentence_start(index):index])
