"""XLSX and DOCX, streamed straight out of the zip (never extracted, never openpyxl).

XLSX: shared strings are loaded up to a cap; each sheet's first rows are parsed with
iterparse (elements cleared as we go) to classify columns, the rest of the sheet XML is
scanned as raw bytes by RE2.  DOCX: document.xml is streamed paragraph by paragraph;
tables go through the table analyser, text through the block scanner."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from typing import IO

from ..collector import Collector, Unreadable
from ..labels import (
    label_from_core_xml,
    label_from_custom_xml,
    label_from_hf_line,
    label_from_labelinfo_xml,
    label_from_lines,
    label_from_title_rows,
)
from ..scanner import BulkScanner, Place, run_blocks
from ..table import ALL_KEYS, TableAnalyzer
from .delimited import find_header
from .textio import CountingReader

_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_HF = re.compile(rb"<(?:\w+:)?(?:odd|even|first)(?:Header|Footer)(?:\s[^>/]*)?>([^<]*)<")  # not <oddHeader />
_HF_CODES = re.compile(r"&(?:[LCRPNDTZAFBIUESHKXY]|\"[^\"]*\"|\d+)")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_small(z: zipfile.ZipFile, name: str, cap: int = 8 << 20) -> bytes | None:
    try:
        info = z.getinfo(name)
    except KeyError:
        return None
    if info.file_size > cap:
        return None
    with z.open(info) as fh:
        return CountingReader(fh, cap, name).read(cap + 1)


def office_labels(z: zipfile.ZipFile, col: Collector) -> None:
    custom = _read_small(z, "docProps/custom.xml")
    if custom:
        col.add_label(label_from_custom_xml(custom))
    names: dict[str, str] = {}
    if custom:
        for m in re.finditer(rb'name="MSIP_Label_([0-9a-fA-F\-]+)_Name"[^>]*>\s*<[^>]*>([^<]*)<', custom):
            names[m.group(1).decode().lower()] = m.group(2).decode("utf-8", "replace")
    info = _read_small(z, "docMetadata/LabelInfo.xml")
    if info:
        col.add_label(label_from_labelinfo_xml(info, names))
    core = _read_small(z, "docProps/core.xml")
    if core:
        col.add_label(label_from_core_xml(core))


def member_stream(z: zipfile.ZipFile, name: str, col: Collector) -> IO[bytes]:
    info = z.getinfo(name)
    cap = min(col.limits.max_file_size * 8, max(int(info.compress_size * col.limits.max_ratio), 1 << 20))
    return CountingReader(z.open(info), cap, f"part {name}")  # type: ignore[return-value]


# ============================================================================ XLSX
def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _shared_strings(
    z: zipfile.ZipFile,
    col: Collector,
    needed: set[int] | None = None,
    cap_items: int = 300_000,
    cap_chars: int = 40_000_000,
) -> dict[int, str]:
    """Shared strings by index.  With `needed`, only those indices are kept and reading stops
    after the highest one (sample rows reference early strings: Excel writes the table in order
    of first appearance), so a huge string table is not loaded."""
    names = [n for n in z.namelist() if n.lower() == "xl/sharedstrings.xml"]
    out: dict[int, str] = {}
    if not names or needed == set():
        return out
    last = max(needed) if needed else cap_items
    chars = 0
    idx = 0
    stream = member_stream(z, names[0], col)
    try:
        for _ev, el in ET.iterparse(stream, events=("end",)):
            if local(el.tag) == "si":
                if needed is None or idx in needed:
                    t = "".join(x.text or "" for x in el.iter() if local(x.tag) == "t")
                    out[idx] = t
                    chars += len(t)
                el.clear()
                idx += 1
                if idx > last or len(out) >= cap_items or chars >= cap_chars:
                    break
                if idx % 50000 == 0:
                    col.check_time()
    except ET.ParseError as exc:
        raise Unreadable(f"the spreadsheet is damaged (shared strings: {exc.__class__.__name__})") from None
    return out


def _sheets(z: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part path) in workbook order."""
    wb = _read_small(z, "xl/workbook.xml")
    rels = _read_small(z, "xl/_rels/workbook.xml.rels")
    out: list[tuple[str, str]] = []
    if wb and rels:
        try:
            targets = {
                el.get("Id"): el.get("Target") or "" for el in ET.fromstring(rels) if local(el.tag) == "Relationship"
            }
            for el in ET.fromstring(wb).iter():
                if local(el.tag) == "sheet":
                    rid = next((v for k, v in el.attrib.items() if local(k) == "id"), None)
                    tgt = targets.get(rid, "")
                    if tgt:
                        path = tgt.lstrip("/") if tgt.startswith("/") else posixpath.normpath("xl/" + tgt)
                        out.append((el.get("name") or path, path))
        except ET.ParseError:
            out = []
    known = {p for _, p in out}
    names = set(z.namelist())
    out = [(n, p) for n, p in out if p in names]
    for n in sorted(names):
        if n.startswith("xl/worksheets/") and n.endswith(".xml") and n not in known:
            out.append((posixpath.basename(n)[:-4], n))
    return out


