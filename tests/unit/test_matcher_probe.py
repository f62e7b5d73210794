"""Generalisation guard: the matcher on referrals written in other words than the dev set.

tests/data/matcher_probe.jsonl holds short referrals in lay, slang, regional and clinical wording
(the way GPs, teachers, parents, partners and clients describe symptoms), labelled with what an intake
clinician would expect. Thresholds, not exact numbers, so the vocabulary can keep growing; every miss
is printed so a failing run says which wording broke.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from referbot.matching import Matcher
from referbot.matching.evaluation import Report, evaluate, read_jsonl

PROBE = Path(__file__).parent.parent / "data" / "matcher_probe.jsonl"


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(Matcher(), read_jsonl(PROBE))


def test_issue_f1_on_the_probe_stays_high(report: Report) -> None:
    assert report.f1 >= 0.9, report.summary() + "\n" + "\n".join(report.misses)


def test_no_crisis_in_the_probe_is_missed(report: Report) -> None:
    assert report.crisis_positives > 0
    assert report.crisis_recall == 1.0, "\n".join(m for m in report.misses if "CRISIS MISSED" in m)


def test_crisis_false_alarms_on_the_probe_stay_rare(report: Report) -> None:
    assert report.crisis_false_positive_rate <= 0.05, "\n".join(m for m in report.misses if "false alarm" in m)
