"""JSON (e.g. KoboToolbox exports): records are flattened to columns ('group/question') and
go through the table analyser; the raw text also goes through the block scanner.

Top-level arrays (or {"results": [...]}) are decoded one record at a time with
JSONDecoder.raw_decode over a sliding buffer, so memory stays bounded."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from ..collector import Collector, Unreadable
from ..labels import label_from_line
from ..levels import parse_level
from ..scanner import BulkScanner, run_blocks
from ..table import TableAnalyzer
from .delimited import LineLocator, _chain
from .textio import read_head, utf8_stream

_DEC = json.JSONDecoder()
_LABEL_KEY = re.compile(
    r'(?i)"(?:classification|sensitivity|security_?classification|data_?classification|'
    r'sensitivity_?label|label)"\s*:\s*"([^"]{0,80})"'
)
_MAX_RECORD = 16 << 20


def _flatten(obj: Any, prefix: str, out: dict[str, str], extra: list[dict[str, str]], depth: int = 0) -> None:
    if depth > 20:
        return
    if isinstance(obj, dict):
        for k, v in list(obj.items())[:2000]:
            key = f"{prefix}/{k}" if prefix else str(k)
            _flatten(v, key, out, extra, depth + 1)
    elif isinstance(obj, list):
        if prefix.endswith("_geolocation") and len(obj) == 2 and all(isinstance(x, (int, float)) for x in obj):
            out[prefix] = f"{obj[0]}, {obj[1]}"
            return
        for item in obj[:1000]:
            if isinstance(item, dict):
                sub: dict[str, str] = {}
                _flatten(item, prefix, sub, extra, depth + 1)
                extra.append(sub)
            else:
                out[prefix] = (out.get(prefix, "") + " " + str(item)).strip()[:1000]
    elif obj is None:
        return
    else:
        out[prefix] = str(obj)[:10000]


class _Buffer:
    """Text decoded from a byte stream (UTF-8, errors replaced), read 1 MB at a time on demand."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.text = ""
        self.eof = False
        self._dec = __import__("codecs").getincrementaldecoder("utf-8")(errors="replace")

    def more(self) -> bool:
        chunk = self.stream.read(1 << 20)
        if not chunk:
            self.eof = True
            self.text += self._dec.decode(b"", final=True)
            return False
        self.text += self._dec.decode(chunk)
        return True


def _records_stream(stream: IO[bytes], col: Collector) -> Iterator[Any]:
    """Yield top-level records from an array (or an object's 'results'/'data' array)."""
    b = _Buffer(stream)
    pos = _first_char(b)
    if pos is None:
        return
    if b.text[pos] == "{":
        idx = _records_array(b, pos)
        if idx < 0:
            # a single object: decode it whole (bounded)
            while not b.eof and len(b.text) < _MAX_RECORD:
                b.more()
            try:
                obj, _ = _DEC.raw_decode(b.text, pos)
            except ValueError:
                raise Unreadable("the JSON file is damaged or too large to read as one object") from None
            yield obj
            return
        pos = idx
    if b.text[pos] != "[":
        try:
            obj, _ = _DEC.raw_decode(b.text, pos)
        except ValueError:
            raise Unreadable("the file is not valid JSON") from None
        yield obj
        return
    yield from _array_items(b, pos + 1, col)


def _first_char(b: _Buffer) -> int | None:
    """Position of the first character that is not white space (or a BOM); None for none."""
    pos = 0
    while True:
        while pos < len(b.text) and b.text[pos] in " \t\r\n\ufeff":
            pos += 1
        if pos >= len(b.text):
            if not b.more():
                return None
            continue
        return pos


def _records_array(b: _Buffer, pos: int) -> int:
    """In a top-level object, the '[' of the array holding the records (looked for within the
    first MB), or -1."""
    while len(b.text) < (1 << 20) and not b.eof:
        b.more()
    for key in ('"results"', '"data"', '"submissions"', '"records"', '"items"'):
        k = b.text.find(key, pos)
        if k >= 0:
            i = b.text.find("[", k)
            if i >= 0:
                return i
    return -1


