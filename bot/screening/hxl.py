"""HXL hashtags (Humanitarian Exchange Language, https://hxlstandard.org/standard/1-1final/) as
column meaning.

A hashtag row sits between the header and the data: ``#contact+phone``, ``#adm1+name``.  HDX and
cluster files carry them, and they are more reliable than free-text headers: ``#contact+phone``
*is* a phone column, whatever its header says.

Decisions:

* ``#contact+name`` is a person's name even when it is an organisation's focal point: staff are
  persons.  ``#contact`` alone (free contact details) is read as a person's name too; phones and
  e-mails inside it are found by the value scan.
* ``#beneficiary+id`` / ``#affected+id`` / ``#respondee+id`` / ``#person+id`` map to
  ``national_id`` **with** ``confirm="id"``: such a column is often a survey's pseudonymous row
  key, so it only counts when its values look like identity numbers (see
  ``identifiers.valid_id_cell`` / the table analyser's uniqueness rule).
* ``#geo+lat`` / ``#geo+lon`` / ``#geo+coord`` map to ``precise_location`` with
  ``confirm="coordinate"``: only precise values count (``identifiers.looks_like_coordinate_column``).
* ``#contact+email`` maps to ``email_address`` with ``confirm="email"``: role addresses
  (info@, cluster@) are filtered by the value rule, not here.
* Anything counted (``+num``, ``+pct``, ``+total``, ``#population``, ``#reached`` …) and the
  admin levels 1-3, organisations, sectors, indicators, dates, status, metadata are not personal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r"^#([a-z][a-z0-9_]*)((?:\s*\+\s*[a-z][a-z0-9_]*)*)\s*$", re.IGNORECASE)
_ATTR = re.compile(r"\+\s*([a-z][a-z0-9_]*)", re.IGNORECASE)

#: hashtags whose subject is a person
PERSON_TAGS = frozenset(
    {
        "contact",
        "beneficiary",
        "respondee",
        "affected",
        "person",
        "staff",
        "member",
        "survivor",
        "child",
        "hoh",
        "indiv",
        "ind",
        "patient",
        "student",
        "recipient",
    }
)
#: attributes (and hashtags) meaning a count or a statistic, never one person's value
COUNT_ATTRS = frozenset(
    {
        "num",
        "pct",
        "total",
        "count",
        "ratio",
        "rate",
        "avg",
        "mean",
        "median",
        "min",
        "max",
        "sum",
        "share",
        "prop",
        "proportion",
        "index",
        "score",
    }
)
NOT_PERSONAL_TAGS = frozenset(
    {
        "org",
        "sector",
        "subsector",
        "adm1",
        "adm2",
        "adm3",
        "country",
        "region",
        "indicator",
        "population",
        "reached",
        "targeted",
        "inneed",
        "value",
        "meta",
        "status",
        "date",
        "activity",
        "output",
        "operations",
        "service",
        "item",
        "capacity",
        "cause",
        "crisis",
        "currency",
        "description",
        "event",
        "financial",
        "frequency",
        "group",
        "impact",
        "modality",
        "need",
        "channel",
        "access",
        "severity",
        "delivery",
        "origin",
    }
)


@dataclass(frozen=True)
class HxlMeaning:
    """What a tagged column means. ``confirm`` names the value check the category still needs:
    'coordinate', 'id', 'email', 'phone' or None (the tag alone is enough)."""

    category: str | None
    confirm: str | None = None


NONE = HxlMeaning(None)


def parse_tag(cell: str) -> tuple[str, frozenset[str]]:
    """'#Contact +Phone' -> ('#contact', frozenset({'phone'})); ('', frozenset()) if not a tag.

    HXL is case-insensitive and allows spaces before '+'.  Attributes keep their order-free set."""
    c = (cell or "").strip()
    m = _TAG.match(c)
    if m is None:
        return "", frozenset()
    return "#" + m.group(1).lower(), frozenset(a.lower() for a in _ATTR.findall(m.group(2)))


def is_hxl_row(cells: list[str]) -> bool:
    """A hashtag row: at least half of the non-empty cells (and at least one) are HXL tags
    (the rule of the HXL standard's reference implementation, libhxl)."""
    non_empty = [c for c in cells if c is not None and str(c).strip()]
    if not non_empty:
        return False
    tags = sum(1 for c in non_empty if parse_tag(str(c))[0])
    return tags >= 1 and tags * 2 >= len(non_empty)


def hxl_meaning(cell: str) -> HxlMeaning:
    tag, attrs = parse_tag(cell)
    if not tag:
        return NONE
    base = tag[1:]
    if base.startswith("x_"):  # custom, non-standard tag: nothing known
        return NONE
    # contact details first: '#contact+phone' is a phone column whatever else it says
    if attrs & {"phone", "mobile", "tel", "telephone", "whatsapp", "viber", "msisdn"} or base in ("phone", "tel"):
        return HxlMeaning("phone_number", "phone")
    if "email" in attrs or base == "email":
        return HxlMeaning("email_address", "email")
    if attrs & COUNT_ATTRS:
        return NONE
    if base == "date" and attrs & {"birth", "dob"} or base in ("dob", "birthdate"):
        return HxlMeaning("date_of_birth")
    if base == "geo":
        if attrs & {"lat", "lon", "long", "coord", "point"}:
            return HxlMeaning("precise_location", "coordinate")
        return NONE  # +bounds, +elevation, +url …
    if base in ("adm4", "adm5"):
        return HxlMeaning("precise_location")
    if base == "loc":
        if attrs & {"type", "url", "status", "category", "code_type"}:
            return NONE
        return HxlMeaning("precise_location")  # settlements, villages, camps, sites (below admin 3)
    if base in NOT_PERSONAL_TAGS:
        return NONE
    if base in PERSON_TAGS:
        if attrs & {"url", "type", "org", "role", "title", "sex", "age", "gender", "status"}:
            return NONE  # about the person, not identifying on its own (quasi-identifiers elsewhere)
        if "name" in attrs or (base == "contact" and not attrs):
            return HxlMeaning("person_name")
        if attrs & {"id", "code", "nid", "nrc", "passport", "ssn"}:
            return HxlMeaning("national_id", "id")
        if attrs & {"address", "village", "house"}:
            return HxlMeaning("precise_location")
        return NONE
    return NONE


def hxl_category(cell: str) -> str | None:
    """Our category for an HXL hashtag cell, or None when the tag says nothing personal.
    See ``hxl_meaning`` for the value check some categories still need."""
    return hxl_meaning(cell).category


def hxl_categories(cells: list[str]) -> list[str | None]:
    """Categories of a whole hashtag row (None for empty / non-personal cells)."""
    return [hxl_category(c) if c else None for c in cells]
