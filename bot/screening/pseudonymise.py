"""Pseudonymisation: keyed, stable pseudonyms (HMAC-SHA256) for organisations and places,
direct identifiers removed, precise P-codes generalised to admin 3, coordinates dropped
(in tables, village / ward / camp names become keyed pseudonyms ``LOC-...``).
The output is screened again and that verdict is returned with it.

The copy keeps the input's format: XLSX in, XLSX out (every sheet, written with the standard
library: inline strings, no formatting); CSV/TSV/JSON records in, the same out; DOCX in, DOCX
out; TXT/MD in, the same out.  A PDF comes out as text (.txt).  Within a family the caller may
ask for another format (:func:`pseudonymise` ``out_format``: a table as CSV/TSV/XLSX/JSON, a
document as DOCX/TXT/MD); a table asked for as a document, or the reverse, is refused
(:class:`FormatMismatch`).

Documents: every "Label: value" line (or label/value row of a form table) whose label names a
direct identifier (name, phone, e-mail, NRC / ID, date of birth, coordinates) or a precise
place (village, ward, camp, address ...) is removed whole; an organisation or a sensitive
area gets a keyed pseudonym; identifiers in free text
(phones, e-mails, NRC numbers, honorific names, coordinates) are replaced by ``[removed]``.
A DOCX copy holds the body text and tables only: headers, footers, comments, tracked
deletions, images and document properties (author ...) are not copied.  What screening still
finds in the copy is returned in the verdict, so the caller can say exactly what is left.

Password-protected input (encrypted ZIP / Office / PDF) is refused in plain words; the bot
handles chat-sized files, so the output is built in memory."""

from __future__ import annotations

import hashlib
import hmac
import re
import zipfile
from dataclasses import dataclass, field

from .areas import SensitiveAreas
from .collector import Collector, Unreadable
from .columns import header_roles
from .engine import screen_bytes
from .model import DEFAULT_LIMITS, Limits, Verdict
from .patterns import EMAIL, GPS_PAIR, NAME_IN_TEXT, NRC, PCODE_PRECISE_RE, PHONE, compile_bytes
from .pseudonymise_read import CannotPseudonymise, FormatMismatch, _Input, _read_input
from .pseudonymise_write import _delimited, _doc_lines, _json_records, write_docx, write_xlsx
from .readers.delimited import find_header
from .table import TableAnalyzer

__all__ = [
    "FORMATS",
    "CannotPseudonymise",
    "FormatMismatch",
    "Pseudonymised",
    "Pseudonymiser",
    "format_for_name",
    "pseudonymise",
    "pseudonymize_bytes",
    "write_docx",
    "write_xlsx",
]

_DROP = {"person_name", "phone_number", "email_address", "national_id", "date_of_birth"}
_TEXT_IDS = compile_bytes("|".join("(?:" + p + ")" for p in (PHONE, EMAIL, NRC, NAME_IN_TEXT, GPS_PAIR)))
_PCODE_ANY = re.compile(r"\bMMR\d{9}(?:\d{3})?\b")

#: output formats: family, file suffix, MIME type
FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": ("table", ".csv", "text/csv"),
    "tsv": ("table", ".tsv", "text/tab-separated-values"),
    "xlsx": ("table", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "json": ("table", ".json", "application/json"),
    "docx": ("document", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "txt": ("document", ".txt", "text/plain"),
    "md": ("document", ".md", "text/markdown"),
}
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".docx": "docx",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
}


def format_for_name(name: str) -> str | None:
    """The output format a file name asks for (by its suffix), or None for an unknown suffix."""
    low = name.lower()
    dot = low.rfind(".")
    return _SUFFIXES.get(low[dot:]) if dot > 0 else None


@dataclass
class Pseudonymised:
    content: bytes
    name: str
    format: str
    verdict: Verdict
    removed_lines: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def mimetype(self) -> str:
        return FORMATS[self.format][2]