def _array_items(b: _Buffer, pos: int, col: Collector) -> Iterator[Any]:
    """The items of the array whose first item starts at or after ``pos``; what is consumed is
    dropped from the buffer, so memory stays bounded."""
    n = 0
    while True:
        while True:
            buf = b.text
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf) or b.eof:
                break
            b.more()
        if pos >= len(b.text) or b.text[pos] in "]}":
            return
        while True:
            try:
                obj, end = _DEC.raw_decode(b.text, pos)
                break
            except ValueError:
                if b.eof or len(b.text) - pos > _MAX_RECORD:
                    raise Unreadable("the JSON file is damaged (a record cannot be decoded)") from None
                b.more()
        yield obj
        n += 1
        if n % 5000 == 0:
            col.check_time()
        b.text = b.text[end:]
        pos = 0
        if len(b.text) < (1 << 16) and not b.eof:
            b.more()


def screen_json(opener: Callable[[], IO[bytes]], col: Collector, name: str, *, context: str = "") -> None:
    limits = col.limits
    stream, first = utf8_stream(opener())
    head, _eof = read_head(stream, first, 1 << 30, 64 * 1024)
    head_text = head[:65536].decode("utf-8", "replace")
    for line in head_text[:4096].splitlines()[:5]:
        col.add_label(label_from_line(line))
    for m in _LABEL_KEY.finditer(head_text):
        col.add_label(parse_level(m.group(1)))
    # 1) records -> table (sample + risk rows), streamed
    an = TableAnalyzer(col, context=context, title=name, sample_rows=limits.sample_rows)
    keys: dict[str, int] = {}
    sample: list[dict[str, str]] = []
    rows = 0
    rec_iter = _records_stream(_chain(head, stream), col)
    try:
        for rec in rec_iter:
            flat: dict[str, str] = {}
            extra: list[dict[str, str]] = []
            if isinstance(rec, dict):
                _flatten(rec, "", flat, extra)
            elif isinstance(rec, list):
                for item in rec[:1000]:
                    if isinstance(item, dict):
                        sub: dict[str, str] = {}
                        _flatten(item, "", sub, extra)
                        extra.append(sub)
            else:
                flat["value"] = str(rec)[:10000]
            for r in [flat, *extra]:
                if not r:
                    continue
                rows += 1
                if len(sample) < limits.sample_rows:
                    sample.append(r)
                    for k in r:
                        if k not in keys and len(keys) < 5000:
                            keys[k] = len(keys)
                elif an.risk is not None:
                    an.add_risk_row(_as_row(r, keys))
            if len(sample) >= limits.sample_rows and an.risk is None and an.header:
                break
            if len(sample) >= limits.sample_rows and not an.header:
                _analyse(an, keys, sample)
                if an.risk is None:
                    break
    except RecursionError:
        raise Unreadable("the JSON file is nested too deeply") from None
    if not an.header:
        _analyse(an, keys, sample)
    an.finish(rows)
    # 2) raw block scan of the whole text for buried identifiers and sensitive areas
    scan_json_text(opener(), col, an.bulk_keys(), context)


def _as_row(rec: dict[str, str], keys: dict[str, int]) -> list[str]:
    row = [""] * len(keys)
    for k, v in rec.items():
        i = keys.get(k)
        if i is not None:
            row[i] = v
    return row


def _analyse(an: TableAnalyzer, keys: dict[str, int], sample: list[dict[str, str]]) -> None:
    an.set_header(list(keys))
    for r in sample:
        an.add_row(_as_row(r, keys))
    an.finish_sample()
    if an.risk is not None:
        for r in sample:
            an.add_risk_row(_as_row(r, keys))


def scan_json_text(raw: IO[bytes], col: Collector, keys: set[str], context: str = "") -> None:
    stream, first = utf8_stream(raw)
    loc = LineLocator(context, unit="line")
    scanner = BulkScanner(col, keys, loc, text_mode=True, areas=True, area_needs_context=True)
    run_blocks(scanner, _chain(first, stream), col.limits.block_size, col, on_block=loc.on_block)
