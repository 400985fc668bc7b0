"""Vocabulary, thresholds and per-column statistics of the table analyser (:mod:`.table`).

Declarative tables: value sets (sex, "no", organisation words, place categories), the named
thresholds of the column rules, column roles, and the small value tests the rules share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import names
from .columns import hxl_roles
from .detectors import ALL_KINDS
from .hxl import hxl_meaning, parse_tag
from .identifiers import valid_phone_cell_any
from .patterns import (
    HONORIFIC_WORDS,
    NAME_STOP,
    has_burmese,
    is_number,
    to_ascii_digits,
    valid_phone,
    valid_phone_cell,
)

ALL_KEYS = ALL_KINDS
_NAME_STOP = NAME_STOP
_HON = frozenset(h.lower() for h in HONORIFIC_WORDS) | {"mr", "mrs", "ms", "dr", "miss"}
_BURMESE_HON = (
    "\u1026\u1038",
    "\u1012\u1031\u102b\u103a",
    "\u1000\u102d\u102f",
    "\u1019\u1031\u102c\u1004\u103a",
    "\u1014\u1031\u102c\u103a",
    "\u1005\u1031\u102c",
    "\u1005\u102d\u102f\u1004\u103a\u1038",
)
_LATIN_NAME = re.compile(r"^[A-Z][A-Za-z'\-]{0,20}(?: [A-Z][A-Za-z'\-]{0,20}){0,5}$")
#: names typed in lower case on a phone (Kobo); only counted in columns whose header says name
_LOWER_NAME = re.compile(r"^[a-z][a-z'\-]{0,20}(?: [a-z][a-z'\-]{0,20}){0,5}$")
_SEX_VALUES = frozenset(
    {
        "m",
        "f",
        "male",
        "female",
        "boy",
        "girl",
        "man",
        "woman",
        "men",
        "women",
        "other",
        "\u1000\u103b\u102c\u1038",
        "\u1019",
        "\u1021\u1019\u103b\u102d\u102f\u1038\u101e\u1019\u102e\u1038",
        "\u1021\u1019\u103b\u102d\u102f\u1038\u101e\u102c\u1038",
        "1",
        "2",
        "\u1000\u103a\u102c\u1038",
    }
)  # က်ား (Zawgyi)
_NO_VALUES = frozenset(
    {
        "",
        "no",
        "0",
        "false",
        "n",
        "none",
        "-",
        "n/a",
        "na",
        "nil",
        "not applicable",
        "\u1019\u101b\u103e\u102d",
        "no disability",
        "normal",
        "nan",
        "null",
    }
)
ORG_WORDS = frozenset(
    [
        "foundation",
        "society",
        "children",
        "international",
        "organization",
        "organisation",
        "association",
        "network",
        "committee",
        "group",
        "church",
        "union",
        "mission",
        "council",
        "relief",
        "services",
        "service",
        "development",
        "aid",
        "care",
        "agency",
        "programme",
        "program",
        "fund",
        "trust",
        "centre",
        "center",
        "myanmar",
        "ngo",
        "ingo",
        "un",
        "unicef",
        "unhcr",
        "wfp",
        "who",
        "iom",
        "undp",
        "unfpa",
        "ocha",
        "cross",
        "crescent",
        "federation",
        "vision",
        "oxfam",
        "plan",
        "rescue",
        "concern",
        "solidarity",
        "alliance",
        "partners",
        "partnership",
        "initiative",
        "institute",
        "ministry",
        "department",
        "office",
        "company",
        "ltd",
        "limited",
        "cooperative",
        "federation",
        "coalition",
        "forum",
        "action",
        "hope",
        "health",
        "education",
    ]
)
_FLOAT = re.compile(r"^-?\d{1,3}\.(\d+)$")
_SIX = re.compile(r"^\d{6}$")
_INT = re.compile(r"^\d{1,3}$")
_TEXT_FILENAME_BENEF = re.compile(
    r"(?i)benef|recipient|distribution[ _-]?list|registration|registr|participant|"
    r"cash[ _-]?list|payroll|caseload|case[ _-]?list|enrol"
)
_TEXT_FILENAME_HH = re.compile(r"(?i)household|\bhh\b|_hh_|family")
_TEXT_FILENAME_SURVEY = re.compile(r"(?i)survey|assessment|kobo|questionnaire|msna|interview|respons")


@dataclass
class ColStats:
    n: int = 0
    num: int = 0
    phone_cells: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    name_like: int = 0
    multiword: int = 0
    lexicon: int = 0
    orgish: int = 0
    honorific: int = 0
    burmese: int = 0
    dates: int = 0
    sex: int = 0
    ages: int = 0
    lat: int = 0
    lon: int = 0
    six: int = 0
    pcode_admin: int = 0
    vuln: int = 0
    yes: int = 0
    lower_name: int = 0
    big_count: int = 0
    total_len: int = 0
    uniq: dict[str, None] = field(default_factory=dict)  # ordered: examples are the first values seen
    vuln_example: str = ""
    values: list[str] = field(default_factory=list)


#: named thresholds of the column rules (shares of a column's sampled non-empty values)
PHONE_SHARE_WITH_HEADER = 0.2  # a "Phone" column with this share of numbers is a phone column
PHONE_SHARE_WITHOUT_HEADER = 0.5  # without a phone header, half the cells must be numbers
ID_DISTINCT_SHARE = 0.8  # an identity-number column has (nearly) one value per row
DOB_SHARE = 0.5
HONORIFIC_SHARE = 0.2  # a name column: this share of Daw/U/Ko... values is enough
COORD_SHARE = 0.6  # a lat/lon column: this share of values inside Myanmar's box
ADMIN_PCODE_SHARE = 0.8  # a column of admin 1-3 P-codes makes a table of places
NAME_COLUMN_SCORE = 0.6  # names.name_column_score of a column of person names under a silent header
NAME_SCORE_SAMPLE = 300
#: roles of columns that say something about the places of a table (people, work, figures)
_FACT_ROLES = {
    "org",
    "activity",
    "beneficiary",
    "household",
    "hhsize",
    "sex",
    "age",
    "name",
    "name_weak",
    "phone",
    "email",
    "nid",
    "dob",
    "vulnerable",
    "disability",
    "popcount",
    "kobo",
    "remark",
    "qi_other",
}
_CODE_HEADER = re.compile(r"(?i)code|p_?code|\bid\b|_id\b|\bno\b|serial|\bsn\b|\bfid\b|objectid|\bsr\b|alt|elev")
_NOT_NAME_ROLES = {
    "org",
    "admin",
    "precise",
    "measure",
    "metadata",
    "name",
    "name_weak",
    "phone",
    "email",
    "nid",
    "dob",
    "lat",
    "lon",
    "coord",
    "sex",
    "age",
    "remark",
    "activity",
}


@dataclass(frozen=True)
class _Column:
    """What the column rules need to know of one column."""

    i: int
    st: ColStats
    roles: set[str]
    name: str

    @property
    def num_share(self) -> float:
        return self.st.num / self.st.n

    @property
    def free_text(self) -> bool:
        return self.st.total_len / self.st.n > 25 or "remark" in self.roles

    @property
    def measure(self) -> bool:
        return ("measure" in self.roles and "phone" not in self.roles) or (
            self.num_share >= 0.8 and self.st.phone_cells < 0.5 * self.st.n and "phone" not in self.roles
        )


@dataclass
class _TableFacts:
    roles_all: set[str]
    place_table: bool
    cats: set[str]


#: HXL category -> the column role the value rules confirm
_HXL_ROLE = {
    "phone_number": {"phone"},
    "email_address": {"email"},
    "person_name": {"name"},
    "national_id": {"nid"},
    "date_of_birth": {"dob"},
}
_PERSONAL_ROLES = {"name", "name_weak", "phone", "email", "nid", "dob", "precise", "lat", "lon", "coord"}


def _with_hxl(roles: set[str], tag: str) -> set[str]:
    """An HXL hashtag says what a column holds: `#contact+phone` is a phone column whatever its
    header; a known tag with no personal meaning (`#org+name`, `#adm1+name`) removes the
    personal roles a header may have suggested."""
    roles = roles | hxl_roles(tag)
    meaning = hxl_meaning(tag)
    if meaning.category == "precise_location":
        return roles if meaning.confirm == "coordinate" else roles | {"precise"}
    if meaning.category is not None:
        return roles | _HXL_ROLE.get(meaning.category, set())
    if parse_tag(tag)[0]:
        return roles - _PERSONAL_ROLES
    return roles


#: values of a column that classifies places rather than naming them ("Public/Private", "Urban")
CATEGORY_VALUES = frozenset(
    [
        "public",
        "private",
        "yes",
        "no",
        "true",
        "false",
        "urban",
        "rural",
        "peri-urban",
        "government",
        "gov",
        "govt",
        "ngo",
        "ingo",
        "un",
        "other",
        "unknown",
        "n/a",
        "na",
        "none",
        "formal",
        "informal",
        "planned",
        "spontaneous",
        "open",
        "closed",
        "active",
        "inactive",
        "functional",
        "non-functional",
        "partially",
        "full",
        "partial",
        "camp",
        "village",
        "ward",
        "town",
        "host",
        "community",
        "idp",
        "idps",
        "returnee",
        "returnees",
    ]
)


def _admin_names(st: ColStats) -> bool:
    vals = list(st.uniq)[:NAME_SCORE_SAMPLE]
    return bool(vals) and sum(1 for u in vals if names.fold(u) in names.MYANMAR_ADMIN_NAMES) >= 0.5 * len(vals)


def _categorical(st: ColStats) -> bool:
    vals = [u.strip().lower() for u in st.uniq]
    return bool(vals) and sum(1 for u in vals if u in CATEGORY_VALUES or is_number(u)) >= 0.8 * len(vals)


def _phone_cell(v: str) -> bool:
    """A phone-column cell holding a phone number, also with the leading 0 lost (a number cell
    in Excel, an integer question in Kobo: '9797123456')."""
    if valid_phone_cell(v) or valid_phone_cell_any(v):
        return True
    d = to_ascii_digits(v).replace(" ", "").replace("-", "")
    return d.isdigit() and d.startswith("9") and 8 <= len(d) <= 10 and valid_phone("0" + d) is not None


def has_text_names(values: Sequence[str]) -> bool:
    return any(has_burmese(v) for v in values)