class Pseudonymiser:
    def __init__(self, key: bytes, areas: SensitiveAreas | None) -> None:
        self.key = key
        self.areas = areas

    def token(self, kind: str, value: str) -> str:
        norm = " ".join(value.strip().casefold().split())
        digest = hmac.new(self.key, f"{kind}:{norm}".encode(), hashlib.sha256).hexdigest()[:10]
        return f"{kind.upper()}-{digest}"

    def text(self, value: str) -> str:
        """Replace identifiers in free text; generalise precise P-codes."""
        b = value.encode("utf-8", "replace")
        out = _TEXT_IDS.sub(b"[removed]", b).decode("utf-8", "replace")
        out = _PCODE_ANY.sub(lambda m: m.group(0)[:9], out)
        if self.areas:
            pat = self.areas.pattern()
            if pat is not None:
                out = pat.sub(
                    lambda m: self.token("loc", m.group(0).decode("utf-8", "replace")).encode(), out.encode("utf-8")
                ).decode("utf-8", "replace")
        return out

    def place(self, value: str) -> str:
        v = value.strip()
        return v[:9] if PCODE_PRECISE_RE.match(v) else self.token("loc", v)


# ------------------------------------------------------------------------ pseudonymise


def _pseudo_table(
    rows: list[list[str]], filename: str, ps: Pseudonymiser, areas: SensitiveAreas | None, limits: Limits
) -> list[list[str]]:
    if not any(any(c.strip() for c in r) for r in rows):
        return [list(r) for r in rows]
    hdr_idx, hxl_idx = find_header(rows)
    start = max(hdr_idx, hxl_idx if hxl_idx is not None else -1) + 1
    width = max(map(len, rows))
    header = rows[hdr_idx] if hdr_idx >= 0 else [f"column {i + 1}" for i in range(width)]
    col = Collector(limits, areas)
    an = TableAnalyzer(col, title=filename, sample_rows=limits.sample_rows)
    an.set_header(header, rows[hxl_idx] if hxl_idx is not None else None)
    for r in rows[start:]:
        if not an.add_row(r):
            break
    an.finish_sample()
    return _rewrite_rows(rows, hdr_idx, hxl_idx, start, header, _column_actions(an), ps, areas)


def _column_actions(an: TableAnalyzer) -> dict[int, str]:
    """What to do with each column the analyser found something in: drop, text, org, precise, admin."""
    action: dict[int, str] = {}
    for category, ci, _count, _ex in an.pending:
        st = an.stats[ci]
        free_text = "remark" in an.roles[ci] or (st.n and st.total_len / st.n > 25)
        if category in _DROP:
            action[ci] = "text" if free_text and action.get(ci) != "drop" else "drop"
        elif category == "precise_location":
            action.setdefault(ci, "precise")
    for ci, kind in an.kind.items():
        if kind == "org":
            action[ci] = "org"
        elif kind in ("lat", "lon"):
            action[ci] = "drop"
        elif kind == "place":
            action.setdefault(ci, "precise")
    for ci, roles in enumerate(an.roles):
        if "admin" in roles and ci not in action:
            action[ci] = "admin"
        if roles & {"name", "phone", "email", "nid", "dob"} and ci not in action and an.stats[ci].n:
            action[ci] = "drop"
        if "remark" in roles and ci not in action:
            action[ci] = "text"
        if roles & {"coord", "lat", "lon"}:
            action[ci] = "drop"
    return action


def _rewrite_rows(
    rows: list[list[str]],
    hdr_idx: int,
    hxl_idx: int | None,
    start: int,
    header: list[str],
    action: dict[int, str],
    ps: Pseudonymiser,
    areas: SensitiveAreas | None,
) -> list[list[str]]:
    width = max(map(len, rows))
    keep = [i for i in range(max(len(header), width)) if action.get(i) != "drop"]
    out: list[list[str]] = [[header[i] if i < len(header) else "" for i in keep]] if hdr_idx >= 0 else []
    if hxl_idx is not None:
        out.append([rows[hxl_idx][i] if i < len(rows[hxl_idx]) else "" for i in keep])
    for r in rows[start:]:
        new: list[str] = []
        for i in keep:
            v = r[i] if i < len(r) else ""
            a = action.get(i)
            if not v:
                new.append(v)
            elif a == "org":
                new.append(ps.token("org", v))
            elif a == "precise":
                new.append(ps.place(v))
            elif a == "admin":
                new.append(ps.token("loc", v) if areas and areas.find(v) else ps.text(v))
            else:
                new.append(ps.text(v))
        out.append(new)
    return out


