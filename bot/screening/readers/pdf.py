"""PDF via pypdf, page by page: metadata Subject/Keywords, markings on the first page and in
each page's first/last lines (headers/footers), and a text-mode scan of every page."""

from __future__ import annotations

import logging
from typing import IO, TYPE_CHECKING

from ..collector import Collector, Encrypted, Unreadable
from ..labels import label_from_hf_line, label_from_lines
from ..levels import parse_level
from .ooxml import _TextFeeder

if TYPE_CHECKING:
    from pypdf import PdfReader

logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def screen_pdf(stream: IO[bytes], col: Collector, name: str, password: str | None) -> None:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            _decrypt(reader, password)
        _metadata_labels(reader, col)
        npages = len(reader.pages)
    except (Encrypted, Unreadable):
        raise
    except FileNotDecryptedError:
        raise Encrypted("the PDF is password protected") from None
    except (
        PdfReadError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
        RecursionError,
        AssertionError,
        ZeroDivisionError,
        NotImplementedError,
        UnicodeError,
    ) as exc:
        raise Unreadable(f"the PDF is damaged or not a PDF ({type(exc).__name__})") from None
    if npages > col.limits.max_pdf_pages:
        raise Unreadable(f"the PDF has {npages} pages, more than the limit of {col.limits.max_pdf_pages}")
    _scan_pages(reader, npages, col)


def _decrypt(reader: PdfReader, password: str | None) -> None:
    ok = 0
    try:
        ok = reader.decrypt("")  # owner-password-only PDFs open with an empty user password
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on odd crypto
        ok = 0
    if not ok:
        if password is None:
            raise Encrypted("the PDF is password protected; send the password with --password")
        try:
            ok = reader.decrypt(password)
        except Exception:  # noqa: BLE001
            ok = 0
        if not ok:
            raise Encrypted("the PDF is password protected and the password given does not open it")


def _metadata_labels(reader: PdfReader, col: Collector) -> None:
    meta = reader.metadata
    if meta is not None:
        for key in ("/Subject", "/Keywords", "/Title", "/Classification", "/Sensitivity"):
            try:
                val = meta.get(key)
            except Exception:  # noqa: BLE001
                val = None
            if val is not None and key in ("/Subject", "/Keywords", "/Classification", "/Sensitivity"):
                col.add_label(parse_level(str(val)[:500]))


def _scan_pages(reader: PdfReader, npages: int, col: Collector) -> None:
    """Markings of the first page and of each page's header/footer lines, and a text-mode scan."""
    feeder = _TextFeeder(col, "page")
    bad = 0
    for i in range(npages):
        col.check_time()
        try:
            text = reader.pages[i].extract_text() or ""
        except Exception:  # noqa: BLE001 - a bad page must not stop the rest
            bad += 1
            text = ""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if i == 0:
            col.add_label(label_from_lines(lines[:80]))
        else:
            for ln in lines[:3] + lines[-3:]:
                col.add_label(label_from_hf_line(ln))
        # one 'line' per page so the locator reports page numbers
        feeder.add(" ".join(lines).replace("\n", " "))
    feeder.flush()
    if npages and bad == npages:
        raise Unreadable("the PDF's text cannot be extracted (damaged pages)")
