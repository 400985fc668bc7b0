"""Entry points: screen_bytes / screen_path.  Sniffs the format, runs the right streaming
reader, and turns every failure into a Verdict ('unreadable' or 'encrypted') in plain words.
Pure and synchronous: safe to call from worker threads or processes."""

from __future__ import annotations

import dataclasses
import io
import os
import stat
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .areas import SensitiveAreas
from .collector import Collector, Encrypted, Unreadable
from .labels import label_from_filename
from .levels import max_level, rank
from .model import DEFAULT_LIMITS, Limits, Verdict
from .places import Gazetteer, GazetteerError
from .readers.archive import (
    Budget,
    MemberOpener,
    bad_zip,
    check_zip,
    guard_encryption,
    open_zip,
    safe_name,
)
from .readers.calamine import screen_workbook
from .readers.delimited import screen_delimited, screen_text
from .readers.jsonr import screen_json
from .readers.ooxml import screen_docx, screen_xlsx
from .readers.pdf import screen_pdf
from .readers.textio import looks_binary
from .sanitize import MixedTextStream, clean_text, is_mixed_text, needs_line_decoding

Opener = Callable[[], IO[bytes]]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOC_ANSWER = (
    "old Word documents (.doc, .rtf, .odt) cannot be checked; please open the file in Word or "
    "LibreOffice and save it as .docx (File > Save As > Word Document) or as PDF, then send that"
)
TEXT_EXT = {"txt", "md", "markdown", "text", "log", "jsonl", "ndjson", "rst", "html", "htm", "xml", "srt"}
CSV_EXT = {"csv"}
TSV_EXT = {"tsv", "tab"}
JSON_EXT = {"json", "geojson"}


