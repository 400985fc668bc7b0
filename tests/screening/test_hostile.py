"""Hostile and odd inputs: mixed encodings, terminal escapes, non-regular paths, pathological
XLSX rows and nested archives.  Each test failed before the fix it covers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bounded import run_bounded

from bot.screening import Limits, screen_bytes, screen_path

ROOT = Path(__file__).resolve().parents[2]
CONTROL = [chr(c) for c in list(range(9)) + list(range(11, 32)) + list(range(0x7F, 0xA0))]


def _no_controls(text: str) -> None:
    bad = [c for c in CONTROL if c in text]
    assert not bad, f"control characters echoed back: {bad!r}"


def _count(v, category: str) -> int:  # type: ignore[no-untyped-def]
    return sum(f.count for f in v.findings if f.category == category)


# ------------------------------------------------------------------ 1. encodings and escapes
def mixed_csv() -> bytes:
    return (
        b"Name,Phone,Village\n"
        + b"Daw Hla Hla Win,09791234567,Kyauk Taw\n"
        + "José Müller,09450012345,Ah Lel\n".encode()
        + "Renée \u201cSmith\u201d,09250123456,Nam Hkam\n".encode("cp1252")
        + "Zoë Ñúñez,09420012345,Lonkin\n".encode("latin-1")
        + "U Kyaw Min,09420054321,Myitkyina\r\n".encode("utf-16-le")
        + "Daw Mya,09420099887,Bhamo\r\n".encode("utf-16-le")
        + b"U Ba,09791112223,Waingmaw\n"
    )


def test_mixed_encoding_csv_is_read() -> None:
    v = screen_bytes(mixed_csv(), "mixed.csv")
    assert v.verdict == "unlabelled_sensitive", v
    assert {"phone_number", "person_name"} <= set(v.categories)
    assert _count(v, "phone_number") >= 7  # the UTF-16LE and cp1252 lines were read too
    _no_controls(json.dumps(v.to_json(), ensure_ascii=False))


def ansi_text() -> bytes:
    lines = []
    for i in range(20):
        lines.append(f"\x1b[1;3{i % 8}mStatus update {i}\x1b[0m \x1b]0;title {i}\x07 all fine\x1b[K")
    lines.append("\x1b[31mCall Daw Hla Hla Win on 09 250 123 456 \x1b[2J\x1b[H\x9b31m\x1b[0m")
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_text_with_terminal_escapes_is_read_and_escapes_not_echoed() -> None:
    v = screen_bytes(ansi_text(), "notes.txt")
    assert v.verdict == "unlabelled_sensitive", v
    assert "phone_number" in v.categories
    _no_controls(json.dumps(v.to_json(), ensure_ascii=False))


def test_escape_sequences_stripped_from_file_and_member_names() -> None:
    data = b"Name,Phone\nDaw Hla,09250123456\n"
    v = screen_bytes(data, "list\x1b[2J\x1b]0;owned\x07\u202e.csv")
    _no_controls(json.dumps(v.to_json(), ensure_ascii=False))
    assert "[2J" not in v.path and "\u202e" not in v.path
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a\x1b[31mred\x1b[0m.csv", data)
        z.writestr("b\x1b[2J.pdf", b"not a pdf")
    v = screen_bytes(buf.getvalue(), "x.zip")
    text = json.dumps(v.to_json(), ensure_ascii=False)
    _no_controls(text)
    assert "[31m" not in text and "[2J" not in text


def test_binary_is_still_refused() -> None:
    for data in (b"\x00\x01\x02" * 100, bytes(range(256)) * 8):
        assert screen_bytes(data, "x.bin").verdict == "unreadable"
        assert screen_bytes(data, "x.csv").verdict == "unreadable"


# ------------------------------------------------------------------ 2. non-regular paths
def _cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.screening.cli", "screen", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_cli_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    try:
        r = _cli("--json", str(fifo))
    except subprocess.TimeoutExpired:
        pytest.fail("clusterbot screen hung on a FIFO")
    assert r.returncode == 2, r
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out["verdict"] == "unreadable" and "not a regular file" in out["error"]
    v, elapsed = run_bounded(lambda: screen_path(fifo), 20)
    assert v.verdict == "unreadable" and elapsed < 10


def test_cli_refuses_a_device() -> None:
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    r = _cli("--json", "/dev/null")
    assert r.returncode == 2, r
    assert json.loads(r.stdout.splitlines()[0])["verdict"] == "unreadable"
    # a regular file next to it is still screened; the exit status reports the bad path
    assert screen_path("/dev/null").verdict == "unreadable"


# ------------------------------------------------------------------ 3. XLSX without r= attributes
def _xlsx_one_wide_row(cells: int) -> bytes:
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    row = "".join(f"<c><v>{i}</v></c>" for i in range(cells))
    sheet = f'<?xml version="1.0"?><worksheet {ns}><sheetData><row>{row}</row></sheetData></worksheet>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {ns} {rns}><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


WIDE = None


def _wide() -> bytes:
    global WIDE
    if WIDE is None:
        WIDE = _xlsx_one_wide_row(400_000)
    return WIDE


def test_xlsx_wide_row_without_refs_is_linear() -> None:
    data = _wide()
    v, elapsed = run_bounded(lambda: screen_bytes(data, "wide.xlsx"), 20)
    assert v.verdict in ("clear", "labelled", "unlabelled_sensitive"), v
    assert elapsed < 20


def test_xlsx_reading_loop_honours_max_seconds() -> None:
    data = _wide()
    lim = Limits(max_seconds=0.3)
    from bot.screening.readers import ooxml

    # make every cell slow so the deadline passes inside the row, not between sheets
    def slow_row() -> object:
        real = ooxml.local

        def local(tag: str) -> str:
            for _ in range(200):
                pass
            return real(tag)

        ooxml.local = local
        return screen_bytes(data, "wide.xlsx", limits=lim)

    v, elapsed = run_bounded(slow_row, 20)
    assert v.verdict == "unreadable" and "too long" in (v.error or ""), v
    assert elapsed < 10


# ------------------------------------------------------------------ 4. nested archives
def _nested_zip(members: int) -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as z:
        for i in range(members):
            z.writestr(f"dir/report_{i:05d}.txt", f"weekly update {i}: distribution completed\n")
        z.writestr("dir/zz_contacts.csv", "Name,Phone\nDaw Hla Hla Win,09791234567\nU Ba,09450012345\n")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner.zip", inner.getvalue())
    return outer.getvalue()


def test_inner_zip_in_deflated_zip_is_not_quadratic() -> None:
    data = _nested_zip(4000)
    v, elapsed = run_bounded(lambda: screen_bytes(data, "outer.zip"), 20)
    assert v.verdict == "unlabelled_sensitive", v
    assert "phone_number" in v.categories
    assert elapsed < 20


def test_archive_loop_honours_max_seconds() -> None:
    data = _nested_zip(4000)
    v, elapsed = run_bounded(lambda: screen_bytes(data, "outer.zip", limits=Limits(max_seconds=0.2)), 20)
    assert v.verdict == "unreadable" and "too long" in (v.error or ""), v
    assert elapsed < 10
