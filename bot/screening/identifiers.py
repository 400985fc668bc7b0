"""Phones outside Myanmar, identity numbers other than the NRC, reserved e-mail domains and
real coordinate columns.

Pure and synchronous, like the rest of ``bot.screening``.  Two layers, as in ``patterns``:

* **RE2 trigger patterns** (``INTL_PHONE``, ``ID_TRIGGER``) over UTF-8 *bytes*, meant to be added
  to the bulk scanner's combined program.  They are selective on purpose: a numeric CSV full of
  long digit runs yields (almost) no candidates, so Python only runs on the rare hits.
* **Python validators** run on a candidate and a little context around it (``phonenumbers``,
  ``python-stdnum`` checksums, keyword windows).

Decisions (documented here because the integrator and reviewers need them):

* NANP numbers 555-0100 … 555-0199 are reserved for fiction (North American Numbering Plan
  Administrator); they are **not** reported.  Other 555 numbers (``+1 415 555 2671``) are valid,
  assignable numbers for ``phonenumbers`` and are reported.
* National (no ``+``/``00``) numbers of a region other than Myanmar are only accepted with a phone
  keyword just before them: a 10-digit Indian mobile or an 11-digit Chinese mobile is
  indistinguishable from a row id otherwise.  Myanmar *mobile* numbers need no keyword (the
  existing ``patterns.PHONE`` already finds them); Myanmar fixed lines do.
* A number introduced by a service-line word (hotline, helpline, toll-free, call centre, fax …)
  is an organisation's, not a person's.
* A ``household_id`` (or ``hh_id``) column is a survey's pseudonymous key (a UUID, ``HH-0012``),
  not an identity number: it only counts when its values carry a registration number format
  (UNHCR proGres or Cox's Bazar FCN/MOHA family numbers).  UUIDs never count as identity numbers.
* ``.local`` (mDNS, RFC 6762) is **not** treated as reserved: ``jdoe@agency.local`` is a real
  internal (Active Directory) address of a person.  RFC 2606 / RFC 6761 names are.
* UNHCR proGres numbers have no published checksum.  Formats accepted (keyword required):
  proGres v3/v4 individual and registration-group (case) ids ``XXX-YYC#####`` (3-character office
  code, 2-digit year, one letter, 5–8 digits, e.g. ``KKP-12C00123``), ``###-########`` (v4
  individual id, e.g. ``338-00012345``) and ``MMR-``/``BGD-``/``THA-``… country-prefixed ids with
  6–12 digits.  FCN/MOHA family numbers (Rohingya family counting exercise in Cox's Bazar): an
  optional short letter prefix then 5–12 digits, only after the FCN / 'MOHA no.' / family-counting
  keyword ('MoHA' alone is the Ministry of Home Affairs, not a number's label).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.cn import ric as _cn_ric
from stdnum.in_ import aadhaar as _aadhaar
from stdnum.in_ import pan as _pan
from stdnum.th import pin as _th_pin
from stdnum.us import ssn as _us_ssn

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


# =========================================================================== phones
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
_NON_DIGIT = re.compile(r"[^0-9]")


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


class _CandidateLike(Protocol):
    """detectors.Candidate, read-only (that module imports this one)."""

    @property
    def block(self) -> bytes: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


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


# =========================================================================== identity numbers
@dataclass(frozen=True)
class IdRule:
    kind: str
    category: str
    keyword: str | None  # regex (case-insensitive); None = the candidate alone is enough
    candidate: str  # regex of the number, searched right after the keyword
    validator: Callable[[str], bool]
    window: int = 48  # characters after the keyword where the number may start


def _digits(s: str) -> str:
    return _NON_DIGIT.sub("", to_ascii_digits(s))


def _ssn_ok(v: str) -> bool:
    d = _digits(v)
    return len(d) == 9 and d not in ("123456789", "987654321") and _us_ssn.is_valid(d)


def _passport_ok(v: str) -> bool:
    c = re.sub(r"[\s\-]", "", v).upper()
    if not 7 <= len(c) <= 11 or sum(ch.isdigit() for ch in c) < 5:
        return False
    if re.fullmatch(r"[A-Z]{1,2}[0-9]{6,9}", c):
        return True
    return bool(re.fullmatch(r"[A-Z0-9]{8,9}", c)) and any(ch.isalpha() for ch in c)


def _stdnum_ok(mod: object) -> Callable[[str], bool]:
    def ok(v: str) -> bool:
        try:
            return bool(mod.is_valid(to_ascii_digits(v)))  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            return False

    return ok


def _bd_nid_ok(v: str) -> bool:
    d = _digits(v)
    if len(d) == 17:
        return 1900 <= int(d[:4]) <= 2035
    return len(d) in (10, 13) and len(set(d)) > 2


def _card_ok(v: str) -> bool:
    d = _digits(v)
    return 13 <= len(d) <= 19 and len(set(d)) > 2 and _luhn.is_valid(d) and d[0] in "23456"


def _progres_ok(v: str) -> bool:
    c = v.strip().upper()
    return bool(re.fullmatch(r"[A-Z0-9]{3}-[0-9]{2}[A-Z][0-9]{5,8}|[0-9]{3}-[0-9]{8}|[A-Z]{3}-[0-9]{6,12}", c))


def _fcn_ok(v: str) -> bool:
    c = re.sub(r"[\s]", "", v).upper()
    return bool(re.fullmatch(r"(?:[A-Z]{1,4}-?)?[0-9]{5,12}", c)) and len(set(_digits(c))) > 1


def _iban_ok(v: str) -> bool:
    c = v.replace(" ", "").upper()
    return 15 <= len(c) <= 34 and _iban.is_valid(c)


#: keyword followed by the usual separators / 'no.' / 'number' before the value
_SEP = r"(?:\s?(?:no|nos|num|number|#|nr|id)\b\.?)?\s?[:#=.\-\u104a]?\s?"
_GENERIC_ID_KW = (
    r"\b(?:national id(?:entity)?(?: card)?|nat(?:ional)?\.? id|id card|identity card|identity|"
    r"citizen(?:ship)? id|id(?: card)? (?:no|number)|nid)\b"
)

KEYWORD_IDS: tuple[IdRule, ...] = (
    IdRule(
        "us_ssn",
        "national_id",
        r"\b(?:ssn|social security(?: card)?)\b",
        r"[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}",
        _ssn_ok,
    ),
    IdRule(
        "passport",
        "national_id",
        r"\bpassport\b|\u1015\u1010\u103a\u1005\u103a\u1015\u102d\u102f\u1037",  # ပတ်စ်ပို့
        r"[A-Za-z]{1,2} ?[0-9]{6,9}|[A-Za-z0-9]{8,9}",
        _passport_ok,
    ),
    IdRule(
        "th_national_id",
        "national_id",
        _GENERIC_ID_KW
        + r"|\bthai id\b|\bpink card\b|\u0e40\u0e25\u0e02\u0e1b\u0e23\u0e30\u0e08\u0e33\u0e15\u0e31\u0e27"
        r"|\u0e1a\u0e31\u0e15\u0e23\u0e1b\u0e23\u0e30\u0e0a\u0e32\u0e0a\u0e19",  # เลขประจำตัว บัตรประชาชน
        r"[0-9](?:[- ]?[0-9]){12}",
        _stdnum_ok(_th_pin),
    ),
    # Thai ID in its printed 1-4-5-2-1 grouping is distinctive (and checksummed): no keyword needed
    IdRule("th_national_id", "national_id", None, r"\b[1-8]-[0-9]{4}-[0-9]{5}-[0-9]{2}-[0-9]\b", _stdnum_ok(_th_pin)),
    IdRule(
        "in_aadhaar",
        "national_id",
        r"\b(?:aadhaa?r|uidai|uid)\b|\u0906\u0927\u093e\u0930",  # आधार
        r"[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}",
        _stdnum_ok(_aadhaar),
    ),
    IdRule(
        "in_pan",
        "national_id",
        r"\b(?:pan(?: card)?|permanent account number)\b",
        r"[A-Za-z]{5}[0-9]{4}[A-Za-z]",
        _stdnum_ok(_pan),
    ),
    IdRule(
        "bd_nid",
        "national_id",
        _GENERIC_ID_KW + r"|\bsmart card\b|\u098f\u09a8\u0986\u0987\u09a1\u09bf"  # এনআইডি
        r"|\u099c\u09be\u09a4\u09c0\u09af\u09bc \u09aa\u09b0\u09bf\u099a\u09af\u09bc",  # জাতীয় পরিচয়
        r"[0-9]{17}|[0-9]{13}|[0-9]{10}",
        _bd_nid_ok,
    ),
    IdRule(
        "cn_resident_id",
        "national_id",
        _GENERIC_ID_KW + r"|\bresident id\b|\u8eab\u4efd\u8bc1|\u8eab\u4efd\u8b49",  # 身份证 身份證
        r"[1-9][0-9]{16}[0-9Xx]",
        _stdnum_ok(_cn_ric),
    ),
    IdRule(
        "iban",
        "national_id",
        None,
        r"\b[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}(?: ?[A-Z0-9]{4}){1,6}(?: ?[A-Z0-9]{1,3})?\b",
        _iban_ok,
    ),
    IdRule(
        "payment_card",
        "national_id",
        r"\b(?:(?:credit|debit|bank|atm|payment) ?card|card (?:no|number|#)|visa|master ?card|amex|"
        r"american express|unionpay)\b",
        r"[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,7}|[0-9]{13,19}",
        _card_ok,
    ),
    IdRule(
        "unhcr_progres",
        "national_id",
        r"\b(?:unhcr(?: id| no| number| case)?|progres|case (?:no|number|#)|individual id|"
        r"registration (?:no|number|id)|reg\.? no|proof of registration)\b",
        r"[A-Za-z0-9]{3}-[0-9]{2}[A-Za-z][0-9]{5,8}|[0-9]{3}-[0-9]{8}|[A-Za-z]{3}-[0-9]{6,12}",
        _progres_ok,
    ),
    IdRule(
        "fcn_moha",
        "national_id",
        r"\b(?:fcn|family counting(?: number| no| card)?|moha (?:no|number|id|card|list))\b",
        r"(?:[A-Za-z]{1,4}-?)?[0-9]{5,12}",
        _fcn_ok,
    ),
)


def _lit(pattern: str) -> str:
    """\\uXXXX escapes -> the characters themselves (RE2 has no \\u escape)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), pattern)


