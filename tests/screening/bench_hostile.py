"""Timings for the hostile-input fixes: `.venv/bin/python tests/screening/bench_hostile.py`."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from test_formats import make_ods, make_xls
from test_hostile import _nested_zip, _xlsx_one_wide_row, ansi_text, mixed_csv

from bot.screening import screen_bytes

VARIED = [["Name", "Phone", "Village"]] + [[f"Daw Hla {i}", f"0979{i:07d}", f"Village {i % 97}"] for i in range(20_000)]

CASES = [
    ("mixed-encoding csv", lambda: mixed_csv() * 2000, "mixed.csv"),
    ("ansi text", lambda: ansi_text() * 2000, "notes.txt"),
    ("xlsx 1 row x 400k cells, no r=", lambda: _xlsx_one_wide_row(400_000), "wide.xlsx"),
    ("zip > stored zip, 4000 members", lambda: _nested_zip(4000), "outer.zip"),
    ("zip > stored zip, 9000 members", lambda: _nested_zip(9000), "outer.zip"),
    ("xls 20k rows", lambda: make_xls(VARIED), "big.xls"),
    ("ods 20k rows", lambda: make_ods([("S", VARIED)]), "big.ods"),
]

for label, make, name in CASES:
    data = make()
    t = time.perf_counter()
    v = screen_bytes(data, name)
    dt = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{label:38s} {len(data) / 1024:9.0f} KB  {dt:6.2f} s  {v.verdict:22s} max RSS {rss} MB", flush=True)
