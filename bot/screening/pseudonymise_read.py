"""Reading the input of :mod:`.pseudonymise`: tables (XLSX sheets, CSV/TSV, JSON records) and
documents (DOCX body, PDF text, TXT/MD lines), and the plain-words refusals (password
protected, old binary Office, unsupported)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from .collector import Collector
from .model import Limits
from .readers.delimited import sniff_delimiter

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class CannotPseudonymise(Exception):
    """The input cannot be pseudonymised; the message says why in plain words."""


class FormatMismatch(CannotPseudonymise):
    """The requested output format cannot hold what the input is (a table vs a document)."""


@dataclass
class _Input:
    family: str  # "table" or "document"
    natural: str  # the format the copy is written in unless asked otherwise
    sheets: list[tuple[str, list[list[str]]]] = field(default_factory=list)  # tables
    body: list[tuple[str, object]] = field(default_factory=list)  # documents: ("p", str) | ("tbl", rows)
    delimiter: str = ","


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise CannotPseudonymise("the file looks like a ZIP/Office file but is damaged") from None
    if any(i.flag_bits & 0x1 for i in z.infolist()):
        raise CannotPseudonymise(
            "the file is password protected (an encrypted ZIP archive); remove the "
            "password (or unpack it) and pseudonymise the unprotected file"
        )
    return z


def _ole_problem(data: bytes) -> str:
    try:
        import msoffcrypto

        if msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted():
            return (
                "the Office file is password protected; open it, remove the password, save it as .xlsx or "
                ".docx and pseudonymise that"
            )
    except Exception:  # noqa: BLE001, S110 - not decidable: the generic message below
        pass
    return "old binary Office files (.xls, .doc) cannot be pseudonymised; save it as .xlsx, .docx or .csv first"


def _read_input(data: bytes, filename: str) -> _Input:
    low = filename.lower()
    if data[:4] == b"PK\x03\x04":
        z = _open_zip(data)
        names = set(z.namelist())
        if "xl/workbook.xml" in names:
            return _Input("table", "xlsx", sheets=_xlsx_sheets(z))
        if "word/document.xml" in names:
            return _Input("document", "docx", body=_docx_body(z))
        raise CannotPseudonymise(
            "only .xlsx, .docx, .csv, .tsv, .json, .txt, .md and .pdf files can be "
            "pseudonymised; unpack an archive or save the file as .xlsx/.docx/.csv first"
        )
    if data[:8] == _OLE:
        raise CannotPseudonymise(_ole_problem(data))
    if data.lstrip()[:5] == b"%PDF-":
        return _Input("document", "txt", body=[("p", line) for line in _pdf_lines(data)])
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CannotPseudonymise(
            "this kind of file cannot be pseudonymised (only .xlsx, .docx, .csv, .tsv, .json, .txt, .md and .pdf)"
        )
    text = (
        data.decode("utf-16", "replace")
        if data.startswith((b"\xff\xfe", b"\xfe\xff"))
        else data.decode("utf-8-sig", "replace")
    )
    if low.endswith(".json"):
        return _Input("table", "json", sheets=[("Sheet1", _json_rows(text))])
    if low.endswith((".csv", ".tsv", ".tab", ".txt")):
        preferred = "\t" if low.endswith((".tsv", ".tab")) else ","
        delim = sniff_delimiter(text.splitlines()[:60], preferred if not low.endswith(".txt") else None)
        if delim is not None:
            rows = list(csv.reader(io.StringIO(text), delimiter=delim))
            natural = "txt" if low.endswith(".txt") else ("tsv" if delim == "\t" and preferred == "\t" else "csv")
            return _Input("table", natural, sheets=[("Sheet1", rows)], delimiter=delim)
    natural = "md" if low.endswith((".md", ".markdown")) else "txt"
    return _Input("document", natural, body=[("p", line) for line in text.splitlines()])


def _xlsx_sheets(z: zipfile.ZipFile) -> list[tuple[str, list[list[str]]]]:
    from .readers.ooxml import _iter_rows, _shared_strings, _sheets, member_stream

    col = Collector(Limits(), None)
    sst = _shared_strings(z, col)
    out: list[tuple[str, list[list[str]]]] = []
    for name, part in _sheets(z):
        rows: list[list[str]] = []
        for n, r in _iter_rows(member_stream(z, part, col), sst, col):
            if n - 1 - len(rows) <= 1000:  # keep (a few) blank rows where they were
                rows.extend([] for _ in range(n - 1 - len(rows)))
            rows.append(["" if c is None else str(c) for c in r])
        out.append((name, rows))
    return out


def _json_rows(text: str) -> list[list[str]]:
    from .readers.jsonr import _flatten

    obj = json.loads(text)
    if isinstance(obj, dict):
        obj = next((v for v in obj.values() if isinstance(v, list)), [obj])
    flat: list[dict[str, str]] = []
    for rec in obj if isinstance(obj, list) else []:
        d: dict[str, str] = {}
        _flatten(rec, "", d, [])
        flat.append(d)
    keys: dict[str, None] = {}
    for d in flat:
        keys.update(dict.fromkeys(d))
    header = list(keys)
    return [header] + [[d.get(k, "") for k in header] for d in flat]


def _pdf_lines(data: bytes) -> Iterator[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            opened = bool(reader.decrypt(""))  # owner-password-only PDFs open with an empty user password
        except Exception:  # noqa: BLE001
            opened = False
        if not opened:
            raise CannotPseudonymise(
                "the PDF is password protected; remove the password and pseudonymise the unprotected file"
            )
    for page in reader.pages:
        yield from (page.extract_text() or "").splitlines()


def _docx_body(z: zipfile.ZipFile) -> list[tuple[str, object]]:
    import xml.etree.ElementTree as ET

    from .readers.ooxml import _paragraph_text, local

    root = ET.fromstring(z.read("word/document.xml"))
    body: list[tuple[str, object]] = []

    def table_rows(tbl: ET.Element) -> list[list[str]]:
        rows: list[list[str]] = []
        for tr in tbl:
            if local(tr.tag) != "tr":
                continue
            cells = [
                " ".join(t for t in (_paragraph_text(p) for p in tc.iter() if local(p.tag) == "p") if t)
                for tc in tr
                if local(tc.tag) == "tc"
            ]
            rows.append(cells)
        return rows

    def walk(el: ET.Element) -> None:
        for child in el:
            tag = local(child.tag)
            if tag == "p":
                body.append(("p", _paragraph_text(child)))
            elif tag == "tbl":
                body.append(("tbl", table_rows(child)))
            elif tag not in ("sectPr", "del", "moveFrom"):
                walk(child)  # content controls, custom XML, inserted runs ...

    walk(root)
    return body