def _rule_re(rule: IdRule) -> re.Pattern[str]:
    if rule.keyword is None:
        return re.compile(rule.candidate)
    return re.compile(r"(?i)(?:" + _lit(rule.keyword) + r")")


_RULE_RES = [(_r, _rule_re(_r), re.compile(r"(?:" + _r.candidate + r")")) for _r in KEYWORD_IDS]

#: RE2 trigger for the bulk scanner: the keywords of every rule, plus the few number shapes that
#: need no keyword (IBAN, the grouped Thai ID).  Case-insensitive parts are inline (?i:…).
ID_TRIGGER = "|".join(("(?i:" + _lit(r.keyword) + ")") if r.keyword is not None else r.candidate for r in KEYWORD_IDS)

_VALUE_HEAD = re.compile(r"(?i)^" + _SEP + r"(?:card\s?)?" + _SEP)


def _check_after(rule: IdRule, cand_re: re.Pattern[str], text: str, pos: int) -> tuple[int, int, str] | None:
    window = text[pos : pos + rule.window]
    h = _VALUE_HEAD.match(window)
    off = h.end() if h else 0
    m = cand_re.match(window, off)
    if m is None:
        return None
    s, e = pos + m.start(), pos + m.end()
    if text[e : e + 1].isalnum() or (text[e : e + 1] in ".," and text[e + 1 : e + 2].isdigit()):
        return None  # part of a longer token
    v = m.group(0)
    return (s, e, v) if rule.validator(v) else None


