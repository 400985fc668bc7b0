"""Helpers shared by the identifier modules: Myanmar digits, masking, the candidate protocol."""

from __future__ import annotations

import re
from typing import Protocol

MM_DIGITS = "\u1040\u1041\u1042\u1043\u1044\u1045\u1046\u1047\u1048\u1049"
_TO_ASCII = str.maketrans({c: str(i) for i, c in enumerate(MM_DIGITS)})
DIG = "[0-9\u1040-\u1049]"


def to_ascii_digits(s: str) -> str:
    """Myanmar digits -> ASCII (one code point for one: offsets are kept)."""
    return s.translate(_TO_ASCII)


def _mask(value: str) -> str:
    """Never more than the first 2 and last 2 characters (separators dropped)."""
    v = re.sub(r"[\s\-().:/]+", "", value.strip())
    if len(v) <= 5:
        return v[:1] + "*" * max(len(v) - 1, 3)
    return v[:2] + "*" * (len(v) - 4) + v[-2:]


_NON_DIGIT = re.compile(r"[^0-9]")


def _digits(s: str) -> str:
    return _NON_DIGIT.sub("", to_ascii_digits(s))


class _CandidateLike(Protocol):
    """detectors.Candidate, read-only (that module imports this one)."""

    @property
    def block(self) -> bytes: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...