#: "Label: value", "Label - value", "Label = value" (one line of a document)
_KV = re.compile(
    r"^(?P<lead>\s*(?:[-*\u2022]\s*)?)(?P<label>[^\W\d][^:=\uff1a\n]{0,48}?)\s*"
    r"(?P<sep>[:=\uff1a]|\s[-\u2013]\s)\s*(?P<value>\S.*)$"
)
_COLONS = (":", "=", "\uff1a")
_DROP_ROLES = {"name", "phone", "email", "nid", "dob", "coord", "lat", "lon"}
_NAMEISH = re.compile(r"^[^\d@]{2,60}$")


def _pseudo_pair(label: str, value: str, ps: Pseudonymiser) -> str | None:
    """The pseudonymised value of a labelled field, or None when the whole field must go."""
    roles = header_roles(label)
    if roles & _DROP_ROLES or ("name_weak" in roles and _NAMEISH.match(value.strip()) and len(value.split()) <= 5):
        return None
    if "precise" in roles:  # village, ward, camp, address: in prose even a pseudonym still reads as a place
        return None
    if "org" in roles:
        return ps.token("org", value)
    if "admin" in roles and ps.areas and ps.areas.find(value):
        return ps.token("loc", value)
    return ps.text(value)


def _pseudo_line(line: str, ps: Pseudonymiser) -> str | None:
    m = _KV.match(line)
    if m:
        new = _pseudo_pair(m.group("label"), m.group("value"), ps)
        if new is None:
            return None
        sep = m.group("sep").strip()
        sep = sep if sep in _COLONS else " " + sep
        return f"{m.group('lead')}{m.group('label')}{sep} {new.strip()}"
    return ps.text(line)


def _pseudo_doc_table(
    rows: list[list[str]], filename: str, ps: Pseudonymiser, areas: SensitiveAreas | None, limits: Limits
) -> list[list[str]]:
    from .readers.ooxml import _key_value

    if _key_value(rows) is not None:  # a form: label cells beside value cells
        out: list[list[str]] = []
        for r in rows:
            new: list[str] = []
            for j in range(0, len(r), 2):
                label = r[j]
                value = r[j + 1] if j + 1 < len(r) else ""
                pv = _pseudo_pair(label.rstrip(":").strip(), value, ps) if value.strip() else value
                if pv is None:
                    continue  # the identifying field goes, label and all
                new += [ps.text(label), pv] if j + 1 < len(r) else [ps.text(label)]
            if new:
                out.append(new)
        return out
    return _pseudo_table(rows, filename, ps, areas, limits)


# -------------------------------------------------------------------------------- API


