"""Name columns: headers that name something other than a person, and cell values that look
like person names (``looks_like_person_name``, ``name_column_score``)."""

from __future__ import annotations

import re

from ..patterns import NAME_SYLLABLES
from .burmese import _is_my_syl, segment_syllables
from .burmese_words import (
    _BURMESE_PLACE_SYL,
    _BURMESE_PLACES,
    _HONORIFICS_MY,
    _PLACE_AFTER,
    _WEAK_SYL,
    BURMESE_NAME_SYLLABLES,
)
from .namelists import _LETTERS, _blocked, _is_mm_syllable, _known, is_given_name, is_surname
from .wordlists import (
    _MM_HONORIFICS,
    _MM_PLACE_SYL,
    _NOT_PERSON_PHRASES,
    _TITLES,
    COMMON_WORDS,
    MYANMAR_ADMIN_NAMES,
    NOT_PERSON_HEADER,
    fold,
)

_HSPLIT = re.compile(r"[\s_\-./:()\[\]#?+]+|(?<=[a-z])(?=[A-Z])")


def header_says_not_person(header: str) -> bool:
    """True when a column header names something that is not a person ('restaurant_name',
    'Organisation', 'health_facility', 'admin2Name_en', 'tags', 'nationality' ...)."""
    if not header:
        return False
    h = " ".join(_HSPLIT.split(header.strip())).lower()
    if any(p.replace("_", " ") in h for p in _NOT_PERSON_PHRASES):
        return True
    words = [w for w in h.split() if w]
    return any(w in NOT_PERSON_HEADER or re.fullmatch(r"adm(?:in)?[0-5](?:name|pcode|en|mm)*", w) for w in words)


_DIGIT = re.compile(r"\d")


def _burmese_name_value(v: str) -> bool:
    toks = [t[2] for t in segment_syllables(v) if t[2].strip()]
    if not toks or any(not _is_my_syl(t) for t in toks):
        return False
    if any(p in v for p in _BURMESE_PLACES) or any(v.rstrip().endswith(p) for p in _PLACE_AFTER[:12]):
        return False
    body = toks
    for h in sorted(_HONORIFICS_MY, key=len, reverse=True):
        if "".join(toks[:2]).startswith(h):
            hn = 1 if toks[0] == h else 2 if "".join(toks[:2]) == h else 0
            if hn:
                body = toks[hn:]
            break
    if not 1 <= len(body) <= 5:
        return False
    if any(t in _BURMESE_PLACE_SYL for t in toks):
        return False
    good = sum(t in BURMESE_NAME_SYLLABLES for t in body)
    need = len(body) if len(body) <= 3 else len(body) - 1
    return good >= need and (len(body) >= 2 or len(toks) > len(body)) and any(t not in _WEAK_SYL for t in body)


def looks_like_person_name(value: str) -> bool:
    """A cell value that looks like a person name on its own (for name columns)."""
    v = " ".join(value.split())
    if not v or len(v) > 60 or _DIGIT.search(v) or "@" in v:
        return False
    if any("\u1000" <= c <= "\u109f" for c in v):
        return _burmese_name_value(v)
    words = [w.strip(".,") for w in v.split()]
    words = [w for w in words if w]
    if not 1 <= len(words) <= 4 or not all(_LETTERS.match(w) for w in words):
        return False
    if " ".join(fold(w) for w in words) in MYANMAR_ADMIN_NAMES:
        return False
    if any(_blocked(w) and fold(w) not in NAME_SYLLABLES for w in words):
        return False
    if any(fold(w) in COMMON_WORDS and fold(w) not in NAME_SYLLABLES for w in words):
        return False
    if any(fold(w) in _MM_PLACE_SYL for w in words):
        return False
    body = [w for w in words if fold(w) not in _MM_HONORIFICS and fold(w) not in _TITLES]
    if not body or any(w.isupper() and len(w) <= 4 and not _known(w) for w in body):
        return False
    known = [_known(w) for w in body]
    if len(body) == 1:
        return known[0] and (len(words) > 1 or is_given_name(body[0]) or _is_mm_syllable(body[0]))
    if len(body) == 2:
        # both known, or an unknown given name before a known surname ("Tomomi Nishiyama")
        return all(known) or (
            not known[0] and len(body[0]) >= 3 and is_surname(body[1]) and not _is_mm_syllable(body[1])
        )
    return sum(known) >= len(body) - 1


def name_column_score(values: list[str]) -> float:
    """Share (0..1) of the non-empty values that look like person names."""
    vals = [v for v in values if v and v.strip()]
    if not vals:
        return 0.0
    # a column of a handful of repeated values is a category, not names
    distinct = len({v.strip().casefold() for v in vals})
    hits = sum(1 for v in vals if looks_like_person_name(v))
    score = hits / len(vals)
    if len(vals) >= 10 and distinct / len(vals) < 0.2:
        score *= distinct / len(vals) / 0.2
    return round(score, 4)
