"""Legacy and open spreadsheets (.xls, .xlsb, .ods) through python-calamine (Rust, read-only).

calamine reads a whole sheet at once, so the input is held in memory (it is already bounded
by the size limits); each sheet is turned into CSV text, row by row with deadline checks and
a size cap, and screened by the same code as a .csv (column classification on the first rows,
then a bulk scan)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from ..collector import Collector, Unreadable
from .delimited import screen_delimited


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return str(v).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def _encrypted(data: bytes, kind: str) -> bool:
    """calamine says only "cannot detect file format" for a password-protected Excel 97 file
    (RC4 / XOR obfuscation) or ODS (manifest encryption-data): look for the marks ourselves."""
    try:
        if kind == "ods":
            import zipfile

            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return b"encryption-data" in z.read("META-INF/manifest.xml")[: 1 << 20]
        import msoffcrypto

        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # noqa: BLE001 - a damaged file is simply not known to be encrypted
        return False


def screen_workbook(data: bytes, col: Collector, name: str, kind: str) -> None:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise Unreadable(f".{kind} files cannot be checked on this server; please save as .xlsx or .csv") from None
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(wb.sheet_names)
    except Exception as exc:  # noqa: BLE001 - calamine raises its own and std errors on damaged input
        if "password" in str(exc).lower() or type(exc).__name__ == "PasswordError" or _encrypted(data, kind):
            from ..collector import Encrypted

            raise Encrypted(
                f"the .{kind} file is password protected; please remove the password or send .xlsx"
            ) from None
        raise Unreadable(f"the spreadsheet is damaged or cannot be read (.{kind})") from None
    if not names:
        raise Unreadable("the spreadsheet has no sheets")
    budget = max(col.limits.max_file_size * 2, 1 << 20)  # CSV text over all sheets
    used = 0
    for sheet_name in names[:200]:
        col.check_time()
        try:
            sheet = wb.get_sheet_by_name(sheet_name)
            rows = sheet.iter_rows()
        except Exception:  # noqa: BLE001, S112 - e.g. chart sheets
            continue
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        try:
            for i, row in enumerate(rows):
                if i % 1000 == 0:
                    col.check_time()
                    if used + buf.tell() > budget:
                        raise Unreadable("the spreadsheet is too large to check once unpacked")
                w.writerow([_cell(v) for v in row])
        except Unreadable:
            raise
        except Exception:  # noqa: BLE001
            raise Unreadable(f"the spreadsheet is damaged (sheet {sheet_name[:40]} cannot be read)") from None
        text = buf.getvalue()
        used += len(text)
        if not text.strip():
            continue
        screen_delimited(
            io.BytesIO(text.encode("utf-8")),
            col,
            name,
            delimiter=",",
            context=f" (sheet {sheet_name[:40]})",
            text_fallback=False,
        )
