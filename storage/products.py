"""Product lineage: content fingerprints tying a product to the stored submissions it copies.

A coordinator's product must declare every submission it was made from (``sources S-1,S-2``)
so that the consent ledger is asked about them. To catch a product that copies a submission
without declaring it, the product's content is compared, at ``!broadcast`` time, with every
stored, still readable submission version (held, locked or accepted; older versions too):

* the whole file: an identical file (same SHA-256) in any format is a copy;
* table rows (CSV/TSV/text tables, every sheet of an XLSX, tables in a DOCX, and the same inside
  a ZIP): each data row (header and title rows left out) becomes an order-insensitive hash of its
  normalised cells (Unicode NFKC, case, spacing, "1,200"/"1200.0"/"1200", phone spacing and
  leading zeros), so reordered columns, CSV saved as XLSX, or retyped spacing still match. A row
  also matches when its cells are all in one row of the submission (columns dropped) or contain
  a whole row of it (columns added), for rows of 3 or more cells anchored on a value that is
  rare in that submission;
* plain text (and DOCX paragraphs): normalised lines of 12 characters or more. PDF, legacy
  Office, images, markup and JSON are compared as whole files only.

A product shares a *substantial* part with a submission when at least ``MIN_SHARED_ROWS`` of its
data rows, or at least ``MIN_SHARED_SHARE`` of them (and one), are found in it — or when it is the
same file. No content is kept: cells are reduced to 64-bit keyed BLAKE2b hashes whose key lives
only in this process's memory, and fingerprints are cached (hashes only, bounded) so a submission
is decrypted and read once per process, not at every broadcast. Fingerprinting runs in the worker
pool (``run``: processes), comparing in a thread; neither on the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from storage.store import Shredded
from storage.submissions import SubmissionRepo

from . import ids

MIN_SHARED_ROWS = 5  # this many copied data rows is always substantial
MIN_SHARED_SHARE = 0.20  # ... and so is this share of the product's data rows
MIN_ROW_CELLS = 2  # a table row counts when it has at least 2 non-empty cells
MIN_ROW_CHARS = 8  # ... and at least 8 characters in them ("M,5" is not a fingerprint)
MIN_LINE_CHARS = 12  # a text line counts when it has at least 12 characters
MIN_PARTIAL_CELLS = 3  # dropped/added columns: rows of at least 3 cells
RARE_IN_ROWS = 32  # a value in at most 32 rows of a submission can anchor a partial match
MAX_ROWS = 200_000  # data rows fingerprinted per file
MAX_CELLS_PER_ROW = 200
MAX_ZIP_MEMBERS = 200
MAX_INFLATED = 512 << 20  # bytes read out of one ZIP/OOXML file in all
MAX_CACHED_ROWS = 2_000_000  # fingerprint rows kept in the per-process cache, all files together
CANDIDATE_STATES = ("held", "locked", "accepted")


@dataclass(frozen=True)
class Fingerprint:
    """Hashes only: nothing here can be turned back into content without the process key."""

    sha256: bytes = field(repr=False)
    size: int
    #: (row key, sorted distinct cell hashes) per distinct data row; text lines have no cells
    rows: tuple[tuple[int, tuple[int, ...]], ...] = field(repr=False)
    #: for a stored submission: row keys, and rare cell hash -> row indices (partial matches)
    keys: frozenset[int] = field(default=frozenset(), repr=False)
    postings: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @property
    def data_rows(self) -> int:
        return len(self.rows)


# ------------------------------------------------------------------ normalising


_WS = re.compile(r"\s+")
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_PHONEISH = re.compile(r"\+?[\d\s\-().]{6,}")


def normalise_cell(value: str) -> str:
    t = _WS.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()
    if not t:
        return ""
    if _NUMBER.fullmatch(t):
        t = t.replace(",", "").lstrip("+")
        if "." in t:
            t = t.rstrip("0").rstrip(".")
        neg = t.startswith("-")
        t = t.lstrip("-").lstrip("0") or "0"
        return "-" + t if neg and t != "0" else t
    if _PHONEISH.fullmatch(t):
        digits = "".join(ch for ch in t if ch.isdigit())
        if len(digits) >= 6:
            return digits.lstrip("0") or "0"
    return t


class _Hasher:
    """Keyed 64-bit BLAKE2b per normalised cell; a row key combines its sorted cell hashes."""

    def __init__(self, key: bytes) -> None:
        self.key = key[:64]
        self.memo: dict[str, tuple[int, int] | None] = {}  # raw cell -> (length, hash); repeats are common

    def digest(self, data: bytes) -> int:
        return int.from_bytes(hashlib.blake2b(data, digest_size=8, key=self.key).digest(), "big")

    def cell(self, value: str) -> tuple[int, int] | None:
        hit = self.memo.get(value, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        norm = normalise_cell(value)
        out = (len(norm), self.digest(norm.encode())) if norm else None
        if len(self.memo) > 1_000_000:
            self.memo.clear()
        self.memo[value] = out
        return out

    def cells(self, cells: list[str]) -> tuple[int, tuple[int, ...]] | None:
        found = [c for c in map(self.cell, cells[:MAX_CELLS_PER_ROW]) if c is not None]
        if len(found) < MIN_ROW_CELLS or sum(n for n, _d in found) < MIN_ROW_CHARS:
            return None
        hashes = tuple(sorted(d for _n, d in found))
        # the row key, from keyed cell hashes only: hashing a tuple of ints is the same in every
        # process (no str in it: str hashing is randomised per process, and workers are processes)
        return hash((0, hashes)), tuple(dict.fromkeys(hashes))

    def line(self, line: str) -> tuple[int, tuple[int, ...]] | None:
        norm = normalise_cell(line)
        if len(norm) < MIN_LINE_CHARS:
            return None
        return hash((1, self.digest(norm.encode()))), ()


# ------------------------------------------------------------------ reading tables and lines


@dataclass
class _Content:
    tables: list[list[list[str]]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    inflated: int = 0


def _data_rows(rows: list[list[str]]) -> list[list[str]]:
    """Rows below the header (and HXL hashtag row, and any title rows above them)."""
    from bot.screening.readers.delimited import find_header

    hdr, hxl = find_header(rows[:60])
    return rows[max(hdr, hxl if hxl is not None else -1) + 1 :]


def _read_text(data: bytes, name: str, out: _Content) -> None:
    from bot.screening.readers.delimited import sniff_delimiter
    from bot.screening.readers.textio import looks_binary, utf8_stream

    if data[:5] == b"%PDF-" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return  # PDF and legacy Office: compared as whole files only
    stream, first = utf8_stream(io.BytesIO(data))
    raw = first + stream.read()
    if looks_binary(raw[:8192]):
        return
    text = raw.decode("utf-8", "replace")
    if text.lstrip()[:1] in ("<", "{", "["):
        return  # markup and JSON: their boilerplate lines would match each other
    lines = text.splitlines()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    delim = sniff_delimiter(lines[:200], {"csv": ",", "tsv": "\t", "tab": "\t"}.get(ext))
    if delim is None:
        out.lines.extend(lines[:MAX_ROWS])
        return
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delim):
            rows.append(row)
            if len(rows) > MAX_ROWS:
                break
    except csv.Error:
        out.lines.extend(lines[:MAX_ROWS])
        return
    out.tables.append(rows)


class _TooBig(Exception):
    pass


def _member(z: zipfile.ZipFile, info: zipfile.ZipInfo, out: _Content) -> bytes:
    if info.flag_bits & 0x1:  # encrypted member: cannot be compared
        raise _TooBig
    cap = MAX_INFLATED - out.inflated
    with z.open(info) as fh:
        data = fh.read(cap + 1)
    out.inflated += len(data)
    if len(data) > cap:
        raise _TooBig
    return data


def _read_xlsx(z: zipfile.ZipFile, out: _Content) -> None:
    from bot.screening.collector import Collector
    from bot.screening.model import Limits
    from bot.screening.readers.ooxml import _iter_rows, _shared_strings, _sheets, member_stream

    col = Collector(Limits(), None)
    sst = _shared_strings(z, col)
    for _sheet, part in _sheets(z)[:200]:
        rows: list[list[str]] = []
        for _n, row in _iter_rows(member_stream(z, part, col), sst, col):
            rows.append([str(c) for c in row])
            if len(rows) > MAX_ROWS:
                break
        out.tables.append(rows)


def _w(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_docx(z: zipfile.ZipFile, out: _Content) -> None:
    for name in [n for n in z.namelist() if n.startswith("word/") and n.endswith(".xml")][:50]:
        if not (name == "word/document.xml" or name.startswith(("word/header", "word/footer"))):
            continue
        try:
            root = ET.fromstring(_member(z, z.getinfo(name), out))
        except (ET.ParseError, _TooBig):
            continue
        in_tables: set[int] = set()
        for tbl in root.iter():
            if _w(tbl.tag) != "tbl":
                continue
            rows = [
                ["".join(t.text or "" for t in tc.iter() if _w(t.tag) == "t") for tc in tr if _w(tc.tag) == "tc"]
                for tr in tbl
                if _w(tr.tag) == "tr"
            ]
            out.tables.append(rows)
            in_tables.update(id(el) for el in tbl.iter())
        for p in root.iter():
            if _w(p.tag) == "p" and id(p) not in in_tables:
                out.lines.append("".join(t.text or "" for t in p.iter() if _w(t.tag) == "t"))


def _read(data: bytes, name: str, out: _Content, depth: int = 0) -> None:
    if data[:4] != b"PK\x03\x04":
        _read_text(data, name, out)
        return
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = set(z.namelist())
        if "xl/workbook.xml" in names:
            _read_xlsx(z, out)
        elif "word/document.xml" in names:
            _read_docx(z, out)
        elif depth < 2:
            for info in z.infolist()[:MAX_ZIP_MEMBERS]:
                if info.is_dir():
                    continue
                try:
                    _read(_member(z, info, out), info.filename, out, depth + 1)
                except _TooBig:
                    return
    except Exception:  # noqa: BLE001 - damaged or hostile containers: compared as whole files only
        return


def fingerprint(data: bytes, filename: str, key: bytes, *, index: bool = False) -> Fingerprint:
    """Pure and synchronous (run it in a worker). ``index`` prepares a stored submission's
    fingerprint for matching (row keys and rare-value postings)."""
    h = _Hasher(key)
    content = _Content()
    _read(data, filename, content)
    seen: dict[int, tuple[int, ...]] = {}

    def add(item: tuple[int, tuple[int, ...]] | None) -> None:
        if item is not None and len(seen) < MAX_ROWS:
            seen.setdefault(item[0], item[1])

    for table in content.tables:
        for row in _data_rows(table):
            add(h.cells(row))
    for line in content.lines:
        add(h.line(line))
    rows = tuple(seen.items())
    fp = Fingerprint(sha256=hashlib.sha256(data).digest(), size=len(data), rows=rows)
    if not index:
        return fp
    counts: Counter[int] = Counter(chain.from_iterable(cells for _k, cells in rows))
    rare = {c for c, n in counts.items() if n <= RARE_IN_ROWS}
    postings: dict[int, list[int]] = {}
    for i, (_k, cells) in enumerate(rows):
        if len(cells) >= MIN_PARTIAL_CELLS:
            for c in rare.intersection(cells):
                postings.setdefault(c, []).append(i)
    return Fingerprint(
        sha256=fp.sha256,
        size=fp.size,
        rows=rows,
        keys=frozenset(seen),
        postings={c: tuple(ix) for c, ix in postings.items()},
    )


def overlap(product: Fingerprint, source: Fingerprint) -> int:
    """How many of the product's data rows are found in the (indexed) source; an identical file
    counts as all of them (and at least 1)."""
    if product.sha256 == source.sha256:
        return max(product.data_rows, 1)
    shared = 0
    for key, cells in product.rows:
        if key in source.keys:
            shared += 1
            continue
        if len(cells) < MIN_PARTIAL_CELLS or not source.postings:
            continue
        mine = set(cells)
        candidates: set[int] = set()
        for c in cells:
            candidates.update(source.postings.get(c, ()))
        for i in candidates:
            theirs = source.rows[i][1]
            if len(theirs) >= MIN_PARTIAL_CELLS and (mine.issuperset(theirs) or mine.issubset(theirs)):
                shared += 1
                break
    return shared


def substantial(shared: int, data_rows: int) -> bool:
    return shared >= MIN_SHARED_ROWS or (shared >= 1 and shared >= MIN_SHARED_SHARE * data_rows)


def _compare(product: Fingerprint, sources: list[tuple[int, Fingerprint]]) -> dict[int, int]:
    best: dict[int, int] = {}
    for sid, fp in sources:
        n = overlap(product, fp)
        if n > best.get(sid, 0):
            best[sid] = n
    return best


# ------------------------------------------------------------------ the check


@dataclass(frozen=True)
class Copy:
    submission_id: int
    shared_rows: int
    product_rows: int
    whole_file: bool

    def describe(self) -> str:
        if self.whole_file:
            return f"it is the same file as {ids.sub_id(self.submission_id)}"
        return f"{self.shared_rows} of its {self.product_rows} data rows are in {ids.sub_id(self.submission_id)}"


@dataclass(frozen=True)
class LineageCheck:
    copies: tuple[Copy, ...]  # substantial overlaps with submissions the product did not declare
    compared: int  # distinct submissions compared


class Lineage:
    """Compares a product with the stored submissions; one per application (it holds the cache)."""

    def __init__(self, repo: SubmissionRepo, run: Callable[..., Awaitable[Any]], max_cached: int = 512) -> None:
        self.repo = repo
        self.run = run
        self._key = os.urandom(32)
        self._cache: OrderedDict[tuple[int, int, str], Fingerprint] = OrderedDict()
        self._cached_rows = 0
        self._max = max_cached

    async def _source(self, sub_id: int, version: int, blob_id: str) -> Fingerprint | None:
        ck = (sub_id, version, blob_id)
        fp = self._cache.get(ck)
        if fp is not None:
            self._cache.move_to_end(ck)
            return fp
        try:
            filename, _mime, data = await self.repo.read(sub_id, version)
        except Shredded:
            return None
        fp = await self.run(fingerprint, data, filename, self._key, index=True)
        del data
        self._cache[ck] = fp
        self._cached_rows += fp.data_rows
        while len(self._cache) > 1 and (len(self._cache) > self._max or self._cached_rows > MAX_CACHED_ROWS):
            self._cached_rows -= self._cache.popitem(last=False)[1].data_rows
        return fp

    async def check(self, data: bytes, filename: str, declared: Iterable[int]) -> LineageCheck:
        product: Fingerprint = await self.run(fingerprint, data, filename, self._key)
        skip = set(declared)
        sources: list[tuple[int, Fingerprint]] = []
        compared: set[int] = set()
        for v in await self.repo.readable_versions(CANDIDATE_STATES):
            compared.add(v.submission_id)
            if v.submission_id in skip:
                continue
            if not product.rows and v.size != product.size:
                continue  # nothing row-like in the product: only the identical file can match
            fp = await self._source(v.submission_id, v.version, v.blob_id)
            if fp is not None:
                sources.append((v.submission_id, fp))
        # fingerprints are made in the worker pool; comparing is cheap dictionary work on the ones
        # cached here, in a thread (no pickling of every cached fingerprint to a worker process)
        best: dict[int, int] = await asyncio.to_thread(_compare, product, sources) if sources else {}
        same = {sid for sid, fp in sources if fp.sha256 == product.sha256}
        copies = tuple(
            Copy(sid, n, product.data_rows, sid in same)
            for sid, n in sorted(best.items())
            if sid in same or substantial(n, product.data_rows)
        )
        return LineageCheck(copies=copies, compared=len(compared))
