"""Table analysis: classify columns from header + HXL tag + a sample of values.

Decisions are per column and use *shares* of the sampled values, so that a latitude column,
prices, budget figures or admin 1-3 P-codes are not taken for phones or IDs, while a single
phone number inside a free-text column is still reported."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import mask, names
from .collector import Collector
from .columns import header_roles, hxl_roles
from .detectors import ALL_KINDS, BY_KIND, Candidate, iter_matches
from .hxl import hxl_meaning, parse_tag
from .identifiers import header_id_kind, valid_id_cell, valid_phone_cell_any
from .patterns import (
    HONORIFIC_WORDS,
    NAME_STOP,
    NAME_SYLLABLES,
    PCODE_ANY_RE,
    PCODE_PRECISE_RE,
    VULNERABLE_RE,
    has_burmese,
    in_lat,
    in_lon,
    is_burmese_text,
    is_number,
    parse_date,
    to_ascii_digits,
    valid_phone,
    valid_phone_cell,
)
from .risk import RiskCounter

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


class TableAnalyzer:
    def __init__(self, col: Collector, *, context: str = "", title: str = "", sample_rows: int = 1000) -> None:
        self.col = col
        self.context = context  # e.g. ' (sheet Sheet1)'
        self.title = title  # file/sheet name used for weak cues
        self.sample_rows = sample_rows
        self.header: list[str] = []
        self.roles: list[set[str]] = []
        self.stats: list[ColStats] = []
        self.rows_seen = 0
        self.sampled = 0
        self.kind: dict[int, str] = {}  # col -> 'measure' | 'lat' | 'lon' | 'org' | 'place'
        self.confirmed: set[str] = set()  # bulk keys no longer needed
        self.individual = False
        self.area_context = False
        self.area_found = False
        self.pending: list[tuple[str, int, int, str]] = []  # category, col, count, example
        self.risk: RiskCounter | None = None
        self.coords: dict[str, set[str]] = {}
        self._lat_cols: list[int] = []
        self._lon_cols: list[int] = []
        self._admin_pcode_col: int | None = None

    # ------------------------------------------------------------------ input
    def set_header(self, header: Sequence[str], hxl: Sequence[str] | None = None) -> None:
        self.header = [(h or "").strip() for h in header]
        self.roles = []
        for i, h in enumerate(self.header):
            r = header_roles(h)
            if hxl is not None and i < len(hxl) and hxl[i]:
                r = _with_hxl(r, hxl[i])
            self.roles.append(r)
        self.stats = [ColStats() for _ in self.header]

    def colname(self, i: int) -> str:
        h = self.header[i] if i < len(self.header) else ""
        return h[:60] if h else f"column {i + 1}"

    def where(self, i: int) -> str:
        return f'column "{self.colname(i)}"{self.context}'

    def _ensure(self, n: int) -> None:
        while len(self.header) < n:
            self.header.append("")
            self.roles.append(set())
            self.stats.append(ColStats())

    def add_row(self, row: Sequence[str]) -> bool:
        """Add a sample row; returns False once the sample is full."""
        self.rows_seen += 1
        if self.sampled >= self.sample_rows:
            return False
        self.sampled += 1
        if len(row) > len(self.header):
            self._ensure(min(len(row), 5000))
        for i, raw in enumerate(row[:5000]):
            if raw is None:
                continue
            v = raw.strip() if isinstance(raw, str) else str(raw)
            if v:
                self._cell(i, v)
        return self.sampled < self.sample_rows

    def _cell(self, i: int, v: str) -> None:
        st = self.stats[i]
        st.n += 1
        if len(v) > 4096:
            v = v[:4096]
        st.total_len += len(v)
        if len(st.uniq) < 2000:
            st.uniq[v] = None
        low = v.lower()
        number = is_number(v)
        roles = self.roles[i]
        if "phone" in roles and len(v) <= 24 and _phone_cell(v):
            st.phone_cells += 1
            if "phone" not in st.examples:
                st.examples["phone"] = mask.mask_middle(to_ascii_digits(v).replace(" ", "").replace("-", ""))
        if number:
            st.num += 1
            a = to_ascii_digits(v)
            if _INT.match(a) and int(a) <= 120:
                st.ages += 1
            elif "popcount" in roles and a.replace(",", "").isdigit() and int(a.replace(",", "")) > 20:
                st.big_count += 1
            fm = _FLOAT.match(a)
            if fm and len(fm.group(1)) >= 3:  # ~100 m; 2 decimals (~1 km) is not a precise location
                x = float(a)
                if in_lat(x):
                    st.lat += 1
                if in_lon(x):
                    st.lon += 1
            if _SIX.match(a):
                st.six += 1
        if low in _SEX_VALUES:
            st.sex += 1
        if low in ("yes", "y", "true", "1", "\u101b\u103e\u102d"):
            st.yes += 1
        elif low not in _NO_VALUES and not number and len(v) < 80:
            st.vuln += 0  # placeholder for symmetry
        if v.startswith("MMR") and PCODE_ANY_RE.match(v) and not PCODE_PRECISE_RE.match(v):
            st.pcode_admin += 1
        # name-likeness
        first = low.split(" ", 1)[0].rstrip(".")
        if first in _HON and " " in v and len(v) < 60 and v[:1].isupper():
            st.honorific += 1
        if not number and len(v) < 60:
            if _LATIN_NAME.match(v):
                st.name_like += 1
                if " " in v:
                    st.multiword += 1
                    words = low.split()
                    if sum(1 for w in words if w in NAME_SYLLABLES) >= 0.7 * len(words):
                        st.lexicon += 1
                    if any(w in ORG_WORDS or w in _NAME_STOP for w in words):
                        st.orgish += 1
            elif is_burmese_text(v):
                st.burmese += 1
                if v.startswith(_BURMESE_HON):
                    st.honorific += 1
            elif (
                roles & {"name", "name_weak"}
                and low not in _NO_VALUES
                and low not in ("yes", "no", "unknown", "other", "dont know", "refused")
                and _LOWER_NAME.match(v)
            ):
                st.lower_name += 1
                words = low.split()
                if len(words) > 1:
                    st.multiword += 1
                    if sum(1 for w in words if w in NAME_SYLLABLES) >= 0.7 * len(words):
                        st.lexicon += 1
        if "dob" in self.roles[i] and parse_date(v) is not None:
            st.dates += 1
        if len(st.values) < self.sample_rows:
            st.values.append(v)

    def _scan_column(self, st: ColStats) -> None:
        """One RE2 pass over a column's sampled values joined by newlines (much cheaper than a
        call per cell); matches are validated one by one."""
        if not st.values:
            return
        blob = "\n".join(v.replace("\n", " ") for v in st.values).encode("utf-8", "replace")
        for m in VULNERABLE_RE.finditer(blob):
            ls = blob.rfind(b"\n", 0, m.start()) + 1
            le = blob.find(b"\n", m.end())
            cell = blob[ls : le if le >= 0 else len(blob)].decode("utf-8", "replace").strip().lower()
            if cell in _NO_VALUES or len(cell) > 300:
                continue
            st.vuln += 1
            st.vuln_example = st.vuln_example or m.group(0).decode("utf-8", "replace")[:30]
        for s, e, _text, kind in iter_matches(blob, ALL_KEYS):
            detector = BY_KIND[kind]
            if not detector.in_cells:
                continue
            ex = detector.validate(Candidate(blob, s, e))
            if ex:
                st.hits[kind] = st.hits.get(kind, 0) + 1
                st.examples.setdefault(kind, ex[0])
        st.values = []

    # ------------------------------------------------------------------ decisions
    def finish_sample(self) -> None:
        """Classify columns; queue findings (counts scaled later) and decide what bulk scanning needs.

        Each column goes through COLUMN_RULES in order (one method per category); the table
        as a whole is then judged (coordinates, individual-level signals, areas, risk)."""
        ncols = len(self.header)
        for st in self.stats:
            self._scan_column(st)
        cats: set[str] = set()
        roles_all: set[str] = set()
        for i in range(ncols):
            st, roles = self.stats[i], self.roles[i]
            if st.n == 0:
                continue
            if st.num < 0.5 * st.n:  # roles of count/measure columns say nothing about rows
                roles_all |= roles
            if st.pcode_admin >= ADMIN_PCODE_SHARE * st.n:
                self._admin_pcode_col = i
        table = _TableFacts(roles_all=roles_all, place_table=self._admin_pcode_col is not None, cats=cats)
        for i in range(ncols):
            st, roles = self.stats[i], self.roles[i]
            if st.n == 0:
                continue
            c = _Column(i, st, roles, self.colname(i))
            if c.measure:
                self.kind[i] = "measure"
            for rule in COLUMN_RULES:
                rule(self, c, table)
        self._judge_coordinates()
        self._judge_place_list()
        self._judge_individuals(cats)
        self._judge_areas()
        self._judge_risk()
        self._confirm_kinds()

    def _judge_coordinates(self) -> None:
        if self._lat_cols and self._lon_cols:
            i = self._lat_cols[0]
            if not self._centroids():
                self._queue("precise_location", i, self.stats[i].n, "coordinates (lat/lon)")

    def _judge_place_list(self) -> None:
        """A table of places and nothing else (a gazetteer: village names, P-codes, coordinates,
        admin names) locates nobody; a village column next to people, organisations, activities
        or figures does."""
        if any(cat != "precise_location" for cat, *_ in self.pending):
            return
        for i, roles in enumerate(self.roles):
            if i >= len(self.stats) or not self.stats[i].n:
                continue
            figure = self.kind.get(i) == "measure" and not _CODE_HEADER.search(self.colname(i))
            if roles & _FACT_ROLES or figure:
                return  # people, work or figures (IDPs, reached, ...) at these places
        self.pending = [p for p in self.pending if p[0] != "precise_location"]
        self.kind = {i: k for i, k in self.kind.items() if k != "place"}
        self.confirmed |= {"pcode", "gps", "settlement", "vcode"}  # its codes locate nobody either

    def _judge_individuals(self, cats: set[str]) -> None:
        """Is a row a person or household?  Direct identifiers, a Kobo export, or sex/age/household
        columns together (unless a column counts people: then it is a cross-tabulation)."""
        personal = {cat for cat, *_ in self.pending} & {
            "person_name",
            "phone_number",
            "email_address",
            "national_id",
            "date_of_birth",
        }
        direct = bool(personal - {"email_address"}) or any(
            cat == "email_address" and cnt >= 3 for cat, _, cnt, _ in self.pending
        )
        # a column counting people (population, total ...) with large counts makes per-row sex and age
        # cells of a cross-tabulation, not individuals
        aggregated = any(st.big_count >= 0.5 * st.n for st in self.stats if st.n)
        individual = (
            direct
            or ("kobo" in cats)
            or (
                not aggregated
                and (
                    ("sex" in cats and ("age" in cats or "household" in cats))
                    or ("age" in cats and "household" in cats)
                )
            )
        )
        self.individual = individual
        if individual:
            first = self.pending[0][1] if self.pending else 0
            hint = self.title
            if "household" in cats or (_TEXT_FILENAME_HH.search(hint) and direct):
                self._queue_table("household_record", self._first_col(("household", "hhsize")) or first)
            if "beneficiary" in cats or _TEXT_FILENAME_BENEF.search(hint):
                self._queue_table("beneficiary_list", self._first_col(("beneficiary",)) or first)
            if (
                "kobo" in cats
                or (not direct and ("sex" in cats or "age" in cats))
                or (_TEXT_FILENAME_SURVEY.search(hint) and not direct)
            ):
                self._queue_table("raw_survey", self._first_col(("kobo",)) or first)
            if "vulnerable" in cats and direct:
                vc = getattr(self, "_vuln_col", first)
                self.pending.append(
                    ("vulnerable_individual", vc, self.stats[vc].n, self.stats[vc].vuln_example or self.colname(vc))
                )

    def _judge_areas(self) -> None:
        """Partner presence in a sensitive area, from the sample."""
        ncols = len(self.header)
        if self.col.areas and self.area_context:
            for i in range(ncols):
                if self.kind.get(i) in ("measure",):
                    continue
                for u in list(self.stats[i].uniq)[:2000]:
                    hit = self.col.areas.find(u)
                    if hit:
                        self.pending.append(("partner_presence_sensitive_area", i, 1, hit[:40]))
                        self.area_found = True
                        break
                else:
                    continue
                break

    def _judge_risk(self) -> None:
        """Re-identification risk: individual-level tables with at least two quasi-identifiers."""
        ncols = len(self.header)
        if self.individual:
            qi = [
                i
                for i in range(ncols)
                if self.stats[i].n
                and (self.roles[i] & {"age", "sex", "admin", "precise", "hhsize", "disability", "qi_other"})
                and "measure" not in self.roles[i] - {"age"}
                and len(self.stats[i].uniq) < 0.9 * max(self.stats[i].n, 1) + 1
            ]
            if len(qi) >= 2:
                self.risk = RiskCounter(
                    [self.colname(i) for i in qi[:8]], qi[:8], self.col.limits.max_risk_combinations
                )

    def _confirm_kinds(self) -> None:
        """Kinds the columns already proved need not be looked for again in the bulk scan."""
        for cat, *_ in self.pending:
            if cat == "phone_number":
                self.confirmed |= {"phone", "intl_phone", "kwphone"}
            elif cat == "email_address":
                self.confirmed.add("email")
            elif cat == "national_id":
                self.confirmed |= {"nrc", "idnum", "selfid"}
            elif cat == "person_name":
                self.confirmed |= {"name", "namelabel", "pname", "pair"}
            elif cat == "date_of_birth":
                self.confirmed.add("dob")
            elif cat == "precise_location":
                self.confirmed |= {"pcode", "gps", "settlement", "vcode"}

    # ------------------------------------------------------------------ column rules
    def _rule_phone(self, c: _Column, t: _TableFacts) -> None:
        st, roles, n = c.st, c.roles, c.st.n
        ph = st.hits.get("phone", 0) + st.hits.get("intl_phone", 0) + st.hits.get("kwphone", 0)
        example = st.examples.get("phone") or st.examples.get("intl_phone") or st.examples.get("kwphone", "09****")
        if "phone" in roles and (st.phone_cells + ph) >= max(1, PHONE_SHARE_WITH_HEADER * n):
            self._queue("phone_number", c.i, max(st.phone_cells, ph), example)
        elif st.phone_cells >= PHONE_SHARE_WITHOUT_HEADER * n and not c.measure:
            self._queue("phone_number", c.i, st.phone_cells, example)
        elif ph and not c.measure:
            self._queue("phone_number", c.i, ph, example)

    def _rule_identifiers(self, c: _Column, t: _TableFacts) -> None:
        """E-mail, NRC, precise P-codes, GPS pairs in one cell, dates of birth, ID columns."""
        st, roles, n = c.st, c.roles, c.st.n
        for key, cat in (
            ("email", "email_address"),
            ("nrc", "national_id"),
            ("idnum", "national_id"),
            ("pcode", "precise_location"),
            ("gps", "precise_location"),
            ("dob", "date_of_birth"),
        ):
            if st.hits.get(key):
                self._queue(cat, c.i, st.hits[key], st.examples[key])
        if (
            header_id_kind(c.name)
            and not st.hits.get("nrc")
            and len(st.uniq) >= ID_DISTINCT_SHARE * min(n, 2000)
            and sum(1 for u in st.uniq if valid_id_cell(c.name, u)) >= 0.5 * len(st.uniq)
        ):
            self._queue("national_id", c.i, n, mask.mask_generic(next(iter(st.uniq))))
        elif "nid" in roles and not st.hits.get("nrc") and "measure" not in roles:
            idlike = sum(1 for u in st.uniq if any(ch.isdigit() for ch in u) and len(u) >= 5)
            if idlike >= 0.5 * min(len(st.uniq), n) and len(st.uniq) >= ID_DISTINCT_SHARE * min(n, 2000):
                self._queue("national_id", c.i, n, mask.mask_generic(next(iter(st.uniq))))
        if "dob" in roles and st.dates >= DOB_SHARE * n:
            self._queue("date_of_birth", c.i, st.dates, "****-**-**")

    def _rule_names(self, c: _Column, t: _TableFacts) -> None:
        st, roles, n, i = c.st, c.roles, c.st.n, c.i
        if _admin_names(st):
            return  # Sagaing, Bago, Magway ...: a column of admin areas, not of people
        generic_name = c.name.strip().lower().rsplit("/", 1)[-1] in ("name", "\u1021\u1019\u100a\u103a", "names")
        diverse = len(st.uniq) >= 0.6 * min(n, 2000)
        not_person = roles & {"org", "admin", "precise"}
        honorific_example = next((u for u in st.uniq if u.split(" ", 1)[0].lower() in _HON), None)
        if "name" in roles and c.num_share < 0.2 and not not_person:
            latin_ok = (
                st.multiword >= 0.5 * n
                or (st.name_like >= 0.7 * n and not generic_name)
                or (st.name_like + st.lower_name >= 0.7 * n and not generic_name and diverse)
            ) and st.orgish < 0.3 * n
            if (
                generic_name
                and latin_ok
                and st.lexicon < 0.3 * n
                and not t.roles_all & {"sex", "age", "phone", "email", "nid", "dob", "household", "beneficiary"}
            ):
                latin_ok = False  # a bare "Name" column of places or organisations
            if (st.honorific >= HONORIFIC_SHARE * n or latin_ok or st.burmese >= 0.5 * n) and not (
                t.place_table and generic_name and st.honorific < HONORIFIC_SHARE * n
            ):
                self._queue("person_name", i, n, mask.mask_name(honorific_example or next(iter(st.uniq))))
        elif (
            "name_weak" in roles
            and c.num_share < 0.2
            and not not_person
            and (
                st.honorific >= HONORIFIC_SHARE * n
                or st.burmese >= 0.5 * n
                or st.lexicon >= 0.3 * n
                or (
                    st.name_like + st.lower_name >= 0.8 * n
                    and st.multiword >= 0.5 * n
                    and diverse
                    and st.orgish < 0.1 * n
                )
            )
        ):
            self._queue("person_name", i, n, mask.mask_name(honorific_example or next(iter(st.uniq))))
        elif st.honorific >= 0.5 * n and not roles & {"org", "admin", "precise", "measure"}:
            self._queue("person_name", i, st.honorific, mask.mask_name(honorific_example or next(iter(st.uniq))))
        elif (
            st.lexicon >= 0.6 * n
            and len(st.uniq) >= 0.3 * min(n, 2000)
            and not roles & {"org", "admin", "precise", "measure"}
            and (not roles or roles & {"beneficiary", "household", "vulnerable", "kobo_group"})
        ):
            self._queue("person_name", i, st.lexicon, mask.mask_name(next(iter(st.uniq))))
        elif (st.hits.get("name") or st.hits.get("pname")) and c.free_text:
            kind = "name" if st.hits.get("name") else "pname"
            self._queue("person_name", i, st.hits[kind], st.examples[kind])
        elif (
            not roles & _NOT_NAME_ROLES
            and c.num_share < 0.2
            and len(st.uniq) >= 3
            and names.name_column_score(list(st.uniq)[:NAME_SCORE_SAMPLE]) >= NAME_COLUMN_SCORE
        ):
            # a column of names under a header that says nothing ("token", "col3")
            self._queue("person_name", i, n, mask.mask_name(next(iter(st.uniq))))

    def _rule_places(self, c: _Column, t: _TableFacts) -> None:
        st, roles, n, i = c.st, c.roles, c.st.n, c.i
        if "precise" in roles and not roles & {"measure", "org"} and not c.measure and not _categorical(st):
            self._queue("precise_location", i, n, mask.mask_generic(next(iter(st.uniq))))
            self.kind[i] = "place"
        elif "precise" in roles and st.six >= 0.5 * n and "code" in c.name.lower():
            self._queue("precise_location", i, n, "******")

    def _rule_coordinates(self, c: _Column, t: _TableFacts) -> None:
        """Coordinates only where a header (or HXL tag) says so: values alone are too often
        percentages or scores that happen to fall inside Myanmar's latitude/longitude box."""
        st, roles, n, i = c.st, c.roles, c.st.n, c.i
        coord_ok = not roles & {"measure", "popcount"}
        if "lat" in roles and coord_ok and st.lat >= COORD_SHARE * n:
            self._lat_cols.append(i)
            self.kind[i] = "lat"
        if "lon" in roles and coord_ok and st.lon >= COORD_SHARE * n:
            self._lon_cols.append(i)
            self.kind[i] = "lon"
        if "coord" in roles and st.hits.get("gps"):
            self.kind[i] = "place"

    def _rule_context(self, c: _Column, t: _TableFacts) -> None:
        """Organisation and activity columns: the context that makes an area name a presence."""
        if "org" in c.roles and c.num_share < 0.5:
            self.kind.setdefault(c.i, "org")
            self.area_context = True
        if "activity" in c.roles:
            self.area_context = True

    def _rule_individual_signals(self, c: _Column, t: _TableFacts) -> None:
        """Sex, age, household, beneficiary, at-risk columns: together they make rows individuals."""
        st, roles, n, cats = c.st, c.roles, c.st.n, t.cats
        if "sex" in roles and st.sex >= 0.6 * n:
            cats.add("sex")
        if "age" in roles and st.ages >= 0.8 * n:
            cats.add("age")
        if "kobo" in roles:
            cats.add("kobo")
        if ("household" in roles or "hhsize" in roles) and st.n:
            cats.add("household")
        if "beneficiary" in roles and c.num_share < 0.5:
            cats.add("beneficiary")
        if ("vulnerable" in roles or "disability" in roles) and not c.measure:
            if any(u.strip().lower() not in _NO_VALUES for u in st.uniq):
                cats.add("vulnerable")
                self._vuln_col = c.i
        elif st.vuln >= max(1, 0.02 * n) and not c.measure and not c.free_text:
            cats.add("vulnerable")
            self._vuln_col = c.i

    def _first_col(self, roles: tuple[str, ...]) -> int | None:
        for i, r in enumerate(self.roles):
            if r & set(roles) and self.stats[i].n:
                return i
        return None

    def _centroids(self) -> bool:
        """Lat/lon in a table of admin 1-3 units (one coordinate per P-code) are centroids, not
        precise locations."""
        if self._admin_pcode_col is None or any("precise" in r for r in self.roles):
            return False
        return len(self.stats[self._lat_cols[0]].uniq) <= len(self.stats[self._admin_pcode_col].uniq)

    def _queue(self, category: str, col: int, count: int, example: str, scale: bool = True) -> None:
        self.pending.append((category, col, count if scale else -count, example))

    def _queue_table(self, category: str, col: int) -> None:
        self.pending.append((category, col, self.sampled, f"{self.sampled}+ rows"))

    def bulk_keys(self) -> set[str]:
        """Identifier kinds the raw block scan still has to look for."""
        return set(ALL_KEYS) - self.confirmed

    def column_ok(self, kind: str, column: int, value: str) -> bool:
        """Is a bulk candidate credible in this column?  Budget/price/ID/coordinate columns
        only accept phones written like phones (leading 0 or +)."""
        k = self.kind.get(column)
        if kind == "phone" and k in ("measure", "lat", "lon"):
            return value.startswith(("0", "+"))
        if kind in ("name", "namelabel", "pname") and column < len(self.roles):
            # a ward, village tract or organisation column: "Aung Hlaing Kone Ward" is a place
            return k not in ("org", "place") and not self.roles[column] & {"admin", "precise", "org", "metadata"}
        return True

    def add_risk_row(self, row: Sequence[str]) -> bool:
        if self.risk is None:
            return False
        return self.risk.add(row)

    # ------------------------------------------------------------------ output
    def finish(self, total_rows: int | None = None) -> None:
        total = max(total_rows or self.rows_seen, self.sampled)
        factor = total / self.sampled if self.sampled else 1.0
        seen: set[tuple[str, int]] = set()
        for category, i, count, example in self.pending:
            if (category, i) in seen:
                continue
            seen.add((category, i))
            if category in ("household_record", "beneficiary_list", "raw_survey"):
                n = total
                example = f"{total} rows"
            elif count < 0:
                n = -count
            else:
                n = max(count, round(count * factor))
            self.col.add(category, self.where(i), n, example)
        if self.risk is not None:
            rep = self.risk.report()
            if rep is not None:
                if self.col.risk is None or rep["global_risk"] > self.col.risk.get("global_risk", 0):
                    self.col.risk = rep
                if rep["global_risk"] > rep["threshold"]:
                    self.col.add(
                        "reidentification_risk",
                        "columns " + ", ".join(f'"{q}"' for q in rep["quasi_identifiers"]) + self.context,
                        rep["records_below_k3"],
                        f"k={rep['k_min']}, risk {rep['global_risk']:.1%}",
                    )


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


#: the column rules, in the order they run for every column
COLUMN_RULES = (
    TableAnalyzer._rule_phone,
    TableAnalyzer._rule_identifiers,
    TableAnalyzer._rule_names,
    TableAnalyzer._rule_places,
    TableAnalyzer._rule_coordinates,
    TableAnalyzer._rule_context,
    TableAnalyzer._rule_individual_signals,
)
