"""Column roles from header text (English and Burmese) and HXL hashtags.

A role is only a *hint*: the table analyser confirms it against a sample of values, so that
e.g. a "Phone" column full of budget figures, or "Number of villages", is not flagged.

The word tables live in ``column_words`` (role words) and ``column_qualifiers`` (whose name,
metadata containers, HXL base tags); they are re-exported here under their old names."""

from __future__ import annotations

import re
import unicodedata

from .column_qualifiers import (
    _ADMIN_ABBR,
    HXL_PEOPLE_BASES,
    HXL_THING_BASES,
    METADATA_CONTAINERS,
    NOT_PLACE_W,
    PERSON_QUALIFIERS,
    QI_OTHER_W,
)
from .column_words import (
    ACTIVITY_W,
    ADMIN_W,
    AGE_W,
    BENEF_W,
    COORD_W,
    DISAB_W,
    DOB_W,
    EMAIL_W,
    HH_W,
    HHSIZE_W,
    KOBO_META,
    LAT_W,
    LON_W,
    MEASURE_W,
    NAME_W,
    NAME_WEAK_W,
    NID_W,
    NOT_PERSON_W,
    ORG_W,
    PHONE_W,
    PLACE_ATTR_W,
    POP_COUNT_W,
    PRECISE_W,
    REMARK_W,
    SEX_W,
    VULN_W,
)
from .names import header_says_not_person
from .places import admin_level

