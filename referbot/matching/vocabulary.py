"""The shipped vocabulary (data/*.yaml) merged with what a practice adds in its profile."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from referbot.matching.analysis import ContextRules
from referbot.matching.text import stem, tokenize

if TYPE_CHECKING:  # the profile checks its issue ids against this module: no import back at run time
    from referbot.profile import Profile


@cache
def load_data(name: str) -> dict[str, Any]:
    """Parse one of the data files shipped with the package (once per process)."""
    text = resources.files("referbot.matching").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 10x faster start-up


def _data_lines(filename: str) -> list[str]:
    text = resources.files("referbot.matching").joinpath("data", filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def whole_word(pattern: str) -> re.Pattern[str]:
    """A case-sensitive abbreviation pattern that must stand as a word of its own."""
    return re.compile(rf"(?<![^\W_])(?:{pattern})(?![^\W_])")


def expand_macros(pattern: str, macros: dict[str, str]) -> str:
    for name, value in macros.items():
        pattern = pattern.replace(f"<{name}>", value)
    return pattern


# The id of `not_issues` phrases: wordings that contain an issue phrase but mean something else
# ("won't eat with the family" is not food refusal). They swallow the shorter find, then vanish.
NOT_AN_ISSUE = "-"


@dataclass(frozen=True, order=True)
class Phrase:
    issue_id: str
    stems: tuple[str, ...]
    words: tuple[str, ...]
    supporting: bool = False  # evidence only beside another phrase of the same issue


@dataclass(frozen=True)
class Vocabulary:
    labels: dict[str, str]
    phrases: tuple[Phrase, ...]
    abbreviations: tuple[tuple[str, re.Pattern[str]], ...]
    clause_final: dict[str, str]
    clause_final_blockers: frozenset[str]
    concepts: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]  # issue id, slots all in one sentence

    def words(self) -> set[str]:
        return {w for phrase in self.phrases for w in phrase.words}


@cache
def context_rules() -> ContextRules:
    data = load_data("context")
    return ContextRules(
        rewrites={k: tuple(v) for k, v in data["rewrites"].items()},
        negation_cues=frozenset(data["negation_cues"]),
        negation_pairs=frozenset(tuple(p) for p in data["negation_pairs"]),
        post_negations=frozenset(data["post_negations"]),
        asked=re.compile(data["asked"]),
        answers_no=frozenset(data["answers_no"]),
        answer_words=frozenset(data["answer_words"]),
        scope_breakers=frozenset(data["scope_breakers"]),
        scope_breaker_pairs=frozenset(tuple(p) for p in data["scope_breaker_pairs"]),
        new_subjects=frozenset(data["new_subjects"]),
        reporting_words=frozenset(data["reporting_words"]),
        historical=re.compile(data["historical"]),
        recent=re.compile(data["recent"]),
        joking=re.compile(data["joking"]),
        idioms=re.compile(data["idioms"]),
        protected=frozenset(_data_lines("protected_words.txt")),
    )


def taxonomy_labels() -> dict[str, str]:
    return {issue_id: entry["label"] for issue_id, entry in load_data("vocabulary")["issues"].items()}


def build_vocabulary(profile: Profile | None, rules: ContextRules) -> Vocabulary:
    data = load_data("vocabulary")
    labels = taxonomy_labels()
    raw: dict[str, list[str]] = {}
    for issue_id, entry in data["issues"].items():
        raw[issue_id] = [p for phrase in entry["phrases"] for p in _expand(phrase, data["macros"])]
    if profile is not None:
        for issue_id, phrases in profile.issue_phrases.items():
            raw.setdefault(issue_id, []).extend(phrases)
        for custom in profile.custom_specialties:
            labels.setdefault(custom.id, custom.label)
            raw.setdefault(custom.id, []).extend([custom.label, *custom.phrases])
    raw[NOT_AN_ISSUE] = [p for phrase in data["not_issues"] for p in _expand(phrase, data["macros"])]
    phrases = {_phrase(issue_id, text, rules) for issue_id, texts in raw.items() for text in texts}
    phrases |= {_phrase(issue_id, text, rules, supporting=True) for issue_id, entry in data["issues"].items()
                for phrase in entry.get("supporting", []) for text in _expand(phrase, data["macros"])}
    abbreviations = tuple((issue_id, whole_word(pattern)) for issue_id, entry in data["issues"].items()
                          for pattern in entry.get("abbreviations", []))
    clause_final = {stem(word): issue_id for issue_id, entry in data["issues"].items()
                    for word in entry.get("clause_final", [])}
    slots = {name: re.compile(pattern) for name, pattern in data["concept_slots"].items()}
    concepts = tuple((issue_id, tuple(slots[name] for name in concept))
                     for issue_id, listed in data["concepts"].items() for concept in listed)
    return Vocabulary(labels, tuple(sorted(p for p in phrases if p.stems)), abbreviations, clause_final,
                      frozenset(data["clause_final_blockers"]), concepts)


def _expand(phrase: str, macros: dict[str, list[str]]) -> list[str]:
    """Every spelling of a phrase; one with two macros ("<spouse> moved out <when>") yields each pair."""
    for name, values in macros.items():
        if f"<{name}>" in phrase:
            return [p for value in values for p in _expand(phrase.replace(f"<{name}>", value), macros)]
    return [phrase]


def _phrase(issue_id: str, text: str, rules: ContextRules, supporting: bool = False) -> Phrase:
    words = tuple(t.norm for t in tokenize(text, rules.rewrites))
    return Phrase(issue_id, tuple(stem(w) for w in words), words, supporting)
