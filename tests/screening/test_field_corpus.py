"""Accuracy on the independent field corpus (tests/screening/field_corpus.py), fixed seed.

Run `python -m tests.screening.test_field_corpus` for the figures and every miss."""

from __future__ import annotations

import collections
import functools
from dataclasses import dataclass, field

from bot.screening import screen_bytes
from bot.screening.levels import rank

from .field_corpus import FieldCase, build_corpus

SEED = 2024


@dataclass
class Report:
    seed: int = SEED
    n: int = 0
    positives: int = 0
    caught: int = 0
    negatives: int = 0
    false_alarms: int = 0
    labels: int = 0
    labels_ok: int = 0
    labelled_expected: int = 0
    labelled_ok: int = 0
    cat_needed: collections.Counter = field(default_factory=collections.Counter)
    cat_missed: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.positives if self.positives else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.negatives if self.negatives else 0.0

    @property
    def label_rate(self) -> float:
        return self.labels_ok / self.labels if self.labels else 1.0

    def text(self) -> str:
        lines = [
            f"field corpus (seed {self.seed}): {self.n} files",
            f"  unlabelled sensitive caught: {self.caught}/{self.positives} = {self.recall:.1%}",
            (
                f"  false alarms on clear or properly labelled files: {self.false_alarms}/{self.negatives} = "
                f"{self.false_alarm_rate:.1%}"
            ),
            f"  labels recognised: {self.labels_ok}/{self.labels} = {self.label_rate:.1%}",
            f"  'labelled' verdicts where expected: {self.labelled_ok}/{self.labelled_expected}",
            "  required categories missed: "
            + (
                ", ".join(
                    f"{c} {self.cat_missed[c]}/{self.cat_needed[c]}"
                    for c in sorted(self.cat_needed)
                    if self.cat_missed[c]
                )
                or "none"
            ),
        ]
        return "\n".join(lines)


def evaluate(cases: list[FieldCase], seed: int = SEED) -> Report:
    rep = Report(seed=seed)
    for c in cases:
        v = screen_bytes(c.data, c.name, sensitive_areas=c.areas)
        rep.n += 1
        problems: list[str] = []
        if c.expected == "unlabelled_sensitive":
            rep.positives += 1
            if v.verdict == "unlabelled_sensitive":
                rep.caught += 1
            else:
                problems.append("missed")
        else:
            rep.negatives += 1
            if v.verdict == "unlabelled_sensitive":
                rep.false_alarms += 1
                problems.append("false alarm")
        if c.expected == "labelled":
            rep.labelled_expected += 1
            rep.labelled_ok += v.verdict == "labelled"
        if c.label is not None:
            rep.labels += 1
            if v.label is not None and rank(v.label) == rank(c.label):
                rep.labels_ok += 1
            else:
                problems.append(f"label {v.label} != {c.label} ({c.label_where})")
        for cat in c.must:
            rep.cat_needed[cat] += 1
            if cat not in v.categories:
                rep.cat_missed[cat] += 1
                problems.append(f"no {cat}")
        if problems:
            rep.failures.append(
                f"{c.family:<24} {c.name[:48]:<48} expected {c.expected:<20} got {v.verdict:<20} "
                f"{'; '.join(problems)} | found {','.join(v.categories)} {c.note}"
            )
    return rep


@functools.lru_cache(maxsize=1)
def _report() -> Report:
    return evaluate(build_corpus(SEED))


def test_field_corpus_targets() -> None:
    rep = _report()
    print("\n" + rep.text())
    assert rep.n >= 150
    assert rep.recall >= 0.98, rep.text() + "\n" + "\n".join(rep.failures)
    assert rep.false_alarm_rate <= 0.03, rep.text() + "\n" + "\n".join(rep.failures)
    assert rep.label_rate >= 0.98, rep.text() + "\n" + "\n".join(rep.failures)
    assert sum(rep.cat_missed.values()) <= 0.02 * sum(rep.cat_needed.values()), rep.text()


if __name__ == "__main__":  # pragma: no cover
    r = _report()
    print(r.text())
    print("\n".join(r.failures))