def screen_xlsx(z: zipfile.ZipFile, col: Collector, name: str) -> None:
    if "xl/workbook.xml" not in z.namelist():
        raise Unreadable("the spreadsheet is damaged (no workbook part)")
    office_labels(z, col)
    sheets = _sheets(z)
    if not sheets:
        raise Unreadable("the spreadsheet has no sheets")
    # 1) sample rows of every sheet, shared strings left as indices
    samples: list[tuple[str, str, list[list[Cell]], bool]] = []
    needed: set[int] = set()
    for sheet_name, part in sheets[:200]:
        col.check_time()
        rows, complete = _sample_sheet(z, part, sheet_name, col)
        for row in rows:
            for c in row:
                if isinstance(c, int):
                    needed.add(c)
        samples.append((sheet_name, part, rows, complete))
    # 2) only the shared strings the samples use
    sst = _shared_strings(z, col, needed)
    # 3) classify, then raw-scan each sheet
    confirmed: set[str] = set()
    any_area_context = False
    for sheet_name, part, raw_rows, complete in samples:
        resolved: list[list[str]] = [[(sst.get(c, "") if isinstance(c, int) else c) for c in r] for r in raw_rows]
        conf, area_ctx = _screen_sheet(z, part, sheet_name, resolved, complete, col, name)
        confirmed |= conf
        any_area_context = any_area_context or area_ctx
    # 4) buried identifiers in text cells (shared strings) that no column accounted for
    sst_name = next((n for n in z.namelist() if n.lower() == "xl/sharedstrings.xml"), None)
    if sst_name:
        keys = set(ALL_KEYS) - confirmed
        loc = _XmlTextLocator("text cells (shared strings)")
        scanner = BulkScanner(col, keys, loc, text_mode=False, areas=any_area_context, area_needs_context=False)
        run_blocks(scanner, member_stream(z, sst_name, col), col.limits.block_size, col, sep=b">")


class _XmlTextLocator:
    def __init__(self, where: str) -> None:
        self.where = where

    def __call__(self, blk: bytes, s: int, e: int) -> Place:
        if blk.rfind(b"<", 0, s) > blk.rfind(b">", 0, s):
            return Place("", skip=True)
        return Place(self.where)


class _SheetLocator:
    def __init__(self, an: TableAnalyzer, context: str) -> None:
        self.an = an
        self.context = context

    def __call__(self, blk: bytes, s: int, e: int) -> Place:
        lt = blk.rfind(b"<", 0, s)
        if lt > blk.rfind(b">", 0, s):
            return Place("", skip=True)  # inside markup
        c = max(blk.rfind(b"<c ", 0, s), blk.rfind(b":c ", 0, s))
        if c >= 0:
            m = _CELL_REF.search(blk, c, c + 80)
            if m:
                ci = _col_index(m.group(1).decode())
                where = self.an.where(ci) if ci < len(self.an.header) else f"column {m.group(1).decode()}{self.context}"
                return Place(f"row {int(m.group(2))}, {where}", ci)
        return Place(f"sheet cells{self.context}")


Cell = str | int  # a value, or a shared-string index still to resolve