def find_identifiers(text: str) -> list[tuple[int, int, str, str]]:
    """Identity numbers in ``text``: (start, end, kind, masked example), sorted, no overlaps.

    Keyword rules look for the number right after the keyword (separators, 'no.', ':' allowed);
    keyword-free rules (IBAN, grouped Thai ID) validate the checksum of the shape alone."""
    t = to_ascii_digits(text)
    out: list[tuple[int, int, int, str, str]] = []  # start, rule priority, end, kind, masked
    for prio, (rule, trig, cand) in enumerate(_RULE_RES):
        for m in trig.finditer(t):
            if rule.keyword is None:
                if rule.validator(m.group(0)):
                    out.append((m.start(), prio, m.end(), rule.kind, _mask(m.group(0))))
                continue
            hit = _check_after(rule, cand, t, m.end())
            if hit is not None:
                out.append((hit[0], prio, hit[1], rule.kind, _mask(hit[2])))
    out.sort()
    dedup: list[tuple[int, int, str, str]] = []
    for s, _p, e, kind, masked in out:
        if dedup and s < dedup[-1][1]:
            continue  # the same number found by a less specific rule
        dedup.append((s, e, kind, masked))
    return dedup


def check_id_candidate(block: bytes, s: int, e: int) -> tuple[str, str] | None:
    """Scanner helper for an ``ID_TRIGGER`` match ``block[s:e]``: (kind, masked) or None.
    Decodes only a small window (the match and 64 bytes after it)."""
    window = block[s : e + 64].decode("utf-8", "ignore")
    head = len(block[s:e].decode("utf-8", "ignore"))
    for start, _end, kind, masked in find_identifiers(window):
        if start <= head + 48:  # the number this trigger introduces (or is), not a later one
            return kind, masked
    return None


