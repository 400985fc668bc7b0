"""Benchmark for `clusterbot screen` (prints figures; not a test).

    python bench/screen.py [--mb 50] [--gb 1 | --gb 0] [--keep DIR]

Generates a ~50 MB beneficiary-like CSV (dense personal data) and a ~50 MB aggregated CSV
(no personal data), then prints for each: MB/s and peak RSS of `clusterbot screen` (run as
a child process), the time of a plain Python csv parse of the same file, an XLSX figure,
a 1 GB CSV peak-RSS figure, and Presidio (pattern recognizers only, no NLP model) on a 1 MB
slice when presidio-analyzer is installed."""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SYL = [
    "Aung",
    "Kyaw",
    "Hla",
    "Win",
    "Myint",
    "Thein",
    "Su",
    "Mya",
    "Khin",
    "Zaw",
    "Htet",
    "Naing",
    "Moe",
    "Thandar",
    "Nilar",
    "Phyo",
    "Thu",
    "Zin",
    "Ye",
    "Min",
    "Soe",
    "Tun",
    "Lwin",
    "Oo",
]
HON = ["U", "Daw", "Ko", "Ma", "Naw", "Saw", "Sai"]
PREFIX = ["0925", "0942", "0944", "0945", "0966", "0967", "0969", "0975", "0976", "0977", "0978", "0979"]
TSP = [
    ("Kachin", "MMR001", "Myitkyina", "MMR001001"),
    ("Rakhine", "MMR012", "Sittwe", "MMR012001"),
    ("Shan", "MMR015", "Lashio", "MMR015001"),
    ("Kayin", "MMR007", "Hpa-An", "MMR007001"),
    ("Sagaing", "MMR005", "Monywa", "MMR005001"),
    ("Magway", "MMR009", "Pakokku", "MMR009012"),
]


def gen_dense(path: Path, mb: int, r: random.Random) -> None:
    target = mb * 1_000_000
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            ["No", "Beneficiary Name", "Sex", "Age", "Phone", "NRC", "Township", "Village", "HH Size", "Remarks"]
        )
        i = 0
        while fh.tell() < target:
            rows = []
            for _ in range(2000):
                i += 1
                name = f"{r.choice(HON)} {r.choice(SYL)} {r.choice(SYL)}"
                phone = r.choice(PREFIX) + str(r.randint(1000000, 9999999))
                nrc = f"{r.randint(1, 14)}/OUKAMA(N){r.randint(100000, 999999)}"
                t = r.choice(TSP)
                remark = r.choice(["", "received kit", f"call {name} at {phone}", "follow-up needed"])
                rows.append(
                    [
                        i,
                        name,
                        r.choice("MF"),
                        r.randint(1, 90),
                        phone,
                        nrc,
                        t[2],
                        f"Village {r.randint(1, 400)}",
                        r.randint(1, 9),
                        remark,
                    ]
                )
            w.writerows(rows)


def gen_aggregated(path: Path, mb: int, r: random.Random) -> None:
    target = mb * 1_000_000
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "Month",
                "State",
                "State Pcode",
                "Township",
                "Township Pcode",
                "Organisation",
                "Sector",
                "Activity",
                "Reached Male",
                "Reached Female",
                "Budget MMK",
                "Price MMK",
                "Remarks",
            ]
        )
        while fh.tell() < target:
            rows = []
            for _ in range(2000):
                t = r.choice(TSP)
                rows.append(
                    [
                        f"2024-{r.randint(1, 12):02d}",
                        t[0],
                        t[1],
                        t[2],
                        t[3],
                        f"Org {r.randint(1, 80)}",
                        r.choice(["WASH", "Food", "Shelter"]),
                        r.choice(["Distribution", "Training", "Repair"]),
                        r.randint(0, 9999),
                        r.randint(0, 9999),
                        r.randint(1, 9999) * 1000,
                        r.choice([2500, 4800, 95000]),
                        r.choice(["", "on track", "delayed by access constraints", "completed in full"]),
                    ]
                )
            w.writerows(rows)


