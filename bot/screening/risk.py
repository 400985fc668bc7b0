"""Re-identification risk for individual-level tables (k-anonymity, sdcMicro-style).

k is the size of the smallest group of records sharing the same quasi-identifier values.
The global risk is the expected share of re-identified records, sum(1/f_k)/n (sdcMicro's
individual risk without sampling weights, averaged).  The Humanitarian Data Exchange uses
3% as the threshold.  Counting is bounded: after `max_combinations` distinct keys we stop
adding new keys and say so in the report."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

THRESHOLD = 0.03


class RiskCounter:
    def __init__(
        self, names: list[str], columns: list[int], max_combinations: int = 1_000_000, max_rows: int = 20_000
    ) -> None:
        self.names = names
        self.columns = columns
        self.max_combinations = max_combinations
        self.max_rows = max_rows
        self.counts: dict[tuple[str, ...], int] = {}
        self.rows = 0
        self.truncated = False
        self._maxcol = max(columns) if columns else 0
        self._get = operator.itemgetter(*columns) if columns else (lambda r: ())

    def add(self, row: Sequence[str]) -> bool:
        """Count one record; returns False when no more rows are wanted."""
        if self.rows >= self.max_rows:
            return False
        if len(row) > self._maxcol:
            key = self._get(row)
            if len(self.columns) == 1:
                key = (key,)
        else:
            key = tuple((row[c] if c < len(row) else "") for c in self.columns)
        if not any(key):
            return True
        self.rows += 1
        cur = self.counts.get(key)
        if cur is None:
            if len(self.counts) >= self.max_combinations:
                self.truncated = True
                return True
            self.counts[key] = 1
        else:
            self.counts[key] = cur + 1
        return self.rows < self.max_rows

    def report(self) -> dict[str, Any] | None:
        if self.rows < 10 or not self.counts:
            return None
        n = sum(self.counts.values())
        k_min = min(self.counts.values())
        below = sum(f for f in self.counts.values() if f < 3)
        # mean over records of 1/f_k  ==  number of distinct keys / n
        global_risk = len(self.counts) / n
        return {
            "quasi_identifiers": list(self.names),
            "records": n,
            "k_min": k_min,
            "records_below_k3": below,
            "global_risk": round(global_risk, 4),
            "threshold": THRESHOLD,
            "sampled": self.rows >= self.max_rows,
            "truncated": self.truncated,
        }
