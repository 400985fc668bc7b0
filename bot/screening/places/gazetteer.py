"""The operator gazetteer: village tract / ward / town and village / camp names, matched in text."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import re2

from ..patterns import BURMESE, HONORIFIC_LOWER, NAME_SYLLABLES
from .gazetteer_files import (
    _MAX_GAZ_BYTES,
    _MAX_GAZ_ROWS,
    GazetteerError,
    _cell,
    _code,
    _gazetteer_columns,
    _read_text,
    _read_workbook,
)
from .gazetteer_words import _COMMON_NAMES, _MM_COMMON
from .settlement_words import _GENERIC_WORD

_PAREN = re.compile(r"\(([^)]*)\)")
_ALIAS_SPLIT = re.compile(r"\s*(?:/|;|\|| \(a\) | \(or\) | or | aka | a\.k\.a\. )\s*", re.IGNORECASE)
_ALIAS_HINT = re.compile(r"[()/;|]| or | aka | a\.k\.a\. ", re.IGNORECASE)
_BURMESE_CHARS = re.compile("[" + BURMESE + "]")


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _aliases(value: str) -> list[str]:
    """'Ah Lel (a) Ah Lel Kone (Ngwesaung Sub-township)' -> ['Ah Lel', 'Ah Lel Kone']."""
    v = unicodedata.normalize("NFC", value).strip()
    if not _ALIAS_HINT.search(v):
        v = " ".join(v.split()).strip(" ,.-_")
        return [v] if v else []
    v = re.sub(r"\((?:a|or)\)", " (a) ", v, flags=re.IGNORECASE)
    out: list[str] = []
    for part in _ALIAS_SPLIT.split(v):
        part = _PAREN.sub(" ", part)
        part = " ".join(part.replace("(", " ").replace(")", " ").split()).strip(" ,.-_")
        if part:
            out.append(part)
    return out


def _letters(name: str) -> int:
    return sum(1 for ch in name if ch.isalpha() or "\u1000" <= ch <= "\u109f")


def _usable(name: str, admin: frozenset[str]) -> bool:
    """Keep a name only when matching it in text is meaningful."""
    low = _norm(name)
    if not low or low in admin or low.isdigit():
        return False
    if _BURMESE_CHARS.search(name):
        return len(name.replace(" ", "")) > 3 and name.replace(" ", "") not in _MM_COMMON
    if _letters(name) <= 3 or low in _COMMON_NAMES:
        return False
    words = low.replace("-", " ").split()
    if len(words) == 1 and (words[0] in HONORIFIC_LOWER or words[0] in NAME_SYLLABLES):
        return False
    # every word a person-name syllable or honorific ("Aung Min", "Ma Thida"): a person, not a place
    if all(w in NAME_SYLLABLES or w in HONORIFIC_LOWER for w in words):
        return False
    return not all(w in _COMMON_NAMES or w in _GENERIC_WORD for w in words)


class Gazetteer:
    """Village tract / ward / town (level 4) and village / camp (level 5) names with P-codes.

    Immutable after construction; picklable (only the name table travels; the RE2 program is
    rebuilt and cached per process), so it can go to worker processes like SensitiveAreas."""

    __slots__ = ("_entries", "_pattern_src", "admin_names", "skipped")

    def __init__(self, entries: Iterable[tuple[str, int, str]] = (), admin_names: Iterable[str] = ()) -> None:
        self.admin_names: frozenset[str] = frozenset(_norm(a) for a in admin_names if a and a.strip())
        table: dict[str, tuple[int, str, str]] = {}
        skipped = 0
        for name, level, pcode in entries:
            for alias in _aliases(name or ""):
                if not _usable(alias, self.admin_names):
                    skipped += 1
                    continue
                key = _norm(alias)
                prev = table.get(key)
                if prev is None or (level > prev[0]):  # the finer level wins on a tie of names
                    table[key] = (level, (pcode or "").strip(), alias)
        self._entries = table
        self.skipped = skipped
        self._pattern_src = self._build()

    def _build(self) -> str:
        parts: list[str] = []
        # longest first so "Nyaung Pin Kone" wins over "Nyaung Pin" at the same start
        for key in sorted(self._entries, key=lambda k: (-len(k), k)):
            esc = r"[ \-_]*".join(re.escape(w) for w in re.split(r"[ \-_]+", key) if w)
            if key[:1].isascii() and key[:1].isalnum():
                parts.append(r"\b" + esc + (r"\b" if key[-1:].isascii() and key[-1:].isalnum() else ""))
            else:
                parts.append(esc)
        return "|".join(parts)

    # ------------------------------------------------------------------ pickling / basics
    def __getstate__(self) -> dict[str, Any]:
        return {"entries": self._entries, "admin": self.admin_names, "src": self._pattern_src, "skipped": self.skipped}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # no re-validation: a worker process gets the table as built (cheap for 15,000 names)
        self._entries = state["entries"]
        self.admin_names = state["admin"]
        self._pattern_src = state["src"]
        self.skipped = state["skipped"]

    @classmethod
    def cached(cls, path: str | os.PathLike[str]) -> Gazetteer:
        """Load once per process (keyed by path, size and mtime), so worker processes can be
        given the *path* instead of a pickled table on every call."""
        p = os.fspath(path)
        try:
            st = os.stat(p)
            key = (p, st.st_size, st.st_mtime_ns)
        except OSError:
            key = (p, -1, -1)
        hit = _LOADED.get(key)
        if hit is None:
            hit = cls.load(p)
            _LOADED.clear()
            _LOADED[key] = hit
        return hit

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __repr__(self) -> str:
        return f"Gazetteer({len(self._entries)} names, {len(self.admin_names)} admin names)"

    # ------------------------------------------------------------------ queries
    def pattern(self) -> Any:
        """RE2 program matching any kept name (case-insensitive) in UTF-8 bytes, or None."""
        if not self._pattern_src:
            return None
        return _compiled(self._pattern_src)

    def lookup(self, name: str) -> tuple[int, str] | None:
        """(level, pcode) of a place name (case-, space- and hyphen-insensitive), or None.
        ``pcode`` is "" when the file had no code for it."""
        key = _norm(name)
        hit = self._entries.get(key) or self._entries.get(key.replace("-", " "))
        if hit is None:
            squashed = re.sub(r"[ \-_]+", "", key)
            for k, v in self._entries.items():  # rare path: "NyaungPin" for "Nyaung Pin"
                if re.sub(r"[ \-_]+", "", k) == squashed:
                    hit = v
                    break
        return (hit[0], hit[1]) if hit else None

    def is_admin(self, name: str) -> bool:
        """A state/region, district or township name from the file."""
        return _norm(name) in self.admin_names

    def iter_matches(self, block: bytes, *, strict_case: bool = True) -> Iterator[tuple[int, int, str, int, str]]:
        """Every place name in ``block``: (start, end, text, level, pcode).

        ``strict_case`` (for prose) keeps a Latin match only when its first letter is upper case
        ("Nyaung Pin", "NYAUNG PIN", not "nyaung pin"); a Burmese match must end at a syllable
        boundary (no dependent sign right after it)."""
        pat = self.pattern()
        if pat is None:
            return
        pos, n = 0, len(block)
        while pos < n:
            m = pat.search(block, pos)
            if m is None:
                return
            s, e = m.span()
            pos = e if e > s else s + 1
            raw = m.group(0)
            if raw[:1].isascii():
                if strict_case and not raw[:1].isupper():
                    continue
            else:
                nxt = block[e : e + 3].decode("utf-8", "ignore")[:1]
                prev = block[max(0, s - 3) : s].decode("utf-8", "ignore")[-1:]
                if (nxt and "\u102b" <= nxt <= "\u103e") or (prev and prev == "\u1039"):
                    continue
            text = raw.decode("utf-8", "replace")
            hit = self.lookup(text)
            if hit is None:
                continue
            yield s, e, text, hit[0], hit[1]

    def find(self, text: str) -> str | None:
        """The first place name in ``text`` (any case), or None."""
        for _s, _e, t, _lv, _pc in self.iter_matches(
            unicodedata.normalize("NFC", text).encode("utf-8"), strict_case=False
        ):
            return t
        return None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_table(
        cls,
        header: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        hxl: Sequence[Any] | None = None,
        *,
        source: str = "gazetteer",
    ) -> Gazetteer:
        """Build from a header row, optional HXL row and data rows (any cell types)."""
        cols = _gazetteer_columns([_cell(h) for h in header], [_cell(h) for h in hxl] if hxl else None)
        names = [c for c in cols if c[1] == "name" and c[2] >= 4]
        if not names:
            raise GazetteerError(
                f"{source}: no village or village-tract name column (expected headers "
                "such as Village, Village_Tract, Ward, #adm4+name)"
            )
        code_of: dict[int, int] = {}
        for idx, kind, level in cols:
            if kind == "code":
                code_of.setdefault(level, idx)
        admin_cols = [c[0] for c in cols if c[1] == "name" and c[2] <= 3]
        entries: list[tuple[str, int, str]] = []
        admin: set[str] = set()
        seen: set[tuple[str, int]] = set()  # names repeat on every row of their village tract
        count = 0
        for row in rows:
            count += 1
            if count > _MAX_GAZ_ROWS:
                raise GazetteerError(f"{source}: more than {_MAX_GAZ_ROWS} rows")
            for i in admin_cols:
                if i < len(row):
                    v = _cell(row[i])
                    if v and (v, 0) not in seen:
                        seen.add((v, 0))
                        admin.update(_aliases(v))
            for idx, _kind, level in names:
                if idx >= len(row):
                    continue
                v = _cell(row[idx])
                if not v or (v, level) in seen:
                    continue
                seen.add((v, level))
                ci = code_of.get(level)
                code = _code(row[ci]) if ci is not None and ci < len(row) else ""
                entries.append((v, level, code))
        return cls(entries, admin)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Gazetteer:
        """Read an operator gazetteer (CSV/TSV, XLSX/XLS/ODS; e.g. the MIMU P-code list or an HXL
        table).  Raises GazetteerError (one line naming the path) when it cannot be used."""
        p = Path(path)
        try:
            size = p.stat().st_size
            if not p.is_file():
                raise GazetteerError(f"cannot read gazetteer file {p}: not a regular file")
            with open(p, "rb") as fh:
                head = fh.read(8192)
        except GazetteerError:
            raise
        except FileNotFoundError:
            raise GazetteerError(f"cannot read gazetteer file {p}: file not found") from None
        except OSError as exc:
            raise GazetteerError(f"cannot read gazetteer file {p}: {exc.strerror or type(exc).__name__}") from None
        if size == 0 or not head.strip():
            raise GazetteerError(f"cannot read gazetteer file {p}: the file is empty")
        if size > _MAX_GAZ_BYTES:
            raise GazetteerError(f"cannot read gazetteer file {p}: larger than {_MAX_GAZ_BYTES >> 20} MB")
        try:
            if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
                header, hxl, rows = _read_workbook(p)
            else:
                header, hxl, rows = _read_text(p, head)
            return cls.from_table(header, rows, hxl, source=f"gazetteer file {p}")
        except GazetteerError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parser failure is one plain line
            raise GazetteerError(
                f"cannot read gazetteer file {p}: damaged or unsupported ({type(exc).__name__})"
            ) from None


_CACHE: dict[str, Any] = {}
_LOADED: dict[tuple[str, int, int], Gazetteer] = {}
GAZETTEER_RE2_MEM = 256 << 20


def _compiled(src: str) -> Any:
    """RE2 for a gazetteer alternation.  A budget of 256 MB (used lazily: ~80 MB RSS for 15,000
    names) because RE2 finds a match's start with a DFA over the *reversed* alternation, which
    has no shared prefixes; with the default 64 MB that DFA runs out of memory on every hit and
    RE2 falls back to its NFA (~1 MB/s instead of 15-30 MB/s, and a log line per hit)."""
    pat = _CACHE.get(src)
    if pat is None:
        opts = re2.Options()
        opts.max_mem = GAZETTEER_RE2_MEM
        opts.case_sensitive = False
        pat = re2.compile(src.encode("utf-8"), opts)
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[src] = pat
    return pat
