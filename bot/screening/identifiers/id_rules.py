"""The identity-number rules (``KEYWORD_IDS``): a keyword, the number's shape and its validator.

A declarative table plus the small checksum / format validators it names."""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .common import _digits, to_ascii_digits


@dataclass(frozen=True)
class IdRule:
    kind: str
    category: str
    keyword: str | None  # regex (case-insensitive); None = the candidate alone is enough
    candidate: str  # regex of the number, searched right after the keyword
    validator: Callable[[str], bool]
    window: int = 48  # characters after the keyword where the number may start


@functools.cache
def _stdnum(name: str) -> Any:
    """python-stdnum modules, imported on first use: most files never reach a validator, and
    importing stdnum costs a screening command ~30 ms of start-up."""
    return importlib.import_module(f"stdnum.{name}")


def _ssn_ok(v: str) -> bool:
    d = _digits(v)
    return len(d) == 9 and d not in ("123456789", "987654321") and _stdnum("us.ssn").is_valid(d)


def _passport_ok(v: str) -> bool:
    c = re.sub(r"[\s\-]", "", v).upper()
    if not 7 <= len(c) <= 11 or sum(ch.isdigit() for ch in c) < 5:
        return False
    if re.fullmatch(r"[A-Z]{1,2}[0-9]{6,9}", c):
        return True
    return bool(re.fullmatch(r"[A-Z0-9]{8,9}", c)) and any(ch.isalpha() for ch in c)


def _stdnum_ok(name: str) -> Callable[[str], bool]:
    def ok(v: str) -> bool:
        try:
            return bool(_stdnum(name).is_valid(to_ascii_digits(v)))
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
    return 13 <= len(d) <= 19 and len(set(d)) > 2 and _stdnum("luhn").is_valid(d) and d[0] in "23456"


def _progres_ok(v: str) -> bool:
    c = v.strip().upper()
    return bool(re.fullmatch(r"[A-Z0-9]{3}-[0-9]{2}[A-Z][0-9]{5,8}|[0-9]{3}-[0-9]{8}|[A-Z]{3}-[0-9]{6,12}", c))


def _fcn_ok(v: str) -> bool:
    c = re.sub(r"[\s]", "", v).upper()
    return bool(re.fullmatch(r"(?:[A-Z]{1,4}-?)?[0-9]{5,12}", c)) and len(set(_digits(c))) > 1


def _iban_ok(v: str) -> bool:
    c = v.replace(" ", "").upper()
    return 15 <= len(c) <= 34 and _stdnum("iban").is_valid(c)


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
        _stdnum_ok("th.pin"),
    ),
    # Thai ID in its printed 1-4-5-2-1 grouping is distinctive (and checksummed): no keyword needed
    IdRule("th_national_id", "national_id", None, r"\b[1-8]-[0-9]{4}-[0-9]{5}-[0-9]{2}-[0-9]\b", _stdnum_ok("th.pin")),
    IdRule(
        "in_aadhaar",
        "national_id",
        r"\b(?:aadhaa?r|uidai|uid)\b|\u0906\u0927\u093e\u0930",  # आधार
        r"[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}",
        _stdnum_ok("in_.aadhaar"),
    ),
    IdRule(
        "in_pan",
        "national_id",
        r"\b(?:pan(?: card)?|permanent account number)\b",
        r"[A-Za-z]{5}[0-9]{4}[A-Za-z]",
        _stdnum_ok("in_.pan"),
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
        _stdnum_ok("cn.ric"),
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
