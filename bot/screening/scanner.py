"""Raw block scanning: one combined RE2 program over large UTF-8 byte blocks.

This is what keeps screening as fast as a plain csv parse: Python only runs on candidate
matches (validated with phonenumbers etc.), never per cell.  Categories already confirmed
(e.g. by the column classifier) are left out of the program, and a category stops being
scanned once it has been seen `SATURATE` times (the verdict cannot change any more)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from . import mask, names
from .collector import Collector
from .detectors import BY_KIND, KIND_CATEGORY, SERVICE_LINE, TABLE_KINDS, Candidate, iter_matches
from .patterns import ACTIVITY_RE, VULNERABLE_RE
from .places import place_context

__all__ = ["SERVICE_LINE", "BulkScanner", "Place", "blocks", "run_blocks"]

SATURATE = 2000
BURMESE_BUDGET = 4 << 20  # bytes of Burmese prose a file gets the (Python) name search on
_BURMESE_LEAD = b"\xe1\x80"  # UTF-8 lead bytes of U+1000..U+103F


def _credible_burmese_name(line: str, s: int, e: int, reason: str) -> bool:
    """In running prose: an honorific must start a word (ပြင်ဦးလွင် is the town Pyin Oo Lwin), and a
    name known only by the particle after it needs three syllables (two-syllable runs are too
    often ordinary words: မျိုးနွယ်, lineage)."""
    prev = line[s - 1 : s]
    if reason == "honorific":
        return not prev or not ("\u1000" <= prev <= "\u109f")
    return len([x for x in names.segment_syllables(line[s:e]) if x[2].strip()]) >= 3


def _lines_with_burmese(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    for line in text.split("\n"):
        if any("\u1000" <= ch <= "\u109f" for ch in line):
            yield pos, line
        pos += len(line) + 1


@dataclass
class Place:
    """Where a match sits: a printable location and, in a table, the column index."""

    where: str
    column: int | None = None
    same_cell: bool = True
    skip: bool = False  # e.g. the match is inside XML markup, not cell text


Locator = Callable[[bytes, int, int], Place]
ColumnFilter = Callable[[str, int, str], bool]


class BulkScanner:
    def __init__(
        self,
        col: Collector,
        keys: Iterable[str],
        locate: Locator,
        *,
        text_mode: bool,
        column_ok: ColumnFilter | None = None,
        areas: bool = False,
        area_needs_context: bool = True,
    ) -> None:
        self.col = col
        self.keys = set(keys) & (set(BY_KIND) if text_mode else set(TABLE_KINDS))
        self.locate = locate
        self.text_mode = text_mode
        self.column_ok = column_ok
        self.seen: dict[str, int] = {}
        self.area_pat = col.areas.pattern() if (areas and col.areas) else None
        self.area_needs_context = area_needs_context
        self.area_found = False
        self._burmese_left = BURMESE_BUDGET if text_mode and "pname" in self.keys else 0
        self.gazetteer = col.gazetteer if text_mode and "settlement" in self.keys else None

    def done(self) -> bool:
        return not self.keys and self.area_pat is None and not self._burmese_left and self.gazetteer is None

    def feed(self, block: bytes) -> None:
        if self.keys:
            self._scan_ids(block)
        if self.area_pat is not None:
            self._scan_areas(block)
        if self._burmese_left > 0 and _BURMESE_LEAD in block:
            self._scan_burmese_names(block)
        if self.gazetteer is not None:
            self._scan_gazetteer(block)

    # ------------------------------------------------------------------ the operator's gazetteer
    def _scan_gazetteer(self, block: bytes) -> None:
        """Village and village-tract names of the operator's gazetteer (e.g. the MIMU P-code list)
        found in prose next to people, a household, an incident or assistance: precise locations."""
        assert self.gazetteer is not None
        for s, e, text, _level, _pcode in self.gazetteer.iter_matches(block):
            if place_context(block, s, e) is None:
                continue
            place = self.locate(block, s, e)
            if place.skip:
                continue
            self.col.add("precise_location", place.where, 1, mask.mask_generic(text))
            self.gazetteer = None  # one is enough: the verdict cannot change
            return

    # ------------------------------------------------------------------ Burmese names in prose
    def _scan_burmese_names(self, block: bytes) -> None:
        """Burmese is written without spaces, so names are found by syllables and the particles
        around them (names.find_burmese_names), in Python: bounded to BURMESE_BUDGET bytes a
        file, and one name is enough (the verdict cannot change)."""
        part = block[: self._burmese_left]
        self._burmese_left -= len(part)
        text = part.decode("utf-8", "replace")
        for line_start, line in _lines_with_burmese(text):
            hits = [h for h in names.find_burmese_names(line) if _credible_burmese_name(line, *h)]
            if hits:
                s, e, _reason = hits[0]
                at = len(text[: line_start + s].encode("utf-8"))
                place = self.locate(block, at, at + len(line[s:e].encode("utf-8")))
                if not place.skip:
                    self.col.add("person_name", place.where, 1, mask.mask_name(line[s:e]))
                    self._burmese_left = 0
                    return

    # ------------------------------------------------------------------ identifiers
    def _scan_ids(self, block: bytes) -> None:
        for s, e, _text, kind in iter_matches(block, self.keys):
            detector = BY_KIND[kind]
            example = detector.validate(Candidate(block, s, e))
            if example is None:
                continue
            place = self.locate(block, s, e)
            if place.skip:
                continue
            if kind == "gps" and not place.same_cell:
                continue
            if (
                self.column_ok is not None
                and place.column is not None
                and not self.column_ok(kind, place.column, example[1])
            ):
                continue
            self.col.add(KIND_CATEGORY[kind], place.where, 1, example[0])
            if self.text_mode and detector.marks_person:
                self._vulnerable_near(block, s, e, place.where)
            self.seen[kind] = self.seen.get(kind, 0) + 1
            if self.seen[kind] >= SATURATE:
                self.keys.discard(kind)  # iter_matches rebuilds its program without it
                if not self.keys:
                    return

    def _vulnerable_near(self, block: bytes, s: int, e: int, where: str) -> None:
        ls = block.rfind(b"\n", max(0, s - 2000), s) + 1
        le = block.find(b"\n", e, e + 2000)
        if le < 0:
            le = min(len(block), e + 2000)
        m = VULNERABLE_RE.search(block[max(ls, s - 2000) : le])
        if m:
            self.col.add("vulnerable_individual", where, 1, m.group(0).decode("utf-8", "replace")[:30])

    # ------------------------------------------------------------------ sensitive areas
    def _scan_areas(self, block: bytes) -> None:
        assert self.area_pat is not None
        pos = 0
        while True:
            m = self.area_pat.search(block, pos)
            if m is None:
                return
            s, e = m.span()
            pos = e if e > s else s + 1
            if self.area_needs_context:
                ls = block.rfind(b"\n", max(0, s - 3000), s) + 1
                le = block.find(b"\n", e, e + 3000)
                le = le if le >= 0 else min(len(block), e + 3000)
                if not ACTIVITY_RE.search(block[ls:le]):
                    continue
            place = self.locate(block, s, e)
            if place.skip:
                continue
            self.col.add("partner_presence_sensitive_area", place.where, 1, m.group(0).decode("utf-8", "replace")[:40])
            self.area_found = True
            self.area_pat = None  # one is enough: the verdict cannot change
            return


def blocks(stream: IO[bytes], size: int, sep: bytes = b"\n", first: bytes = b"") -> Iterator[bytes]:
    """Yield blocks of about `size` bytes cut just after `sep`, so no line (row, tag) is split.

    A line longer than 4x `size` (e.g. a 10 MB single line) is cut at a space or '>' near the
    end, or hard-cut as a last resort, keeping memory bounded."""
    buf = first
    while True:
        chunk = stream.read(size)
        if not chunk:
            if buf:
                yield buf
            return
        buf = buf + chunk if buf else chunk
        cut = buf.rfind(sep)
        if cut < 0 and len(buf) >= 4 * size:
            cut = max(buf.rfind(b" ", len(buf) - 4096), buf.rfind(b">", len(buf) - 4096))
            if cut < 0:
                cut = len(buf) - 256
        if cut >= 0:
            yield buf[: cut + 1]
            buf = buf[cut + 1 :]


def run_blocks(
    scanner: BulkScanner,
    stream: IO[bytes],
    size: int,
    col: Collector,
    *,
    sep: bytes = b"\n",
    on_block: Callable[[bytes, int], Any] | None = None,
) -> int:
    """Feed every block to the scanner; returns the number of `sep` seen (lines / rows)."""
    total = 0
    for blk in blocks(stream, size, sep):
        col.check_time()
        n = blk.count(sep)
        total += n
        if on_block is not None:
            on_block(blk, n)
        if not scanner.done():
            scanner.feed(blk)
    return total