def pseudonymise(
    data: bytes,
    filename: str,
    key: bytes,
    *,
    out_format: str | None = None,
    sensitive_areas: SensitiveAreas | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Pseudonymised:
    """Pseudonymise ``data`` into ``out_format`` (default: the input's own format).

    Raises :class:`FormatMismatch` when ``out_format`` cannot hold the input (a table vs a
    document, or several sheets into one CSV), :class:`CannotPseudonymise` (plain words) when
    the input cannot be pseudonymised (password protected, unsupported or damaged)."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "file"
    src = _read(data, filename)
    fmt = out_format or src.natural
    _check_format(src, fmt)
    ps = Pseudonymiser(key, sensitive_areas)
    removed = 0
    if src.family == "table":
        content = _table_copy(src, fmt, filename, ps, sensitive_areas, limits)
    else:
        content, removed = _document_copy(src, fmt, filename, ps, sensitive_areas, limits)
    new_name = f"{stem}_pseudonymised{FORMATS[fmt][1]}"
    verdict = screen_bytes(content, new_name, sensitive_areas=sensitive_areas, limits=limits)
    return Pseudonymised(content, new_name, fmt, verdict, removed_lines=removed)


def _read(data: bytes, filename: str) -> _Input:
    """The input, read; any failure is a :class:`CannotPseudonymise` in plain words."""
    try:
        return _read_input(data, filename)
    except CannotPseudonymise:
        raise
    except Unreadable as exc:
        raise CannotPseudonymise(str(exc)) from None
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeError) as exc:  # ElementTree.ParseError too
        raise CannotPseudonymise(f"the file is damaged or not what its name says ({type(exc).__name__})") from None
    except SyntaxError:
        raise CannotPseudonymise("the file is damaged (its XML does not parse)") from None


def _check_format(src: _Input, fmt: str) -> None:
    """Raise :class:`FormatMismatch` when ``fmt`` cannot hold the input's family."""
    if fmt not in FORMATS:
        raise FormatMismatch(f"unknown output format {fmt!r}")
    if FORMATS[fmt][0] != src.family:
        what = "a table" if src.family == "table" else "a document"
        raise FormatMismatch(
            f"the input is {what} ({src.natural}), so the copy can only be written as "
            + ", ".join(sorted({FORMATS[f][1] for f in FORMATS if FORMATS[f][0] == src.family}))
            + f", not {FORMATS[fmt][1]}"
        )


def _table_copy(
    src: _Input, fmt: str, filename: str, ps: Pseudonymiser, areas: SensitiveAreas | None, limits: Limits
) -> bytes:
    sheets = [(name, _pseudo_table(rows, filename, ps, areas, limits)) for name, rows in src.sheets]
    used = [s for s in sheets if any(any(c.strip() for c in r) for r in s[1])]
    if fmt != "xlsx" and len(used) > 1:
        raise FormatMismatch(
            f"the workbook has {len(used)} sheets with data and a {FORMATS[fmt][1]} file "
            "holds one; write the copy as .xlsx"
        )
    rows = (used or sheets or [("Sheet1", [])])[0][1]
    if fmt == "xlsx":
        return write_xlsx(sheets)
    if fmt == "json":
        return _json_records(rows)
    delim = "\t" if fmt == "tsv" else "," if fmt == "csv" else src.delimiter
    return _delimited(rows, delim)


def _document_copy(
    src: _Input, fmt: str, filename: str, ps: Pseudonymiser, areas: SensitiveAreas | None, limits: Limits
) -> tuple[bytes, int]:
    """(the copy, the number of identifying lines removed)"""
    removed = 0
    body: list[tuple[str, object]] = []
    for kind, item in src.body:
        if kind == "p":
            line = _pseudo_line(str(item), ps)
            if line is None:
                removed += 1
            else:
                body.append(("p", line))
        elif isinstance(item, list):
            body.append(("tbl", _pseudo_doc_table(item, filename, ps, areas, limits)))
    if fmt == "docx":
        return write_docx(body), removed
    return ("\n".join(_doc_lines(body)) + "\n").encode("utf-8"), removed


def pseudonymize_bytes(
    data: bytes,
    filename: str,
    key: bytes,
    *,
    sensitive_areas: SensitiveAreas | None = None,
    limits: Limits = DEFAULT_LIMITS,
    out_format: str | None = None,
) -> tuple[bytes, str, Verdict]:
    """Return (pseudonymised content, new file name, screening verdict of the output); the
    content is in the input's format (see the module docstring).
    On failure the content is empty and the verdict says why; never raises."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "file"
    try:
        res = pseudonymise(data, filename, key, out_format=out_format, sensitive_areas=sensitive_areas, limits=limits)
    except Exception as exc:  # noqa: BLE001 - plain-words verdict on any input
        msg = (
            str(exc)
            if isinstance(exc, (Unreadable, CannotPseudonymise))
            else f"the file cannot be pseudonymised ({type(exc).__name__})"
        )
        return b"", f"{stem}_pseudonymised.csv", Verdict(filename, "unreadable", None, None, error=msg)
    return res.content, res.name, res.verdict
