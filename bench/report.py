"""Bench results: one line per measurement, compared with a baseline measured in the same run.

Names are stable across versions (`turns_per_s_sqlite_1`, `nudger_s_postgresql_1m` …) so that
JSON-lines files from two versions can be compared line by line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, TextIO


@dataclass(frozen=True)
class Result:
    """`value` of `name` in `unit`, next to `baseline` (same unit, same run) when there is one."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / baseline: above 1 is more than the baseline (faster for rates, slower for times)."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def to_json(self) -> str:
        ratio = self.ratio
        return json.dumps({"name": self.name, "value": round(self.value, 4), "unit": self.unit,
                           "baseline": None if self.baseline is None else round(self.baseline, 4),
                           "ratio": None if ratio is None else round(ratio, 4)})


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def print_table(results: Iterable[Result], out: TextIO) -> None:
    rows = [(r.name, _number(r.value), r.unit, _number(r.baseline), _number(r.ratio), r.note) for r in results]
    header = ("name", "value", "unit", "baseline", "ratio", "baseline is")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    out.flush()


def write_jsonl(results: Iterable[Result], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(result.to_json() + "\n")
