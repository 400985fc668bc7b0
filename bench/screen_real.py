"""Screening accuracy on the real-world file set (tests/screening/realworld/) next to the
generated corpora (prints figures, exit 0; not a test).

    python bench/screen_real.py [--split dev|holdout|all] [--json] [--no-generated]

Real files: every file of MANIFEST.toml screened with bot.screening.screen_path (default
limits, no sensitive-areas list) in a process pool of 2.  A sensitive file is caught when the
verdict is `unlabelled_sensitive` (`labelled` only when the manifest says the file carries a
label; `encrypted` / `unreadable` count as caught, with a note).  A harmless file is a false
alarm when its verdict is not `clear`.  Per-class recall: files whose truth class appears in the
verdict categories / files with that class.  File contents are never printed.

Generated corpora: the existing measurements of tests/screening/test_accuracy.py (`_measure`,
the two seeds its test uses) and tests/screening/test_field_corpus.py (`evaluate` on
`build_corpus`).  Those corpora are written by this project; the real files are not."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests" / "screening"))  # test_accuracy imports `fixtures` top-level

from tests.screening.test_realworld import evaluate, load_manifest, screen_all

ACCURACY_SEEDS = [(20240501, 220), (777, 120)]  # as in tests/screening/test_accuracy.py


def generated() -> dict:
    out: dict = {}
    t0 = time.perf_counter()
    from test_accuracy import _measure

    for seed, n in ACCURACY_SEEDS:
        with contextlib.redirect_stdout(io.StringIO()):
            recall, fa, labels, _ = _measure(seed, n)
        out[f"fixtures seed {seed} (n={n})"] = {"recall": recall, "false_alarm_rate": fa, "labels": labels}
    from tests.screening.field_corpus import build_corpus
    from tests.screening.test_field_corpus import SEED
    from tests.screening.test_field_corpus import evaluate as field_evaluate

    rep = field_evaluate(build_corpus(SEED), SEED)
    out[f"field corpus seed {SEED} (n={rep.n})"] = {
        "recall": rep.recall,
        "false_alarm_rate": rep.false_alarm_rate,
        "labels": rep.label_rate,
    }
    out["seconds"] = time.perf_counter() - t0
    return out


def _pct(x: float) -> str:
    return f"{x:6.1%}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "holdout", "all"), default="all")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--no-generated", action="store_true", help="skip the generated-corpus figures")
    args = ap.parse_args(argv)

    entries = load_manifest()
    if args.split != "all":
        entries = [e for e in entries if e["split"] == args.split]
    t0 = time.perf_counter()
    results = screen_all(entries, workers=2)
    secs = time.perf_counter() - t0
    groups = {"all": entries} if args.split == "all" else {}
    for split in ("dev", "holdout"):
        sub = [e for e in entries if e["split"] == split]
        if sub:
            groups[split] = sub
    figs = {k: evaluate(v, results) for k, v in groups.items()}
    gen = None if args.no_generated else generated()
    slow = sorted(((r[3], n) for n, r in results.items()), reverse=True)[:3]

    if args.json:
        json.dump(
            {
                "real_files": figs,
                "real_seconds": secs,
                "generated_corpora": gen,
                "slowest": [{"name": n, "seconds": s} for s, n in slow],
            },
            sys.stdout,
            indent=1,
        )
        print()
        return 0

    print(
        f"REAL FILES (tests/screening/realworld, {len(entries)} files from PyPI/npm packages, "
        f"screened in {secs:.1f} s with 2 processes)"
    )
    for k, f in figs.items():
        print(
            f"  {k:8s} recall {_pct(f['recall'])} ({f['caught']}/{f['sensitive']})   "
            f"false alarms {_pct(f['false_alarm_rate'])} ({f['false_alarms']}/{f['harmless']})"
        )
    top = figs["all"] if "all" in figs else next(iter(figs.values()))
    print("  per-class recall (class reported among the verdict categories):")
    for c, pc in top["per_class"].items():
        print(f"    {c:34s} {_pct(pc['recall'])} ({pc['found']}/{pc['files']})")
    print(f"  misses ({len(top['misses'])}):")
    for m in top["misses"]:
        print(f"    [{m['split']}] {m['name']}: {m['verdict']} {m['categories']}  -- truth {m['truth_classes']}")
    print(f"  false alarms ({len(top['false_alarm_list'])}):")
    for fa in top["false_alarm_list"]:
        print(
            f"    [{fa['split']}] {fa['name']}: {fa['verdict']} {fa['categories']}"
            + (f" ({fa['error']})" if fa["error"] else "")
        )
    for n in top["notes"]:
        print(f"  note: {n['name']}: {n['note']}")
    print("  slowest: " + ", ".join(f"{n} {s:.2f} s" for s, n in slow))
    if gen is not None:
        print(f"GENERATED CORPORA (written by this project; {gen['seconds']:.1f} s)")
        for k, g in gen.items():
            if k != "seconds":
                print(
                    f"  {k:34s} recall {_pct(g['recall'])}   false alarms {_pct(g['false_alarm_rate'])}   "
                    f"labels {_pct(g['labels'])}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
