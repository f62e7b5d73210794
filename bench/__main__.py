"""`python -m bench`: measure referbot against baselines taken in the same run.

  python -m bench                  everything, history up to 1M referrals (long: tens of minutes)
  python -m bench --quick          the same measurements at small sizes, in under two minutes
  python -m bench --jsonl out.jsonl   also write one JSON object per line:
                                      {"name", "value", "unit", "baseline", "ratio"}
  python -m bench --only turns,matcher   some sections only

Sections: turns (intake turns at 1, 50, 1,000 referrers on SQLite and PostgreSQL vs the durable-
write floor), telegram (CPU per input vs a bare python-telegram-bot bot over the same fake API),
matcher (vs rapidfuzz process.extract and difflib), history (nudger and stats on PostgreSQL at
10k/100k/1M referrals, and their growth per 10x), footprint (idle memory, memory per 1,000 open
conversations, start-up time). PostgreSQL is a throwaway server started from the installed binaries.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Awaitable, Callable

from bench.report import Result, print_table, write_jsonl
from bench.servers import Databases
from referbot.profile import Profile, load_profile

PROFILE = Path(__file__).resolve().parent.parent / "examples" / "practice.yaml"
Section = Callable[[Databases, Profile, bool], Awaitable[list[Result]]]


def sections() -> dict[str, Section]:
    from bench import footprint, history, matcher, telegram, turns

    return {"turns": turns.measure, "history": history.measure, "matcher": matcher.measure,
            "footprint": footprint.measure, "telegram": telegram.measure}



async def run(names: list[str], quick: bool) -> list[Result]:
    profile = load_profile(PROFILE)
    databases = Databases()
    results: list[Result] = []
    try:
        available = sections()
        for name in names:
            print(f"[bench] {name} …", file=sys.stderr, flush=True)
            results += await available[name](databases, profile, quick)
    finally:
        databases.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; under two minutes")
    parser.add_argument("--jsonl", type=Path, metavar="FILE", help="write the results as JSON lines to FILE")
    parser.add_argument("--only", default="turns,telegram,matcher,history,footprint",
                        help="comma-separated sections (default: all)")
    args = parser.parse_args()
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - {"turns", "telegram", "matcher", "history", "footprint"})
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    results = asyncio.run(run(names, args.quick))
    print_table(results, sys.stdout)
    if args.jsonl is not None:
        write_jsonl(results, args.jsonl)


if __name__ == "__main__":
    main()
