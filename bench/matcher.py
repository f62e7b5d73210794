"""Time the matcher per text against baselines doing comparable work, in one run.

- difflib: the full pipeline (find_issues + assess_risk) with the typo cache disabled, so every
  word not in the vocabulary goes through the fuzzy lookup: rapidfuzz (the shipped one) or
  difflib.get_close_matches (the baseline).
- process.extract: the obvious one-liner a bot would use instead — rapidfuzz `process.extract`
  of each whole text against every vocabulary phrase (partial_ratio, best 5). It knows nothing
  of negation, history or risk, so it is a floor for speed, not a rival for quality.

`python -m bench` reports both (section "matcher"); `python -m bench.matcher [FILE.jsonl]
[--rounds N]` prints the difflib comparison alone.
"""

from __future__ import annotations

import argparse
import difflib
import json
import time
from pathlib import Path

from rapidfuzz import fuzz, process

from bench.report import Result
from referbot.matching import Matcher
from referbot.matching.vocabulary import build_vocabulary, context_rules
from referbot.profile import Profile

DEFAULT_TEXTS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "match_dev.jsonl"
#: Referral texts that ship with the repository (the held-out probe), so every machine times the same.
PROBE_TEXTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "matcher_probe.jsonl"
SAMPLE = ["32F GAD+MDD on sertraline", "can't get out of bed since she lost her mum", "ptsd frm car crash",
          "binge and purge", "doesn't see the point anymore", "depresed, insomia, drinking alchohol",
          "Pt denies SI, HI, AVH. Chief complaint: irritability and snapping at coworkers."]


def difflib_lookup(word: str, choices: list[str], max_edits: int) -> tuple[str, int] | None:
    """The baseline: difflib's closest candidate, accepted when its unmatched letters are few enough."""
    for candidate in difflib.get_close_matches(word, choices, n=1, cutoff=0.7):
        matcher = difflib.SequenceMatcher(None, word, candidate)
        edits = max(len(word), len(candidate)) - sum(b.size for b in matcher.get_matching_blocks())
        if edits <= max_edits:
            return candidate, edits
    return None


def per_text_seconds(matcher: Matcher, texts: list[str], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            matcher.find_issues(text)
            matcher.assess_risk(text)
    return (time.perf_counter() - start) / (rounds * len(texts))


def extract_per_text_seconds(profile: Profile, texts: list[str], rounds: int) -> float:
    """The process.extract baseline: each text against every phrase of the same vocabulary."""
    phrases = sorted({" ".join(p.words) for p in build_vocabulary(profile, context_rules()).phrases})
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            process.extract(text.lower(), phrases, scorer=fuzz.partial_ratio, limit=5)
    return (time.perf_counter() - start) / (rounds * len(texts))


async def measure(_databases: object, profile: Profile, quick: bool) -> list[Result]:
    """Per-text times as shipped (typo cache on) and without the cache, against the baselines."""
    texts = load_texts(PROBE_TEXTS)
    rounds = 1 if quick else 3
    shipped = per_text_seconds(Matcher(profile), texts, rounds)
    uncached = per_text_seconds(Matcher(profile, cache_size=0), texts, rounds)
    difflib_based = per_text_seconds(Matcher(profile, lookup=difflib_lookup, cache_size=0), texts[:50], 1)
    extract = extract_per_text_seconds(profile, texts, rounds)
    return [Result("matcher_ms_per_text", shipped * 1000, "ms", extract * 1000, "rapidfuzz process.extract"),
            Result("matcher_uncached_ms_per_text", uncached * 1000, "ms", difflib_based * 1000,
                   "same pipeline, difflib lookups")]


def load_texts(path: Path) -> list[str]:
    if not path.exists():
        return SAMPLE
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_TEXTS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = load_texts(args.file)
    fast = per_text_seconds(Matcher(cache_size=0), texts, args.rounds)
    slow = per_text_seconds(Matcher(lookup=difflib_lookup, cache_size=0), texts, args.rounds)
    print(f"{len(texts)} texts x {args.rounds} rounds, typo cache off")
    print(f"rapidfuzz matcher: {fast * 1000:.3f} ms per text")
    print(f"difflib baseline:  {slow * 1000:.3f} ms per text")
    print(f"ratio (baseline / rapidfuzz): {slow / fast:.1f}x")
    print(f"with the typo cache on (as shipped): {per_text_seconds(Matcher(), texts, args.rounds) * 1000:.3f} ms per text")


if __name__ == "__main__":
    main()
