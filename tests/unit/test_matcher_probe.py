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


# The risk probes (tests/data/probe_risk_2026-11[a-e].jsonl) were each written before the matcher
# was scored on them and then used to find the categories it did not model; they now guard those
# categories against regressions. Their first-look (unseen) scores are in the README.
RISK_PROBES = sorted(PROBE.parent.glob("probe_risk_*.jsonl"))


@pytest.fixture(scope="module", params=RISK_PROBES, ids=lambda path: path.stem)
def risk_report(request: pytest.FixtureRequest) -> Report:
    return evaluate(Matcher(), read_jsonl(request.param))


def test_risk_probes_exist() -> None:
    assert len(RISK_PROBES) >= 4


def test_no_crisis_in_a_risk_probe_goes_unasked(risk_report: Report) -> None:
    assert risk_report.crisis_positives > 0 and risk_report.ambiguous > 0
    assert risk_report.crisis_recall_with_ask == 1.0, "\n".join(m for m in risk_report.misses if "MISSED" in m)
    assert risk_report.ambiguous_caught == risk_report.ambiguous, "\n".join(risk_report.misses)


def test_a_risk_probe_rarely_alarms_or_asks_without_cause(risk_report: Report) -> None:
    assert risk_report.crisis_false_positive_rate <= 0.03, "\n".join(risk_report.misses)
    assert risk_report.ask_rate <= 0.10, "\n".join(risk_report.misses)


def test_issue_f1_on_a_risk_probe_stays_above_its_floor(risk_report: Report) -> None:
    assert risk_report.f1 >= 0.8, risk_report.summary()