_NORM = re.compile(r"[\s_\-./:()\[\]#?]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def norm_header(h: str) -> str:
    h = unicodedata.normalize("NFC", h or "")
    h = _CAMEL.sub(" ", h)
    return " " + _NORM.sub(" ", h.lower()).strip() + " "


def _has(h: str, words: tuple[str, ...]) -> bool:
    return any(w in h for w in words)


# =========================================================================== HXL hashtags
def hxl_roles(tag: str) -> set[str]:
    """Roles from an HXL hashtag with attributes, e.g. '#contact+name', '#geo+lat'."""
    t = tag.strip().lower().replace(" ", "")
    if not t.startswith("#"):
        return set()
    parts = t[1:].split("+")
    base, attrs = parts[0], set(parts[1:])
    roles: set[str] = set()
    _hxl_contact(base, attrs, roles)
    _hxl_place(base, attrs, roles)
    _hxl_group(base, attrs, roles)
    _hxl_personal(base, attrs, roles)
    return roles


def _hxl_contact(base: str, attrs: set[str], roles: set[str]) -> None:
    """name, phone, email."""
    if "name" in attrs and base not in HXL_THING_BASES:
        roles.add("name")
    if "phone" in attrs or base == "phone":
        roles.add("phone")
    if "email" in attrs or base == "email":
        roles.add("email")


def _hxl_place(base: str, attrs: set[str], roles: set[str]) -> None:
    """lat, lon, coord, precise, admin."""
    if base == "geo" and "lat" in attrs:
        roles.add("lat")
    if base == "geo" and ("lon" in attrs or "long" in attrs):
        roles.add("lon")
    if base == "geo" and ("coord" in attrs or "point" in attrs):
        roles.add("coord")
    if base in ("adm4", "adm5") or (base == "loc" and (attrs & {"camp", "site", "village", "ward", "address"})):
        roles.add("precise")
    if base in ("adm1", "adm2", "adm3"):
        roles.add("admin")


def _hxl_group(base: str, attrs: set[str], roles: set[str]) -> None:
    """beneficiary, household, org, activity."""
    if base in ("respondee", "beneficiary") or (base == "affected" and attrs & {"ind", "name", "id"}):
        roles.add("beneficiary")
    if base == "household" or "hh" in attrs:
        roles.add("household")
    if base == "org" or "org" in attrs:
        roles.add("org")
    if base in ("activity", "sector", "output", "reached", "targeted", "operations", "service"):
        roles.add("activity")


def _hxl_personal(base: str, attrs: set[str], roles: set[str]) -> None:
    """age, sex, dob, disability, vulnerable, nid_maybe."""
    if "age" in attrs or base == "age":
        roles.add("age")
    if "sex" in attrs or "gender" in attrs:
        roles.add("sex")
    if "dob" in attrs or (base == "date" and "birth" in attrs):
        roles.add("dob")
    if attrs & {"disabled", "disability", "pwd"}:
        roles.add("disability")
    if attrs & {"gbv", "uasc", "detained", "survivor"}:
        roles.add("vulnerable")
    people = base in HXL_PEOPLE_BASES
    if attrs & {"nrc", "nid"} or ("id" in attrs and people and "code" not in attrs):
        roles.add("nid_maybe")


# =========================================================================== header text
def qualified_thing_name(h: str) -> bool:
    """`restaurant_name`, `display_name`, `SR_Name_Eng`: a name of something, not of a person.
    `name`, `full_name`, `hoh_name`, `name_of_child` stay person names."""
    words = h.split()
    if "name" not in words and "names" not in words:
        return False
    others = [w for w in words if w not in ("name", "names")]
    return any(w in _ADMIN_ABBR or (w not in PERSON_QUALIFIERS and not w.isdigit()) for w in others)


def header_roles(header: str) -> set[str]:
    h = norm_header(header)
    raw = (header or "").strip().lower()
    roles: set[str] = set()
    if raw in KOBO_META or raw.lstrip("_") in ("uuid", "submission_time", "submitted_by"):
        roles.add("kobo")
    # use the last path segment of Kobo group paths too
    if "/" in raw:
        h, metadata = _group_path_roles(raw, h, roles)
        if metadata is not None:
            return metadata
    measure = _has(h, MEASURE_W) or h.startswith((" no ", " num ", " n ", " count ", " total ", " number "))
    _person_roles(header, h, measure, roles)
    _personal_field_roles(h, measure, roles)
    _place_roles(header, h, raw, roles)
    _other_roles(h, measure, roles)
    return roles


def _group_path_roles(raw: str, h: str, roles: set[str]) -> tuple[str, set[str] | None]:
    """A Kobo group path ("group/field"): adds the last segment's roles to ``roles`` and returns
    the header to read on (the last segment when it has text) and, for dataset metadata, the
    final roles."""
    last = norm_header(raw.rsplit("/", 1)[-1])
    roles |= header_roles(raw.rsplit("/", 1)[-1]) - {"kobo"}
    roles.add("kobo_group")
    h = last if len(last) > 2 else h
    parents = set(norm_header(raw.rsplit("/", 1)[0]).split())
    if parents & METADATA_CONTAINERS:
        # dataset metadata (CKAN/HDX): the name of a tag, group, organisation or resource
        return h, (roles - {"name", "name_weak", "household", "hhsize", "beneficiary"}) | {"metadata"}
    return h, None


def _person_roles(header: str, h: str, measure: bool, roles: set[str]) -> None:
    """name, name_weak."""
    not_person = qualified_thing_name(h) or header_says_not_person(header) or admin_level(header) is not None
    if _has(h, NAME_W) and not _has(h, NOT_PERSON_W) and not not_person:
        roles.add("name")
    elif _has(h, NAME_WEAK_W) and not _has(h, NOT_PERSON_W) and not measure and not not_person:
        roles.add("name_weak")


def _personal_field_roles(h: str, measure: bool, roles: set[str]) -> None:
    """popcount, phone, email, nid, dob, age, sex, household, hhsize, disability, vulnerable."""
    if _has(h, POP_COUNT_W):
        roles.add("popcount")
    if _has(h, PHONE_W) and not h.startswith((" number of", " no of")):
        roles.add("phone")
    if _has(h, EMAIL_W):
        roles.add("email")
    if _has(h, NID_W):
        roles.add("nid")
    if _has(h, DOB_W):
        roles.add("dob")
    if _has(h, AGE_W) and not measure:
        roles.add("age")
    if _has(h, SEX_W) or h.strip() in ("m f", "sex", "gender"):
        roles.add("sex")
    if _has(h, HH_W):
        roles.add("household")
    if _has(h, HHSIZE_W) and _has(h, HH_W + (" family",)):
        roles.add("hhsize")
    if _has(h, DISAB_W):
        roles.add("disability")
    if _has(h, VULN_W):
        roles.add("vulnerable")


def _place_roles(header: str, h: str, raw: str, roles: set[str]) -> None:
    """precise, admin, lat, lon, coord."""
    if (
        _has(h, PRECISE_W)
        and not h.startswith((" number of", " no of", " num ", " total "))
        and not _has(h, PLACE_ATTR_W)
        and not _has(h, NOT_PLACE_W)
    ):
        roles.add("precise")
    level = admin_level(header)
    if _has(h, ADMIN_W) or (level is not None and level <= 3):
        roles.add("admin")
    if level is not None and level >= 4 and not _has(h, PLACE_ATTR_W):
        roles.add("precise")
    if _has(h, LAT_W) or h.strip() in ("y", "lat"):
        roles.add("lat")
    if _has(h, LON_W) or h.strip() in ("x", "lon", "long", "lng"):
        roles.add("lon")
    if _has(h, COORD_W) or raw == "_geolocation":
        roles.add("coord")


def _other_roles(h: str, measure: bool, roles: set[str]) -> None:
    """org, activity, beneficiary, measure, remark, qi_other."""
    if _has(h, ORG_W):
        roles.add("org")
    if _has(h, ACTIVITY_W):
        roles.add("activity")
    if _has(h, BENEF_W):
        roles.add("beneficiary")
    if measure:
        roles.add("measure")
    if _has(h, REMARK_W):
        roles.add("remark")
    if _has(h, QI_OTHER_W):
        roles.add("qi_other")
