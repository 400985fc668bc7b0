"""Legacy and open spreadsheet formats (.xls, .ods, .xlsb via python-calamine), .doc/.odt
answers, and the dependency floors.  Test files are built here."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from bot.screening import screen_bytes

ROWS = [
    ["Name", "Phone", "Village"],
    ["Daw Hla Hla Win", "09791234567", "Kyauk Taw"],
    ["U Kyaw Min", "09450012345", "Ah Lel"],
    ["Daw Mya", "09420099887", "Bhamo"],
]


def make_xls(rows: list[list[object]], sheet: str = "List") -> bytes:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, val in enumerate(row):
            ws.write(r, c, val)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_ods(sheets: list[tuple[str, list[list[str]]]]) -> bytes:
    """A minimal, valid OpenDocument spreadsheet (mimetype first and stored, content.xml, manifest)."""

    def cell(v: str) -> str:
        v = v.replace("&", "&amp;").replace("<", "&lt;")
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    tables = "".join(
        f'<table:table table:name="{name}">'
        + "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
        + "</table:table>"
        for name, rows in sheets
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def test_xls_is_read() -> None:
    v = screen_bytes(make_xls(ROWS), "list.xls")
    assert v.verdict == "unlabelled_sensitive", v
    assert {"phone_number", "person_name"} <= set(v.categories)
    assert any("List" in f.where for f in v.findings)


def test_xls_numbers_and_labels() -> None:
    rows: list[list[object]] = [["Highly Confidential"], ["Name", "Phone"], ["Daw Hla", 9791234567.0]]
    v = screen_bytes(make_xls(rows), "x.xls")
    assert v.label == "highly_confidential" and v.verdict == "labelled", v
    clear = screen_bytes(make_xls([["Township", "Schools"], ["Hpakant", 12], ["Bhamo", 7]]), "3w.xls")
    assert clear.verdict == "clear", clear


def test_ods_is_read() -> None:
    data = make_ods([("Summary", [["Township", "Schools"], ["Bhamo", "7"]]), ("Contacts", ROWS)])
    v = screen_bytes(data, "list.ods")
    assert v.verdict == "unlabelled_sensitive", v
    assert "phone_number" in v.categories
    assert any("Contacts" in f.where for f in v.findings)


def test_xls_and_ods_inside_a_zip() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.xls", make_xls(ROWS))
        z.writestr("b.ods", make_ods([("S", ROWS)]))
    v = screen_bytes(buf.getvalue(), "both.zip")
    assert v.verdict == "unlabelled_sensitive", v
    assert {f.where.split(":")[0] for f in v.findings} >= {"member a.xls", "member b.ods"}


def test_damaged_xls_is_unreadable_in_plain_words() -> None:
    data = make_xls(ROWS)
    v = screen_bytes(data[:1500], "cut.xls")
    assert v.verdict == "unreadable" and v.error and "Traceback" not in v.error


def test_doc_and_odt_get_a_clear_answer() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "WordDocument".encode("utf-16-le") + b"\0" * 100
    for data, name in ((ole, "report.doc"), (b"{\\rtf1 hello}", "report.doc")):
        v = screen_bytes(data, name)
        assert v.verdict == "unreadable", v
        assert ".docx" in (v.error or "") and "PDF" in (v.error or ""), v.error
        assert "unsupported file type" not in (v.error or "")
    odt = io.BytesIO()
    with zipfile.ZipFile(odt, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<x/>")
    v = screen_bytes(odt.getvalue(), "r.odt")
    assert v.verdict == "unreadable" and ".docx" in (v.error or "") and "PDF" in (v.error or ""), v


def test_dependency_floors() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'"pypdf>=6\.1\.3', text), "pypdf floor must exclude the FlateDecode bomb versions"
    assert re.search(r'"cryptography>=42\.0\.4', text)
    assert re.search(r'"python-calamine>=', text)
    from importlib.metadata import version

    def tup(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v)[:3])

    assert tup(version("pypdf")) >= (6, 1, 3)
    assert tup(version("cryptography")) >= (42, 0, 4)
