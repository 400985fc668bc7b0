"""Table analysis: classify columns from header + HXL tag + a sample of values.

Decisions are per column and use *shares* of the sampled values, so that a latitude column,
prices, budget figures or admin 1-3 P-codes are not taken for phones or IDs, while a single
phone number inside a free-text column is still reported."""

from __future__ import annotations

from collections.abc import Sequence

from . import mask
from .collector import Collector
from .columns import header_roles
from .detectors import BY_KIND, Candidate, iter_matches
from .patterns import (
    NAME_SYLLABLES,
    PCODE_ANY_RE,
    PCODE_PRECISE_RE,
    VULNERABLE_RE,
    in_lat,
    in_lon,
    is_burmese_text,
    is_number,
    parse_date,
    to_ascii_digits,
)
from .risk import RiskCounter
from .table_data import (
    _BURMESE_HON,
    _FLOAT,
    _HON,
    _INT,
    _LATIN_NAME,
    _LOWER_NAME,
    _NAME_STOP,
    _NO_VALUES,
    _SEX_VALUES,
    _SIX,
    ADMIN_PCODE_SHARE,
    ALL_KEYS,
    CATEGORY_VALUES,
    COORD_SHARE,
    DOB_SHARE,
    HONORIFIC_SHARE,
    ID_DISTINCT_SHARE,
    NAME_COLUMN_SCORE,
    NAME_SCORE_SAMPLE,
    ORG_WORDS,
    PHONE_SHARE_WITH_HEADER,
    PHONE_SHARE_WITHOUT_HEADER,
    ColStats,
    _Column,
    _phone_cell,
    _TableFacts,
    _with_hxl,
    has_text_names,
)
from .table_rules import TableRules

__all__ = [
    "ADMIN_PCODE_SHARE",
    "ALL_KEYS",
    "CATEGORY_VALUES",
    "COLUMN_RULES",
    "COORD_SHARE",
    "DOB_SHARE",
    "HONORIFIC_SHARE",
    "ID_DISTINCT_SHARE",
    "NAME_COLUMN_SCORE",
    "NAME_SCORE_SAMPLE",
    "ORG_WORDS",
    "PHONE_SHARE_WITH_HEADER",
    "PHONE_SHARE_WITHOUT_HEADER",
    "ColStats",
    "TableAnalyzer",
    "has_text_names",
]


class TableAnalyzer(TableRules):
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
            _number_cell(st, v, roles)
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
            _name_cell(st, v, low, roles)
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


def _number_cell(st: ColStats, v: str, roles: set[str]) -> None:
    """The statistics of a number cell: ages, large counts, coordinates, 6-digit codes."""
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


def _name_cell(st: ColStats, v: str, low: str, roles: set[str]) -> None:
    """The name-likeness statistics of a short text cell (``low`` is ``v.lower()``)."""
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
