"""Property/fuzz tests over every reader: random bytes, truncated and mutated files, long
lines.  Always a verdict, never an exception, within a time bound."""

from __future__ import annotations

import time

from fixtures import Gen, to_csv, to_docx, to_pdf, to_xlsx, zipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.screening import Limits, Verdict, screen_bytes

LIMITS = Limits(max_seconds=10)
NAMES = ["x.csv", "x.tsv", "x.txt", "x.md", "x.json", "x.xlsx", "x.docx", "x.pdf", "x.zip", "x"]


def _seeds() -> list[bytes]:
    g = Gen(9)
    hdr, hxl, rows = g.beneficiary_table(30)
    table = [hdr] + rows
    return [
        to_csv(hdr, hxl, rows).encode(),
        to_xlsx([("S", table)]),
        to_docx(["Daw Hla 09250123456"], [table]),
        to_pdf(["Call 09 250 123 456"]),
        zipped([("a.csv", to_csv(hdr, hxl, rows).encode())]),
        b'[{"name": "Daw Hla", "phone": "09250123456"}]',
    ]


SEEDS = _seeds()


def check(data: bytes, name: str) -> Verdict:
    t = time.monotonic()
    v = screen_bytes(data, name, limits=LIMITS)
    assert time.monotonic() - t < 15
    assert isinstance(v, Verdict)
    assert v.verdict in ("clear", "labelled", "unlabelled_sensitive", "encrypted", "unreadable")
    if v.verdict in ("encrypted", "unreadable"):
        assert v.error and "Traceback" not in v.error
    v.to_json()
    return v


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(NAMES))
def test_random_bytes(data: bytes, name: str) -> None:
    check(data, name)


@FUZZ
@given(st.integers(0, len(SEEDS) - 1), st.floats(0, 1), st.sampled_from(NAMES))
def test_truncated(i: int, frac: float, name: str) -> None:
    data = SEEDS[i]
    check(data[: int(len(data) * frac)], name)


@FUZZ
@given(st.integers(0, len(SEEDS) - 1), st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=12))
def test_mutated(i: int, edits: list[tuple[int, int]]) -> None:
    data = bytearray(SEEDS[i])
    for pos, byte in edits:
        data[pos % len(data)] = byte
    check(bytes(data), ["x.csv", "x.xlsx", "x.docx", "x.pdf", "x.zip", "x.json"][i])


@FUZZ
@given(st.text(max_size=300))
def test_random_text_csv(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"), "t.csv")


def test_ten_megabyte_single_line() -> None:
    line = (b"abc 0912 " * (10 * 1024 * 1024 // 9))[: 10 * 1024 * 1024]
    for name in ("big.txt", "big.csv", "big.json"):
        t = time.monotonic()
        v = check(line + b" 09250123456\n", name)
        assert time.monotonic() - t < 10
        assert v.verdict in ("unlabelled_sensitive", "unreadable"), (name, v)


def test_hostile_regex_input_is_linear() -> None:
    # long runs that would make a backtracking engine explode
    for payload in (
        b"0" * 2_000_000,
        b"a@" * 1_000_000,
        b"1/" + b"A" * 2_000_000,
        b"U " * 1_000_000,
        b"9 " * 1_000_000,
    ):
        t = time.monotonic()
        check(payload, "x.txt")
        assert time.monotonic() - t < 5
