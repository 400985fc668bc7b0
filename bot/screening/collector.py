"""Accumulates findings and labels for one file and turns them into a Verdict."""

from __future__ import annotations

import time
from typing import Any

from .areas import SensitiveAreas
from .levels import CATEGORY_LEVEL, max_level, rank
from .model import Finding, Limits, Verdict
from .places import Gazetteer
from .sanitize import clean_text


class Unreadable(Exception):
    """Raised inside readers; the message is plain words for the submitter (no content)."""


class Encrypted(Exception):
    """The file is password protected and we cannot (or were not told how to) open it."""


class Collector:
    def __init__(
        self,
        limits: Limits,
        areas: SensitiveAreas | None,
        prefix: str = "",
        deadline: float | None = None,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self.limits = limits
        self.areas = areas if areas else None
        self.gazetteer = gazetteer
        self.prefix = prefix
        self.deadline = deadline if deadline is not None else time.monotonic() + limits.max_seconds
        self._found: dict[tuple[str, str], list[Any]] = {}
        self.label: str | None = None
        self.risk: dict[str, Any] | None = None
        self.notes: list[str] = []

    # ------------------------------------------------------------------ findings
    def add(self, category: str, where: str, count: int, example: str) -> None:
        key = (category, self.prefix + where)
        cur = self._found.get(key)
        if cur is None:
            if len(self._found) >= self.limits.max_findings * 4:
                return
            # nothing echoed back may carry terminal escapes or control characters
            clean = (category, clean_text(key[1]))
            if clean != key:
                key = clean
                cur = self._found.get(key)
                if cur is not None:
                    cur[0] += max(count, 0)
                    return
            self._found[key] = [max(count, 1), clean_text(example)]
        else:
            cur[0] += max(count, 0)

    def has(self, category: str) -> bool:
        return any(c == category for c, _ in self._found)

    def categories(self) -> set[str]:
        return {c for c, _ in self._found}

    def add_label(self, level: str | None) -> None:
        self.label = max_level(self.label, level)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise Unreadable("the file took too long to check (time limit reached); please send a smaller file")

    def merge(self, other: Collector) -> None:
        for (cat, where), (count, ex) in other._found.items():
            key = (cat, where)
            if key in self._found:
                self._found[key][0] += count
            elif len(self._found) < self.limits.max_findings * 4:
                self._found[key] = [count, ex]
        if other.risk is not None and (
            self.risk is None or other.risk.get("global_risk", 0) > self.risk.get("global_risk", 0)
        ):
            self.risk = other.risk

    # ------------------------------------------------------------------ verdict
    def required_level(self) -> str:
        lv: str | None = "public"
        for cat in self.categories():
            lv = max_level(lv, CATEGORY_LEVEL.get(cat))
        return lv or "public"

    def findings(self) -> tuple[Finding, ...]:
        items = sorted(self._found.items(), key=lambda kv: (-rank(CATEGORY_LEVEL.get(kv[0][0])), kv[0][0]))
        return tuple(Finding(c, w, int(n), ex) for (c, w), (n, ex) in items[: self.limits.max_findings])

    def verdict(self, path: str, given_label: str | None) -> Verdict:
        label = max_level(self.label, given_label)
        required = self.required_level()
        if rank(required) < rank("confidential"):
            verdict = "clear"
        elif rank(label) >= rank(required):
            verdict = "labelled"
        else:
            verdict = "unlabelled_sensitive"
        findings = self.findings()
        cats = tuple(sorted({f.category for f in findings}, key=lambda c: (-rank(CATEGORY_LEVEL.get(c)), c)))
        return Verdict(
            path=path,
            verdict=verdict,
            required_level=required,
            label=label,
            categories=cats,
            findings=findings,
            risk=self.risk,
            error=None,
        )
