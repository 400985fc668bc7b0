"""Speed and selectivity of the new bulk triggers (prints figures; not a test).

For INTL_PHONE, ID_TRIGGER and their union, over (a) a 20 MB dense numeric CSV (ids, amounts,
percentages, dates, 13-digit codes) and (b) 20 MB of English/Burmese prose with a few planted
numbers: candidates per MB, validated hits, RE2 MB/s, and the validation cost.  Also the current
combined BULK program for reference (what the scanner runs today).

    python bench/identifiers_speed.py [--mb 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.screening import identifiers as ids
from bot.screening.patterns import compile_bytes

try:
    from bot.screening.detectors import REGISTRY

    BULK = [d.pattern for d in REGISTRY]
except ImportError:  # before the registry refactor
    from bot.screening import patterns

    BULK = list(patterns.BULK_PARTS.values())  # type: ignore[attr-defined]


def numeric_csv(mb: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    rows = [b"id,household_id,amount_mmk,share_pct,date,lat,lon,code,count\n"]
    size = len(rows[0])
    while size < mb << 20:
        r = (
            f"{rnd.randrange(10**9, 10**10)},{rnd.randrange(10**12, 10**13)},{rnd.randrange(1, 10**7)}."
            f"{rnd.randrange(100):02d},{rnd.uniform(0, 100):.2f},2024-{rnd.randrange(1, 13):02d}-"
            f"{rnd.randrange(1, 29):02d},{rnd.uniform(10, 28):.5f},{rnd.uniform(92, 101):.5f},"
            f"00{rnd.randrange(10**6, 10**7)},{rnd.randrange(0, 5000)}\n"
        ).encode()
        rows.append(r)
        size += len(r)
    return b"".join(rows)


PROSE = (
    "The Food Security Cluster reached 12,500 people across 14 townships in Q3 2024 (see the 4W v2.3). "
    "Partners report access constraints on the road between Lashio and Hsipaw; cash transfers of MMK 50,000 "
    "per household continued. For questions contact the cluster coordinator. "
    "\u1005\u102c\u1038\u1014\u1015\u103a\u101b\u1031\u1038 \u1021\u1016\u103d\u1032\u1037\u1019\u103e "
    "\u1019\u103c\u102d\u102f\u1037\u1014\u101a\u103a \u1041\u1044 \u1001\u102f\u1010\u103d\u1004\u103a "
    "\u101c\u1030 \u1041\u1042,\u1045\u1040\u1040 \u1025\u1038\u1000\u102d\u102f \u1000\u1030\u100a\u102e"
    "\u1001\u1032\u1037\u101e\u100a\u103a\u104b\n"
)
PLANTED = (
    "Somchai (Thai partner) +66 2 123 4567. ",
    "my SSN: 460-89-9847. ",
    "Passport No: K1234567. ",
    "Hotline +95 9 420 123 456. ",
    "IBAN GB82 WEST 1234 5698 7654 32. ",
)


def prose(mb: int, seed: int = 2) -> bytes:
    rnd = random.Random(seed)
    parts, size = [], 0
    while size < mb << 20:
        p = PROSE if rnd.random() > 0.02 else PROSE + rnd.choice(PLANTED)
        parts.append(p)
        size += len(p.encode())
    return "".join(parts).encode()


def scan(prog: Any, data: bytes) -> list[tuple[int, int]]:
    out, pos, n = [], 0, len(data)
    while pos < n:
        m = prog.search(data, pos)
        if m is None:
            break
        s, e = m.span()
        out.append((s, e))
        pos = e if e > s else s + 1
    return out


def validate(data: bytes, spans: list[tuple[int, int]]) -> int:
    hits = 0
    for s, e in spans:
        if ids.check_intl_candidate(data, s, e) or ids.check_id_candidate(data, s, e):
            hits += 1
    return hits


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=20)
    a = ap.parse_args()
    progs = {
        "INTL_PHONE": compile_bytes(ids.INTL_PHONE),
        "ID_TRIGGER": compile_bytes(ids.ID_TRIGGER),
        "INTL|ID": compile_bytes(ids.INTL_PHONE + "|" + ids.ID_TRIGGER),
        "BULK (today)": compile_bytes("|".join("(?:" + v + ")" for v in BULK)),
        "BULK+INTL|ID": compile_bytes("|".join("(?:" + v + ")" for v in [*BULK, ids.INTL_PHONE, ids.ID_TRIGGER])),
    }
    for name, data in (("numeric CSV", numeric_csv(a.mb)), ("prose", prose(a.mb))):
        mb = len(data) / (1 << 20)
        print(f"== {name}: {mb:.1f} MB")
        for pname, prog in progs.items():
            t = time.perf_counter()
            spans = scan(prog, data)
            dt = time.perf_counter() - t
            line = f"  {pname:14s} {len(spans) / mb:10.1f} candidates/MB  {mb / dt:8.1f} MB/s"
            if pname == "INTL|ID":
                t = time.perf_counter()
                hits = validate(data, spans)
                vt = time.perf_counter() - t
                line += f"  validated {hits} ({hits / mb:.1f}/MB) in {vt * 1000:.0f} ms"
            print(line)


if __name__ == "__main__":
    main()
