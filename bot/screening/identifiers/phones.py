"""Phones outside Myanmar: the ``INTL_PHONE`` trigger, its validator, phone numbers in prose
(``find_phones``) and phone cells of any country (``valid_phone_cell_any``).

Decisions: see the package doc."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

from .common import _NON_DIGIT, DIG, _CandidateLike, _mask, to_ascii_digits

#: international form: '+CC …' anywhere, or '00CC …' not glued to a digit/decimal/word before it.
#: 7-15 digits in all (E.164), separated by at most two of ' .-' and optional parentheses.
#: The 00-form consumes the one byte before it (RE2 has no lookbehind): validators strip it.
INTL_PHONE = (
    r"(?:\+|(?:^|[^0-9A-Za-z.,/:+\-])00) ?(?:[1-9]|[\x{1041}-\x{1049}])"
    r"(?:[ .\-]{0,2}\(?" + DIG + r"\)?){6,14}"
)

#: phone keywords (English, Burmese, Thai, Bengali, Hindi, Chinese), used before national numbers
PHONE_KEYWORDS = (
    r"\b(?:tel|tele|telephone|phone|ph|mob|mobile|cell|cellphone|call|contact|whatsapp|whats app|viber|"
    r"signal|telegram|line id|msisdn|hp)\b\.?"
    "|\u1016\u102f\u1014\u103a\u1038|\u1016\u102f\u1014\u1039\u1038"  # ဖုန်း, Zawgyi ဖုန္း
    "|\u0e42\u0e17\u0e23"  # Thai โทร (tel / mobile โทรศัพท์)
    "|\u09ab\u09cb\u09a8|\u09ae\u09cb\u09ac\u09be\u0987\u09b2"  # Bengali ফোন, মোবাইল
    "|\u092b\u093c\u094b\u0928|\u092b\u094b\u0928|\u092e\u094b\u092c\u093e\u0907\u0932"  # Hindi फ़ोन फोन मोबाइल
    "|\u7535\u8bdd|\u624b\u673a|\u96fb\u8a71|\u624b\u6a5f"  # 电话 手机 電話 手機
)
#: a phone keyword shortly before a number (the 60 characters before it)
phone_context_re = re.compile(r"(?i)(?:" + PHONE_KEYWORDS + r")[^\n]{0,40}$")

#: words that make a number an organisation's service line (checked in the 80 characters before it)
SERVICE_LINE = re.compile(
    r"(?i)\b(?:hot ?lines?|help ?lines?|toll[- ]?free|call[- ]?cent(?:er|re)s?|contact[- ]?cent(?:er|re)|"
    r"free ?phone|cfm|complaints? (?:line|number|mechanism|box)|feedback (?:line|number|mechanism)|"
    r"info(?:rmation)? ?line|customer (?:service|care|support)|switchboard|fax|ambulance|fire brigade|"
    r"emergency (?:line|number|services?)|reception|office (?:phone|tel|line|number)|main line)\b[^\n]{0,60}$"
    "|\u101c\u1030\u1014\u102c\u1001\u1036\u1005\u102c\u1038\u1016\u102f\u1014\u103a\u1038[^\\n]{0,60}$"
)

_CURRENCY_AFTER = re.compile(
    r"(?i)^\s?(?:mmk|kyats?|ks\b|usd|us\$|\$|thb|baht|bdt|taka|tk\b|inr|rs\b|rupees?|cny|rmb|yuan|lak|kip|"
    r"eur|€|£|¥|₹|৳|฿|lakhs?|million|m\b|k\b|%)"
)
_CURRENCY_BEFORE = re.compile(
    r"(?i)(?:\b(?:mmk|kyats?|ks|usd|thb|baht|bdt|taka|tk|inr|rs|cny|rmb|lak|eur|amount|total|price|cost)|"
    r"[$€£¥₹৳฿])\.?\s?:?\s?$"
)
_NOT_PHONE_BEFORE = re.compile(
    r"(?i)\b(?:isbn|issn|doi|version|ver|v|rev|build|ref|invoice|po|iso|gtin|ean|imei)"
    r"(?:-1[03])?\s?(?:no\.?|number|#)?\s?[:#]?\s?$"
)
_DATE_SHAPE = re.compile(r"^\+?\d{4}[-./]\d{1,2}[-./]\d{1,2}\b|^\+?\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_SEP_SPLIT = re.compile(r"[ .\-]")


def _placeholder_digits(d: str) -> bool:
    """'1234567890', '0987654321', '0000000', '9999999999': template filler, not a number."""
    core = d.lstrip("0")
    return len(set(d)) <= 2 or core in "12345678901234567890" or core in "98765432109876543210"


def _fictional_nanp(num: phonenumbers.PhoneNumber) -> bool:
    """NANP 555-0100 … 555-0199: reserved for films, books and documentation."""
    if num.country_code != 1:
        return False
    nat = str(num.national_number)
    return len(nat) == 10 and nat[3:6] == "555" and nat[6:8] == "01"


@functools.lru_cache(maxsize=65536)
def _e164_if_valid(digits: str) -> str | None:
    """'+CC…' digits -> E.164 when a valid, non-fictional number."""
    try:
        num = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num) or _fictional_nanp(num):
        return None
    return phonenumbers.format_number(num, PhoneNumberFormat.E164)


def valid_intl_phone(text: str, before: str = "", after: str = "") -> str | None:
    """E.164 digits ('+66…') if ``text`` (an ``INTL_PHONE`` candidate) is a real number in
    international form, else None.

    ``before``/``after`` are optional context (a few dozen characters): numbers glued to other
    digits or decimals, amounts, dates, ISBN/version numbers and service lines are rejected.
    A candidate that swallowed a following number ('+66 2 123 4567 2024') is retried shorter,
    cutting at separators."""
    t = to_ascii_digits(text)
    # the 00-form may carry the one byte before it
    m = re.search(r"\+|00", t)
    if m is None:
        return None
    if m.start() > 0:
        before = before + t[: m.start()]
        t = t[m.start() :]
    t = t.rstrip(" .-(")
    if before:
        b = to_ascii_digits(before)
        if b[-1:].isdigit() or (b[-1:] in ".," and b[-2:-1].isdigit()):
            return None
        if _CURRENCY_BEFORE.search(b) or _NOT_PHONE_BEFORE.search(b) or SERVICE_LINE.search(b[-80:]):
            return None
    if after:
        a = to_ascii_digits(after)
        if a[:1].isdigit() or (a[:1] in ".," and a[1:2].isdigit()) or _CURRENCY_AFTER.match(a):
            return None
        if a[:1] in "/-" and a[1:2].isdigit():  # a date or a range: 2024-01-15, 10/12
            return None
    body = t[1:] if t.startswith("+") else t[2:]
    if _DATE_SHAPE.match(body.strip()):
        return None
    if "," in body:
        return None
    seps = set(re.findall(r"[ .\-()]", body.strip()))
    if "." in seps and len(seps) > 1:
        return None  # '4567.5': a decimal point, not a separator
    parts = _SEP_SPLIT.split(body.strip())
    for end in range(len(parts), 0, -1):
        digits = _NON_DIGIT.sub("", "".join(parts[:end]))
        if len(digits) < 7:
            break
        if len(digits) > 15 or _placeholder_digits(digits):
            continue
        e164 = _e164_if_valid("+" + digits)
        if e164:
            return e164
    return None


def check_intl_candidate(block: bytes, s: int, e: int) -> str | None:
    """Scanner helper: validate an ``INTL_PHONE`` match ``block[s:e]`` with its context."""
    before = block[max(0, s - 80) : s].decode("utf-8", "replace")
    after = block[e : e + 12].decode("utf-8", "replace")
    return valid_intl_phone(block[s:e].decode("utf-8", "replace"), before, after)


def detect_intl_phone(c: _CandidateLike) -> tuple[str, str] | None:
    """``detectors.Detector`` validator for ``INTL_PHONE``: (masked example, E.164) or None."""
    e164 = check_intl_candidate(c.block, c.start, c.end)
    return (_mask(e164), e164) if e164 else None


NATIONAL_REGIONS_DEFAULT: tuple[str, ...] = ("MM", "TH", "BD", "IN", "CN", "LA")
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _phone_context_ok(text: str, start: int) -> bool:
    return bool(phone_context_re.search(text[max(0, start - 60) : start]))


def _reject_context(text: str, start: int, end: int) -> bool:
    before, after = text[max(0, start - 80) : start], text[end : end + 12]
    if before[-1:].isdigit() or (before[-1:] in ".," and before[-2:-1].isdigit()):
        return True
    if after[:1].isdigit() or (after[:1] in ".," and after[1:2].isdigit()) or _CURRENCY_AFTER.match(after):
        return True
    if _CURRENCY_BEFORE.search(before) or _NOT_PHONE_BEFORE.search(before):
        return True
    raw = text[start:end]
    if _DATE_SHAPE.match(raw.lstrip("+").strip()) or "," in raw:
        return True
    return bool(SERVICE_LINE.search(before))


#: where a number may start: '+', '00', a Myanmar mobile (09…, 959…); phone keywords are the others
_NUMBER_START = re.compile(r"\+ ?[1-9]|(?<![0-9])00 ?[1-9]|(?<![0-9])(?:0|95) ?9[ \-]?[0-9]")
_KEYWORD_RE = re.compile(r"(?i)(?:" + PHONE_KEYWORDS + r")")
_PHONE_CHAR = frozenset("0123456789 +()-./")


def _windows(t: str, regions: tuple[str, ...]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Short spans worth handing to PhoneNumberMatcher (it is slow on long digit-dense text):
    after a phone keyword (all regions), around '+'/'00'/Myanmar-mobile starts (MM, or the
    first region when MM is not configured: international numbers are found with any region)."""
    spans: list[tuple[int, int, tuple[str, ...]]] = []
    plain = ("MM",) if "MM" in regions else regions[:1]
    for m in _KEYWORD_RE.finditer(t):
        spans.append((m.end(), m.end() + 48, regions))
    for m in _NUMBER_START.finditer(t):
        spans.append((m.start(), m.start() + 6, plain))
    spans.sort()
    merged: list[list] = []
    n = len(t)
    for s, e, regs in spans:
        # never cut a number: stretch the end over phone characters (bounded)
        limit = min(n, e + 40)
        while e < limit and t[e] in _PHONE_CHAR:
            e += 1
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
            if len(regs) > len(merged[-1][2]):
                merged[-1][2] = regs
        else:
            merged.append([s, e, regs])
    return [(s, e, regs) for s, e, regs in merged]


