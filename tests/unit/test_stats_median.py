"""The median time to first contact is read from counts of waits per whole minute (all time reads
them from the running tallies): it must be the median of those waits, however they are spread."""

from __future__ import annotations

import statistics
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from referbot.stats.queries import median_hours


@given(st.lists(st.integers(min_value=-60, max_value=60 * 24 * 90), min_size=1, max_size=200))
def test_the_median_of_counted_waits_is_the_median_of_the_waits(waits: list[int]) -> None:
    assert median_hours(Counter(waits)) == statistics.median(waits) / 60


def test_no_waits_no_median() -> None:
    assert median_hours(Counter()) is None
    assert median_hours({30: 0}) is None  # a tally row counted down to nothing
    assert median_hours({30: 0, 90: 1, 150: 1}) == 2.0