def detect_identifier(c: _CandidateLike) -> tuple[str, str] | None:
    """``detectors.Detector`` validator for ``ID_TRIGGER``: (masked example, kind) or None.
    The normalised value is the *kind* ('us_ssn', 'passport' …): the number itself never leaves
    this module unmasked."""
    hit = check_id_candidate(c.block, c.start, c.end)
    return (hit[1], hit[0]) if hit else None


# --------------------------------------------------------------------------- identity columns
#: normalised header (lower case, separators as '_') -> kind of identity number
IDENTIFIER_HEADERS: dict[str, str] = {
    "ssn": "us_ssn",
    "social_security_number": "us_ssn",
    "social_security_no": "us_ssn",
    "passport": "passport",
    "passport_no": "passport",
    "passport_number": "passport",
    "passport_id": "passport",
    "national_id": "generic",
    "nationalid": "generic",
    "national_id_no": "generic",
    "national_id_number": "generic",
    "nid": "generic",
    "nid_no": "generic",
    "nid_number": "generic",
    "id_number": "generic",
    "id_no": "generic",
    "id_card": "generic",
    "id_card_no": "generic",
    "id_card_number": "generic",
    "identity_number": "generic",
    "identity_card": "generic",
    "citizen_id": "generic",
    "citizenship_id": "generic",
    "nrc": "mm_nrc",
    "nrc_no": "mm_nrc",
    "nrc_number": "mm_nrc",
    "aadhaar": "in_aadhaar",
    "aadhar": "in_aadhaar",
    "aadhaar_no": "in_aadhaar",
    "aadhaar_number": "in_aadhaar",
    "pan_no": "in_pan",
    "pan_number": "in_pan",
    "pan_card": "in_pan",
    "thai_id": "th_national_id",
    "thai_national_id": "th_national_id",
    "unhcr_id": "unhcr_progres",
    "unhcr_no": "unhcr_progres",
    "unhcr_case_no": "unhcr_progres",
    "progres_id": "unhcr_progres",
    "progres_no": "unhcr_progres",
    "individual_id": "unhcr_progres",
    "case_number": "case",
    "case_no": "case",
    "case_id": "case",
    "fcn": "fcn_moha",
    "fcn_no": "fcn_moha",
    "fcn_number": "fcn_moha",
    "moha_no": "fcn_moha",
    "family_counting_number": "fcn_moha",
    "iban": "iban",
    "credit_card": "payment_card",
    "card_number": "payment_card",
    # pseudonymous survey keys: only registration-number formats count (see module doc)
    "household_id": "household_ref",
    "hh_id": "household_ref",
    "hhid": "household_ref",
}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_NRC_SHAPE = re.compile(r"^\s*[0-9]{1,2} ?/ ?\S{2,24} ?[(\[] ?\S{1,12} ?[)\]] ?[0-9]{5,6}\s*$")
_VALIDATORS: dict[str, Callable[[str], bool]] = {r.kind: r.validator for r in KEYWORD_IDS}