def find_phones(text: str, regions: Iterable[str] = NATIONAL_REGIONS_DEFAULT) -> list[tuple[int, int, str]]:
    """Personal phone numbers in prose: (start, end, E.164).

    International numbers of any country; national numbers of ``regions`` (Myanmar mobiles
    without a keyword, anything else only after a phone keyword).  Uses
    ``phonenumbers.PhoneNumberMatcher`` with ``Leniency.VALID`` (prose: any grouping, but the
    number must be valid), only on short windows (after keywords, around '+', '00' and Myanmar
    mobile starts), so digit-dense text stays cheap.  For cells, lines and text documents; the
    bulk path over raw blocks is ``INTL_PHONE`` + ``check_intl_candidate``."""
    t = to_ascii_digits(text)
    regs_all = tuple(regions)
    found: dict[tuple[int, int], str] = {}
    taken: list[tuple[int, int]] = []
    for ws, we, regs in _windows(t, regs_all):
        chunk = t[ws:we]
        for region in regs:
            try:
                matcher = PhoneNumberMatcher(chunk, region, leniency=Leniency.VALID, max_tries=1000)
            except Exception:  # noqa: BLE001, S112 - an unknown region code
                continue
            for m in matcher:
                s, e = ws + m.start, ws + m.end
                if any(s < te and ts < e for ts, te in taken):
                    continue
                raw = m.raw_string.lstrip()
                num = m.number
                intl = raw.startswith(("+", "00"))
                if _fictional_nanp(num) or _placeholder_digits(_NON_DIGIT.sub("", raw)) or _reject_context(t, s, e):
                    continue
                if not intl:
                    mm_mobile = region == "MM" and phonenumbers.number_type(num) in _MOBILE_TYPES
                    if not mm_mobile and not _phone_context_ok(t, s):
                        continue
                if not phonenumbers.is_valid_number(num):
                    continue
                found[(s, e)] = phonenumbers.format_number(num, PhoneNumberFormat.E164)
                taken.append((s, e))
    return sorted((s, e, v) for (s, e), v in found.items())


