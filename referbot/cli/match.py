"""`referbot match` and `referbot eval-matcher`: the matcher from the command line.

This is also the acceptance interface, so the JSON shapes are fixed. Imports stay light (no
database or chat libraries) so a batch of hundreds of texts runs in well under a few seconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("match")(match)
    app.command("eval-matcher")(eval_matcher)


def match(
    text: Annotated[Optional[str], typer.Argument(help="Text to match, e.g. a referral's presenting issues.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a readable summary.")] = False,
    batch: Annotated[Optional[Path], typer.Option("--batch", help="JSONL file of {id, text}; one JSON line out per line in.")] = None,
    profile: Annotated[Optional[Path], typer.Option("--profile", help="practice.yaml whose extra phrases to use.")] = None,
) -> None:
    """Find presenting issues and crisis signals in free text."""
    if (text is None) == (batch is None):
        raise typer.BadParameter("give either TEXT or --batch FILE")
    matcher = _matcher(profile)
    if batch is not None:
        for item in _read_batch(batch):
            print(json.dumps({"id": item.get("id"), **_result(matcher, str(item.get("text") or ""))},
                             ensure_ascii=False), flush=False)
        sys.stdout.flush()
        return
    result = _result(matcher, text or "")
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(_readable(matcher, result))


def eval_matcher(
    file: Annotated[Path, typer.Argument(help="Labelled JSONL (id, text, issues, acceptable, crisis).")],
    profile: Annotated[Optional[Path], typer.Option("--profile", help="practice.yaml whose extra phrases to use.")] = None,
) -> None:
    """Score the matcher on a labelled file: issue precision/recall/F1, crisis recall and false alarms."""
    from referbot.matching.evaluation import evaluate, read_jsonl

    report = evaluate(_matcher(profile), read_jsonl(file))
    print(report.summary())
    print(f"misses ({len(report.misses)}):")
    for miss in report.misses:
        print(f"  {miss}")


def _matcher(profile_path: Path | None) -> Any:
    from referbot.matching import Matcher

    if profile_path is None:
        return Matcher()
    from referbot.profile import ProfileError, load_profile

    try:
        return Matcher(load_profile(profile_path))
    except ProfileError as exc:
        raise typer.BadParameter(str(exc)) from None


def _result(matcher: Any, text: str) -> dict[str, Any]:
    signal = matcher.detect_crisis(text)
    return {"issues": [m.to_dict() for m in matcher.find_issues(text)],
            "crisis": signal is not None,
            "crisis_evidence": signal.evidence if signal else None}


def _read_batch(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"{path}: {exc}") from None


def _readable(matcher: Any, result: dict[str, Any]) -> str:
    lines = [f"{matcher.label(m['id'])} ({m['score']:.0f}) - \"{m['evidence']}\"" for m in result["issues"]]
    if not lines:
        lines = ["No presenting issues recognised."]
    if result["crisis"]:
        lines.insert(0, f"CRISIS SIGNAL: \"{result['crisis_evidence']}\"")
    return "\n".join(lines)
