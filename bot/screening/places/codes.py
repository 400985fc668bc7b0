"""Bare village codes (MIMU P-codes) after a code keyword."""

from __future__ import annotations

import re

from ..patterns import compile_bytes

_CODE_KW = (
    r"(?i:\b(?:(?:village|vill|vlg|village[ _\-]tract|vt|ward|town|camp|site|location|loc)[ _\-]?"
    r"(?:p[ _\-]?codes?|codes?|ids?|no\.?|numbers?)|p[ _\-]?codes?|vt|vlg))"
)
#: a bare MIMU-style code after a code keyword: "village code 150123", "VT 150123",
#: "pcode: 001001001" (VT/town P-code without "MMR"), "ward code 001001701501"
VILLAGE_CODE_PATTERN = (
    _CODE_KW + r"[ \t]{0,3}[:=#\-]?[ \t]{0,3}[(\[]?"
    r"(?:[0-9]{12}|[0-9]{9}|[1-9][0-9]{5})(?:\.0)?\b"
)
VILLAGE_CODE_RE = compile_bytes(VILLAGE_CODE_PATTERN)
_CODE_DIGITS = re.compile(r"([0-9]{6,12})(?:\.0)?$")
_CURRENCY_AFTER = re.compile(r"(?i)^\s*(?:mmk|kyats?|ks\b|usd|\$|thb|baht|lakhs?|%)")


def validate_village_code(text: str, before: str = "", after: str = "") -> str | None:
    """The code of a VILLAGE_CODE_PATTERN candidate, or None.

    MIMU formats: village P-code = 6 digits (e.g. 117001, stored as a number in the MIMU list);
    village tract / town = MMR + state(3) + township(3) + VT/town(3) (MMR001001001, MMR001001701);
    ward = town + 3 digits.  Bare 9/12-digit codes must start with a state/region code 001-018."""
    m = _CODE_DIGITS.search(text.strip().rstrip(")]"))
    if m is None:
        return None
    if after[:1].isdigit() or (after[:1] in ".," and after[1:2].isdigit()) or _CURRENCY_AFTER.match(after):
        return None
    code = m.group(1)
    if len(code) in (9, 12):
        return code if 1 <= int(code[:3]) <= 18 and code[3:6] != "000" else None
    if len(code) == 6:
        return None if len(set(code)) == 1 or code in ("123456", "654321") else code
    return None