def _iter_rows(stream: IO[bytes], sst: dict[int, str] | None, col: Collector) -> Iterator[tuple[int, list[Cell]]]:
    """Yield (row number, values) from sheet XML, clearing parsed elements.  With sst=None,
    shared strings are yielded as int indices."""
    it = ET.iterparse(stream, events=("start", "end"))
    root = None
    row_el = None
    rownum = 0
    cells: dict[int, Cell] = {}
    last_ci = -1  # column of the previous cell in this row: a cell without r= is the next one
    width = 0
    seen = 0
    for ev, el in it:
        seen += 1
        if seen & 0x3FF == 0:  # every 1024 elements: rows can be 400,000 cells long
            col.check_time()
        tag = local(el.tag)
        if ev == "start":
            if root is None:
                root = el
            elif tag == "row":
                row_el = el
            continue
        if tag == "c":
            ref = el.get("r")
            t = el.get("t")
            if ref:
                letters = "".join(ch for ch in ref if ch.isalpha())
                ci = _col_index(letters.upper()) if letters else last_ci + 1
            else:
                ci = last_ci + 1
            last_ci = ci
            val = _cell_value(el, t, sst)
            if 0 <= ci < 16384 and val != "":
                cells[ci] = val
                width = max(width, ci + 1)
            el.clear()
            if row_el is not None:
                del row_el[:]  # drop finished cells from the row element: memory stays flat
        elif tag == "row":
            r = el.get("r")
            rownum = int(r) if r and r.isdigit() else rownum + 1
            row: list[Cell] = [""] * width
            for k, v2 in cells.items():
                row[k] = v2
            cells = {}
            last_ci = -1
            width = 0
            row_el = None
            el.clear()
            if root is not None:
                root.clear()
            yield rownum, row


def _cell_value(el: ET.Element, t: str | None, sst: dict[int, str] | None) -> Cell:
    """The value of a <c> element of type ``t``: inline text, a shared string (or its index
    when ``sst`` is None), or the raw value ("12.0" read as "12")."""
    val: Cell = ""
    if t == "inlineStr":
        val = "".join(x.text or "" for x in el.iter() if local(x.tag) == "t")
    else:
        v = next((x for x in el if local(x.tag) == "v"), None)
        raw = (v.text or "") if v is not None else ""
        if t == "s":
            try:
                idx = int(raw)
            except ValueError:
                idx = -1
            val = idx if sst is None else sst.get(idx, "")
        else:
            val = raw
            if raw.endswith(".0") and raw[:-2].isdigit():
                val = raw[:-2]
    return val


def _sample_sheet(z: zipfile.ZipFile, part: str, sheet_name: str, col: Collector) -> tuple[list[list[Cell]], bool]:
    want = col.limits.sample_rows + 30
    rows: list[list[Cell]] = []
    complete = True
    try:
        for _rn, row in _iter_rows(member_stream(z, part, col), None, col):
            rows.append(row)
            if len(rows) >= want:
                complete = False
                break
    except ET.ParseError:
        raise Unreadable(f"the spreadsheet is damaged (sheet {sheet_name[:40]} cannot be read)") from None
    return rows, complete


def _screen_sheet(
    z: zipfile.ZipFile, part: str, sheet_name: str, rows: list[list[str]], complete: bool, col: Collector, name: str
) -> tuple[set[str], bool]:
    limits = col.limits
    context = f" (sheet {sheet_name[:40]})"
    hdr_idx, hxl_idx = find_header(rows)
    col.add_label(label_from_title_rows(rows, hdr_idx, hxl_idx))
    an = TableAnalyzer(col, context=context, title=f"{name} {sheet_name}", sample_rows=limits.sample_rows)
    start = _sample_rows(an, rows)
    keys = an.bulk_keys() if not complete else set()
    loc = _SheetLocator(an, context)
    scanner = BulkScanner(
        col,
        keys,
        loc,
        text_mode=False,
        column_ok=an.column_ok,
        areas=not an.area_found and not complete,
        area_needs_context=not an.area_context,
    )
    counter = _RowCounter(col)
    run_blocks(scanner, member_stream(z, part, col), limits.block_size, col, sep=b">", on_block=counter)
    an.finish(max(counter.rows - start, len(rows) - start, 0))
    return set(an.confirmed), an.area_context


