"""The registry of identifiers found by pattern: one entry per kind (category, RE2 pattern,
validator, where it counts).  A new rule is one entry here and one unit test on values.

The bulk scanner (large byte blocks) and the column sampler (a column's values joined by
newlines) both run the registry's combined RE2 program and judge every candidate with the
same validator, so a rule cannot drift between the two paths.  Validators see the bytes
around a match (`Candidate.before` / `after`) and return (masked example, normalised value),
or None when the candidate is not real."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import mask, names, places
from .identifiers import (
    ID_TRIGGER,
    INTL_PHONE,
    PHONE_KEYWORDS,
    detect_identifier,
    detect_intl_phone,
    find_phones,
)
from .patterns import (
    DOB_TEXT,
    EMAIL,
    GPS_PAIR,
    NAME_IN_TEXT,
    NAME_LABEL,
    NAME_LABEL_BURMESE,
    NRC,
    PCODE_PRECISE,
    PHONE,
    compile_bytes,
    personal_email,
    valid_gps_pair,
    valid_nrc,
    valid_phone,
    valid_text_name,
)

#: words that make a phone number an organisation's service line (checked just before the number)
SERVICE_LINE = re.compile(
    rb"(?i)\b(?:hot ?lines?|help ?lines?|toll[- ]?free|call[- ]?cent(?:er|re)|free ?phone|cfm|complaints? "
    rb"(?:line|number|mechanism)|feedback (?:line|number|mechanism)|ambulance|fire brigade|emergency "
    rb"(?:line|number))\b[^\n]{0,60}$"
)
_CURRENCY = (b"mmk", b"kyat", b"ks", b"usd", b"$", b"k ", b"lakh", b"thb", b"baht")
#: a `X name:` key whose X is not a person ("Project name:", "Village name:")
NOT_PERSON_LABEL = frozenset(
    b"""project org organisation organization file activity township village camp site partner company user
    place location item programme program school facility district state region cluster sector form team group
    event dataset sheet indicator field business brand product vessel agency ward tract donor unit site's
    document folder course training drug medicine disease commodity book road street restaurant hotel shop
    store tag display resource package survey source report series variable table column short display common
    scientific trade country product service model indicator file host server database schema class module""".split()
)


#: a value after "name:" that is an identifier, not a person (CamelCase, snake_case, dotted, digits)
_IDENTIFIER_VALUE = re.compile(rb"^(?:[A-Za-z]*[a-z][A-Z][A-Za-z0-9]*|\S*[_./{}$<>=0-9]\S*|[a-z][a-z0-9\-]*)(?:\s|$)")


@dataclass(frozen=True)
class Candidate:
    """One match of the combined program inside a block of UTF-8 bytes."""

    block: bytes
    start: int
    end: int

    @property
    def raw(self) -> bytes:
        return self.block[self.start : self.end]

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    def before(self, n: int) -> bytes:
        return self.block[max(0, self.start - n) : self.start]

    def after(self, n: int) -> bytes:
        return self.block[self.end : self.end + n]


Validator = Callable[[Candidate], "tuple[str, str] | None"]


@dataclass(frozen=True)
class Detector:
    kind: str  # the key the scanners use ("phone")
    category: str  # the verdict category ("phone_number")
    pattern: str  # RE2, over UTF-8 bytes
    validate: Validator
    in_cells: bool = True  # judged inside table cells too (False: prose only, e.g. "Name: ..." keys)
    prose_only: bool = False  # too costly or too loose for table blocks: text documents only
    marks_person: bool = False  # in prose, at-risk words on the same line then describe this person


# --------------------------------------------------------------------------- validators
def _phone(c: Candidate) -> tuple[str, str] | None:
    prev = c.before(1)
    if prev and (prev.isdigit() or prev in (b".", b",", b"/", b"-") and c.before(2)[:1].isdigit()):
        return None
    nxt = c.after(2)
    if nxt[:1].isdigit() or (nxt[:1] in (b".", b",") and nxt[1:2].isdigit()):
        return None
    if c.after(8).lower().lstrip().startswith(_CURRENCY):
        return None
    digits = valid_phone(c.text)
    if digits is None:
        return None
    if SERVICE_LINE.search(c.before(80)):
        return None  # a hotline / helpline of an organisation, not a person's number
    return mask.mask_middle(digits), digits


#: a phone keyword, then a national number of a neighbouring country ("Tel: 081 234 5678")
PHONE_AFTER_KEYWORD = "(?i:" + PHONE_KEYWORDS + r")[^\n0-9+]{0,12}\(?[0-9][0-9 ()\-.]{6,18}[0-9]"


def _keyword_phone(c: Candidate) -> tuple[str, str] | None:
    """National numbers of the configured neighbours, only after a phone keyword."""
    if SERVICE_LINE.search(c.before(80)):
        return None
    text = c.text
    for _s, _e, e164 in find_phones(text):
        return mask.mask_middle(e164), e164
    return None


#: identity numbers whose own structure (birth date + check digit) is evidence enough in prose
CN_RIC = r"\b[1-6][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]\b"
ZA_IDNR = r"\b[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{4}[01][89][0-9]\b"


def _self_checking_id(c: Candidate) -> tuple[str, str] | None:
    from stdnum.cn import ric
    from stdnum.za import idnr

    t = c.text
    if c.before(1)[:1].isdigit() or c.after(1)[:1].isdigit():
        return None
    ok = ric.is_valid(t) if len(t) == 18 else idnr.is_valid(t)
    return (t[:2] + "*" * (len(t) - 4) + t[-2:], "cn_ric" if len(t) == 18 else "za_idnr") if ok else None


def _email(c: Candidate) -> tuple[str, str] | None:
    t = c.text
    return (mask.mask_email(t), t) if personal_email(t) else None


def _nrc(c: Candidate) -> tuple[str, str] | None:
    t = c.text
    return (mask.mask_middle(t), t) if valid_nrc(t) else None


def _pcode(c: Candidate) -> tuple[str, str] | None:
    t = c.text
    return t[:9] + "***", t


def _gps(c: Candidate) -> tuple[str, str] | None:
    t = c.text
    return (mask.mask_coord(t), t) if valid_gps_pair(t) else None


def _honorific_name(c: Candidate) -> tuple[str, str] | None:
    t = c.text
    if places.followed_by_settlement_word(c.after(24).decode("utf-8", "replace")):
        return None  # "Ma Kyar village tract" is a place, not the honorific Ma + a name
    return (mask.mask_name(t), t) if valid_text_name(t, c.after(24).decode("utf-8", "replace")) else None


#: credits and citations name authors, not the people a file is about
_CREDIT_BEFORE = re.compile(
    rb"(?i)(?:\b(?:created|written|compiled|published|edited|maintained|designed|developed|"
    rb"authored|photo(?:graph)?s?|courtesy|credits?|copyright)\b[^\n]{0,12}|\xc2\xa9 ?|\bby )$"
)
_CITATION_AFTER = re.compile(
    rb"^(?:,? et al\b|,? \(?(?:1[5-9]|20)[0-9]{2}\)?|,? ed(?:s|itors?)?\.|'s? (?:book|paper)|"
    rb" (?:press|publishing|publishers|books|university)\b)",
    re.IGNORECASE,
)


_ORG_LAST_WORDS = frozenset(
    b"press publishing publishers books university college institute foundation group hall house "
    b"library museum trust society company media studio studios records".split()
)


def _name_pair(c: Candidate) -> tuple[str, str] | None:
    """A bare "Given Surname" in prose, both words known from the name lists; not an author's
    credit or a citation ("created by Mike Bostock", "Hobart Press", "Smith, J (1993)")."""
    if _CREDIT_BEFORE.search(c.before(40)) or _CITATION_AFTER.match(c.after(30)):
        return None
    if c.raw.rsplit(b" ", 1)[-1].lower() in _ORG_LAST_WORDS:
        return None  # "Hobart Press", "Victoria University"
    name = names.validate_pair(c.text, c.before(40).decode("utf-8", "replace"), c.after(40).decode("utf-8", "replace"))
    return (mask.mask_name(name), name) if name else None


def _settlement(c: Candidate) -> tuple[str, str] | None:
    label = places.settlement_candidate(c.block, c.start, c.end)
    return (mask.mask_generic(label), label) if label else None


def _village_code(c: Candidate) -> tuple[str, str] | None:
    code = places.village_code_candidate(c.block, c.start, c.end)
    return (code[:3] + "***", code) if code else None


def _name_label(c: Candidate) -> tuple[str, str] | None:
    before = c.before(40).rstrip().lower().split()
    if before and before[-1].strip(b"'\":,;") in NOT_PERSON_LABEL:
        return None
    t = c.text
    value = c.raw.split(b":", 1)[-1].split(b"-", 1)[-1] if b":" in c.raw else c.raw
    value = (value + c.after(60)).split(b"\n", 1)[0].strip().strip(b"\"'")
    if _IDENTIFIER_VALUE.match(value):
        return None  # "name: CreditCardRecognizer", "name: my_dataset": a configuration key
    return t.split(":")[0].split("-")[0].strip() + ": ***", t


def _dob(c: Candidate) -> tuple[str, str] | None:
    t = c.text
    return t.split(":")[0].strip()[:20] + ": ****", t


# --------------------------------------------------------------------------- the registry
#: order matters: a match is classified by the first entry whose pattern matches at its start
REGISTRY: tuple[Detector, ...] = (
    Detector("phone", "phone_number", PHONE, _phone, marks_person=True),
    Detector("intl_phone", "phone_number", INTL_PHONE, detect_intl_phone, marks_person=True),
    Detector("email", "email_address", EMAIL, _email, marks_person=True),
    Detector("nrc", "national_id", NRC, _nrc, marks_person=True),
    Detector("idnum", "national_id", ID_TRIGGER, detect_identifier, marks_person=True),
    Detector(
        "selfid",
        "national_id",
        CN_RIC + "|" + ZA_IDNR,
        _self_checking_id,
        in_cells=False,
        prose_only=True,
        marks_person=True,
    ),
    Detector("kwphone", "phone_number", PHONE_AFTER_KEYWORD, _keyword_phone, marks_person=True),
    Detector("pcode", "precise_location", PCODE_PRECISE, _pcode),
    Detector("gps", "precise_location", GPS_PAIR, _gps),
    Detector("settlement", "precise_location", places.SETTLEMENT_PATTERN, _settlement, in_cells=False, prose_only=True),
    Detector("vcode", "precise_location", places.VILLAGE_CODE_PATTERN, _village_code, in_cells=False, prose_only=True),
    Detector("name", "person_name", NAME_IN_TEXT, _honorific_name, marks_person=True),
    Detector(
        "namelabel",
        "person_name",
        NAME_LABEL + "|" + NAME_LABEL_BURMESE,
        _name_label,
        in_cells=False,
        marks_person=True,
    ),
    Detector("pname", "person_name", names.CUE_PATTERN, names.detector_validate, marks_person=True),
    Detector("pair", "person_name", names.PAIR_PATTERN, _name_pair, in_cells=False, prose_only=True, marks_person=True),
    Detector("dob", "date_of_birth", DOB_TEXT, _dob, marks_person=True),
)
BY_KIND: dict[str, Detector] = {d.kind: d for d in REGISTRY}
ALL_KINDS: frozenset[str] = frozenset(BY_KIND)
#: what a table's raw blocks are scanned for (prose-only kinds need sentences around them)
TABLE_KINDS: frozenset[str] = frozenset(d.kind for d in REGISTRY if not d.prose_only)
KIND_CATEGORY: dict[str, str] = {d.kind: d.category for d in REGISTRY}
_PART_RES: dict[str, Any] = {d.kind: compile_bytes("^(?:" + d.pattern + ")") for d in REGISTRY}


def validate(kind: str, block: bytes, start: int, end: int) -> tuple[str, str] | None:
    return BY_KIND[kind].validate(Candidate(block, start, end))


@functools.lru_cache(maxsize=64)
def combined(kinds: frozenset[str]) -> Any:
    """One RE2 program for the wanted kinds (cached per set)."""
    return compile_bytes("|".join("(?:" + d.pattern + ")" for d in REGISTRY if d.kind in kinds))


def classify_match(text: bytes, kinds: frozenset[str]) -> str | None:
    """Which kind a combined-program match belongs to (the first entry that matches at 0)."""
    for d in REGISTRY:
        if d.kind in kinds and _PART_RES[d.kind].match(text):
            return d.kind
    return None


def iter_matches(block: bytes, kinds: set[str] | frozenset[str]) -> Iterator[tuple[int, int, bytes, str]]:
    """Every classified match of the combined program over ``block``: (start, end, text, kind).

    One loop for the bulk scanner and the column sampler, so both advance past empty
    matches the same way (RE2: linear time). ``kinds`` may shrink while iterating (the
    scanner drops a kind once it has seen enough of it): the program is then rebuilt
    without it, so the rest of the block is scanned for less.
    """
    current = frozenset(kinds)
    prog = combined(current)
    pos, n = 0, len(block)
    while pos < n:
        if len(kinds) != len(current):
            if not kinds:
                return
            current = frozenset(kinds)
            prog = combined(current)
        m = prog.search(block, pos)
        if m is None:
            break
        s, e = m.span()
        pos = e if e > s else s + 1
        text = block[s:e]
        kind = classify_match(text, current)
        if kind is not None:
            yield s, e, text, kind