def header_id_kind(header: str) -> str | None:
    h = re.sub(r"[^0-9a-z]+", "_", (header or "").strip().lower().rsplit("/", 1)[-1]).strip("_")
    return IDENTIFIER_HEADERS.get(h)


def _generic_id(v: str) -> bool:
    c = v.strip()
    if not 6 <= len(c) <= 24 or _UUID.match(c) or re.fullmatch(r"[0-9]+\.[0-9]+", c):
        return False
    d = _digits(c)
    return len(d) >= 5 and len(set(d)) > 1 and bool(re.fullmatch(r"[A-Za-z0-9 /()\-.]+", c))


def valid_id_cell(header: str, value: str) -> bool:
    """A cell of an identity-number column (per ``IDENTIFIER_HEADERS``) that holds one.

    Pure per cell; the table analyser still requires a share of cells and distinct values."""
    kind = header_id_kind(header)
    v = to_ascii_digits((value or "").strip())
    if kind is None or not v or _UUID.match(v):
        return False
    if kind == "household_ref":
        return _progres_ok(v) or (v.upper().startswith(("FCN", "MOHA")) and _fcn_ok(v))
    if kind == "mm_nrc":
        return bool(_NRC_SHAPE.match(v)) or _generic_id(v)
    if kind in ("generic", "case"):
        return any(
            _VALIDATORS[k](v)
            for k in ("th_national_id", "cn_resident_id", "in_aadhaar", "bd_nid", "passport", "unhcr_progres")
        ) or _generic_id(v)
    if kind == "iban":
        return _iban_ok(v)
    return _VALIDATORS[kind](v)


# =========================================================================== e-mail
_RESERVED_TLDS = ("test", "example", "invalid", "localhost")  # RFC 2606 / RFC 6761
_RESERVED_SLD = frozenset({"example.com", "example.net", "example.org", "example.edu"})
#: placeholder domains of templates and documentation; GitHub's no-reply addresses
NON_PERSONAL_DOMAINS = frozenset(
    {
        "domain.com",
        "domain.tld",
        "yourdomain.com",
        "your-domain.com",
        "yourcompany.com",
        "mydomain.com",
        "company.com",
        "email.test",
        "sample.com",
        "test.com",
        "acme.com",
        "users.noreply.github.com",
        "noreply.github.com",
        "xxx.com",
        "abc.com",
    }
)


def reserved_domain(domain: str) -> bool:
    """True for domains that never hold a person's mailbox: RFC 2606 / RFC 6761 reserved names
    (example.com/.net/.org and their subdomains, any ``example.<tld>``, ``*.test``, ``*.example``,
    ``*.invalid``, ``*.localhost``) and template placeholders.  ``*.local`` is *not* reserved
    (internal directory addresses are people's)."""
    d = (domain or "").strip().lower().rstrip(".")
    if "@" in d:
        d = d.rsplit("@", 1)[1]
    if not d:
        return False
    labels = d.split(".")
    if labels[-1] in _RESERVED_TLDS:
        return True
    if any(d == s or d.endswith("." + s) for s in _RESERVED_SLD):
        return True
    if len(labels) >= 2 and labels[0] == "example":  # example.co.uk, example.gov.mm
        return True
    return d in NON_PERSONAL_DOMAINS or any(d.endswith("." + n) for n in NON_PERSONAL_DOMAINS)


