"""The real-world evaluation set (tests/screening/realworld/): real public files taken from
packages on PyPI and npm, with a hand-judged truth per file (see realworld/README.md).

(a) the manifest is complete and every file matches its recorded sha256;
(b) the screener's recall / false-alarm rate on the whole set stay within the floors below.

The evaluation functions here are also used by bench/screen_real.py (figures per split and
per class, misses and false alarms)."""

from __future__ import annotations

import hashlib
import os
import time
import tomllib
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REALWORLD = Path(__file__).resolve().parent / "realworld"
MANIFEST = REALWORLD / "MANIFEST.toml"
FILES = REALWORLD / "files"

CLASSES = (
    "person_name",
    "phone_number",
    "email_address",
    "national_id",
    "precise_location",
    "date_of_birth",
    "vulnerable_individual",
    "partner_presence_sensitive_area",
)
FIELDS = (
    "name",
    "split",
    "sensitive",
    "classes",
    "reason",
    "carries_label",
    "registry",
    "package",
    "version",
    "archive",
    "archive_url",
    "archive_sha256",
    "member",
    "cut",
    "cut_note",
    "license",
    "sha256",
)

# Floors for the current detectors (what the code achieved when the set was assembled, rounded
# down / up by 0.02).  The engineers improving the detectors RAISE these as recall improves and
# LOWER the ceiling as false alarms go away; never loosen them to make a change pass.
RECALL_FLOOR = 0.97
FALSE_ALARM_CEILING = 0.05


def load_manifest() -> list[dict]:
    with MANIFEST.open("rb") as fh:
        return tomllib.load(fh)["file"]


def _screen_one(path: str) -> tuple[str, str, tuple[str, ...], str | None, float]:
    from bot.screening import screen_path

    t0 = time.perf_counter()
    v = screen_path(path)
    return os.path.basename(path), v.verdict, tuple(v.categories), v.error, time.perf_counter() - t0


def screen_all(entries: Iterable[dict], workers: int = 1) -> dict[str, tuple[str, tuple[str, ...], str | None, float]]:
    """name -> (verdict, categories, error, seconds); workers > 1 uses a process pool."""
    paths = [str(FILES / e["name"]) for e in entries]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(_screen_one, paths, chunksize=4))
    else:
        results = [_screen_one(p) for p in paths]
    return {name: (verdict, cats, err, secs) for name, verdict, cats, err, secs in results}


def caught(entry: dict, verdict: str) -> tuple[bool, str]:
    """Whether a sensitive file counts as caught, and a note for the special cases."""
    if verdict == "unlabelled_sensitive":
        return True, ""
    if verdict == "labelled":
        return bool(entry["carries_label"]), "" if entry["carries_label"] else "read a label the file does not carry"
    if verdict in ("encrypted", "unreadable"):
        return True, f"counted as caught: {verdict}"
    return False, ""


def evaluate(entries: list[dict], results: dict) -> dict:
    """Figures for one group of manifest entries."""
    pos = [e for e in entries if e["sensitive"]]
    neg = [e for e in entries if not e["sensitive"]]
    misses, false_alarms, notes = [], [], []
    n_caught = 0
    for e in pos:
        verdict, cats, err, _ = results[e["name"]]
        ok, note = caught(e, verdict)
        n_caught += ok
        if note:
            notes.append({"name": e["name"], "verdict": verdict, "note": note, "error": err})
        if not ok:
            misses.append(
                {
                    "name": e["name"],
                    "split": e["split"],
                    "truth_classes": e["classes"],
                    "reason": e["reason"],
                    "verdict": verdict,
                    "categories": list(cats),
                }
            )
    for e in neg:
        verdict, cats, err, _ = results[e["name"]]
        if verdict != "clear":
            false_alarms.append(
                {
                    "name": e["name"],
                    "split": e["split"],
                    "reason": e["reason"],
                    "verdict": verdict,
                    "categories": list(cats),
                    "error": err,
                }
            )
    per_class = {}
    for c in CLASSES:
        having = [e for e in pos if c in e["classes"]]
        if having:
            hit = sum(c in results[e["name"]][1] for e in having)
            per_class[c] = {"found": hit, "files": len(having), "recall": hit / len(having)}
    return {
        "files": len(entries),
        "sensitive": len(pos),
        "harmless": len(neg),
        "caught": n_caught,
        "recall": n_caught / len(pos) if pos else 1.0,
        "false_alarms": len(false_alarms),
        "false_alarm_rate": len(false_alarms) / len(neg) if neg else 0.0,
        "per_class": per_class,
        "misses": misses,
        "false_alarm_list": false_alarms,
        "notes": notes,
    }


# --------------------------------------------------------------------------- tests
def test_manifest_complete() -> None:
    entries = load_manifest()
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), "duplicate names in the manifest"
    listed = set(names)
    on_disk = {p.name for p in FILES.iterdir() if p.is_file()}
    assert on_disk == listed, f"unlisted files {sorted(on_disk - listed)}, missing files {sorted(listed - on_disk)}"
    for e in entries:
        missing = [f for f in FIELDS if f not in e]
        assert not missing, (e.get("name"), missing)
        assert e["split"] in ("dev", "holdout"), e["name"]
        assert isinstance(e["sensitive"], bool) and isinstance(e["carries_label"], bool), e["name"]
        assert e["registry"] in ("pypi", "npm", "debian"), e["name"]
        assert e["reason"].strip(), e["name"]
        assert all(c in CLASSES for c in e["classes"]), (e["name"], e["classes"])
        assert bool(e["classes"]) == e["sensitive"], (e["name"], "sensitive files name their classes, harmless none")
        data = (FILES / e["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"], f"{e['name']}: sha256 differs from the manifest"
    for split in ("dev", "holdout"):
        truths = {e["sensitive"] for e in entries if e["split"] == split}
        assert truths == {True, False}, f"split {split} needs both sensitive and harmless files"


def test_realworld_floors() -> None:
    entries = load_manifest()
    t0 = time.perf_counter()
    results = screen_all(entries)
    fig = evaluate(entries, results)
    assert time.perf_counter() - t0 < 60
    summary = (
        f"recall {fig['recall']:.2f} ({fig['caught']}/{fig['sensitive']}), false alarms "
        f"{fig['false_alarm_rate']:.2f} ({fig['false_alarms']}/{fig['harmless']}); misses "
        f"{[m['name'] for m in fig['misses']]}; false alarms {[f['name'] for f in fig['false_alarm_list']]}"
    )
    assert fig["recall"] >= RECALL_FLOOR, summary
    assert fig["false_alarm_rate"] <= FALSE_ALARM_CEILING, summary
