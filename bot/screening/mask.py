"""Masking of examples: a finding shows *what kind* of value was seen, never the value."""

from __future__ import annotations

import re

HONORIFICS = (
    "u",
    "daw",
    "ko",
    "ma",
    "maung",
    "mg",
    "naw",
    "saw",
    "sa",
    "nan",
    "nang",
    "sai",
    "nai",
    "mi",
    "khun",
    "mahn",
    "duwa",
    "dr",
    "mr",
    "mrs",
    "ms",
    "miss",
)
_HON = set(HONORIFICS)
_SEPS = re.compile(r"[\s\-().]+")


def mask_middle(value: str, keep: int = 2) -> str:
    """Keep the first and last `keep` characters: 09*******12."""
    v = _SEPS.sub("", value.strip())
    if len(v) <= 2 * keep + 1:
        return v[:1] + "*" * max(len(v) - 1, 2)
    return v[:keep] + "*" * (len(v) - 2 * keep) + v[-keep:]


def mask_name(value: str) -> str:
    """Honorific kept, then the first letter of each word: Daw H** H** W**."""
    out: list[str] = []
    for i, word in enumerate(value.split()[:6]):
        if i == 0 and word.lower().rstrip(".") in _HON:
            out.append(word)
        else:
            out.append(word[:1] + "**")
    return " ".join(out) if out else "***"


def mask_email(value: str) -> str:
    """a***@d***.org"""
    local, _, domain = value.strip().partition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[:1]}***@{domain[:1]}***.{tld}"


def mask_coord(value: str) -> str:
    """Keep one decimal: 16.8***, 96.1***"""
    return re.sub(r"(\d+\.\d)\d+", lambda m: m.group(1) + "***", value.strip())[:60]


def mask_generic(value: str) -> str:
    v = value.strip()
    if not v:
        return ""
    if len(v) <= 4:
        return v[:1] + "***"
    return v[:2] + "*" * min(len(v) - 4, 12) + v[-2:]
