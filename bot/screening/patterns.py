"""Patterns and validators.

Every pattern here is compiled with RE2 (linear time, no backtracking), so no input can
make matching blow up.  Patterns run over UTF-8 *bytes* (no decoding in the hot path);
candidates are then validated in Python (phonenumbers, ranges, stop-lists), which only
runs on the few spans that matched.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Any

import phonenumbers
import re2

from .identifiers import reserved_domain
from .pattern_words import HONORIFIC_WORDS, NAME_STOP, NAME_SYLLABLES, ROLE_LOCALPARTS

MM_DIGITS = "\u1040\u1041\u1042\u1043\u1044\u1045\u1046\u1047\u1048\u1049"
_TO_ASCII = str.maketrans({c: str(i) for i, c in enumerate(MM_DIGITS)})
DIG = "[0-9\u1040-\u1049]"
BURMESE = "\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff"


def compile_bytes(pattern: str, *, case_insensitive: bool = False) -> Any:
    """Compile a str pattern with RE2 for UTF-8 byte input."""
    opts = re2.Options()
    opts.max_mem = 64 << 20
    opts.case_sensitive = not case_insensitive
    return re2.compile(pattern.encode("utf-8"), opts)


def to_ascii_digits(s: str) -> str:
    return s.translate(_TO_ASCII)


# --------------------------------------------------------------------------- phone
PHONE = r"(?:\+ ?9 ?5|\b9 ?5|\b0|\x{1040}|\x{1049}\x{1045})[ \-]?(?:9|\x{1049})(?:[ \-]?" + DIG + r"){6,9}"
# a generic international number (only used inside phone-labelled columns)
_NON_DIGIT = re.compile(r"[^0-9+]")


@functools.lru_cache(maxsize=65536)
def _valid_digits(digits: str) -> bool:
    try:
        if digits.startswith("+"):
            num = phonenumbers.parse(digits, None)
        elif digits.startswith("95") and 10 <= len(digits) <= 12:
            num = phonenumbers.parse("+" + digits, None)
        else:
            num = phonenumbers.parse(digits, "MM")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(num))


def phone_digits(text: str) -> str:
    return _NON_DIGIT.sub("", to_ascii_digits(text))


def valid_phone(text: str) -> str | None:
    """Return the normalised number if `text` (a regex candidate) is a valid phone number.

    Candidates joined with a following number by a space are retried shorter, cutting at
    separators, so '0912345678 0998...' still yields the first number."""
    t = to_ascii_digits(text.strip())
    parts = re.split(r"[ \-]", t)
    for end in range(len(parts), 0, -1):
        cand = "".join(parts[:end])
        digits = _NON_DIGIT.sub("", cand)
        if len(digits.lstrip("+")) < 8:
            break
        if _valid_digits(digits):
            return digits
    return None


_PHONE_CHARS = re.compile(r"^[+0-9\u1040-\u1049 ()\-./]+$")


def valid_phone_cell(text: str) -> bool:
    """A whole cell that is a phone number (any country when it starts with +)."""
    t = text.strip()
    if not t or len(t) > 24 or not _PHONE_CHARS.match(t):
        return False
    d = phone_digits(t)
    if len(d.lstrip("+")) < 8 or len(d) > 16:
        return False
    if t.startswith(("+", "00")):
        return _valid_digits("+" + d.lstrip("+").removeprefix("00") if t.startswith("00") else d)
    return _valid_digits(d)


# --------------------------------------------------------------------------- email
EMAIL = r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}"
EMAIL_RE = re.compile(EMAIL)


def personal_email(addr: str) -> bool:
    local, _, domain = addr.partition("@")
    if reserved_domain(domain):
        return False
    local = local.lower()
    if local in ROLE_LOCALPARTS:
        return False
    parts = re.split(r"[._\-+]", local)
    if any(p in ROLE_LOCALPARTS for p in parts) and all(
        p in ROLE_LOCALPARTS or p.isalpha() and len(p) <= 3 or p in ("mm", "myanmar", "ygn", "mdy") for p in parts
    ):
        return False
    return not any(
        p in ("cluster", "coordination", "info", "noreply", "secretariat", "helpdesk", "hotline") for p in parts
    )


# --------------------------------------------------------------------------- NRC
NRC = (
    r"(?:\b[0-9]{1,2}|[\x{1040}-\x{1049}]{1,2}) ?/ ?(?:[A-Za-z]{3,12}|[" + BURMESE + r"]{2,24})"
    r" ?[(\[] ?(?:[A-Za-z]{1,6}|[" + BURMESE + r"]{1,12}) ?[)\]] ?" + DIG + r"{5,6}"
)
_NRC_STATE = re.compile(r"^\s*([0-9]{1,2})")


def valid_nrc(text: str) -> bool:
    m = _NRC_STATE.match(to_ascii_digits(text))
    return m is not None and 1 <= int(m.group(1)) <= 14


# --------------------------------------------------------------------------- P-codes / GPS
PCODE_PRECISE = r"\bMMR[0-9]{9}(?:[0-9]{3})?\b"
PCODE_ANY_RE = re.compile(r"^MMR[0-9]{3}(?:D[0-9]{3}|[0-9]{3}(?:[0-9]{3}(?:[0-9]{3})?)?)?$")
PCODE_PRECISE_RE = re.compile(r"^MMR[0-9]{9}(?:[0-9]{3})?$")
GPS_PAIR = r"-?\b[0-9]{1,3}\.[0-9]{3,12} *[,;/ ] *-?[0-9]{1,3}\.[0-9]{3,12}\b"
_FLOATS = re.compile(r"-?\d{1,3}\.\d+")

LAT_RANGE = (9.5, 28.6)
LON_RANGE = (92.1, 101.2)


def in_lat(x: float) -> bool:
    return LAT_RANGE[0] <= x <= LAT_RANGE[1]


def in_lon(x: float) -> bool:
    return LON_RANGE[0] <= x <= LON_RANGE[1]


def valid_gps_pair(text: str) -> bool:
    nums = [float(x) for x in _FLOATS.findall(text)[:2]]
    if len(nums) != 2:
        return False
    a, b = nums
    return (in_lat(a) and in_lon(b)) or (in_lon(a) and in_lat(b))


# --------------------------------------------------------------------------- names
HONORIFIC_LOWER = frozenset(h.lower() for h in HONORIFIC_WORDS)
_WEAK_HONORIFICS = frozenset({"U", "Ma", "Ko", "Sa", "Mi", "Nan", "Sai", "Nai", "Mg", "Saw"})
NAME_IN_TEXT = r"\b(?:" + "|".join(HONORIFIC_WORDS) + r")\.? [A-Z][a-z]{1,12}(?: [A-Z][a-z]{1,12}){0,3}"
NAME_LABEL = (
    r"(?i:\b(?:full name|name of (?:the )?(?:survivor|child|respondent|beneficiary|victim|person)|name)) ?[:\-] ?\S"
)
NAME_LABEL_BURMESE = "(?:\u1021\u1019\u100a\u103a|\u1014\u102c\u1019\u100a\u103a) ?[:\\-\u104a] ?\\S"


_AGE_AFTER = re.compile(
    r"^\s*(?:\(\s*\d{1,2}\s*(?:y|yrs?|years?(?: old)?)?\s*\)|,\s*\d{1,2}\s*(?:,|y|yrs?\b|years?\b)"
    r"|,?\s*aged?\s*\d{1,2}\b|,?\s*\d{1,2}[\s\-]years?[\s\-]old)"
)


def valid_text_name(text: str, after: str = "") -> bool:
    """`Daw Hla Hla Win`, `U Tin Maung Oo`; a weak honorific (U, Ma, Ko ...) with one name word
    only when the word is a common name syllable (`Ma Thida`, `Ko Zarni`) or an age follows
    (`Ma Hnin (16)`)."""
    words = text.replace(".", "").split()
    if len(words) < 2:
        return False
    hon, rest = words[0], words[1:]
    if any(w.lower() in NAME_STOP for w in rest):
        return False
    if hon in _WEAK_HONORIFICS and len(rest) < 2:
        return (
            rest[0].lower() in NAME_SYLLABLES
            and rest[0].lower() not in HONORIFIC_LOWER
            or bool(_AGE_AFTER.match(after))
        )
    return True


# --------------------------------------------------------------------------- date of birth
DOB_TEXT = (
    r"(?i:\b(?:date of birth|birth ?date|d\.o\.b\.?|dob|born on)) ?[:\-]? ?"
    + DIG
    + "|(?:\u1019\u103d\u1031\u1038\u101e\u1000\u1039\u1000\u101b\u102c\u1007\u103a|"
    "\u1019\u103d\u1031\u1038\u1014\u1031\u1037) ?[:\\-\u104a]? ?" + DIG
)
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%Y-%m-%dT%H:%M:%S",
)
_ISO_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


_DATEISH = re.compile(r"^\d{1,4}[-/. ][0-9A-Za-z]{1,9}[-/. ,]+\d{2,4}|^[A-Za-z]{3,9} \d{1,2}, \d{4}|^\d{3,5}(?:\.0)?$")


def parse_date(value: str) -> _dt.date | None:
    v = to_ascii_digits(value.strip())
    if not v or len(v) > 32 or not _DATEISH.match(v):
        return None
    m = _ISO_PREFIX.match(v)
    if m:
        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    if v.replace(".", "", 1).isdigit():  # Excel serial date
        try:
            f = float(v)
        except ValueError:
            return None
        if 1 <= f < 60000 and "." not in v or (1 <= f < 60000 and v.endswith(".0")):
            return _dt.date(1899, 12, 30) + _dt.timedelta(days=int(f))
        return None
    for fmt in _DATE_FORMATS:
        try:
            return _dt.datetime.strptime(v, fmt).date()
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------- at-risk individuals
VULNERABLE_TEXT = (
    r"(?i:\b(?:s?gbv|gender[- ]based violence|sexual (?:violence|assault|abuse|exploitation)|rape|survivors?|"
    r"unaccompanied|separated (?:child|children|minor)|arbitrary detention|in detention|(?:child|forced) "
    r"recruitment|recruited by|child labou?r|(?:child|early|forced) marriage|separated from (?:his|her|their|the) "
    r"(?:family|families|parents?|caregivers?|mother|father)|uasc|caafag|child soldiers?|detainees?|detained|"
    r"arrested|imprisoned|abducted|trafficked|trafficking|persons? with (?:a )?disabilit(?:y|ies)|pwds?|"
    r"disabled|disability|torture|missing person|orphan(?:ed)?)\b)"
    "|\u1019\u101e\u1014\u103a\u1005\u103d\u1019\u103a\u1038"  # disabled (Burmese)
    "|\u1021\u1016\u1019\u1032\u1037"  # unaccompanied/alone
)
VULNERABLE_RE = compile_bytes(VULNERABLE_TEXT)

ACTIVITY_TEXT = (
    r"(?i:\b(?:distribut\w*|deliver\w*|team|teams|office|staff|operat\w*|activit\w*|project\w*|implement\w*|"
    r"reach\w*|respond\w*|response|support\w*|presence|present|partner\w*|ngo|ingo|cso|cbo|we|our|visit\w*|"
    r"mission|conduct\w*|provid\w*|programme|program|assist\w*|serv\w*|beneficiar\w*|target\w*)\b)"
)
ACTIVITY_RE = compile_bytes(ACTIVITY_TEXT)

# --------------------------------------------------------------------------- value helpers
_NUM = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?$")


def is_number(v: str) -> bool:
    return bool(_NUM.match(to_ascii_digits(v.strip())))


def has_burmese(v: str) -> bool:
    return any("\u1000" <= ch <= "\u109f" for ch in v)


def is_burmese_text(v: str) -> bool:
    letters = [ch for ch in v if not ch.isspace()]
    if not letters:
        return False
    bur = sum(1 for ch in letters if "\u1000" <= ch <= "\u109f" and ch not in MM_DIGITS)
    return bur / len(letters) >= 0.8
