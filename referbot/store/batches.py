"""Ids or rows a statement's worth at a time, so that no statement grows with history."""

from __future__ import annotations

from typing import Iterator, Sequence, TypeVar

#: Rows (or ids) per statement: 11 columns x 2,000 rows stays far below PostgreSQL's 32,767 arguments.
BATCH = 2000
T = TypeVar("T")


def batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """`items` a statement's worth at a time, so no statement grows with history."""
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]