def gen_xlsx(path: Path, rows: int, r: random.Random) -> None:
    """A plain XLSX written directly (shared strings), like Excel's own output."""
    sst: dict[str, int] = {}

    def s(v: str) -> str:
        if v not in sst:
            sst[v] = len(sst)
        return f'<c t="s"><v>{sst[v]}</v></c>'

    out = io.StringIO()
    out.write(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheetData>'
    )
    hdr = ["Beneficiary Name", "Sex", "Age", "Phone", "Township", "Village", "Remarks"]
    out.write("<row>" + "".join(s(h) for h in hdr) + "</row>")
    for _ in range(rows):
        name = f"{r.choice(HON)} {r.choice(SYL)} {r.choice(SYL)}"
        t = r.choice(TSP)
        out.write(
            "<row>"
            + s(name)
            + s(r.choice("MF"))
            + f"<c><v>{r.randint(1, 90)}</v></c>"
            + s(r.choice(PREFIX) + str(r.randint(1000000, 9999999)))
            + s(t[2])
            + s(f"Village {r.randint(1, 400)}")
            + s(r.choice(["", "ok", "follow-up"]))
            + "</row>"
        )
    out.write("</sheetData></worksheet>")
    strings = "".join(f"<si><t>{escape(k)}</t></si>" for k in sst)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        z.writestr("xl/worksheets/sheet1.xml", out.getvalue())
        z.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main" count="{len(sst)}">{strings}</sst>',
        )