class _RowCounter:
    def __init__(self, col: Collector) -> None:
        self.rows = 0
        self.col = col

    def __call__(self, blk: bytes, n: int = 0) -> None:
        self.rows += blk.count(b"</row>") + blk.count(b":row>")
        if b"Header>" in blk or b"Footer>" in blk:
            for m in _HF.finditer(blk):
                text = m.group(1).decode("utf-8", "replace").replace("&amp;", "&")
                # &L / &C / &R start the left, centre and right sections: each is a line of its own
                for section in re.split(r"&[LCR]", text):
                    self.col.add_label(label_from_hf_line(_HF_CODES.sub(" ", section)))


# ============================================================================ DOCX
_W_TEXT = {"t", "delText", "instrText"}


def _docx_parts(z: zipfile.ZipFile, kind: str) -> list[str]:
    return sorted(n for n in z.namelist() if re.match(rf"word/{kind}\d*\.xml$", n))


def _paragraph_text(el: ET.Element) -> str:
    out: list[str] = []
    for x in el.iter():
        lt = local(x.tag)
        if lt == "t" and x.text:
            out.append(x.text)
        elif lt == "tab":
            out.append("\t")
        elif lt in ("br", "cr"):
            out.append(" ")
    return "".join(out)


class _TextFeeder:
    """Collects text lines and feeds them to a text-mode scanner in ~1 MB blocks."""

    def __init__(self, col: Collector, where: str) -> None:
        from .delimited import LineLocator

        self.loc = LineLocator(context="", unit=where)
        self.scanner = BulkScanner(col, ALL_KEYS, self.loc, text_mode=True, areas=True, area_needs_context=True)
        self.buf: list[bytes] = []
        self.size = 0
        self.col = col

    def add(self, line: str) -> None:
        b = line.encode("utf-8", "replace") + b"\n"
        self.buf.append(b)
        self.size += len(b)
        if self.size >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        blk = b"".join(self.buf)
        self.buf, self.size = [], 0
        self.col.check_time()
        self.loc.on_block(blk)
        if not self.scanner.done():
            self.scanner.feed(blk)


def screen_docx(z: zipfile.ZipFile, col: Collector, name: str) -> None:
    if "word/document.xml" not in z.namelist():
        raise Unreadable("the document is damaged (no main document part)")
    office_labels(z, col)
    _screen_headers_footers(z, col)
    body = _DocxBody(col, name)
    try:
        for ev, el in ET.iterparse(member_stream(z, "word/document.xml", col), events=("start", "end")):
            tag = local(el.tag)
            if ev == "start":
                body.start(tag, el)
            else:
                body.end(tag, el)
    except ET.ParseError:
        raise Unreadable("the document is damaged (its text cannot be read)") from None
    body.feeder.flush()
    col.add_label(label_from_lines(body.first_page))


def _screen_headers_footers(z: zipfile.ZipFile, col: Collector) -> None:
    for part in _docx_parts(z, "header") + _docx_parts(z, "footer"):
        data = _read_small(z, part, 4 << 20)
        if not data:
            continue
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            continue
        lines = [_paragraph_text(p) for p in root.iter() if local(p.tag) == "p"]
        for ln in lines:
            col.add_label(label_from_hf_line(ln))
        hf = _TextFeeder(col, "header/footer line")
        for ln in lines:
            hf.add(ln)
        hf.flush()