def _ext(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _head(opener: Opener, n: int = 8192) -> bytes:
    with opener() as fh:
        return fh.read(n)


class _MemberResult:
    def __init__(self, name: str, verdict: Verdict) -> None:
        self.name = name
        self.verdict = verdict


class Screening:
    """One screening run of one top-level file (and its archive members)."""

    def __init__(
        self,
        limits: Limits,
        areas: SensitiveAreas | None,
        password: str | None,
        given_label: str | None,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self.limits = limits
        self.areas = areas
        self.gazetteer = gazetteer
        self.password = password
        self.given_label = given_label
        self.budget = Budget()
        self.deadline = time.monotonic() + limits.max_seconds

    # ---------------------------------------------------------------- dispatch
    def screen(self, opener: Opener, name: str, col: Collector, depth: int, size: int | None) -> list[_MemberResult]:
        if size is not None and size > self.limits.max_file_size:
            raise Unreadable(f"the file is larger than the size limit ({self.limits.max_file_size // (1 << 20)} MB)")
        head = _head(opener)
        ext = _ext(name)
        if not head:
            return []
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
            return self._zip_container(self._random_access(opener), name, col, depth)
        if head.lstrip()[:1024].find(b"%PDF") >= 0 and head.find(b"%PDF") < 1024:
            with self._random_access(opener)() as fh:
                screen_pdf(fh, col, name, self.password)
            return []
        if head.startswith(OLE_MAGIC):
            kind, decrypted = self._ole(opener, ext)
            if kind == "xls":
                screen_workbook(self._read_all(opener), col, name, "xls")
                return []
            return self.screen(lambda: io.BytesIO(decrypted), name, col, depth, len(decrypted))
        if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh")):
            raise Unreadable("only .zip archives are supported (this is a gzip/7z/rar/bz2 archive)")
        if ext in ("xlsx", "xlsm", "docx", "docm", "zip", "pdf", "ods", "xlsb", "odt"):
            raise Unreadable(f"the file is damaged: it is named .{ext} but is not a real .{ext} file")
        if ext in ("ppt", "pptx", "odp"):
            raise Unreadable(f".{ext} files are not supported; please send .xlsx, .docx, .csv or .pdf")
        if ext in ("doc", "dot", "rtf") or head.startswith(b"{\\rtf"):
            raise Unreadable(DOC_ANSWER)
        # a .xls that is not an OLE file: web exports are often HTML or TSV, read as text below
        if ext in JSON_EXT or (ext not in CSV_EXT | TSV_EXT | TEXT_EXT and head.lstrip()[:1] in (b"{", b"[")):
            screen_json(opener, col, name)
            return []
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            pass  # UTF-16 with a BOM: the readers transcode it
        elif looks_binary(head) or needs_line_decoding(head):
            # lines in mixed encodings (UTF-8, cp1252/latin-1, UTF-16LE) or wrapped in terminal escapes
            if not is_mixed_text(head):
                raise Unreadable("unsupported file type (not text, not a supported document)")
            raw_opener = opener

            def opener() -> IO[bytes]:
                return MixedTextStream(raw_opener())  # type: ignore[return-value]

        with opener() as fh:
            if ext in CSV_EXT:
                screen_delimited(fh, col, name, delimiter=",")
            elif ext in TSV_EXT:
                screen_delimited(fh, col, name, delimiter="\t")
            else:
                screen_text(fh, col, name)
        return []

    def _read_all(self, opener: Opener) -> bytes:
        cap = self.limits.max_file_size
        with opener() as fh:
            data = fh.read(cap + 1)
        if len(data) > cap:
            raise Unreadable(f"the file is larger than the size limit ({cap // (1 << 20)} MB)")
        return data

    def _random_access(self, opener: Opener) -> Opener:
        """Formats read by seeking (zip, PDF) get an in-memory copy when they are an archive
        member: seeking backwards in a deflated member re-inflates it from the start, which made a
        zip inside a zip quadratic.  The copy is bounded by the member size limits."""
        if not isinstance(opener, MemberOpener):
            return opener
        data = self._read_all(opener)
        return lambda: io.BytesIO(data)

    def _decrypt_office(self, opener: Opener) -> bytes:
        """Decrypt an Office 2007+ file in memory (msoffcrypto); the plaintext never touches disk."""
        import msoffcrypto
        from msoffcrypto.exceptions import DecryptionError, InvalidKeyError

        assert self.password is not None
        out = io.BytesIO()
        try:
            with opener() as fh:
                office = msoffcrypto.OfficeFile(fh)
                office.load_key(password=self.password)
                office.decrypt(out)
        except (InvalidKeyError, DecryptionError):
            raise Encrypted("the password did not open the Office file") from None
        except Exception as exc:  # noqa: BLE001 - msoffcrypto raises many kinds on damaged input
            raise Unreadable(f"the encrypted Office file is damaged ({type(exc).__name__})") from None
        if out.tell() > self.limits.max_file_size:
            raise Unreadable("the decrypted file is larger than the size limit")
        return out.getvalue()

    def _ole(self, opener: Opener, ext: str) -> tuple[str, bytes]:
        """Old binary Office (.xls is read, .doc gets an answer), or an encrypted Office 2007+
        file (OLE with an EncryptionInfo stream): ('decrypted', bytes) or ('xls', b'')."""
        enc_marks = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
        xls_marks = ("Workbook\0".encode("utf-16-le"), "Book\0".encode("utf-16-le"))
        doc_marks = ("WordDocument".encode("utf-16-le"),)
        found = ""
        xls = doc = False
        with opener() as fh:
            tail = b""
            read = 0
            while read < self.limits.max_file_size:
                self.budget_check()
                blk = fh.read(1 << 20)
                if not blk:
                    break
                read += len(blk)
                data = tail + blk
                if any(m in data for m in enc_marks):
                    found = "encrypted"
                    break
                xls = xls or any(m in data for m in xls_marks)
                doc = doc or any(m in data for m in doc_marks)
                tail = data[-64:]
        if found:
            if self.password is None:
                raise Encrypted("the Office file is password protected")
            return "decrypted", self._decrypt_office(opener)
        if doc or ext in ("doc", "dot"):
            raise Unreadable(DOC_ANSWER)
        if xls or ext in ("xls", "xlt"):
            return "xls", b""
        raise Unreadable(
            "old binary Office files (.ppt and others) are not supported; please save as .xlsx, .docx or PDF"
        )

    def budget_check(self) -> None:
        if time.monotonic() > self.deadline:
            raise Unreadable("the file took too long to check (time limit reached); please send a smaller file")

    def _zip_container(self, opener: Opener, name: str, col: Collector, depth: int) -> list[_MemberResult]:
        if depth > self.limits.max_depth:
            raise Unreadable(f"archives are nested deeper than the limit ({self.limits.max_depth})")
        with opener() as fh:
            z = open_zip(fh)
            with z:
                infos = check_zip(z, col, self.budget)
                names = {i.filename for i in infos}
                if "xl/workbook.xml" in names or "word/document.xml" in names:
                    if any(i.flag_bits & 1 for i in infos):
                        raise Unreadable("the Office file is damaged (encrypted parts)")
                    try:
                        if "xl/workbook.xml" in names:
                            screen_xlsx(z, col, name)
                        else:
                            screen_docx(z, col, name)
                    except bad_zip() + (EOFError,) as exc:
                        raise Unreadable(f"the file is damaged ({type(exc).__name__})") from None
                    return []
                if "xl/workbook.bin" in names:
                    screen_workbook(self._read_all(opener), col, name, "xlsb")
                    return []
                if "mimetype" in names:
                    mime = z.read("mimetype")[:200] if z.getinfo("mimetype").file_size < 200 else b""
                    if mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                        screen_workbook(self._read_all(opener), col, name, "ods")
                        return []
                    if mime.startswith(b"application/vnd.oasis.opendocument.text"):
                        raise Unreadable(DOC_ANSWER)
                if "mimetype" in names or any(n.startswith("ppt/") for n in names):
                    raise Unreadable("this document format is not supported; please send .xlsx, .docx, .csv or .pdf")
                return self._archive(z, infos, name, col, depth)

    def _archive(
        self, z: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str, col: Collector, depth: int
    ) -> list[_MemberResult]:
        pwd = guard_encryption(infos, self.password)
        results: list[_MemberResult] = []
        outer = max_level(col.label, self.given_label, label_from_filename(name))
        for info in infos:
            if (
                info.is_dir()
                or info.filename.rsplit("/", 1)[-1].lower() in (".ds_store", "thumbs.db", "desktop.ini")
                or info.filename.startswith("__MACOSX/")
            ):
                continue
            col.check_time()
            mname = safe_name(info.filename)
            child = Collector(
                self.limits,
                self.areas,
                gazetteer=self.gazetteer,
                prefix=f"{col.prefix}member {mname}: ",
                deadline=self.deadline,
            )
            child.add_label(label_from_filename(mname))
            opener = MemberOpener(z, info, child, self.budget, pwd)
            try:
                sub = self.screen(opener, mname, child, depth + 1, info.file_size)
                v = _final(child, mname, outer, sub)
            except Encrypted as exc:
                v = Verdict(mname, "encrypted", None, None, error=f"{mname}: {exc}")
            except Unreadable as exc:
                v = Verdict(mname, "unreadable", None, None, error=f"{mname}: {exc}")
            except RuntimeError as exc:  # zipfile: bad password etc.
                msg = "wrong password" if "password" in str(exc).lower() else "cannot be read"
                v = Verdict(
                    mname,
                    "encrypted" if "password" in str(exc).lower() else "unreadable",
                    None,
                    None,
                    error=f"{mname}: {msg}",
                )
            except bad_zip() + (EOFError, OSError, ValueError, KeyError, IndexError) as exc:
                v = Verdict(mname, "unreadable", None, None, error=f"{mname}: damaged ({type(exc).__name__})")
            col.merge(child)
            results.append(_MemberResult(mname, v))
        return results


def _final(col: Collector, path: str, given: str | None, members: list[_MemberResult]) -> Verdict:
    """Verdict for a file; for archives, fold in the members' verdicts."""
    base = col.verdict(path, given)
    if not members:
        return base
    verdicts = [m.verdict for m in members]
    errors = [v.error for v in verdicts if v.error]
    if any(v.verdict == "unlabelled_sensitive" for v in verdicts):
        kind = "unlabelled_sensitive"
    elif any(v.verdict == "encrypted" for v in verdicts):
        kind = "encrypted"
    elif any(v.verdict == "unreadable" for v in verdicts):
        kind = "unreadable"
    else:
        kind = base.verdict
        if rank(base.required_level) >= rank("confidential"):
            kind = "labelled"
    sens = [v for v in verdicts if v.required_level and rank(v.required_level) >= rank("confidential")]
    label = base.label
    if label is None and sens:
        labels = [v.label for v in sens]
        label = None if any(lb is None for lb in labels) else min(labels, key=rank)
    elif label is None:
        label = max_level(*(v.label for v in verdicts))
    return Verdict(
        path=path,
        verdict=kind,
        required_level=base.required_level,
        label=label,
        categories=base.categories,
        findings=base.findings,
        risk=base.risk,
        error="; ".join(e for e in errors if e)[:500] or None if kind in ("encrypted", "unreadable") else None,
    )


def _gazetteer(gazetteer: Gazetteer | str | None) -> Gazetteer | None:
    """A path is loaded once per process; `run` checked the file at start, so a file gone since
    leaves screening without it rather than failing every submission."""
    if not isinstance(gazetteer, str):
        return gazetteer
    try:
        return Gazetteer.cached(gazetteer)
    except GazetteerError:
        return None


def _run(
    opener: Opener,
    path: str,
    name: str,
    size: int | None,
    *,
    label: str | None,
    sensitive_areas: SensitiveAreas | None,
    password: str | None,
    limits: Limits,
    gazetteer: Gazetteer | str | None = None,
) -> Verdict:
    gazetteer = _gazetteer(gazetteer)
    v = _run_raw(
        opener,
        clean_text(path),
        name,
        size,
        label=label,
        sensitive_areas=sensitive_areas,
        gazetteer=gazetteer,
        password=password,
        limits=limits,
    )
    if v.error and clean_text(v.error) != v.error:
        v = dataclasses.replace(v, error=clean_text(v.error))
    return v


def _run_raw(
    opener: Opener,
    path: str,
    name: str,
    size: int | None,
    *,
    label: str | None,
    sensitive_areas: SensitiveAreas | None,
    password: str | None,
    limits: Limits,
    gazetteer: Gazetteer | None = None,
) -> Verdict:
    given = label if label in ("public", "restricted", "confidential", "highly_confidential") else None
    if label is not None and given is None:
        from .levels import parse_level

        given = parse_level(label)
    given = max_level(given, label_from_filename(name))
    run = Screening(limits, sensitive_areas, password, given, gazetteer)
    col = Collector(limits, sensitive_areas, deadline=run.deadline, gazetteer=gazetteer)
    try:
        members = run.screen(opener, name, col, 0, size)
        return _final(col, path, given, members)
    except Encrypted as exc:
        return Verdict(path, "encrypted", None, given, error=str(exc))
    except Unreadable as exc:
        return Verdict(path, "unreadable", None, given, error=str(exc))
    except RuntimeError as exc:
        if "password" in str(exc).lower() or "encrypted" in str(exc).lower():
            return Verdict(path, "encrypted", None, given, error="the file is password protected (wrong password?)")
        return Verdict(path, "unreadable", None, given, error=f"the file could not be read ({type(exc).__name__})")
    except FileNotFoundError:
        return Verdict(path, "unreadable", None, given, error="the file does not exist")
    except PermissionError:
        return Verdict(path, "unreadable", None, given, error="the file cannot be opened (permission denied)")
    except IsADirectoryError:
        return Verdict(path, "unreadable", None, given, error="this is a folder, not a file")
    except MemoryError:
        return Verdict(path, "unreadable", None, given, error="the file needs too much memory to check")
    except RecursionError:
        return Verdict(path, "unreadable", None, given, error="the file is nested too deeply to check")
    except bad_zip():
        return Verdict(path, "unreadable", None, given, error="the file is damaged (bad zip structure)")
    except Exception as exc:  # noqa: BLE001 - never a traceback, on any input
        return Verdict(
            path,
            "unreadable",
            None,
            given,
            error=f"the file could not be read (damaged or unsupported: {type(exc).__name__})",
        )


def screen_bytes(
    data: bytes,
    filename: str,
    *,
    label: str | None = None,
    sensitive_areas: SensitiveAreas | None = None,
    password: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    gazetteer: Gazetteer | str | None = None,
) -> Verdict:
    """Screen an in-memory file.  Never raises.  ``gazetteer`` may be a path (loaded once per
    process: what worker processes are given)."""
    return _run(
        lambda: io.BytesIO(data),
        filename,
        filename,
        len(data),
        label=label,
        sensitive_areas=sensitive_areas,
        password=password,
        limits=limits,
        gazetteer=gazetteer,
    )


def screen_path(
    path: Path | str,
    *,
    label: str | None = None,
    sensitive_areas: SensitiveAreas | None = None,
    password: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    gazetteer: Gazetteer | str | None = None,
) -> Verdict:
    """Screen a file on disk, streaming (memory does not grow with file size).  Never raises."""
    p = str(path)
    try:
        st = os.stat(p)
        size: int | None = st.st_size
    except OSError:
        st = None
        size = None
    if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        return Verdict(clean_text(p), "unreadable", None, None, error=NOT_REGULAR + f" ({_kind(st.st_mode)})")
    return _run(
        lambda: _open_regular(p),
        p,
        os.path.basename(p),
        size,
        label=label,
        sensitive_areas=sensitive_areas,
        password=password,
        limits=limits,
        gazetteer=gazetteer,
    )


NOT_REGULAR = "not a regular file, refused"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO / named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def is_regular_or_dir(path: str) -> bool:
    """False for FIFOs, devices and sockets (stat does not block on them, open would)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return True  # missing: reported as such by screen_path
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def _open_regular(p: str) -> IO[bytes]:
    """Open without blocking and check again on the descriptor (the path may have been swapped
    for a FIFO after the stat)."""
    if os.path.isdir(p):
        raise IsADirectoryError(p)
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Unreadable(NOT_REGULAR + f" ({_kind(mode)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