# =========================================================================== coordinates
_PCT_HEADER = re.compile(
    r"(?i)%|\b(?:pct|percent\w*|per ?cent|rate|share|ratio|proportion|prop|prevalence|"
    r"coverage|score|index|avg|average|mean|median)\b"
)
_COUNT_HEADER = re.compile(
    r"(?i)\b(?:number|num|no|count|total|sum|qty|quantity|people|persons|population|hh|"
    r"households|amount|price|cost|value|usd|mmk|kyat|age|weight|height|year)\b|#"
)
_LAT_HEADER = re.compile(
    r"(?i)(?:^|[\s_\-./:(\[])(?:lat|latitude|latitud|gps_?lat\w*|y|y_?coord\w*|lat_?dd)"
    r"(?:$|[\s_\-./:)\]])|_gps_latitude|latitude"
)
_LON_HEADER = re.compile(
    r"(?i)(?:^|[\s_\-./:(\[])(?:lon|lng|long|longitude|longitud|gps_?lon\w*|x|x_?coord\w*|"
    r"long?_?dd)(?:$|[\s_\-./:)\]])|_gps_longitude|longitude"
)
_POINT_HEADER = re.compile(
    r"(?i)(?:^|[\s_\-./:])(?:location|geopoint|geo_?point|_?geolocation|gps|coordinates?|"
    r"coords?|geometry|latlon|lat_?long|lat_?lng|point)(?:$|[\s_\-./:])"
)
_FLOATV = re.compile(r"^[-+]?(\d{1,3})(?:\.(\d+))?$")
_FLOATS = re.compile(r"[-+]?\d{1,3}(?:\.\d+)?")
_MM_LAT = (9.5, 28.6)
_MM_LON = (92.1, 101.2)


def _dec(v: str) -> tuple[float, int] | None:
    m = _FLOATV.match(v.strip())
    if not m:
        return None
    return float(v), len(m.group(2) or "")


def _in(x: float, r: tuple[float, float]) -> bool:
    return r[0] <= x <= r[1]


def parse_point(value: str) -> tuple[float, float, int] | None:
    """(lat, lon, decimals) of a whole-point cell: Kobo geopoint 'lat lon alt acc', 'lat, lon',
    '[lat, lon]' (Kobo _geolocation), GeoJSON '{"type":"Point","coordinates":[lon, lat]}'."""
    v = to_ascii_digits(value.strip())
    if not v or len(v) > 200:
        return None
    nums = _FLOATS.findall(v)
    if len(nums) < 2:
        return None
    a, b = nums[0], nums[1]
    dec = min(len(a.partition(".")[2]), len(b.partition(".")[2]))
    fa, fb = float(a), float(b)
    geojson = "coordinates" in v or '"type"' in v
    lat, lon = (fb, fa) if geojson else (fa, fb)
    if not geojson and _in(fb, _MM_LAT) and _in(fa, _MM_LON) and not (_in(fa, _MM_LAT) and _in(fb, _MM_LON)):
        lat, lon = fb, fa
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon, dec


def _hxl_coord(header: str) -> str | None:
    h = header.strip().lower().replace(" ", "")
    if not h.startswith("#geo"):
        return None
    attrs = set(h.split("+")[1:])
    if "lat" in attrs:
        return "lat"
    if attrs & {"lon", "long"}:
        return "lon"
    if attrs & {"coord", "point"}:
        return "point"
    return None


