"""Time the matcher per text against a plain-difflib baseline doing the same lookups, in one run.

Both variants run the full pipeline (find_issues + assess_risk) with the typo cache disabled, so
every word not in the vocabulary goes through the fuzzy lookup: rapidfuzz (the shipped one) or
difflib.get_close_matches (the baseline). Run: `python -m bench.matcher [FILE.jsonl] [--rounds N]`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import time
from pathlib import Path

from referbot.matching import Matcher

DEFAULT_TEXTS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "match_dev.jsonl"
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
