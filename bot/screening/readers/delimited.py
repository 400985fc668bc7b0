"""CSV/TSV and plain text.

Fast path: only the head of the file (header rows + a sample) is parsed with the csv module
to classify columns; the whole file is then scanned as raw UTF-8 blocks by RE2, and each
candidate match is attributed to its line/column by parsing just that line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO

from ..collector import Collector, Unreadable
from ..hxl import is_hxl_row
from ..labels import label_from_lines, label_from_title_rows
from ..scanner import BulkScanner, Place, run_blocks
from ..table import ALL_KEYS, TableAnalyzer
from .textio import looks_binary, read_head, utf8_stream

_DELIMS = (",", ";", "\t", "|")


def sniff_delimiter(lines: list[str], preferred: str | None) -> str | None:
    """Pick the delimiter with the most consistent per-line count (>=1) over the first lines."""
    best: tuple[float, str] | None = None
    sample = [ln for ln in lines[:60] if ln.strip()]
    if not sample:
        return preferred
    for d in _DELIMS:
        counts = [ln.count(d) for ln in sample]
        nonzero = [c for c in counts if c > 0]
        if len(nonzero) < max(1, 0.6 * len(sample)):
            continue
        mode = max(set(nonzero), key=nonzero.count)
        consistency = nonzero.count(mode) / len(sample)
        score = consistency * 10 + min(mode, 30) / 30 + (0.5 if d == preferred else 0)
        if best is None or score > best[0]:
            best = (score, d)
    return best[1] if best else None


def _one_column(lines: list[str]) -> bool:
    """A .csv whose lines are short single values under a header-like first line ("us_driver_license",
    then one number a line) is a one-column table, not prose."""
    sample = [ln.strip() for ln in lines[:200] if ln.strip()]
    return len(sample) >= 3 and all(len(ln) <= 64 and ln.count(" ") <= 3 for ln in sample)


def find_header(rows: list[list[str]]) -> tuple[int, int | None]:
    """(header row index or -1 for none, HXL row index or None) among the first rows."""
    for i, row in enumerate(rows[:26]):
        if is_hxl_row(row):
            hdr = i - 1 if i > 0 and sum(1 for c in rows[i - 1] if c.strip()) >= 1 else -1
            return hdr, i
    width = max((sum(1 for c in r if c.strip()) for r in rows[:50]), default=0)
    for i, row in enumerate(rows[:30]):  # templates put titles and instructions above the header
        filled = [c for c in row if c.strip()]
        if len(filled) >= max(2, 0.5 * width):
            from ..patterns import is_number, valid_phone_cell

            if sum(1 for c in filled if is_number(c) or valid_phone_cell(c) or "@" in c) >= 0.5 * len(filled):
                return -1, None  # the first full row is data: no header
            return i, None
    return (0 if rows else -1), None


class CsvLocator:
    """Turns a match position in a block into 'line N, column "X"'."""

    def __init__(self, delim: str, analyzer: TableAnalyzer, context: str = "") -> None:
        self.delim = delim
        self.an = analyzer
        self.base = 0
        self.next_base = 0
        self.context = context

    def on_block(self, blk: bytes, n: int = -1) -> None:
        self.base = self.next_base
        self.next_base += n if n >= 0 else blk.count(b"\n")

    def __call__(self, blk: bytes, s: int, e: int) -> Place:
        ls = blk.rfind(b"\n", 0, s) + 1
        line = self.base + blk.count(b"\n", 0, ls) + 1
        try:
            before = next(csv.reader(io.StringIO(blk[ls:s].decode("utf-8", "replace")), delimiter=self.delim), [""])
            upto = next(csv.reader(io.StringIO(blk[ls:e].decode("utf-8", "replace")), delimiter=self.delim), [""])
        except csv.Error:
            return Place(f"line {line}{self.context}")
        ci = max(len(before) - 1, 0)
        same = len(upto) == len(before) or (blk[ls:s].count(b'"') % 2 == 1)
        return Place(f"line {line}, {self.an.where(ci)}", ci, same)


def _rows(text: str, delim: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text), delimiter=delim)


def screen_delimited(
    raw: IO[bytes],
    col: Collector,
    name: str,
    *,
    delimiter: str | None = None,
    context: str = "",
    text_fallback: bool = True,
) -> None:
    limits = col.limits
    stream, first = utf8_stream(raw)
    head, eof = read_head(stream, first, max(limits.sample_rows, limits.risk_rows, 200) + 40, 8 << 20)
    if looks_binary(head[:8192]):
        raise Unreadable("the file is not text (it looks binary); unsupported format")
    cut = len(head) if eof else head.rfind(b"\n") + 1
    if cut <= 0:
        cut = len(head)
    head_text = head[:cut].decode("utf-8", "replace")
    lines = head_text.splitlines()[:200]
    delim = sniff_delimiter(lines, delimiter)
    if delim is None:
        if (not text_fallback and delimiter) or (delimiter and _one_column(lines)):
            delim = delimiter
        else:
            col.add_label(label_from_lines([ln for ln in lines if ln.strip()][:5]))
            _screen_text_rest(stream, head, col, context)
            return
    rows = _head_rows(head_text, delim, limits.sample_rows + 30)
    if rows is None:
        col.add_label(label_from_lines([ln for ln in lines if ln.strip()][:5]))
        _screen_text_rest(stream, head, col, context)
        return
    hdr_idx, hxl_idx = find_header(rows)
    col.add_label(label_from_title_rows(rows, hdr_idx, hxl_idx))
    an = TableAnalyzer(col, context=context, title=name, sample_rows=limits.sample_rows)
    data_start = _analyse_head(an, rows, hdr_idx, hxl_idx, head_text, delim)
    keys = an.bulk_keys()
    loc = CsvLocator(delim, an, context)
    scanner = BulkScanner(
        col,
        keys,
        loc,
        text_mode=False,
        column_ok=an.column_ok,
        areas=not an.area_found,
        area_needs_context=not an.area_context,
    )
    total_lines = run_blocks(scanner, _chain(head, stream), limits.block_size, col, on_block=loc.on_block)
    if head and not head.endswith(b"\n") and eof:
        total_lines += 1
    an.finish(max(total_lines - data_start, an.sampled))


def _head_rows(head_text: str, delim: str, limit: int) -> list[list[str]] | None:
    """The first ``limit`` rows of the head, or None when it does not parse as CSV."""
    try:
        reader = _rows(head_text, delim)
        rows: list[list[str]] = []
        for r in reader:
            rows.append(r)
            if len(rows) >= limit:
                break
    except csv.Error:
        return None
    return rows


def _analyse_head(
    an: TableAnalyzer, rows: list[list[str]], hdr_idx: int, hxl_idx: int | None, head_text: str, delim: str
) -> int:
    """Classify the columns from the sampled rows (and count risk rows over the whole head);
    returns the index of the first data row."""
    header = rows[hdr_idx] if hdr_idx >= 0 else []
    hxl = rows[hxl_idx] if hxl_idx is not None else None
    an.set_header(header, hxl)
    data_start = max(hdr_idx, hxl_idx if hxl_idx is not None else -1) + 1
    for r in rows[data_start:]:
        if not an.add_row(r):
            break
    an.finish_sample()
    if an.risk is not None:
        try:
            for idx, r in enumerate(_rows(head_text, delim)):
                if idx < data_start:
                    continue
                if not an.add_risk_row(r):
                    break
        except csv.Error:
            pass
    return data_start


def _chain(head: bytes, stream: IO[bytes]) -> IO[bytes]:
    from .textio import _Prepend

    return _Prepend(head, stream)  # type: ignore[return-value]


class LineLocator:
    def __init__(self, context: str = "", unit: str = "line") -> None:
        self.base = 0
        self.next_base = 0
        self.context = context
        self.unit = unit

    def on_block(self, blk: bytes, n: int = -1) -> None:
        self.base = self.next_base
        self.next_base += n if n >= 0 else blk.count(b"\n")

    def __call__(self, blk: bytes, s: int, e: int) -> Place:
        n = self.base + blk.count(b"\n", 0, s) + 1
        return Place(f"{self.unit} {n}{self.context}")


def _screen_text_rest(stream: IO[bytes], head: bytes, col: Collector, context: str) -> None:
    loc = LineLocator(context)
    scanner = BulkScanner(col, ALL_KEYS, loc, text_mode=True, areas=True, area_needs_context=True)
    run_blocks(scanner, _chain(head, stream), col.limits.block_size, col, on_block=loc.on_block)


def screen_text(raw: IO[bytes], col: Collector, name: str, *, context: str = "") -> None:
    """Plain text / Markdown: markings in the first 5 lines, then a text-mode block scan.
    A .txt that is really a table (consistent tabs, or a Markdown pipe table) goes the table way."""
    stream, first = utf8_stream(raw)
    head, _eof = read_head(stream, first, 60, 1 << 20)
    if looks_binary(head[:8192]):
        raise Unreadable("the file is not text (it looks binary); unsupported format")
    text = head.decode("utf-8", "replace")
    lines = [ln for ln in text.splitlines()[:60]]
    col.add_label(label_from_lines([ln for ln in lines if ln.strip()][:5]))
    nonempty = [ln for ln in lines if ln.strip()]
    tabs = [ln for ln in nonempty if ln.count("\t") >= 2]
    pipes = [ln for ln in nonempty if ln.strip().startswith("|") and ln.count("|") >= 3]
    if nonempty and (len(tabs) >= 0.8 * len(nonempty) or len(pipes) >= 0.5 * len(nonempty)) and len(nonempty) >= 3:
        delim = "\t" if tabs else "|"
        screen_delimited(_chain(head, stream), col, name, delimiter=delim, context=context)
        return
    _screen_text_rest(stream, head, col, context)