class _DocxBody:
    """The streamed body of a DOCX: paragraphs go to the text scanner (and the first page's to
    the markings), each top-level table to a table analyser."""

    def __init__(self, col: Collector, name: str) -> None:
        self.col = col
        self.name = name
        self.feeder = _TextFeeder(col, "paragraph")
        self.first_page: list[str] = []
        self.on_first_page = True
        self.depth_tbl = 0
        self.table_rows: list[list[str]] = []
        self.cur_row: list[str] = []
        self.cur_cell: list[str] = []
        self.tables = 0

    def start(self, tag: str, el: ET.Element) -> None:
        if tag == "tbl":
            self.depth_tbl += 1
            if self.depth_tbl == 1:
                self.table_rows = []
        elif tag == "br" and self.on_first_page:
            if next((v for k, v in el.attrib.items() if local(k) == "type"), "") == "page":
                self.on_first_page = False
        elif tag == "lastRenderedPageBreak":
            self.on_first_page = False

    def end(self, tag: str, el: ET.Element) -> None:
        if tag == "p":
            text = _paragraph_text(el)
            if self.depth_tbl:
                self.cur_cell.append(text)
            else:
                self.feeder.add(text)
                if self.on_first_page and len(self.first_page) < 80:
                    self.first_page.append(text)
                if len(self.first_page) >= 80:
                    self.on_first_page = False
            el.clear()
        elif tag == "tc" and self.depth_tbl == 1:
            self.cur_row.append(" ".join(t for t in self.cur_cell if t))
            self.cur_cell = []
            el.clear()
        elif tag == "tr" and self.depth_tbl == 1:
            if len(self.table_rows) < 100_000:
                self.table_rows.append(self.cur_row)
            if len(self.table_rows) > self.col.limits.sample_rows + 30:
                self.feeder.add("\t".join(self.cur_row))
            self.cur_row = []
            el.clear()
        elif tag == "tbl":
            self._end_table(el)
        elif tag == "body":
            el.clear()

    def _end_table(self, el: ET.Element) -> None:
        self.depth_tbl -= 1
        if self.depth_tbl == 0:
            self.tables += 1
            _docx_table(self.table_rows, self.col, self.name, self.tables, self.feeder)
            if self.on_first_page:
                self.first_page.extend(" ".join(r) for r in self.table_rows[:5])
            self.table_rows = []
        el.clear()


def _sample_rows(an: TableAnalyzer, rows: list[list[str]]) -> int:
    """Find the header (and HXL row), classify columns from the rows in memory; returns the first data row."""
    hdr_idx, hxl_idx = find_header(rows)
    an.set_header(rows[hdr_idx] if hdr_idx >= 0 else [], rows[hxl_idx] if hxl_idx is not None else None)
    start = max(hdr_idx, hxl_idx if hxl_idx is not None else -1) + 1
    for r in rows[start:]:
        if not an.add_row(r):
            break
    an.finish_sample()
    if an.risk is not None:
        for r in rows[start:]:
            an.add_risk_row(r)
    return start


def _docx_table(rows: list[list[str]], col: Collector, name: str, n: int, feeder: _TextFeeder) -> None:
    if not rows:
        return
    an = TableAnalyzer(col, context=f" (table {n})", title=name, sample_rows=col.limits.sample_rows)
    start = _sample_rows(an, rows)
    an.finish(len(rows) - start)
    kv = _key_value(rows)
    if kv is not None:  # a form laid out as "label | value" rows: one record, labels as the header
        an2 = TableAnalyzer(col, context=f" (table {n})", title=name, sample_rows=col.limits.sample_rows)
        an2.set_header(kv[0])
        an2.add_row(kv[1])
        an2.finish_sample()
        an2.finish(1)


def _key_value(rows: list[list[str]]) -> tuple[list[str], list[str]] | None:
    """(labels, values) when a table is a key-value form: 2 (or 4, in pairs) columns whose
    label cells are recognised field names (name, age, sex, village, phone ...)."""
    from ..columns import header_roles

    if len(rows) < 3 or len(rows) > 200:
        return None
    width = max(len(r) for r in rows)
    if width not in (2, 4):
        return None
    keys: list[str] = []
    values: list[str] = []
    for r in rows:
        for j in range(0, width, 2):
            k = r[j].strip() if j < len(r) else ""
            v = r[j + 1].strip() if j + 1 < len(r) else ""
            if k and len(k) <= 80:
                keys.append(k.rstrip(":").strip())
                values.append(v)
    known = sum(
        1
        for k in keys
        if header_roles(k)
        & {"name", "name_weak", "age", "sex", "phone", "nid", "dob", "precise", "vulnerable", "disability", "household"}
    )
    if known < 3 or known < 0.3 * len(keys):
        return None
    return keys, values
