"""Writing the copy made by :mod:`.pseudonymise`: minimal XLSX and DOCX packages (standard
library only: inline strings, no styles, no properties, fixed ZIP timestamps), CSV/TSV, JSON
records and plain text lines."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from xml.sax.saxutils import escape

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?")


def _x(text: str) -> str:
    return escape(_XML_BAD.sub("", text))


def _col_letters(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _zip(parts: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # no timestamp leaks, stable output
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _sheet_names(sheets: list[tuple[str, list[list[str]]]]) -> list[str]:
    """Valid, distinct sheet names (at most 31 characters, none of []:*?/\\')."""
    names: list[str] = []
    for n, (title, _rows) in enumerate(sheets or [("Sheet1", [])], 1):
        t = re.sub(r"[\[\]:*?/\\']", " ", _XML_BAD.sub("", title)).strip()[:31] or f"Sheet{n}"
        while t.casefold() in (x.casefold() for x in names):
            t = f"{t[:27]} ({n})"
        names.append(t)
    return names


def _sheet_xml(rows: list[list[str]]) -> str:
    xml_rows = []
    for ri, row in enumerate(rows, 1):
        cells = []
        for ci, v in enumerate(row):
            if v == "":
                continue
            ref = f"{_col_letters(ci)}{ri}"
            if _NUMBER.fullmatch(v) and not (len(v) > 1 and v.lstrip("-").startswith("0") and "." not in v):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_x(v)}</t></is></c>')
        xml_rows.append(f'<row r="{ri}">{"".join(cells)}</row>')
    return (
        _XML_HEAD + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(xml_rows)}</sheetData></worksheet>"
    )


def write_xlsx(sheets: list[tuple[str, list[list[str]]]]) -> bytes:
    """A minimal valid workbook: one worksheet per sheet, inline strings, numbers as numbers."""
    names = _sheet_names(sheets)
    parts: dict[str, str] = {}
    overrides = []
    for n, (_title, rows) in enumerate(sheets or [("Sheet1", [])], 1):
        parts[f"xl/worksheets/sheet{n}.xml"] = _sheet_xml(rows)
        overrides.append(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        )
    parts["xl/workbook.xml"] = (
        _XML_HEAD + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_REL_NS}"><sheets>'
        + "".join(f'<sheet name="{_x(t)}" sheetId="{n}" r:id="rId{n}"/>' for n, t in enumerate(names, 1))
        + "</sheets></workbook>"
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        _XML_HEAD
        + f'<Relationships xmlns="{_PKG_RELS}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(names) + 1)
        )
        + "</Relationships>"
    )
    parts["_rels/.rels"] = (
        _XML_HEAD + f'<Relationships xmlns="{_PKG_RELS}"><Relationship Id="rId1" '
        f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    parts["[Content_Types].xml"] = (
        _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' + "".join(overrides) + "</Types>"
    )
    return _zip(
        {k: parts[k] for k in ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")}
        | {k: v for k, v in parts.items() if k.startswith("xl/worksheets/")}
    )


def write_docx(body: list[tuple[str, object]]) -> bytes:
    """A minimal valid document: paragraphs and simple tables, no styles, no properties."""
    W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def para(text: str) -> str:
        return f'<w:p><w:r><w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>' if text else "<w:p/>"

    xml: list[str] = []
    for kind, item in body:
        if kind == "p":
            xml.append(para(str(item)))
        else:
            rows = item if isinstance(item, list) else []
            width = max((len(r) for r in rows), default=0)
            if not width:
                continue
            xml.append(
                '<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>'
                + "<w:gridCol/>" * width
                + "</w:tblGrid>"
                + "".join(
                    "<w:tr>"
                    + "".join(f"<w:tc>{para(r[i] if i < len(r) else '')}</w:tc>" for i in range(width))
                    + "</w:tr>"
                    for r in rows
                )
                + "</w:tbl>"
            )
            xml.append("<w:p/>")  # Word requires a paragraph after a table at the end of a cell/body
    document = _XML_HEAD + f'<w:document xmlns:w="{W}"><w:body>{"".join(xml)}<w:sectPr/></w:body></w:document>'
    return _zip(
        {
            "[Content_Types].xml": _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            "_rels/.rels": _XML_HEAD + f'<Relationships xmlns="{_PKG_RELS}"><Relationship Id="rId1" '
            f'Type="{_REL_NS}/officeDocument" Target="word/document.xml"/></Relationships>',
            "word/document.xml": document,
        }
    )


def _delimited(rows: list[list[str]], delimiter: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _json_records(rows: list[list[str]]) -> bytes:
    if not rows:
        return b"[]\n"
    header = rows[0]
    recs = [{h or f"column {i + 1}": (r[i] if i < len(r) else "") for i, h in enumerate(header)} for r in rows[1:]]
    return (json.dumps(recs, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _doc_lines(body: list[tuple[str, object]]) -> list[str]:
    lines: list[str] = []
    for kind, item in body:
        if kind == "p":
            lines.append(str(item))
        elif isinstance(item, list):
            lines.extend("\t".join(r) for r in item)
    return lines
