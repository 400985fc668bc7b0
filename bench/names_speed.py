"""Speed of the person-name cue pattern (bot.screening.names) - a printout, not a test.

    .venv/bin/python bench/names_speed.py [MB]

Prints, for a synthetic numeric/place CSV and for English prose (default 20 MB each):
candidates per MB and MB/s of CUE_PATTERN alone, of the bulk program with and without it,
of PAIR_PATTERN (text mode only), and the time to validate the candidates; plus the
lexicon's load time and RSS.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def main() -> None:
    size_mb = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    before = rss_mb()
    t0 = time.perf_counter()
    from bot.screening import names as N
    from bot.screening.detectors import REGISTRY
    from bot.screening.patterns import compile_bytes

    t_import = time.perf_counter() - t0
    mid = rss_mb()
    t0 = time.perf_counter()
    stats = N.load_stats()
    t_load = time.perf_counter() - t0
    after = rss_mb()
    print(
        f"import {t_import:.3f}s (+{mid - before:.1f} MB incl. re2/phonenumbers); lexicon load "
        f"{t_load:.3f}s, +{after - mid:.1f} MB RSS; {stats}"
    )

    rnd = random.Random(7)
    places = [
        "Kachin",
        "Myitkyina",
        "Hpakant",
        "Ma Kyar",
        "Mandalay Region",
        "Sagaing",
        "Yangon",
        "Kyauk Pyu",
        "Thit Yar Kone",
        "Nay Pyi Taw",
        "Rakhine",
        "Sittwe",
        "Shan (North)",
        "Lashio",
        "Ayeyarwady",
    ]
    rows = []
    n = 0
    target = int(size_mb * 2**20)
    rows.append("id,state,township,village,pcode,hh,people,lat,lon,price_mmk\n")
    while n < target:
        r = (
            f"{rnd.randint(1, 10**6)},{rnd.choice(places)},{rnd.choice(places)},{rnd.choice(places)},"
            f"MMR{rnd.randint(1, 17):03d}{rnd.randint(1, 40):03d},{rnd.randint(1, 900)},{rnd.randint(1, 5000)},"
            f"{rnd.uniform(10, 28):.5f},{rnd.uniform(92, 101):.5f},{rnd.randint(100, 99999)}\n"
        )
        rows.append(r)
        n += len(r)
    csv = "".join(rows).encode()

    people = ["John Smith", "Maria Barros", "Aung Kyaw Moe", "Vilma Holm", "Anna Nowak", "Peter Novak"]
    sentences = [
        "The Health Cluster met on Monday Morning to review Best Practices in Kachin State.",
        "United Nations agencies and the World Food Programme delivered rice to New York Village.",
        "According to the report, {p} said the road to Hpakant Township was closed after the flood.",
        "Please contact the focal point for more information about the distribution.",
        "Partners should follow up with the township health department before the end of the month.",
        "Mr. {p} visited the camp in Myitkyina with the Protection team.",
        "The Shelter Cluster will share the updated 3W matrix on Friday.",
        "Kind regards,\n{p}\n",
        "Households in Ma Kyar village tract received cash assistance of 50,000 MMK.",
        "I am writing to inform you that the meeting is postponed to next week.",
        "Save the Children and Mercy Corps reached 12,000 people in Sagaing Region.",
        "Yesterday {p} lives in Ward 5 and asked for support.",
    ]
    parts = []
    n = 0
    while n < target:
        s = rnd.choice(sentences).format(p=rnd.choice(people)) + " "
        parts.append(s)
        n += len(s)
    prose = "".join(parts).encode()

    cue = compile_bytes(N.CUE_PATTERN)
    pair = compile_bytes(N.PAIR_PATTERN)
    base = "|".join("(?:" + d.pattern + ")" for d in REGISTRY)
    bulk_without = compile_bytes(base)
    bulk_with = compile_bytes(base + "|(?:" + N.CUE_PATTERN + ")")

    def scan(prog, data: bytes) -> tuple[int, float, list[tuple[int, int]]]:
        t = time.perf_counter()
        spans = []
        pos = 0
        while True:
            m = prog.search(data, pos)
            if m is None:
                break
            s, e = m.span()
            spans.append((s, e))
            pos = e if e > s else s + 1
        return len(spans), time.perf_counter() - t, spans

    for label, data in (("numeric/place CSV", csv), ("English prose", prose)):
        mb = len(data) / 2**20
        print(f"\n{label}: {mb:.1f} MB")
        for name, prog in (
            ("CUE_PATTERN", cue),
            ("bulk program without names", bulk_without),
            ("bulk program + CUE_PATTERN", bulk_with),
            ("PAIR_PATTERN (text mode)", pair),
        ):
            count, secs, spans = scan(prog, data)
            print(f"  {name:30s} {count / mb:10.1f} candidates/MB  {mb / secs:8.1f} MB/s")
            if name == "CUE_PATTERN" and spans:
                t = time.perf_counter()
                ok = 0
                for s, e in spans:
                    cand = data[s:e].decode("utf-8", "replace")
                    if N.validate_candidate(
                        cand,
                        data[max(0, s - 40) : s].decode("utf-8", "replace"),
                        data[e : e + 40].decode("utf-8", "replace"),
                    ):
                        ok += 1
                v = time.perf_counter() - t
                print(
                    f"  {'  validate_candidate':30s} {ok / mb:10.1f} names/MB      "
                    f"{v / len(spans) * 1e6:8.1f} us/candidate"
                )
            if name.startswith("PAIR") and spans:
                t = time.perf_counter()
                ok = sum(
                    1
                    for s, e in spans
                    if N.validate_pair(
                        data[s:e].decode("utf-8", "replace"),
                        data[max(0, s - 40) : s].decode("utf-8", "replace"),
                        data[e : e + 40].decode("utf-8", "replace"),
                    )
                )
                v = time.perf_counter() - t
                print(
                    f"  {'  validate_pair':30s} {ok / mb:10.1f} names/MB      {v / len(spans) * 1e6:8.1f} us/candidate"
                )


if __name__ == "__main__":
    main()
