"""Settlement words around a proper name in prose: the RE2 pattern and its validator."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from ..patterns import DIG, compile_bytes, to_ascii_digits
from .settlement_words import (
    _GENERIC_WORD,
    _KIND,
    _LEAD_STOP,
    _MM_AFTER_GENERIC,
    _MM_CAMP,
    _MM_DISPLACED,
    _MM_GENERIC,
    _MM_KW,
    _MM_KW_WORDS,
    _MM_NUMBER,
    _MM_PARTICLES,
    _MM_VILLAGE,
    _MM_VILLAGE_LONG,
    _MM_WARD,
    _REJECT_WORD,
    _ZG_WARD,
)

# =========================================================================== settlement words
_LATIN_WORD = r"[A-Z][a-z'\x{2019}]{1,14}(?:-[A-Za-z][a-z]{1,14})?"
#: a romanised proper name: 1-4 capitalised words ("Nyaung Pin", "Hpa-An", "Ma Kyar")
LATIN_PLACE_NAME = _LATIN_WORD + r"(?: " + _LATIN_WORD + r"){0,3}"
_KW_AFTER = (
    r"(?i:village[ \-]tracts?|villages?|wards?|quarters?|hamlets?|idps? camps?|idps? sites?|"
    r"displacement (?:camps?|sites?)|relocation sites?|camps?|ywar?)(?:[^\-A-Za-z0-9_]|$)"
)
# (the settlement word consumes the character after it: RE2 has no lookahead, and "village-level"
# must not even become a candidate, or prose full of "village-level" costs a Python call each)
_KW_BEFORE = r"(?i:village[ \-]tract|village|ward|quarter|hamlet|idp camp|idp site|camp)"
_OF = r"(?i: (?:of|called|named|known as))"
_WARD_NO = r"(?i:no\.?|number|#) ?[(\[]?" + DIG + r"{1,3}[)\]]?"
_WARD_KW = r"(?i:ward|quarter)"

# Burmese: a syllable is a consonant (or independent vowel) with its dependent signs, optionally
# closed by a killed consonant (asat); Zawgyi text puts U+1031 before the consonant.
_MM_MARKS = "\u102b-\u103e"
_MM_SYL = (
    "\u1031?[\u1000-\u102a\u103f\u104c-\u104f][" + _MM_MARKS + "]*"
    "(?:[\u1000-\u1021][\u1037\u1038]*\u103a[\u1037\u1038]*)?"
)

#: settlement word around a proper name (English, romanised Myanmar, Burmese Unicode and Zawgyi)
SETTLEMENT_PATTERN = "|".join(
    [
        # numbered wards first, so "Ward No. 5" is not taken for "Ward" + the name "No":
        # "Ward No. 5", "Quarter (3)", "No. 3 Ward", "(3) Ward"
        r"\b" + _WARD_KW + r" ?(?:" + _WARD_NO + r"|[(\[]" + DIG + r"{1,3}[)\]])",
        r"(?:\b" + _WARD_NO + r"|[(\[]" + DIG + r"{1,3}[)\]]) " + _WARD_KW + r"\b",
        # "Nyaung Pin village", "Ma Kyar village tract", "Sin Tet Maw IDP camp", "The village of Kyauk Taw"
        r"\b"
        + LATIN_PLACE_NAME
        + r"[ \-]"
        + _KW_AFTER
        + r"(?:(?i:of|called|named|known as) "
        + LATIN_PLACE_NAME
        + r")?",
        # "village of Kyauk Taw", "village tract Thayet Pin", "camp called Dar Paing"
        r"\b" + _KW_BEFORE + _OF + r"? " + LATIN_PLACE_NAME,
        # Burmese: "ကျောက်တော်ရွာ", "ရွာသစ်ကျေးရွာ", "... ဒုက္ခသည်စခန်း"
        "(?:" + _MM_SYL + "){1,5}(?:" + "|".join(_MM_DISPLACED) + ")? ?(?:" + _MM_KW + ")",
        # "အမှတ် ၃ ရပ်ကွက်", "(၃) ရပ်ကွက်"
        "(?:"
        + _MM_NUMBER
        + " ?[(\\[]?"
        + DIG
        + "{1,3}[)\\]]?|[(\\[]"
        + DIG
        + "{1,3}[)\\]]) ?(?:"
        + _MM_WARD
        + "|"
        + _ZG_WARD
        + ")",
    ]
)
SETTLEMENT_RE = compile_bytes(SETTLEMENT_PATTERN)

_KW_AFTER_RE = re.compile(r"[ \-](" + "|".join(re.escape(k) for k, _ in _KIND) + r")\b", re.IGNORECASE)
_KW_BEFORE_RE = re.compile(
    r"^(village[ \-]tract|village|ward|quarter|hamlet|idp camp|idp site|camp)"
    r"(?: (?:of|called|named|known as))? ",
    re.IGNORECASE,
)
_OF_TAIL_RE = re.compile(r" (?:of|called|named|known as) (.+)$", re.IGNORECASE)

_HOSPITAL = re.compile(
    r"(?i)\b(?:hospital|clinic|bed|beds|admitted|maternity|surgical|medical|patients?|"
    r"icu|prison|jail|cell)\b[^\n]{0,40}$"
)
_AFTER_GENERIC = re.compile(
    r"(?i)^(?:[\-\s]*(?:level|based|wide|tract level|head|heads|leader|leaders|"
    r"administrator|administrators|administration|office|offices|committee|committees|"
    r"development|profile|profiles|data|pcode|p-code|code|codes|boundar\w+|"
    r"management|authorit\w+)\b)"
)
_MM_SYL_RE = re.compile(_MM_SYL.replace("\\x{", "\\u"))
_NUM_ONLY = re.compile(r"^[\s0-9\u1040-\u1049().,#\-]*$")
_WARD_NUM_RE = re.compile(r"[0-9\u1040-\u1049]{1,3}")


def _kind_of(kw: str) -> str:
    k = " ".join(kw.lower().split())
    for word, kind in _KIND:
        if k == word:
            return kind
    return "village"


def _clean_latin_name(words: list[str]) -> list[str]:
    """Drop leading stop/admin words ("In", "The", "Township"); [] when nothing specific is left."""
    cut = 0
    for i, w in enumerate(words):
        if w.lower().strip("'\u2019") in _LEAD_STOP:
            cut = i + 1
    words = words[cut:]
    if not words:
        return []
    low = [w.lower().strip("'\u2019") for w in words]
    if any(w in _REJECT_WORD or w in _LEAD_STOP for w in low):
        return []
    if all(w in _GENERIC_WORD for w in low):
        return []
    if sum(len(w) for w in words) < 3:
        return []
    return words


def _burmese_name(name: str) -> str:
    """The proper-name part of a run of Burmese syllables before a settlement word."""
    name = name.strip()
    for generic in _MM_DISPLACED:
        name = name.removesuffix(generic)
    cut = 0
    for p in _MM_PARTICLES:
        i = name.rfind(p)
        while i >= 0:
            end = i + len(p)
            # only at a syllable boundary: the next char must start a syllable, not be a sign
            if end >= len(name) or not ("\u102b" <= name[end] <= "\u103e"):
                cut = max(cut, end)
                break
            i = name.rfind(p, 0, i)
    name = name[cut:]
    for generic in _MM_DISPLACED + ("\u1000\u103b\u1031\u1038", "\u1031\u1000\u103a\u1038"):  # ကျေး, ေက်း
        name = name.removesuffix(generic)
    name = name.strip()
    if not name or name in _MM_GENERIC or len(name) < 2:
        return ""
    sylls = _MM_SYL_RE.findall(name)
    if sylls and sylls[-1] in _MM_GENERIC:
        return ""  # ရဲစခန်း (police station), စစ်စခန်း (military camp)
    return name


def validate_settlement(text: str, before: str = "", after: str = "") -> str | None:
    """A settlement candidate (a match of SETTLEMENT_PATTERN) as a short label, or None when it is
    a generic use.  ``before``/``after`` are up to ~60 characters around the match.

    Returns e.g. "Nyaung Pin village", "Kyauk Taw village", "Ma Kyar village tract", "Ward No. 5",
    "ကျောက်တော်ရွာ".  Rejected: "The village", "Every village", "village-level", "Village Tract
    Administrators", "Village Development Committee", "Ward Office", "Refugee camp", numbers only
    ("Camp 5"), a hospital ward ("admitted to Ward No. 3"), Burmese ဤရွာ / ရွာများ / ရဲစခန်း."""
    t = unicodedata.normalize("NFC", " ".join(text.split()))
    if not t or _NUM_ONLY.match(t):
        return None
    if any("\u1000" <= ch <= "\u109f" for ch in t) and not t[:1].isascii():
        return _validate_burmese(t, after)
    if t[:1] in "(" or _WARD_NUM_RE.search(t) and re.match(r"(?i)^(?:ward|quarter|no|number|#|\()", t):
        return _validate_ward_number(t, before)
    if _AFTER_GENERIC.match(after):
        return None  # "Kyauk Taw village-level data", "Nyaung Pin village administrator"
    m = _KW_BEFORE_RE.match(t)
    if m is not None and not _KW_AFTER_RE.search(t[: m.end()].rstrip()):
        # leading form: "village of Kyauk Taw", "village tract Thayet Pin"
        words = _clean_latin_name(t[m.end() :].split())
        if not words:
            return None
        return " ".join(words) + " " + _kind_of(m.group(1))
    # trailing form: "Nyaung Pin village", optionally "... village of Kyauk Taw"
    tail = _OF_TAIL_RE.search(t)
    head_part = t[: tail.start()] if tail else t
    kws = list(_KW_AFTER_RE.finditer(head_part))
    if not kws:
        return None
    kw = kws[-1]
    kind = _kind_of(kw.group(1))
    words = _clean_latin_name(head_part[: kw.start()].split())
    if words:
        return " ".join(words) + " " + kind
    if tail:
        words = _clean_latin_name(tail.group(1).split())
        if words:
            return " ".join(words) + " " + kind
    return None


def _validate_ward_number(t: str, before: str) -> str | None:
    if _HOSPITAL.search(before):
        return None  # a hospital or prison ward
    n = _WARD_NUM_RE.search(t)
    if n is None:
        return None
    num = int(to_ascii_digits(n.group(0)))
    if num == 0 or num > 300:
        return None
    kind = "Quarter" if "quarter" in t.lower() else "Ward"
    return f"{kind} No. {num}"


def _validate_burmese(t: str, after: str) -> str | None:
    if after.lstrip().startswith(_MM_AFTER_GENERIC):
        return None
    for kw in _MM_KW_WORDS:
        if t.endswith(kw):
            head = t[: -len(kw)].strip()
            break
    else:
        return None
    if head.startswith(_MM_NUMBER) or head[:1] in "([" or (head and all(c in "()[] " or c.isdigit() for c in head)):
        digits = _WARD_NUM_RE.search(head)
        return t if digits and 0 < int(to_ascii_digits(digits.group(0))) <= 300 else None
    name = _burmese_name(head)
    if not name:
        return None
    group = "\u1021\u102f\u1015\u103a\u1005\u102f"  # အုပ်စု: "...ကျေးရွာ" + "အုပ်စု" is a village tract
    return name + kw + (group if kw == _MM_VILLAGE_LONG and after.startswith(group) else "")


def followed_by_settlement_word(after: str) -> bool:
    """True when text right after a person-name candidate is a settlement word, so the
    candidate is a place ("Ma Kyar village tract", "Ko Taung ward") and not a person."""
    return bool(_FOLLOW_RE.match(after))


_FOLLOW_RE = re.compile(
    r"^[ \-]?(?:village|villages|village[ \-]tract|vt\b|ward|quarter|camp|idp|hamlet|"
    r"ywa|ywar|township|tsp\b|town\b|region|state\b|district|" + _MM_VILLAGE + "|" + _MM_WARD + "|" + _MM_CAMP + ")",
    re.IGNORECASE,
)


def iter_settlements(block: bytes) -> Iterator[tuple[int, int, str]]:
    """Every validated settlement candidate in ``block``: (start, end, label).  For tests and the
    column sampler; the bulk scanner gets the same matches from the combined program."""
    pos, n = 0, len(block)
    while pos < n:
        m = SETTLEMENT_RE.search(block, pos)
        if m is None:
            return
        s, e = m.span()
        pos = e if e > s else s + 1
        label = validate_settlement(
            m.group(0).decode("utf-8", "replace"),
            block[max(0, s - 60) : s].decode("utf-8", "replace"),
            block[e : e + 60].decode("utf-8", "replace"),
        )
        if label:
            yield s, e, label
