"""Identity numbers other than the NRC: in text (``find_identifiers``, the ``ID_TRIGGER`` bulk
trigger) and in identity-number columns (``valid_id_cell``)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .common import _CandidateLike, _digits, _mask, to_ascii_digits
from .id_headers import IDENTIFIER_HEADERS
from .id_rules import _SEP, KEYWORD_IDS, IdRule, _fcn_ok, _iban_ok, _progres_ok


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
    this package unmasked."""
    hit = check_id_candidate(c.block, c.start, c.end)
    return (hit[1], hit[0]) if hit else None


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
