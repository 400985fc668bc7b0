"""Speed of bot/screening/places.py (prints figures; not a test).

    python bench/places_speed.py [--mb 20] [--rows 15000]

Generates a ~20 MB beneficiary-like CSV whose Remarks column holds prose with villages, wards,
camps and village codes (about one place per row), and a synthetic MIMU-style gazetteer, then
prints MB/s for: a plain csv parse, the current combined bulk program, the same program with the
settlement and village-code parts added (as the integrator would), each new pattern alone, and
the gazetteer alternation (RE2 search + Python lookup per hit); plus gazetteer load time,
RE2 compile time and the RSS growth."""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "screening"))

from test_places import SYL, make_gazetteer_csv

from bot.screening.detectors import REGISTRY
from bot.screening.patterns import compile_bytes
from bot.screening.places import (
    SETTLEMENT_PATTERN,
    SETTLEMENT_RE,
    VILLAGE_CODE_PATTERN,
    VILLAGE_CODE_RE,
    Gazetteer,
    validate_settlement,
)

NL = b"\n"
SENT = [
    "{n} village received {k} hygiene kits.",
    "Daw {p} lives in {n} village tract with her children.",
    "Distribution at {n} IDP camp was delayed.",
    "Ward No. {w} of Sittwe: 12 households visited.",
    "village code {c} (see annex)",
    "No incidents reported this week.",
    "Team visited the township office.",
    "ကျောက်တော်ရွာတွင် အိမ်ထောင်စု ၁၂ စု",
    "Follow-up planned next month.",
    "Village-level data only.",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gen_csv(path: Path, mb: int, r: random.Random) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["No", "Township", "Sex", "Age", "Remarks"])
        i = 0
        while fh.tell() < mb * 1_000_000:
            rows = []
            for _ in range(2000):
                i += 1
                n = " ".join(r.choice(SYL) for _ in range(2))
                s = r.choice(SENT).format(
                    n=n, k=r.randint(1, 9), p=r.choice(SYL), w=r.randint(1, 20), c=100000 + r.randint(0, 99999)
                )
                rows.append(
                    [
                        i,
                        r.choice(["Sittwe", "Myitkyina", "Lashio"]),
                        r.choice("MF"),
                        r.randint(1, 90),
                        s + " " + r.choice(SENT).format(n="the", k=1, p="Hla", w=1, c=1),
                    ]
                )
            w.writerows(rows)


def scan(prog, data: bytes) -> int:
    n, pos = 0, 0
    while True:
        m = prog.search(data, pos)
        if m is None:
            return n
        n += 1
        pos = m.end() if m.end() > m.start() else m.start() + 1


def timed(label: str, fn, size: int) -> None:
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    print(f"  {label:<52} {size / 1e6 / dt:8.1f} MB/s  ({dt:.2f} s, {out} hits)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--rows", type=int, default=15000)
    args = ap.parse_args()
    r = random.Random(1)
    with tempfile.TemporaryDirectory() as td:
        csv_path = Path(td) / "remarks.csv"
        gen_csv(csv_path, args.mb, r)
        data = csv_path.read_bytes()
        size = len(data)
        print(f"{size / 1e6:.1f} MB CSV, {data.count(NL)} rows")
        timed("csv parse (baseline)", lambda: sum(1 for _ in csv.reader(io.StringIO(data.decode()))), size)
        today = [d.pattern for d in REGISTRY]
        base = compile_bytes("|".join("(?:" + v + ")" for v in today))
        combined = compile_bytes("|".join("(?:" + v + ")" for v in [SETTLEMENT_PATTERN, VILLAGE_CODE_PATTERN, *today]))
        timed("bulk program today (RE2 only)", lambda: scan(base, data), size)
        timed("bulk program + settlement + vcode (RE2 only)", lambda: scan(combined, data), size)
        timed("SETTLEMENT_RE alone", lambda: scan(SETTLEMENT_RE, data), size)

        def settle_validated() -> int:
            n, pos = 0, 0
            while True:
                m = SETTLEMENT_RE.search(data, pos)
                if m is None:
                    return n
                s, e = m.span()
                pos = e if e > s else s + 1
                if validate_settlement(
                    m.group(0).decode("utf-8", "replace"),
                    data[max(0, s - 60) : s].decode("utf-8", "replace"),
                    data[e : e + 60].decode("utf-8", "replace"),
                ):
                    n += 1

        timed("SETTLEMENT_RE + validate_settlement", settle_validated, size)
        timed("VILLAGE_CODE_RE alone", lambda: scan(VILLAGE_CODE_RE, data), size)

        gpath = make_gazetteer_csv(Path(td) / "gaz.csv", args.rows)
        before = rss_mb()
        t0 = time.perf_counter()
        g = Gazetteer.load(gpath)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        g.pattern()
        comp_s = time.perf_counter() - t0
        print(
            f"gazetteer {args.rows} rows: {len(g)} names kept, {g.skipped} skipped; load {load_s:.2f} s, "
            f"RE2 compile {comp_s:.2f} s, max RSS +{rss_mb() - before:.0f} MB (now {rss_mb():.0f} MB)"
        )
        timed("gazetteer iter_matches (RE2 + lookup)", lambda: sum(1 for _ in g.iter_matches(data)), size)
        timed("gazetteer iter_matches, second pass (warm DFA)", lambda: sum(1 for _ in g.iter_matches(data)), size)
        print(f"max RSS after matching: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
