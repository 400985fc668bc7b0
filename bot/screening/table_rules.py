"""The decisions of the table analyser: per-column rules and whole-table judgements.

:class:`TableRules` is a base class of :class:`.table.TableAnalyzer`; it holds no state of its
own (the analyser's attributes are declared here for the type checker only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import mask, names
from .collector import Collector
from .identifiers import header_id_kind, valid_id_cell
from .risk import RiskCounter
from .table_data import (
    _CODE_HEADER,
    _FACT_ROLES,
    _HON,
    _NO_VALUES,
    _NOT_NAME_ROLES,
    _TEXT_FILENAME_BENEF,
    _TEXT_FILENAME_HH,
    _TEXT_FILENAME_SURVEY,
    COORD_SHARE,
    DOB_SHARE,
    HONORIFIC_SHARE,
    ID_DISTINCT_SHARE,
    NAME_COLUMN_SCORE,
    NAME_SCORE_SAMPLE,
    PHONE_SHARE_WITH_HEADER,
    PHONE_SHARE_WITHOUT_HEADER,
    ColStats,
    _admin_names,
    _categorical,
    _Column,
    _TableFacts,
)


class TableRules:
    """Column rules (``_rule_*``, run by :meth:`.table.TableAnalyzer.finish_sample` in the
    order of ``COLUMN_RULES``) and table judgements (``_judge_*``)."""

    col: Collector
    title: str
    header: list[str]
    roles: list[set[str]]
    stats: list[ColStats]
    sampled: int
    kind: dict[int, str]
    confirmed: set[str]
    individual: bool
    area_context: bool
    area_found: bool
    pending: list[tuple[str, int, int, str]]
    risk: RiskCounter | None
    _lat_cols: list[int]
    _lon_cols: list[int]
    _admin_pcode_col: int | None

    if TYPE_CHECKING:

        def colname(self, i: int) -> str: ...

    # ------------------------------------------------------------------ table judgements
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
            latin_ok = _latin_names(c, t, generic_name, diverse)
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


def _latin_names(c: _Column, t: _TableFacts, generic_name: bool, diverse: bool) -> bool:
    """Do a "name" column's Latin-script values read as person names?"""
    st, n = c.st, c.st.n
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
    return latin_ok
