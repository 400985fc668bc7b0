"""The sensitive-areas list: names in any script, or MIMU P-codes (a P-code also covers
every code below it, e.g. township MMR017024 covers village tract MMR017024040)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .patterns import compile_bytes

_PCODE = re.compile(r"^MMR[0-9A-Z]{3,12}$", re.IGNORECASE)


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


class SensitiveAreas:
    """Immutable after construction; safe to share between threads and to pickle."""

    __slots__ = ("_pattern_src", "names", "pcodes")

    def __init__(self, names: Iterable[str] = (), pcodes: Iterable[str] = ()) -> None:
        self.names: tuple[str, ...] = tuple(sorted({normalise(n) for n in names if n.strip()}))
        self.pcodes: tuple[str, ...] = tuple(sorted({p.strip().upper() for p in pcodes if p.strip()}))
        parts: list[str] = []
        for n in self.names:
            esc = re.escape(n).replace(r"\ ", r"[ \-_]*")
            if n[:1].isascii() and n[:1].isalnum():
                parts.append(r"\b" + esc + (r"\b" if n[-1:].isascii() and n[-1:].isalnum() else ""))
            else:
                parts.append(esc)
        for p in self.pcodes:
            parts.append(r"\b" + re.escape(p))
        self._pattern_src = "|".join(parts)

    def __getstate__(self) -> dict[str, Any]:
        return {"names": self.names, "pcodes": self.pcodes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["names"], state["pcodes"])  # type: ignore[misc]

    def __bool__(self) -> bool:
        return bool(self.names or self.pcodes)

    def __repr__(self) -> str:
        return f"SensitiveAreas({len(self.names)} names, {len(self.pcodes)} P-codes)"

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> SensitiveAreas:
        names: list[str] = []
        pcodes: list[str] = []
        for raw in lines:
            line = raw.split("#", 1)[0].strip().strip("\ufeff").strip()
            if not line:
                continue
            (pcodes if _PCODE.match(line) else names).append(line)
        return cls(names, pcodes)

    @classmethod
    def from_file(cls, path: str | Path) -> SensitiveAreas:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return cls.from_lines(fh)

    def pattern(self) -> Any:
        """RE2 program matching any area (case-insensitive) in UTF-8 bytes, or None."""
        if not self._pattern_src:
            return None
        return _compiled(self._pattern_src)

    def find(self, text: str) -> str | None:
        """The first area mentioned in `text`, or None."""
        pat = self.pattern()
        if pat is None or not text:
            return None
        m = pat.search(unicodedata.normalize("NFC", text).encode("utf-8", "replace"))
        return m.group(0).decode("utf-8", "replace") if m else None


_CACHE: dict[str, Any] = {}


def _compiled(src: str) -> Any:
    pat = _CACHE.get(src)
    if pat is None:
        pat = compile_bytes(src, case_insensitive=True)
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[src] = pat
    return pat
