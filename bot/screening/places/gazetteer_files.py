"""Reading an operator gazetteer file (CSV/TSV, XLSX/XLS/ODS): header, HXL row and admin columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .admin import _header_tokens, admin_level


class GazetteerError(Exception):
    """The gazetteer file cannot be used; the message is one line naming the path."""


_MAX_GAZ_BYTES = 200 << 20
_MAX_GAZ_ROWS = 1_000_000
_CODE_HDR = frozenset(["pcode", "pcodes", "code", "codes", "id"])
_MM_HDR = frozenset(["mya", "mm", "mmr", "mmr3", "mm3", "my", "burmese", "myanmar", "mmr4", "unicode"])


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _code(v: Any) -> str:
    s = _cell(v)
    return s[:-2] if s.endswith(".0") and s[:-2].isdigit() else s


def _gazetteer_columns(header: list[str], hxl: list[str] | None) -> list[tuple[int, str, int]]:
    """(column index, 'name' | 'code', level) for every admin column."""
    out: list[tuple[int, str, int]] = []
    for i, h in enumerate(header):
        tag = hxl[i] if hxl and i < len(hxl) else ""
        level = admin_level(tag) if tag else None
        if level is None:
            level = admin_level(h)
        if level is None:
            continue
        toks = set(_header_tokens(tag or h))
        if tag:
            kind = "code" if toks & {"code", "pcode", "id"} else "name"
        else:
            kind = "code" if toks & _CODE_HDR or any(t.endswith("pcode") for t in toks) else "name"
        if kind == "name" and (
            "p code" in " ".join(_header_tokens(h)) or toks & {"lat", "long", "lon", "latitude", "longitude"}
        ):
            continue
        out.append((i, kind, level))
    return out


def _is_hxl_row(row: Sequence[Any]) -> bool:
    cells = [_cell(c) for c in row if _cell(c)]
    return bool(cells) and sum(1 for c in cells if c.startswith("#")) >= max(1, len(cells) // 2)


def _pick_header(rows: list[list[Any]]) -> int:
    """Index of the header row among the first rows (MIMU files may start with a title line)."""
    best, best_score = 0, -1
    for i, r in enumerate(rows[:10]):
        score = sum(1 for c in r if _cell(c) and admin_level(_cell(c)) is not None)
        if score > best_score:
            best, best_score = i, score
    return best


def _split_table(
    first: list[list[Any]], rest: Iterator[Sequence[Any]]
) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:
    if not first:
        return [], None, iter(())
    hi = _pick_header(first)
    header = first[hi]
    hxl: list[Any] | None = None
    body_start = hi + 1
    if _is_hxl_row(header):
        hxl, header = header, (first[hi - 1] if hi > 0 else [""] * len(header))
    elif body_start < len(first) and _is_hxl_row(first[body_start]):
        hxl = first[body_start]
        body_start += 1

    def rows() -> Iterator[Sequence[Any]]:
        yield from first[body_start:]
        yield from rest

    return header, hxl, rows()


def _read_text(p: Path, head: bytes) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        if b"\x00" in head:
            raise GazetteerError(f"cannot read gazetteer file {p}: not a CSV or Excel file (binary data)")
        encoding = "utf-8-sig"
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
                encoding = "cp1252"
    sample = head.decode(encoding if encoding != "utf-8-sig" else "utf-8", "ignore")
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    delim = max((",", ";", "\t", "|"), key=first_line.count)
    with open(p, encoding=encoding, errors="replace", newline="") as fh:
        table = list(csv.reader(fh, delimiter=delim))
    return _split_table(table[:10], iter(table[10:]))


def _read_workbook(p: Path) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:
    """First sheet with an admin name column.  python-calamine (a dependency) is used; openpyxl
    only when calamine is missing."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - calamine is a declared dependency
        return _read_openpyxl(p)
    wb = CalamineWorkbook.from_path(str(p))
    best: tuple[int, tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]] | None = None
    for name in wb.sheet_names:  # the sheet with the most admin columns (a notes sheet may say "villages")
        data = wb.get_sheet_by_name(name).to_python(skip_empty_area=True)
        header, hxl, rows = _split_table([list(r) for r in data[:10]], iter(data[10:]))
        cols = _gazetteer_columns([_cell(h) for h in header], [_cell(h) for h in hxl] if hxl else None)
        score = len(cols) + (100 if any(k == "name" and lv >= 4 for _i, k, lv in cols) else 0)
        if best is None or score > best[0]:
            best = (score, (header, hxl, rows))
    if best is None:
        raise GazetteerError(f"cannot read gazetteer file {p}: the workbook has no sheets")
    return best[1]


def _read_openpyxl(p: Path) -> tuple[list[Any], list[Any] | None, Iterator[Sequence[Any]]]:  # pragma: no cover
    import openpyxl

    wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    first = [list(r) for _, r in zip(range(10), it, strict=False)]
    return _split_table(first, it)


def read_text_table(data: str) -> tuple[list[str], list[list[str]]]:
    """Tiny helper for tests: parse CSV text into (header, rows)."""
    rows = list(csv.reader(io.StringIO(data)))
    return (rows[0] if rows else []), rows[1:]
