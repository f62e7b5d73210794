"""`referbot match`, `eval-matcher`, `train-matcher` and `protect-words`: the matcher from the command line.

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
    app.command("train-matcher")(train_matcher)
    app.command("protect-words")(protect_words)


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
        for item in _labelled_items(batch, "match"):
            print(json.dumps({"id": item.get("id"), **_result(matcher, item["text"])},
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
    """Score the matcher on a labelled file: issue precision/recall/F1, crisis recall (also counting
    "ask" as caught, and per kind when items carry `crisis_kind`), false alarms and the ask rate."""
    from referbot.matching.evaluation import evaluate

    report = evaluate(_matcher(profile), _labelled_items(file, "eval-matcher"))
    print(report.summary())
    print(f"misses ({len(report.misses)}):")
    for miss in report.misses:
        print(f"  {miss}")


def train_matcher(
    corpus: Annotated[list[Path], typer.Argument(help="Labelled JSONL files to learn from (text, risk, crisis_kind).")],
    validate: Annotated[Path, typer.Option("--validate", help="Labelled JSONL, not in the corpus, that sets the threshold.")],
    max_ask_rate: Annotated[float, typer.Option("--max-ask-rate", help="Share of texts without risk the bot may ask about.")] = 0.06,
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write the model (default: the shipped one).")] = None,
) -> None:
    """Train the learned second opinion on risk and set its threshold on a held-apart file."""
    from importlib import resources

    from referbot.matching.learned import MODEL_FILE
    from referbot.matching.training import train_and_calibrate

    items = [item for path in corpus for item in _labelled_items(path, "train-matcher")]
    trained = train_and_calibrate(items, _labelled_items(validate, "train-matcher"), max_ask_rate,
                                  {"corpus": sorted(p.name for p in corpus), "items": len(items),
                                   "validated_on": validate.name, "max_ask_rate": max_ask_rate})
    model = trained.model
    target = out or Path(str(resources.files("referbot.matching") / "data" / MODEL_FILE))
    model.save(target)
    print(f"trained on {len(items)} texts; risk threshold {model.threshold:.3f} "
          f"({trained.flagged} of {trained.negatives} texts without risk already flagged by the rules); "
          f"{len(model.issues)} issues, threshold {model.issue_threshold:.2f}; wrote {target}")


_PROTECTED_HEADER = """\
# Real English words one typo away from a vocabulary or crisis word, so never "corrected" into it
# ("artistic" is not "autistic", "attached" is not "attacked", "handover" is not "hangover").
# Made by `referbot protect-words /usr/share/dict/american-english-large
# /usr/share/dict/british-english-large` (Debian's wamerican-large and wbritish-large: referrers
# write both): run it again whenever the vocabulary or the crisis patterns gain a word.
"""


def protect_words(
    word_lists: Annotated[list[Path], typer.Argument(help="English word lists, one word per line (e.g. /usr/share/dict/*-english-large).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write the list (default: the shipped one).")] = None,
) -> None:
    """List the real words the typo corrector would turn into another word, so it never does."""
    from importlib import resources

    from referbot.cli.common import fail, file_problem
    from referbot.matching import unprotected_corrector
    from referbot.matching.lexicon import words_to_protect

    candidates: set[str] = set()
    for word_list in word_lists:
        try:
            candidates.update(word_list.read_text(encoding="utf-8", errors="replace").split())
        except OSError as problem:
            fail(file_problem(problem), 1)
    protected = words_to_protect(unprotected_corrector(), candidates)
    target = out or Path(str(resources.files("referbot.matching") / "data" / "protected_words.txt"))
    target.write_text(_PROTECTED_HEADER + "".join(f"{word}\n" for word in protected), encoding="utf-8")
    print(f"{len(protected)} of {len(candidates)} words protected; wrote {target}")


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
    """The fixed JSON shape: `crisis` is true only for level crisis; `risk` says crisis, ask or none."""
    risk = matcher.assess_risk(text)
    return {"issues": [m.to_dict() for m in matcher.find_issues(text)],
            "crisis": risk.is_crisis,
            "crisis_evidence": risk.evidence if risk.is_crisis else None,
            "risk": risk.to_dict()}


def _labelled_items(path: Path, command: str) -> list[dict[str, Any]]:
    """The items of a JSONL file, or one line naming the file and line that cannot be read."""
    from referbot.cli.common import fail
    from referbot.matching.evaluation import LabelledFileError, read_jsonl

    try:
        return read_jsonl(path)
    except LabelledFileError as problem:
        fail(f"referbot {command}: {problem}")


def _readable(matcher: Any, result: dict[str, Any]) -> str:
    lines = [f"{matcher.label(m['id'])} ({m['score']:.0f}) - \"{m['evidence']}\"" for m in result["issues"]]
    if not lines:
        lines = ["No presenting issues recognised."]
    risk = result["risk"]
    if risk["level"] == "crisis":
        lines.insert(0, f"CRISIS SIGNAL ({risk['kind']}): \"{risk['evidence']}\"")
    elif risk["level"] == "ask":
        lines.insert(0, f"ASK ABOUT SAFETY ({risk['kind']}): \"{risk['evidence']}\"")
    lines.extend(f"History (not alarmed on): \"{past}\"" for past in risk["history"])
    return "\n".join(lines)