def run_screen(path: Path) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (MB) and the verdict of `clusterbot screen --json` in a child."""
    # a tiny launcher process runs the command, so the child's peak RSS is not inflated by
    # this (large) benchmark process's memory at fork time
    launcher = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(dt, rss)\n"
        "sys.stdout.write(p.stdout.decode())\n"
    )
    cmd = [sys.executable, "-c", launcher, sys.executable, "-m", "bot.screening.cli", "screen", "--json", str(path)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, cwd=ROOT, check=False).stdout.decode()
    lines = out.splitlines()
    dt_s, rss_s = lines[0].split()
    try:
        verdict = json.loads(lines[1])
    except (IndexError, ValueError):
        verdict = {"verdict": "?"}
    return float(dt_s), float(rss_s), verdict


def startup_seconds() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import bot.screening.cli"], cwd=ROOT, check=True)
    return time.perf_counter() - t0


def engine_seconds(path: Path) -> float:
    from bot.screening import screen_path
    from bot.screening.cli import CLI_LIMITS

    screen_path(path, limits=CLI_LIMITS)  # warm caches (imports, compiled patterns)
    t0 = time.perf_counter()
    screen_path(path, limits=CLI_LIMITS)
    return time.perf_counter() - t0


def csv_parse_seconds(path: Path) -> float:
    t0 = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as fh:
        for _row in csv.reader(fh):
            pass
    return time.perf_counter() - t0


def presidio(path: Path, engine_seconds: float, size: int) -> str:
    try:
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpArtifacts
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IpRecognizer,
            PhoneRecognizer,
        )
    except ImportError:
        return "presidio-analyzer not installed: skipped (pip install presidio-analyzer)"
    with open(path, "rb") as fh:
        slice_ = fh.read(1_000_000).decode("utf-8", "ignore")
    recognizers = [
        EmailRecognizer(),
        PhoneRecognizer(supported_regions=("MM",)),
        CreditCardRecognizer(),
        IpRecognizer(),
        PatternRecognizer(supported_entity="MM_NRC", patterns=[Pattern("nrc", r"\d{1,2}/[A-Z]{3,9}\(N\)\d{6}", 0.6)]),
    ]
    del AnalyzerEngine, RecognizerRegistry
    artifacts = NlpArtifacts(entities=[], tokens=[], tokens_indices=[], lemmas=[], nlp_engine=None, language="en")
    t0 = time.perf_counter()
    hits: dict[str, int] = {}
    for rec in recognizers:
        for res in rec.analyze(slice_, entities=rec.supported_entities, nlp_artifacts=artifacts) or []:
            hits[res.entity_type] = hits.get(res.entity_type, 0) + 1
    dt = time.perf_counter() - t0
    p_mbs = 1.0 / dt
    ours = size / 1e6 / engine_seconds
    # recall on the slice: ground truth from the generator's columns
    rows = list(csv.reader(io.StringIO(slice_.rsplit("\n", 1)[0])))[1:]
    truth = {
        "phone": sum(1 + r[9].count("call ") for r in rows if len(r) == 10),
        "nrc": sum(1 for r in rows if len(r) == 10),
        "name": sum(1 + r[9].count("call ") for r in rows if len(r) == 10),
    }
    from bot.screening import screen_bytes

    v = screen_bytes(slice_.rsplit("\n", 1)[0].encode(), "slice.csv")
    got = {
        "phone": sum(f.count for f in v.findings if f.category == "phone_number"),
        "nrc": sum(f.count for f in v.findings if f.category == "national_id"),
        "name": sum(f.count for f in v.findings if f.category == "person_name"),
    }
    pres = {"phone": hits.get("PHONE_NUMBER", 0), "nrc": hits.get("MM_NRC", 0), "name": hits.get("PERSON", 0)}

    def rec_(d: dict[str, int]) -> str:
        return ", ".join(f"{k} {min(d[k], truth[k]) / max(truth[k], 1):.0%}" for k in truth)

    return (
        f"presidio pattern recognizers (no NLP model): {p_mbs:.2f} MB/s on a 1 MB slice; "
        f"clusterbot engine {ours:.1f} MB/s = {ours / p_mbs:.0f}x presidio\n"
        f"recall on the slice (found/true, capped at 100%): presidio {rec_(pres)}; clusterbot {rec_(got)}\n"
        "(clusterbot's counts for classified columns are estimates from the sample; presidio finds no names "
        "without an NLP model, and no Myanmar NRC without a custom pattern, given here)"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--gb", type=float, default=1.0, help="size of the RSS test file in GB (0 to skip)")
    ap.add_argument("--xlsx-rows", type=int, default=1_000_000, help="~20 MB, so start-up does not dominate")
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    r = random.Random(7)
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="screen-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    dense, agg, xlsx = tmp / "beneficiaries.csv", tmp / "aggregated.csv", tmp / "beneficiaries.xlsx"
    t0 = time.perf_counter()
    if not dense.exists():
        gen_dense(dense, args.mb, r)
    if not agg.exists():
        gen_aggregated(agg, args.mb, r)
    if not xlsx.exists():
        gen_xlsx(xlsx, args.xlsx_rows, r)
    print(f"generated fixtures in {time.perf_counter() - t0:.1f}s under {tmp}")
    start = startup_seconds()
    print(f"python start-up + import: {start:.2f}s (included in the screen times below)")
    print("screen s / MB/s: the `clusterbot screen` command (child process, start-up included);")
    print("engine s / MB/s: screen_path() in this process; csv parse: csv.reader over the same file.")
    print(
        f"{'file':<20}{'MB':>7}{'screen s':>9}{'MB/s':>7}{'engine s':>9}{'MB/s':>7}{'peak RSS MB':>12}"
        f"{'csv parse s':>12}{'MB/s':>7}  verdict"
    )
    engine_s = 1.0
    for path in (dense, agg, xlsx):
        size = path.stat().st_size
        dt, rss, verdict = run_screen(path)
        es = engine_seconds(path)
        if path is dense:
            engine_s = es
        cp = csv_parse_seconds(path) if path.suffix == ".csv" else None
        cps = f"{cp:>12.2f}{size / 1e6 / cp:>7.1f}" if cp else f"{'':>12}{'':>7}"
        print(
            f"{path.name:<20}{size / 1e6:>7.1f}{dt:>9.2f}{size / 1e6 / dt:>7.1f}{es:>9.2f}{size / 1e6 / es:>7.1f}"
            f"{rss:>12.0f}{cps}  {verdict.get('verdict')} {','.join(verdict.get('categories', []))}"
        )
    if args.gb > 0:
        big = tmp / "big.csv"
        target = int(args.gb * 1e9)
        with open(big, "wb") as out, open(agg, "rb") as src:
            head = src.readline()
            body = src.read()
            out.write(head)
            while out.tell() < target:
                out.write(body)
        size = big.stat().st_size
        dt, rss, verdict = run_screen(big)
        print(
            f"{big.name:<20}{size / 1e6:>7.1f}{dt:>9.2f}{size / 1e6 / dt:>7.1f}{'':>9}{'':>7}{rss:>12.0f}"
            f"{'':>12}{'':>7}  {verdict.get('verdict')}"
        )
        big.unlink()
    print(presidio(dense, engine_s, dense.stat().st_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