_PHONE_CELL_CHARS = re.compile(r"^[+0-9\u1040-\u1049 ()\-./]+$")
_EXTENSION = re.compile(r"(?i)\s*(?:ext\.?|extension|x)\s*\d{1,5}\s*$")
_CELL_SPLIT = re.compile(r"\s*(?:[,;/|]|\bor\b|&)\s*")


def _phone_cell_one(v: str, regions: tuple[str, ...]) -> bool:
    v = to_ascii_digits(v.strip())
    if not v or len(v) > 24 or not _PHONE_CELL_CHARS.match(v):
        return False
    d = _NON_DIGIT.sub("", v)
    if len(d) < 7 or len(d) > 17 or _DATE_SHAPE.match(v) or _placeholder_digits(d):
        return False
    if v.startswith("+"):
        return _e164_if_valid("+" + d) is not None
    if v.startswith("00") and not v.startswith("000") and _e164_if_valid("+" + d[2:]) is not None:
        return True
    for region in regions:
        try:
            num = phonenumbers.parse(v, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(num, region) and not _fictional_nanp(num):
            return True
    return False


def valid_phone_cell_any(value: str, regions: Iterable[str] = NATIONAL_REGIONS_DEFAULT) -> bool:
    """A whole cell of a phone-labelled column holding a phone number: international form of
    any country, or national form of one of ``regions``.  '0912345678 / 0998765432' counts."""
    regs = tuple(regions)
    v = _EXTENSION.sub("", value.strip())
    if not v or len(v) > 60:
        return False
    if _phone_cell_one(v, regs):
        return True
    parts = [p for p in _CELL_SPLIT.split(v) if p]
    return len(parts) > 1 and any(_phone_cell_one(p, regs) for p in parts[:4])