def looks_like_coordinate_column(header: str, values: list[str]) -> str | None:
    """'lat' / 'lon' for a column of precise coordinates, 'point' for whole points (Kobo geopoint,
    GeoJSON), else None.

    Never percentages (header %/pct/rate/share/ratio…, values with '%', or values all within
    0-100 with ≤ 2 decimals), never counts (integers).  Precise means ≥ 4 decimals (~10 m); 3
    decimals (~100 m) only under a coordinate header; 1-2 decimals are township level at most."""
    h = (header or "").strip()
    hs = re.sub(r"[_\-./:()\[\]]+", " ", h)  # 'pct_female' -> 'pct female' for word matching
    vals = [to_ascii_digits(v.strip()) for v in values if v and v.strip()]
    if not vals:
        return None
    hxl = _hxl_coord(h)
    if any(v.endswith("%") for v in vals[:200]) or (hxl is None and _PCT_HEADER.search(hs)):
        return None
    role = hxl
    if role is None:
        if _LAT_HEADER.search(h) and not _LON_HEADER.search(h.replace("latitude", "")):
            role = "lat"
        elif _LON_HEADER.search(h) and not _LAT_HEADER.search(h.replace("longitude", "")):
            role = "lon"
        elif _POINT_HEADER.search(h):
            role = "point"
    if role is None and _COUNT_HEADER.search(hs):
        return None
    if role == "point" or (role is None and any(" " in v or "," in v for v in vals[:20])):
        pts = [parse_point(v) for v in vals]
        good = [p for p in pts if p is not None]
        if len(good) < 0.6 * len(vals):
            return None
        need = 3 if role == "point" else 4
        n_precise = sum(1 for p in good if p[2] >= need)
        if role is None:
            n_precise = sum(1 for p in good if p[2] >= need and _in(p[0], _MM_LAT) and _in(p[1], _MM_LON))
        return "point" if n_precise >= 0.6 * len(vals) else None
    parsed = [_dec(v) for v in vals]
    nums = [p for p in parsed if p is not None]
    if len(nums) < 0.8 * len(vals):
        return None
    if all(d <= 2 for _, d in nums):
        return None  # township level at most; also every 0-100 percentage with ≤ 2 decimals
    need = 3 if role else 4
    precise = [x for x, d in nums if d >= need]
    if len(precise) < 0.6 * len(nums):
        return None
    if role == "lat":
        return "lat" if all(-90 <= x <= 90 for x, _ in nums) else None
    if role == "lon":
        return "lon" if all(-180 <= x <= 180 for x, _ in nums) else None
    lat = sum(1 for x in precise if _in(x, _MM_LAT))
    lon = sum(1 for x in precise if _in(x, _MM_LON))
    if lat >= 0.8 * len(nums) and lon == 0:
        return "lat"
    if lon >= 0.8 * len(nums) and lat == 0:
        return "lon"
    return None


def coordinate_pair_ok(lat_values: list[str], lon_values: list[str]) -> bool:
    """Two columns found together (same rows) really hold coordinates: most rows pair a latitude
    with a longitude inside the wider region (Myanmar and neighbours, 0-35°N, 85-110°E) or, for
    columns named lat/lon, anywhere on earth; at least one of the two is precise (≥ 3 decimals);
    the columns are not copies of each other and not both 0-100 two-decimal figures."""
    pairs = []
    for a, b in zip(lat_values, lon_values, strict=False):
        pa, pb = _dec(to_ascii_digits(a or "")), _dec(to_ascii_digits(b or ""))
        if pa is None or pb is None:
            continue
        pairs.append((pa, pb))
    if len(pairs) < max(1, 0.5 * min(len(lat_values), len(lon_values))):
        return False
    if all(x[0] == y[0] for x, y in pairs):
        return False
    good = 0
    for (la, da), (lo, do) in pairs:
        if max(da, do) < 3:
            continue
        if 0 <= la <= 35 and 85 <= lo <= 110:
            good += 1
    return good >= 0.6 * len(pairs)
