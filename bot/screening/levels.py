"""Sensitivity levels and the level each finding category requires.

Kept in one place so the cluster's criteria can be read (and audited) at a glance.
"""

from __future__ import annotations

import re

LEVELS: tuple[str, ...] = ("public", "restricted", "confidential", "highly_confidential")
_RANK = {name: i for i, name in enumerate(LEVELS)}

#: category -> level it requires (the cluster's own criteria)
CATEGORY_LEVEL: dict[str, str] = {
    # personal data of individuals
    "person_name": "highly_confidential",
    "phone_number": "highly_confidential",
    "email_address": "highly_confidential",
    "national_id": "highly_confidential",
    "date_of_birth": "highly_confidential",
    "vulnerable_individual": "highly_confidential",
    # household / individual-level records and precise places
    "household_record": "confidential",
    "beneficiary_list": "confidential",
    "raw_survey": "confidential",
    "precise_location": "confidential",
    "partner_presence_sensitive_area": "confidential",
    "reidentification_risk": "confidential",
}


def rank(level: str | None) -> int:
    """Order of a level; -1 for no level (lower than public)."""
    if level is None:
        return -1
    return _RANK[level]


def max_level(*levels: str | None) -> str | None:
    best: str | None = None
    for lv in levels:
        if lv is not None and rank(lv) > rank(best):
            best = lv
    return best


_WORDS = re.compile(r"[^a-z]+")


def parse_level(text: str | None) -> str | None:
    """Map free text naming a level ('Highly Confidential', 'STRICTLY_CONFIDENTIAL',
    'Confidential\\Internal') to a level; the highest level named wins. None if none."""
    if not text:
        return None
    words = [w for w in _WORDS.split(text.lower()) if w]
    return level_from_words(words)


def level_from_words(words: list[str]) -> str | None:
    """Level named by a token list; 'highly'/'strictly' + 'confidential' is highly_confidential."""
    best: str | None = None
    for i, w in enumerate(words):
        lv: str | None = None
        if w in ("highlyconfidential", "strictlyconfidential"):
            lv = "highly_confidential"
        elif w == "confidential":
            prev = words[i - 1] if i > 0 else ""
            lv = "highly_confidential" if prev in ("highly", "strictly") else "confidential"
        elif w == "restricted":
            lv = "restricted"
        elif w == "public":
            lv = "public"
        if lv is not None and rank(lv) > rank(best):
            best = lv
    return best
