"""Village-level places: settlement words in prose, bare village codes, an operator gazetteer,
and admin-area column headers.

Pure and synchronous, like the rest of the engine.  Every pattern is RE2 over UTF-8 bytes (no
lookarounds, no backreferences) so it can join the combined bulk program of ``patterns.py``;
the validators below only run on candidates.

When a place counts (the rule the integrator applies; see ``place_context``):

* a *candidate* is a settlement word next to a proper name ("Nyaung Pin village", "the village
  of Kyauk Taw", "village tract Thayet Pin", "Ward No. 5", "ကျောက်တော်ရွာ", "အမှတ် ၃ ရပ်ကွက်"),
  a village code next to a code keyword ("village code 150123"), or a gazetteer name;
* generic uses are never candidates ("the village", "every village", "village-level",
  "village tract administrators", "Village Development Committee", "ward office");
* a candidate in *prose* is reported as ``precise_location`` only when it locates people: the
  ±300 bytes around it (the match itself excluded) hold a person cue (honorific + name,
  pronoun, household, family, beneficiary, respondent, patient, child ...), an incident or case
  word (incident, case, killed, arrested, airstrike ...) or an assistance word (distribution,
  received, cash, referral ...), or the file already has person names elsewhere
  (``names_elsewhere=True``, the integrator knows it per file).  A plain gazetteer — names and
  P-codes with no people — is therefore not sensitive by itself;
* in *tables*, a column whose header is an admin area (``admin_level``) is a place column and
  never a person-name column; level >= 4 (village tract, ward, town, village) is precise.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import re2

from .patterns import BURMESE, DIG, HONORIFIC_LOWER, NAME_SYLLABLES, compile_bytes, to_ascii_digits

__all__ = [
    "ADMIN_HEADER",
    "PLACE_CUE_TEXT",
    "SETTLEMENT_PATTERN",
    "SETTLEMENT_RE",
    "VILLAGE_CODE_PATTERN",
    "VILLAGE_CODE_RE",
    "Gazetteer",
    "GazetteerError",
    "admin_level",
    "followed_by_settlement_word",
    "iter_settlements",
    "place_context",
    "settlement_candidate",
    "validate_settlement",
    "validate_village_code",
    "village_code_candidate",
]

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
_MM_VILLAGE_TRACT = "\u1000\u103b\u1031\u1038\u101b\u103d\u102c\u1021\u102f\u1015\u103a\u1005\u102f"  # ကျေးရွာအုပ်စု
_MM_VILLAGE_LONG = "\u1000\u103b\u1031\u1038\u101b\u103d\u102c"  # ကျေးရွာ
_MM_VILLAGE = "\u101b\u103d\u102c"  # ရွာ
_MM_WARD = "\u101b\u1015\u103a\u1000\u103d\u1000\u103a"  # ရပ်ကွက်
_MM_CAMP = "\u1005\u1001\u1014\u103a\u1038"  # စခန်း
_MM_DISPLACED = (
    "\u1012\u102f\u1000\u1039\u1001\u101e\u100a\u103a",  # ဒုက္ခသည်
    "\u1005\u1005\u103a\u1018\u1031\u1038\u101b\u103e\u1031\u102c\u1004\u103a",
)  # စစ်ဘေးရှောင်
_MM_NUMBER = "\u1021\u1019\u103e\u1010\u103a"  # အမှတ် (number)
# Zawgyi spellings of the same words
_ZG_VILLAGE_TRACT = "\u1031\u1000\u103a\u1038\u101b\u103c\u102c\u1021\u102f\u1015\u1039\u1005\u102f"
_ZG_VILLAGE_LONG = "\u1031\u1000\u103a\u1038\u101b\u103c\u102c"
_ZG_VILLAGE = "\u101b\u103c\u102c"
_ZG_WARD = "\u101b\u1015\u1039\u1000\u103c\u1000\u1039"
_ZG_CAMP = "\u1005\u1001\u1014\u1039\u1038"
_MM_KW_WORDS = (
    _MM_VILLAGE_TRACT,
    _ZG_VILLAGE_TRACT,
    _MM_VILLAGE_LONG,
    _ZG_VILLAGE_LONG,
    _MM_VILLAGE,
    _ZG_VILLAGE,
    _MM_WARD,
    _ZG_WARD,
    _MM_CAMP,
    _ZG_CAMP,
)  # longest first
_MM_KW = "|".join(_MM_KW_WORDS)

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

_KIND = (
    ("village tracts", "village tract"),
    ("village-tracts", "village tract"),
    ("village tract", "village tract"),
    ("village-tract", "village tract"),
    ("villages", "village"),
    ("village", "village"),
    ("wards", "ward"),
    ("ward", "ward"),
    ("quarters", "ward"),
    ("quarter", "ward"),
    ("hamlets", "village"),
    ("hamlet", "village"),
    ("idp camps", "camp"),
    ("idps camps", "camp"),
    ("idp camp", "camp"),
    ("idps camp", "camp"),
    ("idp sites", "camp"),
    ("idp site", "camp"),
    ("idps site", "camp"),
    ("displacement camps", "camp"),
    ("displacement camp", "camp"),
    ("displacement sites", "camp"),
    ("displacement site", "camp"),
    ("relocation sites", "camp"),
    ("relocation site", "camp"),
    ("camps", "camp"),
    ("camp", "camp"),
    ("ywar", "village"),
    ("ywa", "village"),
)
_KW_AFTER_RE = re.compile(r"[ \-](" + "|".join(re.escape(k) for k, _ in _KIND) + r")\b", re.IGNORECASE)
_KW_BEFORE_RE = re.compile(
    r"^(village[ \-]tract|village|ward|quarter|hamlet|idp camp|idp site|camp)"
    r"(?: (?:of|called|named|known as))? ",
    re.IGNORECASE,
)
_OF_TAIL_RE = re.compile(r" (?:of|called|named|known as) (.+)$", re.IGNORECASE)

#: capitalised words stripped from the front of a name ("In Nyaung Pin village", "The village ...")
_LEAD_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "in",
        "at",
        "on",
        "of",
        "from",
        "to",
        "for",
        "by",
        "near",
        "into",
        "inside",
        "outside",
        "within",
        "across",
        "around",
        "between",
        "our",
        "their",
        "his",
        "her",
        "its",
        "my",
        "your",
        "this",
        "that",
        "these",
        "those",
        "each",
        "every",
        "all",
        "any",
        "some",
        "other",
        "another",
        "same",
        "one",
        "two",
        "three",
        "four",
        "five",
        "several",
        "many",
        "most",
        "both",
        "neighbouring",
        "neighboring",
        "nearby",
        "local",
        "surrounding",
        "remaining",
        "affected",
        "township",
        "townships",
        "region",
        "regions",
        "state",
        "states",
        "district",
        "districts",
        "tract",
        "division",
        "union",
        "country",
        "and",
        "or",
        "but",
        "also",
        "only",
        "then",
        "when",
        "where",
        "while",
        "after",
        "before",
        "during",
        "since",
        "until",
        "as",
        "if",
        "so",
        "there",
        "here",
        "households",
        "household",
        "families",
        "family",
        "people",
        "residents",
        "villagers",
        "respondents",
        "beneficiaries",
        "children",
        "women",
        "men",
        "staff",
        "idps",
        "idp",
        "we",
        "they",
        "he",
        "she",
        "it",
        "i",
        "you",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "today",
        "yesterday",
    ]
)
#: a name holding any of these is an organisation, a role or a data term, not a place
_REJECT_WORD = frozenset(
    [
        "development",
        "committee",
        "committees",
        "administrator",
        "administrators",
        "administration",
        "administrative",
        "office",
        "offices",
        "leader",
        "leaders",
        "head",
        "heads",
        "headman",
        "level",
        "levels",
        "management",
        "manager",
        "managers",
        "agency",
        "agencies",
        "chairman",
        "chairperson",
        "chair",
        "secretary",
        "clerk",
        "volunteer",
        "volunteers",
        "council",
        "councils",
        "general",
        "meeting",
        "meetings",
        "fund",
        "funds",
        "profile",
        "profiles",
        "mapping",
        "data",
        "list",
        "lists",
        "code",
        "codes",
        "pcode",
        "pcodes",
        "name",
        "names",
        "boundary",
        "boundaries",
        "population",
        "information",
        "survey",
        "surveys",
        "assessment",
        "assessments",
        "training",
        "project",
        "projects",
        "program",
        "programme",
        "programmes",
        "team",
        "teams",
        "model",
        "approach",
        "system",
        "database",
        "layer",
        "map",
        "maps",
        "shapefile",
        "tract",
        "tracts",
        "level-data",
        "health",
        "security",
        "police",
        "militia",
        "elder",
        "elders",
        "court",
        "courts",
        "association",
        "network",
        "coordination",
        "coordinator",
        "focal",
        "point",
        "authority",
        "authorities",
        "plan",
        "plans",
        "planning",
        "group",
        "groups",
        "based",
        "savings",
        "loan",
        "loans",
        "bank",
        "banks",
        "tract's",
        "village's",
        "ward's",
        "no",
        "number",
    ]
)
#: names made only of these are generic ("Refugee camp", "Kachin village", "New village")
_GENERIC_WORD = frozenset(
    [
        "refugee",
        "refugees",
        "idp",
        "idps",
        "displacement",
        "displaced",
        "relocation",
        "transit",
        "temporary",
        "military",
        "army",
        "training",
        "summer",
        "boot",
        "base",
        "labour",
        "labor",
        "detention",
        "prison",
        "concentration",
        "model",
        "pilot",
        "target",
        "targeted",
        "host",
        "hosting",
        "affected",
        "remote",
        "rural",
        "urban",
        "border",
        "frontier",
        "nearby",
        "neighbouring",
        "neighboring",
        "hill",
        "hills",
        "mountain",
        "mountains",
        "coastal",
        "island",
        "fishing",
        "farming",
        "ethnic",
        "muslim",
        "christian",
        "buddhist",
        "hindu",
        "kachin",
        "shan",
        "chin",
        "karen",
        "kayin",
        "rakhine",
        "rohingya",
        "mon",
        "karenni",
        "kayah",
        "bamar",
        "burmese",
        "myanmar",
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "upper",
        "lower",
        "central",
        "middle",
        "old",
        "new",
        "big",
        "small",
        "large",
        "main",
        "first",
        "second",
        "third",
        "last",
        "next",
        "previous",
        "same",
        "whole",
        "entire",
        "host-community",
        "global",
        "cluster",
        "sector",
        "protected",
        "unprotected",
        "informal",
        "formal",
        "official",
        "unofficial",
        "registered",
        "unregistered",
        "existing",
        "former",
        "current",
        "original",
        "home",
        "native",
        "my",
        "our",
        "your",
        "their",
        "his",
        "her",
        "its",
        "the",
        "a",
        "an",
        "every",
        "each",
        "any",
        "some",
        "all",
        "other",
        "another",
        "this",
        "that",
        "which",
        "what",
        "whose",
        "one",
        "two",
    ]
)
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
# Burmese words that cannot be a place name before ရွာ / စခန်း (demonstratives, generic nouns)
_MM_GENERIC = frozenset(
    [
        "\u1024",
        "\u1011\u102d\u102f",
        "\u1021\u1001\u103c\u102c\u1038",  # ဤ ထို အခြား
        "\u1000\u103b\u1031\u1038",
        "\u1010\u1005\u103a",
        "\u1019\u103c\u102d\u102f\u1037",  # ကျေး တစ် မြို့
        "\u101b\u1032",
        "\u1005\u1005\u103a",
        "\u1010\u1015\u103a",  # ရဲ စစ် တပ်
        "\u1000\u1004\u103a\u1038",
        "\u101a\u102c\u101a\u102e",  # ကင်း ယာယီ
        "\u1014\u101a\u103a\u1005\u1015\u103a",  # နယ်စပ်
        "\u1012\u102f\u1000\u1039\u1001\u101e\u100a\u103a",  # ဒုက္ခသည်
        "\u1005\u1005\u103a\u1018\u1031\u1038\u101b\u103e\u1031\u102c\u1004\u103a",  # စစ်ဘေးရှောင်
        "\u1021\u1015\u102f\u1036",  # အပုံ
        "\u1000\u103b\u1031\u1038\u101b\u103d\u102c",
        "\u101b\u103d\u102c",  # ကျေးရွာ ရွာ
        "\u1010\u102d\u102f\u1004\u103a\u1038",  # တိုင်း (every)
    ]
)
# particles and case markers: the name starts after the last of them (Burmese has no spaces)
_MM_PARTICLES = (
    "\u101e\u100a\u103a",
    "\u104f",
    "\u1019\u103e",
    "\u1010\u103d\u1004\u103a",  # သည် ၏ မှ တွင်
    "\u1014\u103e\u1004\u1037\u103a",
    "\u1000\u102d\u102f",
    "\u104c",  # နှင့် ကို ၌
    "\u1019\u103b\u102c\u1038",
    "\u101e\u1031\u102c",
    "\u101b\u1032\u1037",  # များ သော ရဲ့
    "\u101e\u102d\u102f\u1037",
    "\u1016\u103c\u1005\u103a",
    "\u1014\u1031",  # သို့ ဖြစ် နေ
    "\u1010\u1032\u1037",
    "\u1000\u1014\u1031",
    "\u101b\u103e\u102d",
)  # တဲ့ ကနေ ရှိ
_MM_SYL_RE = re.compile(_MM_SYL.replace("\\x{", "\\u"))
_MM_AFTER_GENERIC = (
    "\u1019\u103b\u102c\u1038",  # များ (plural)
    "\u1010\u102d\u102f\u1004\u103a\u1038",  # တိုင်း (every)
    "\u1021\u102f\u1015\u103a\u1001\u103b\u102f\u1015\u103a",  # အုပ်ချုပ် (administration)
    "\u101c\u1030\u1000\u103c\u102e\u1038",  # လူကြီး (elder / head)
    "\u101e\u102c\u1038",
    "\u101e\u1030",  # သား သူ (villager)
    "\u1021\u1006\u1004\u1037\u103a",  # အဆင့် (level)
    "\u101b\u1036\u102f\u1038",  # ရုံး (office)
    "\u1000\u1031\u102c\u103a\u1019\u1010\u102e",
)  # ကော်မတီ (committee)
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

# =========================================================================== village codes
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


# =========================================================================== context
PLACE_CUE_TEXT = (
    r"(?i:\b(?:households?|hhs?|hoh|famil(?:y|ies)|beneficiar\w*|respondents?|interviewees?|residents?|"
    r"villagers|individuals?|persons?|women|woman|girls?|boys?|child|children|infants?|babies|baby|elderly|"
    r"widows?|orphans?|survivors?|victims?|patients?|clients?|idps?|displaced|refugees?|returnees?|"
    r"he|she|his|her|him|mother|father|son|daughter|husband|wife|"
    r"incidents?|cases?|killed|injured|wounded|died|deaths?|dead|arrested|detained|abducted|raid(?:ed)?|"
    r"attack\w*|shell\w*|airstrikes?|air ?strikes?|bomb\w*|burn(?:ed|t)|looted|destroyed|fled|flee\w*|"
    r"violence|assault\w*|rape[ds]?|threat\w*|recruit\w*|landmines?|uxo|explosions?|"
    r"distribut\w*|receiv\w*|assist\w*|aid|cash|food|nfis?|kits?|vouchers?|referr\w*|registered|"
    r"registration|enrolled|visited|treated|treatment|vaccinat\w*|provided|delivered|served|"
    r"lives|living|lived|resid\w*|address|house|houses|home|homes|stay\w*|relocat\w*)\b)"
    r"|\b(?:Daw|U|Ko|Ma|Maung|Mg|Naw|Saw|Sai|Nang|Nan|Mi|Khun|Mr|Mrs|Ms)\.? [A-Z][a-z]{1,12}"
    "|\u1021\u102d\u1019\u103a\u1011\u1031\u102c\u1004\u103a\u1005\u102f"  # အိမ်ထောင်စု household
    "|\u1019\u102d\u101e\u102c\u1038\u1005\u102f"  # မိသားစု family
    "|\u1021\u102d\u1019\u103a"  # အိမ် house
    "|\u101c\u1030\u1014\u102c"  # လူနာ patient
    "|\u1000\u101c\u1031\u1038"  # ကလေး child
    "|\u1021\u1019\u103b\u102d\u102f\u1038\u101e\u1019\u102e\u1038"  # အမျိုးသမီး woman
    "|\u1012\u102f\u1000\u1039\u1001\u101e\u100a\u103a"  # ဒုက္ခသည် displaced
    "|\u1005\u1005\u103a\u1018\u1031\u1038\u101b\u103e\u1031\u102c\u1004\u103a"  # စစ်ဘေးရှောင်
    "|\u1014\u1031\u1011\u102d\u102f\u1004\u103a"  # နေထိုင် reside
    "|\u1016\u1019\u103a\u1038\u1006\u102e\u1038"  # ဖမ်းဆီး arrest
    "|\u101e\u1031\u1006\u102f\u1036\u1038"  # သေဆုံး died
    "|\u1012\u100f\u103a\u101b\u102c"  # ဒဏ်ရာ injury
    "|\u1010\u102d\u102f\u1000\u103a\u1001\u102d\u102f\u1000\u103a"  # တိုက်ခိုက် attack
    "|\u1016\u103c\u1005\u103a\u101b\u1015\u103a"  # ဖြစ်ရပ် incident
    "|\u1021\u1000\u1030\u1021\u100a\u102e"  # အကူအညီ assistance
    "|\u1011\u1031\u102c\u1000\u103a\u1015\u1036\u1037"  # ထောက်ပံ့ support
    "|\u1016\u103c\u1014\u1037\u103a\u101d\u1031"  # ဖြန့်ဝေ distribute
    "|\u1012\u1031\u102b\u103a|\u1026\u1038 ?[\u1000-\u1021]"  # ဒေါ် / ဦး + a name
)
PLACE_CUE_RE = compile_bytes(PLACE_CUE_TEXT)
CONTEXT_BYTES = 300


def place_context(block: bytes, s: int, e: int, *, names_elsewhere: bool = False) -> str | None:
    """Does a place candidate at block[s:e] locate people?  Returns the cue (for the example) or
    None.  The window is ±CONTEXT_BYTES around the match within its line, the match itself excluded; a file with
    person names elsewhere always counts."""
    if names_elsewhere:
        return "person names in the file"
    # the same line (a sentence, a cell, a list entry): in a list of village names one entry
    # naming a person's honorific must not make its neighbours locate people
    ls = block.rfind(b"\n", max(0, s - CONTEXT_BYTES), s) + 1
    le = block.find(b"\n", e, e + CONTEXT_BYTES)
    le = le if le >= 0 else min(len(block), e + CONTEXT_BYTES)
    for part in (block[max(ls, s - CONTEXT_BYTES) : s], block[e:le]):
        m = PLACE_CUE_RE.search(part)
        if m is not None:
            return m.group(0).decode("utf-8", "replace")[:30]
    return None


def settlement_candidate(
    block: bytes, s: int, e: int, *, names_elsewhere: bool = False, need_context: bool = True
) -> str | None:
    """A SETTLEMENT_PATTERN match at block[s:e] as a label when it is a specific place that
    locates people (validate_settlement + place_context), else None.  The registry validator."""
    label = validate_settlement(
        block[s:e].decode("utf-8", "replace"),
        block[max(0, s - 60) : s].decode("utf-8", "replace"),
        block[e : e + 60].decode("utf-8", "replace"),
    )
    if label is None or (need_context and place_context(block, s, e, names_elsewhere=names_elsewhere) is None):
        return None
    return label


def village_code_candidate(
    block: bytes, s: int, e: int, *, names_elsewhere: bool = False, need_context: bool = True
) -> str | None:
    """A VILLAGE_CODE_PATTERN match as the bare code when valid (and locating people), else None."""
    code = validate_village_code(
        block[s:e].decode("utf-8", "replace"),
        block[max(0, s - 60) : s].decode("utf-8", "replace"),
        block[e : e + 20].decode("utf-8", "replace"),
    )
    if code is None or (need_context and place_context(block, s, e, names_elsewhere=names_elsewhere) is None):
        return None
    return code


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


# =========================================================================== admin headers
#: header words naming an admin level (1 state/region, 2 district, 3 township,
#: 4 village tract/ward/town, 5 village/camp)
ADMIN_HEADER: dict[str, int] = {
    "state": 1,
    "states": 1,
    "region": 1,
    "regions": 1,
    "state region": 1,
    "sr": 1,
    "division": 1,
    "adm1": 1,
    "admin1": 1,
    "adm 1": 1,
    "admin 1": 1,
    "district": 2,
    "districts": 2,
    "dist": 2,
    "adm2": 2,
    "admin2": 2,
    "adm 2": 2,
    "admin 2": 2,
    "township": 3,
    "townships": 3,
    "tsp": 3,
    "tship": 3,
    "sub township": 3,
    "adm3": 3,
    "admin3": 3,
    "adm 3": 3,
    "admin 3": 3,
    "village tract": 4,
    "village tracts": 4,
    "vt": 4,
    "ward": 4,
    "wards": 4,
    "town": 4,
    "towns": 4,
    "quarter": 4,
    "adm4": 4,
    "admin4": 4,
    "adm 4": 4,
    "admin 4": 4,
    "village": 5,
    "villages": 5,
    "vill": 5,
    "vlg": 5,
    "hamlet": 5,
    "camp": 5,
    "camps": 5,
    "idp camp": 5,
    "idp site": 5,
    "settlement": 5,
    "adm5": 5,
    "admin5": 5,
    "adm 5": 5,
    "admin 5": 5,
}
#: short abbreviations only accepted alone or with a name/code suffix ("ST_Pcode", "TS", "DT_Name");
#: "D" only with a suffix ("D_Pcode"): a bare "D" header is too often something else
_ADMIN_ABBR = {"st": 1, "d": 2, "dt": 2, "ts": 3}
_ADMIN_SUFFIX = frozenset(
    [
        "name",
        "names",
        "pcode",
        "pcodes",
        "p",
        "code",
        "codes",
        "id",
        "eng",
        "en",
        "mya",
        "mm",
        "mmr",
        "mmr3",
        "mm3",
        "my",
        "burmese",
        "myanmar",
        "english",
        "alt",
        "alternate",
        "nm",
    ]
)
_ADMIN_BURMESE = (
    ("\u1000\u103b\u1031\u1038\u101b\u103d\u102c\u1021\u102f\u1015\u103a\u1005\u102f", 4),  # ကျေးရွာအုပ်စု
    ("\u1031\u1000\u103a\u1038\u101b\u103c\u102c\u1021\u102f\u1015\u1039\u1005\u102f", 4),  # Zawgyi
    ("\u1019\u103c\u102d\u102f\u1037\u1014\u101a\u103a", 3),  # မြို့နယ်
    ("\u107f\u1019\u102d\u1033\u1095\u1014\u101a\u1039", 3),  # ၿမိဳ႕နယ္ (Zawgyi)
    ("\u1000\u103b\u1031\u1038\u101b\u103d\u102c", 5),
    ("\u1031\u1000\u103a\u1038\u101b\u103c\u102c", 5),
    ("\u101b\u1015\u103a\u1000\u103d\u1000\u103a", 4),
    ("\u101b\u1015\u1039\u1000\u103c\u1000\u1039", 4),
    ("\u101b\u103d\u102c", 5),
    ("\u101b\u103c\u102c", 5),  # ရွာ
    ("\u1005\u1001\u1014\u103a\u1038", 5),  # စခန်း
    ("\u1015\u103c\u100a\u103a\u1014\u101a\u103a", 1),
    ("\u103b\u1015\u100a\u1039\u1014\u101a\u1039", 1),  # ပြည်နယ်
    ("\u1010\u102d\u102f\u1004\u103a\u1038\u1012\u1031\u101e\u1000\u103c\u102e\u1038", 1),  # တိုင်းဒေသကြီး
    ("\u1001\u101b\u102d\u102f\u1004\u103a", 2),
    ("\u1001\u1090\u102d\u102f\u1004\u1039", 2),  # ခရိုင်
    ("\u1019\u103c\u102d\u102f\u1037", 4),  # မြို့ (town), after မြို့နယ် was removed
)
#: a header about a place's attribute or a count, not naming the place
_ADMIN_NOT = re.compile(
    r"\b(?:number|no|num|count|total|sum|population|pop|households?|hh|people|persons|individuals|type|types|"
    r"status|category|classification|leader|leaders|head|heads|committee|management|manager|agency|"
    r"administrator|administrators|office|condition|access|accessibility|distance|size|area|percent|pct|"
    r"rate|ratio|score|level|levels|budget|cost|price|of repair|private|public|date|year|month)\b"
)
_ADMIN_NOT_MM = (
    "\u1021\u101b\u1031\u1021\u1010\u103d\u1000\u103a",  # အရေအတွက် count
    "\u1026\u1038\u101b\u1031",
    "\u1005\u102f\u1005\u102f\u1015\u1031\u102b\u1004\u103a\u1038",
    "\u1021\u102f\u1015\u103a\u1001\u103b\u102f\u1015\u103a\u101b\u1031\u1038",
)  # ဦးရေ စုစုပေါင်း အုပ်ချုပ်ရေး
_HDR_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")
_HDR_SPLIT = re.compile(r"[\s_\-./:()\[\]#?+,;|\\]+")
_HDR_NUM = re.compile(r"\b(adm|admin)\s+([1-5])\b")


def _header_tokens(header: str) -> list[str]:
    h = unicodedata.normalize("NFC", header or "")
    h = _HDR_CAMEL.sub(" ", h)
    h = re.sub(r"(?<=[A-Za-z])(?=[1-5]\b)", " ", h)  # "adm1Name" -> "adm 1 Name"
    h = _HDR_SPLIT.sub(" ", h.lower()).strip()
    h = _HDR_NUM.sub(r"\1\2", h)
    return [t[3:] if t.startswith("alt") and t[3:] in ("vlg", "village", "vill") else t for t in h.split()]


def admin_level(header: str) -> int | None:
    """The admin level a column header names, or None.

    1 state/region, 2 district, 3 township, 4 village tract / ward / town, 5 village / camp.
    English, MIMU (SR_Pcode, TS, VT_Pcode, Village_Mya_MMR3, VLG_PCODE), HXL (#adm1+name,
    #loc+name is not admin), Burmese (ပြည်နယ် ခရိုင် မြို့နယ် ကျေးရွာအုပ်စု ရပ်ကွက် ကျေးရွာ) and Zawgyi.
    Code columns count too (they are never person names either).  When a header names two
    levels ("Village/Ward", "Village_Tract/Town") the finer one wins.  Counts and attributes
    ("Number of villages", "Village leader", "Township population", "State of repair") are None."""
    raw = unicodedata.normalize("NFC", header or "").strip()
    if not raw or len(raw) > 120:
        return None
    toks = _header_tokens(raw)
    joined = " " + " ".join(toks) + " "
    if _ADMIN_NOT.search(joined) or any(w in raw for w in _ADMIN_NOT_MM):
        return None
    if raw.startswith("#"):  # HXL: #adm1+name, #adm4+code, #loc+village
        base = toks[0] if toks else ""
        if re.fullmatch(r"adm[1-5]", base):
            return int(base[3])
        if base == "loc" and set(toks[1:]) & {"village", "ward", "camp", "site"}:
            return 5
        return None
    level: int | None = None
    lv: int | None
    used: set[int] = set()
    for i, t in enumerate(toks):  # two-word phrases first ("village tract", "state region")
        if i + 1 < len(toks):
            two = t + " " + toks[i + 1]
            if two in ADMIN_HEADER:
                lv = ADMIN_HEADER[two]
                level = lv if level is None else max(level, lv)
                used |= {i, i + 1}
    for i, t in enumerate(toks):
        if i in used:
            continue
        lv = ADMIN_HEADER.get(t)
        if (
            lv is None
            and t in _ADMIN_ABBR
            and all(o in _ADMIN_SUFFIX or o in _ADMIN_ABBR or o in ADMIN_HEADER for j, o in enumerate(toks) if j != i)
        ):
            lv = _ADMIN_ABBR[t] if (t != "d" or len(toks) > 1) else None
        if lv is not None:
            level = lv if level is None else max(level, lv)
    rest = raw
    for word, mm_level in _ADMIN_BURMESE:
        if word in rest:
            rest = rest.replace(word, " ")
            level = mm_level if level is None else max(level, mm_level)
    return level


# =========================================================================== gazetteer
class GazetteerError(Exception):
    """The gazetteer file cannot be used; the message is one line naming the path."""


#: common words that are also village names somewhere: matching them in text would be noise
_COMMON_NAMES = frozenset(
    [
        "camp",
        "ward",
        "village",
        "villages",
        "town",
        "city",
        "market",
        "school",
        "hospital",
        "clinic",
        "station",
        "church",
        "mosque",
        "temple",
        "pagoda",
        "monastery",
        "island",
        "hill",
        "hills",
        "river",
        "lake",
        "bridge",
        "road",
        "street",
        "gate",
        "mine",
        "mines",
        "farm",
        "farms",
        "field",
        "fields",
        "forest",
        "garden",
        "port",
        "bay",
        "beach",
        "point",
        "valley",
        "spring",
        "well",
        "wells",
        "tank",
        "dam",
        "pond",
        "creek",
        "stream",
        "north",
        "south",
        "east",
        "west",
        "upper",
        "lower",
        "middle",
        "central",
        "new",
        "old",
        "big",
        "small",
        "main",
        "high",
        "home",
        "hope",
        "lake",
        "mill",
        "mills",
        "center",
        "centre",
        "corner",
        "cross",
        "junction",
        "block",
        "zone",
        "area",
        "site",
        "sector",
        "section",
        "part",
        "side",
        "end",
        "top",
        "bottom",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "first",
        "second",
        "third",
        "last",
        "next",
        "back",
        "front",
        "left",
        "right",
        "long",
        "short",
        "white",
        "black",
        "red",
        "green",
        "blue",
        "yellow",
        "gold",
        "golden",
        "silver",
        "king",
        "queen",
        "prince",
        "royal",
        "grand",
        "great",
        "little",
        "half",
        "full",
        "free",
        "open",
        "close",
        "star",
        "moon",
        "sun",
        "rain",
        "sea",
        "sand",
        "stone",
        "rock",
        "wood",
        "tree",
        "trees",
        "leaf",
        "flower",
        "rice",
        "tea",
        "salt",
        "fish",
        "cattle",
        "horse",
        "bird",
        "tiger",
        "lion",
        "elephant",
        "water",
        "fire",
        "earth",
        "peace",
        "union",
        "unity",
        "victory",
        "glory",
        "light",
        "dawn",
        "evening",
        "morning",
        "night",
        "day",
        "week",
        "month",
        "year",
        "today",
        "people",
        "family",
        "house",
        "shop",
        "office",
        "bank",
        "police",
        "army",
        "post",
        "mail",
        "data",
        "list",
        "name",
        "code",
        "level",
        "total",
        "other",
        "others",
        "none",
        "unknown",
        "yes",
        "no",
        "not",
        "and",
        "the",
        "for",
        "with",
        "from",
        "this",
        "that",
        "which",
        "what",
        "when",
        "where",
        "there",
        "here",
        "same",
        "each",
        "every",
        "some",
        "many",
        "most",
        "more",
        "less",
        "only",
        "also",
        "just",
        "very",
        "into",
        "over",
        "under",
        "about",
        "after",
        "before",
        "again",
        "often",
        "always",
        "never",
        "still",
        "even",
        "then",
        "than",
        "them",
        "they",
        "their",
        "these",
        "those",
        "while",
        "within",
        "without",
        "between",
        "among",
        "against",
        "during",
        "since",
        "until",
        "upon",
        "above",
        "below",
        "inside",
        "outside",
        "mandalay",
        "yangon",
        "myanmar",
        "burma",
        "ywa",
        "ywar",
        "ywar",
        "thit",
        "ywa",
        "thit",
        "ywarthit",
    ]
) | {"ywar thit", "ywa thit", "ywar ma", "ywa ma"}
_MM_COMMON = frozenset(
    [
        "\u101b\u103d\u102c",
        "\u1000\u103b\u1031\u1038\u101b\u103d\u102c",
        "\u1019\u103c\u102d\u102f\u1037",  # ရွာ ကျေးရွာ မြို့
        "\u101b\u1015\u103a\u1000\u103d\u1000\u103a",
        "\u1021\u101b\u103e\u1031\u1037",  # ရပ်ကွက် အရှေ့
        "\u1021\u1014\u1031\u102c\u1000\u103a",
        "\u1010\u1031\u102c\u1004\u103a",  # အနောက် တောင်
        "\u1019\u103c\u1031\u102c\u1000\u103a",
        "\u1021\u101c\u101a\u103a",
        "\u1008\u1031\u1038",  # မြောက် အလယ် ဈေး
        "\u1000\u103b\u1031\u102c\u1004\u103a\u1038",
        "\u1018\u102f\u101b\u102c\u1038",  # ကျောင်း ဘုရား
        "\u1006\u1031\u1038\u101b\u102f\u1036",
        "\u1010\u1036\u1010\u102c\u1038",
        "\u1019\u103c\u1005\u103a",  # ဆေးရုံ တံတား မြစ်
        "\u1001\u103b\u1031\u102c\u1004\u103a\u1038",
        "\u1000\u102f\u1014\u103a\u1038",  # ချောင်း ကုန်း
        "\u1000\u103d\u1004\u103a\u1038",
        "\u1010\u1031\u102c",
        "\u101b\u1031",  # ကွင်း တော ရေ
        "\u1021\u1015\u102d\u102f\u1004\u103a\u1038",
        "\u1000\u103b\u1031\u1038",  # အပိုင်း ကျေး
        "\u101b\u103d\u102c\u101e\u1005\u103a",  # ရွာသစ် (new village: too common, and generic in prose)
    ]
)
_MAX_GAZ_BYTES = 200 << 20
_MAX_GAZ_ROWS = 1_000_000
_PAREN = re.compile(r"\(([^)]*)\)")
_ALIAS_SPLIT = re.compile(r"\s*(?:/|;|\|| \(a\) | \(or\) | or | aka | a\.k\.a\. )\s*", re.IGNORECASE)
_ALIAS_HINT = re.compile(r"[()/;|]| or | aka | a\.k\.a\. ", re.IGNORECASE)
_BURMESE_CHARS = re.compile("[" + BURMESE + "]")
_CODE_HDR = frozenset(["pcode", "pcodes", "code", "codes", "id"])
_MM_HDR = frozenset(["mya", "mm", "mmr", "mmr3", "mm3", "my", "burmese", "myanmar", "mmr4", "unicode"])


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _aliases(value: str) -> list[str]:
    """'Ah Lel (a) Ah Lel Kone (Ngwesaung Sub-township)' -> ['Ah Lel', 'Ah Lel Kone']."""
    v = unicodedata.normalize("NFC", value).strip()
    if not _ALIAS_HINT.search(v):
        v = " ".join(v.split()).strip(" ,.-_")
        return [v] if v else []
    v = re.sub(r"\((?:a|or)\)", " (a) ", v, flags=re.IGNORECASE)
    out: list[str] = []
    for part in _ALIAS_SPLIT.split(v):
        part = _PAREN.sub(" ", part)
        part = " ".join(part.replace("(", " ").replace(")", " ").split()).strip(" ,.-_")
        if part:
            out.append(part)
    return out


def _letters(name: str) -> int:
    return sum(1 for ch in name if ch.isalpha() or "\u1000" <= ch <= "\u109f")


def _usable(name: str, admin: frozenset[str]) -> bool:
    """Keep a name only when matching it in text is meaningful."""
    low = _norm(name)
    if not low or low in admin or low.isdigit():
        return False
    if _BURMESE_CHARS.search(name):
        return len(name.replace(" ", "")) > 3 and name.replace(" ", "") not in _MM_COMMON
    if _letters(name) <= 3 or low in _COMMON_NAMES:
        return False
    words = low.replace("-", " ").split()
    if len(words) == 1 and (words[0] in HONORIFIC_LOWER or words[0] in NAME_SYLLABLES):
        return False
    # every word a person-name syllable or honorific ("Aung Min", "Ma Thida"): a person, not a place
    if all(w in NAME_SYLLABLES or w in HONORIFIC_LOWER for w in words):
        return False
    return not all(w in _COMMON_NAMES or w in _GENERIC_WORD for w in words)


class Gazetteer:
    """Village tract / ward / town (level 4) and village / camp (level 5) names with P-codes.

    Immutable after construction; picklable (only the name table travels; the RE2 program is
    rebuilt and cached per process), so it can go to worker processes like SensitiveAreas."""

    __slots__ = ("_entries", "_pattern_src", "admin_names", "skipped")

    def __init__(self, entries: Iterable[tuple[str, int, str]] = (), admin_names: Iterable[str] = ()) -> None:
        self.admin_names: frozenset[str] = frozenset(_norm(a) for a in admin_names if a and a.strip())
        table: dict[str, tuple[int, str, str]] = {}
        skipped = 0
        for name, level, pcode in entries:
            for alias in _aliases(name or ""):
                if not _usable(alias, self.admin_names):
                    skipped += 1
                    continue
                key = _norm(alias)
                prev = table.get(key)
                if prev is None or (level > prev[0]):  # the finer level wins on a tie of names
                    table[key] = (level, (pcode or "").strip(), alias)
        self._entries = table
        self.skipped = skipped
        self._pattern_src = self._build()

    def _build(self) -> str:
        parts: list[str] = []
        # longest first so "Nyaung Pin Kone" wins over "Nyaung Pin" at the same start
        for key in sorted(self._entries, key=lambda k: (-len(k), k)):
            esc = r"[ \-_]*".join(re.escape(w) for w in re.split(r"[ \-_]+", key) if w)
            if key[:1].isascii() and key[:1].isalnum():
                parts.append(r"\b" + esc + (r"\b" if key[-1:].isascii() and key[-1:].isalnum() else ""))
            else:
                parts.append(esc)
        return "|".join(parts)

    # ------------------------------------------------------------------ pickling / basics
    def __getstate__(self) -> dict[str, Any]:
        return {"entries": self._entries, "admin": self.admin_names, "src": self._pattern_src, "skipped": self.skipped}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # no re-validation: a worker process gets the table as built (cheap for 15,000 names)
        self._entries = state["entries"]
        self.admin_names = state["admin"]
        self._pattern_src = state["src"]
        self.skipped = state["skipped"]

    @classmethod
    def cached(cls, path: str | os.PathLike[str]) -> Gazetteer:
        """Load once per process (keyed by path, size and mtime), so worker processes can be
        given the *path* instead of a pickled table on every call."""
        p = os.fspath(path)
        try:
            st = os.stat(p)
            key = (p, st.st_size, st.st_mtime_ns)
        except OSError:
            key = (p, -1, -1)
        hit = _LOADED.get(key)
        if hit is None:
            hit = cls.load(p)
            _LOADED.clear()
            _LOADED[key] = hit
        return hit

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __repr__(self) -> str:
        return f"Gazetteer({len(self._entries)} names, {len(self.admin_names)} admin names)"

    # ------------------------------------------------------------------ queries
    def pattern(self) -> Any:
        """RE2 program matching any kept name (case-insensitive) in UTF-8 bytes, or None."""
        if not self._pattern_src:
            return None
        return _compiled(self._pattern_src)

    def lookup(self, name: str) -> tuple[int, str] | None:
        """(level, pcode) of a place name (case-, space- and hyphen-insensitive), or None.
        ``pcode`` is "" when the file had no code for it."""
        key = _norm(name)
        hit = self._entries.get(key) or self._entries.get(key.replace("-", " "))
        if hit is None:
            squashed = re.sub(r"[ \-_]+", "", key)
            for k, v in self._entries.items():  # rare path: "NyaungPin" for "Nyaung Pin"
                if re.sub(r"[ \-_]+", "", k) == squashed:
                    hit = v
                    break
        return (hit[0], hit[1]) if hit else None

    def is_admin(self, name: str) -> bool:
        """A state/region, district or township name from the file."""
        return _norm(name) in self.admin_names

    def iter_matches(self, block: bytes, *, strict_case: bool = True) -> Iterator[tuple[int, int, str, int, str]]:
        """Every place name in ``block``: (start, end, text, level, pcode).

        ``strict_case`` (for prose) keeps a Latin match only when its first letter is upper case
        ("Nyaung Pin", "NYAUNG PIN", not "nyaung pin"); a Burmese match must end at a syllable
        boundary (no dependent sign right after it)."""
        pat = self.pattern()
        if pat is None:
            return
        pos, n = 0, len(block)
        while pos < n:
            m = pat.search(block, pos)
            if m is None:
                return
            s, e = m.span()
            pos = e if e > s else s + 1
            raw = m.group(0)
            if raw[:1].isascii():
                if strict_case and not raw[:1].isupper():
                    continue
            else:
                nxt = block[e : e + 3].decode("utf-8", "ignore")[:1]
                prev = block[max(0, s - 3) : s].decode("utf-8", "ignore")[-1:]
                if (nxt and "\u102b" <= nxt <= "\u103e") or (prev and prev == "\u1039"):
                    continue
            text = raw.decode("utf-8", "replace")
            hit = self.lookup(text)
            if hit is None:
                continue
            yield s, e, text, hit[0], hit[1]

    def find(self, text: str) -> str | None:
        """The first place name in ``text`` (any case), or None."""
        for _s, _e, t, _lv, _pc in self.iter_matches(
            unicodedata.normalize("NFC", text).encode("utf-8"), strict_case=False
        ):
            return t
        return None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_table(
        cls,
        header: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        hxl: Sequence[Any] | None = None,
        *,
        source: str = "gazetteer",
    ) -> Gazetteer:
        """Build from a header row, optional HXL row and data rows (any cell types)."""
        cols = _gazetteer_columns([_cell(h) for h in header], [_cell(h) for h in hxl] if hxl else None)
        names = [c for c in cols if c[1] == "name" and c[2] >= 4]
        if not names:
            raise GazetteerError(
                f"{source}: no village or village-tract name column (expected headers "
                "such as Village, Village_Tract, Ward, #adm4+name)"
            )
        code_of: dict[int, int] = {}
        for idx, kind, level in cols:
            if kind == "code":
                code_of.setdefault(level, idx)
        admin_cols = [c[0] for c in cols if c[1] == "name" and c[2] <= 3]
        entries: list[tuple[str, int, str]] = []
        admin: set[str] = set()
        seen: set[tuple[str, int]] = set()  # names repeat on every row of their village tract
        count = 0
        for row in rows:
            count += 1
            if count > _MAX_GAZ_ROWS:
                raise GazetteerError(f"{source}: more than {_MAX_GAZ_ROWS} rows")
            for i in admin_cols:
                if i < len(row):
                    v = _cell(row[i])
                    if v and (v, 0) not in seen:
                        seen.add((v, 0))
                        admin.update(_aliases(v))
            for idx, _kind, level in names:
                if idx >= len(row):
                    continue
                v = _cell(row[idx])
                if not v or (v, level) in seen:
                    continue
                seen.add((v, level))
                ci = code_of.get(level)
                code = _code(row[ci]) if ci is not None and ci < len(row) else ""
                entries.append((v, level, code))
        return cls(entries, admin)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Gazetteer:
        """Read an operator gazetteer (CSV/TSV, XLSX/XLS/ODS; e.g. the MIMU P-code list or an HXL
        table).  Raises GazetteerError (one line naming the path) when it cannot be used."""
        p = Path(path)
        try:
            size = p.stat().st_size
            if not p.is_file():
                raise GazetteerError(f"cannot read gazetteer file {p}: not a regular file")
            with open(p, "rb") as fh:
                head = fh.read(8192)
        except GazetteerError:
            raise
        except FileNotFoundError:
            raise GazetteerError(f"cannot read gazetteer file {p}: file not found") from None
        except OSError as exc:
            raise GazetteerError(f"cannot read gazetteer file {p}: {exc.strerror or type(exc).__name__}") from None
        if size == 0 or not head.strip():
            raise GazetteerError(f"cannot read gazetteer file {p}: the file is empty")
        if size > _MAX_GAZ_BYTES:
            raise GazetteerError(f"cannot read gazetteer file {p}: larger than {_MAX_GAZ_BYTES >> 20} MB")
        try:
            if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
                header, hxl, rows = _read_workbook(p)
            else:
                header, hxl, rows = _read_text(p, head)
            return cls.from_table(header, rows, hxl, source=f"gazetteer file {p}")
        except GazetteerError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parser failure is one plain line
            raise GazetteerError(
                f"cannot read gazetteer file {p}: damaged or unsupported ({type(exc).__name__})"
            ) from None


_CACHE: dict[str, Any] = {}
_LOADED: dict[tuple[str, int, int], Gazetteer] = {}
GAZETTEER_RE2_MEM = 256 << 20


def _compiled(src: str) -> Any:
    """RE2 for a gazetteer alternation.  A budget of 256 MB (used lazily: ~80 MB RSS for 15,000
    names) because RE2 finds a match's start with a DFA over the *reversed* alternation, which
    has no shared prefixes; with the default 64 MB that DFA runs out of memory on every hit and
    RE2 falls back to its NFA (~1 MB/s instead of 15-30 MB/s, and a log line per hit)."""
    pat = _CACHE.get(src)
    if pat is None:
        opts = re2.Options()
        opts.max_mem = GAZETTEER_RE2_MEM
        opts.case_sensitive = False
        pat = re2.compile(src.encode("utf-8"), opts)
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[src] = pat
    return pat


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _code(v: Any) -> str:
    s = _cell(v)
    return s[:-2] if s.endswith(".0") and s[:-2].isdigit() else s


def _gazetteer_columns(header: list[str], hxl: list[str] | None) -> list[tuple[int, str, int]]:
    """(column index, 'name' | 'code', level) for every admin column."""
    out: list[tuple[int, str, int]] = []
    for i, h in enumerate(header):
        tag = hxl[i] if hxl and i < len(hxl) else ""
        level = admin_level(tag) if tag else None
        if level is None:
            level = admin_level(h)
        if level is None:
            continue
        toks = set(_header_tokens(tag or h))
        if tag:
            kind = "code" if toks & {"code", "pcode", "id"} else "name"
        else:
            kind = "code" if toks & _CODE_HDR or any(t.endswith("pcode") for t in toks) else "name"
        if kind == "name" and (
            "p code" in " ".join(_header_tokens(h)) or toks & {"lat", "long", "lon", "latitude", "longitude"}
        ):
            continue
        out.append((i, kind, level))
    return out


def _is_hxl_row(row: Sequence[Any]) -> bool:
    cells = [_cell(c) for c in row if _cell(c)]
    return bool(cells) and sum(1 for c in cells if c.startswith("#")) >= max(1, len(cells) // 2)


def _pick_header(rows: list[list[Any]]) -> int:
    """Index of the header row among the first rows (MIMU files may start with a title line)."""
    best, best_score = 0, -1
    for i, r in enumerate(rows[:10]):
        score = sum(1 for c in r if _cell(c) and admin_level(_cell(c)) is not None)
        if score > best_score:
            best, best_score = i, score
    return best


def _split_table(
    first: list[list[Any]], rest: Iterator[Sequence[Any]]
) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:
    if not first:
        return [], None, iter(())
    hi = _pick_header(first)
    header = first[hi]
    hxl: list[Any] | None = None
    body_start = hi + 1
    if _is_hxl_row(header):
        hxl, header = header, (first[hi - 1] if hi > 0 else [""] * len(header))
    elif body_start < len(first) and _is_hxl_row(first[body_start]):
        hxl = first[body_start]
        body_start += 1

    def rows() -> Iterator[Sequence[Any]]:
        yield from first[body_start:]
        yield from rest

    return header, hxl, rows()


def _read_text(p: Path, head: bytes) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        if b"\x00" in head:
            raise GazetteerError(f"cannot read gazetteer file {p}: not a CSV or Excel file (binary data)")
        encoding = "utf-8-sig"
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
                encoding = "cp1252"
    sample = head.decode(encoding if encoding != "utf-8-sig" else "utf-8", "ignore")
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    delim = max((",", ";", "\t", "|"), key=first_line.count)
    with open(p, encoding=encoding, errors="replace", newline="") as fh:
        table = list(csv.reader(fh, delimiter=delim))
    return _split_table(table[:10], iter(table[10:]))


def _read_workbook(p: Path) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:
    """First sheet with an admin name column.  python-calamine (a dependency) is used; openpyxl
    only when calamine is missing."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - calamine is a declared dependency
        return _read_openpyxl(p)
    wb = CalamineWorkbook.from_path(str(p))
    best: tuple[int, tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]] | None = None
    for name in wb.sheet_names:  # the sheet with the most admin columns (a notes sheet may say "villages")
        data = wb.get_sheet_by_name(name).to_python(skip_empty_area=True)
        header, hxl, rows = _split_table([list(r) for r in data[:10]], iter(data[10:]))
        cols = _gazetteer_columns([_cell(h) for h in header], [_cell(h) for h in hxl] if hxl else None)
        score = len(cols) + (100 if any(k == "name" and lv >= 4 for _i, k, lv in cols) else 0)
        if best is None or score > best[0]:
            best = (score, (header, hxl, rows))
    if best is None:
        raise GazetteerError(f"cannot read gazetteer file {p}: the workbook has no sheets")
    return best[1]


def _read_openpyxl(p: Path) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:  # pragma: no cover
    import openpyxl

    wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    first = [list(r) for _, r in zip(range(10), it, strict=False)]
    return _split_table(first, it)


def read_text_table(data: str) -> tuple[list[str], list[list[str]]]:
    """Tiny helper for tests: parse CSV text into (header, rows)."""
    rows = list(csv.reader(io.StringIO(data)))
    return (rows[0] if rows else []), rows[1:]
