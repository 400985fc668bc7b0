"""An independent evaluation corpus for the screening engine, modelled on files partners of
the Myanmar response actually send (written without looking at fixtures.py).

Each FieldCase carries its ground truth: the level its content truly requires, the label
that was placed (file name, a row above the table, a DOCX header, an MSIP label, PDF
metadata ...), the categories that *must* be reported, and the sensitive-areas list in force.

Decisions documented here (they are judgement calls, not contract text):
* A township-level aggregated table that carries township *centroid* coordinates (one point per
  admin-3 P-code) is treated as clear: the point identifies nothing finer than the township the
  row already names.  Coordinates of villages, sites or households are precise locations.
* Staff focal points of organisations are persons: a contact sheet with their names and
  personal e-mails is highly confidential; one with only role addresses (info@, cluster.coord@)
  and organisation names is clear.
* Camp-level population tables (one row per IDP camp) are confidential (camp = precise location)
  even though figures are aggregated.

Files are built with hand-written OOXML/PDF writers (and openpyxl, as many partner tools use
it) so that layout varies the way real exports vary: title rows, HXL rows after titles, Kobo
group paths, numeric phone cells with the leading 0 lost, Burmese and Zawgyi headers,
UTF-16 text, semicolon CSV, key-value incident forms in DOCX, case lists in PDF, ZIPs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import uuid
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

import phonenumbers

from bot.screening import SensitiveAreas
from bot.screening.levels import rank

HC = "highly_confidential"
C = "confidential"
P = "public"

# --------------------------------------------------------------------------- pools
MALE = [
    "Aung Aung",
    "Kyaw Zin Htet",
    "Zaw Min Oo",
    "Thiha",
    "Min Khant",
    "Htet Naing",
    "Ye Yint Aung",
    "Soe Moe",
    "Tun Tun",
    "Myo Min Thu",
    "Pyae Phyo",
    "Sithu Kyaw",
    "Kaung Myat",
    "Wai Yan Lin",
    "Nay Lin",
    "Hein Htet",
    "Zarni",
    "Thura Aung",
    "Ko Ko Naing",
    "Myat Min",
]
FEMALE = [
    "Hnin Wai",
    "Su Myat Noe",
    "Thida",
    "Khin Mar",
    "Ei Ei Phyo",
    "Nilar Win",
    "Thandar Aye",
    "May Thu",
    "Yadanar",
    "Zin Mar Oo",
    "Aye Aye Khaing",
    "Nandar Hlaing",
    "Phyu Phyu",
    "Thet Htar Swe",
    "Moe Moe",
    "Cho Cho",
    "Hla Hla Win",
    "Khin Khin Aye",
    "Sandar",
    "Wint Yamin",
]
ETHNIC = [
    "Lahpai Seng Mai",
    "Maran Zau Tawng",
    "Nhkum Ja Seng",
    "Labang Roi Ji",
    "Naw Paw Htoo",
    "Saw Eh Doh",
    "Saw Kaw Htoo",
    "Van Lal Ruata",
    "Sui Tin Par",
    "Ngun Hlei Thang",
    "Sai Hseng Murng",
    "Nang Kham Hom",
    "Mohammed Ayub",
    "Nur Kalima",
    "Rashida Begum",
    "Abdu Shukkur",
    "Hamida Khatun",
    "Khu Reh",
    "Mu Mu Paw",
    "Salai Thang Bik",
    "Hkawn Nu",
    "Dashi Naw Mai",
    "Zau Seng",
    "Lal Rin Sangi",
]
HON_M = ["U", "Ko", "Maung", "Saw", "Sai"]
HON_F = ["Daw", "Ma", "Naw", "Nang"]
BUR_NAMES = [
    "အောင်အောင်",
    "နှင်းဝေ",
    "ကျော်ဇင်ထက်",
    "စုမြတ်နိုး",
    "သီတာ",
    "ခင်မာ",
    "ဇော်မင်းဦး",
    "မေသူ",
    "ထက်နိုင်",
    "နီလာဝင်း",
    "မင်းခန့်",
    "ရတနာ",
    "ဖြိုးဖြိုး",
    "စိုးမိုး",
    "သန္တာအေး",
    "ဝေယံလင်း",
]
BUR_HON = ["ဦး", "ဒေါ်", "ကို", "မ", "မောင်", ""]
MM_DIGITS = "၀၁၂၃၄၅၆၇၈၉"

# state, state pcode, township, township pcode, lat, lon, NRC state no., NRC code, Burmese name
TSP = [
    ("Kachin", "MMR001", "Myitkyina", "MMR001001", 25.3867, 97.3954, 1, "MaKaNa", "မြစ်ကြီးနား"),
    ("Kachin", "MMR001", "Waingmaw", "MMR001002", 25.3500, 97.4650, 1, "WaMaNa", "ဝိုင်းမော်"),
    ("Kachin", "MMR001", "Hpakant", "MMR001012", 25.6100, 96.3100, 1, "HpaKaNa", "ဖားကန့်"),
    ("Kachin", "MMR001", "Bhamo", "MMR001007", 24.2600, 97.2300, 1, "BaMaNa", "ဗန်းမော်"),
    ("Shan (North)", "MMR015", "Lashio", "MMR015001", 22.9350, 97.7500, 13, "LaShaNa", "လားရှိုး"),
    ("Shan (North)", "MMR015", "Kutkai", "MMR015102", 23.4500, 97.9300, 13, "KaKhaNa", "ကွတ်ခိုင်"),
    ("Rakhine", "MMR012", "Sittwe", "MMR012001", 20.1460, 92.8980, 11, "SaTaNa", "စစ်တွေ"),
    ("Rakhine", "MMR012", "Mrauk-U", "MMR012004", 20.5930, 93.1900, 11, "MaUNa", "မြောက်ဦး"),
    ("Rakhine", "MMR012", "Pauktaw", "MMR012002", 20.1800, 93.0700, 11, "PaTaNa", "ပေါက်တော"),
    ("Chin", "MMR004", "Paletwa", "MMR004009", 21.3000, 92.8500, 4, "PaLaWa", "ပလက်ဝ"),
    ("Chin", "MMR004", "Mindat", "MMR004012", 21.3700, 93.9700, 4, "MaTaNa", "မင်းတပ်"),
    ("Sagaing", "MMR005", "Kale", "MMR005011", 23.1900, 94.0500, 5, "KaLaNa", "ကလေး"),
    ("Sagaing", "MMR005", "Yinmabin", "MMR005020", 22.0700, 94.9000, 5, "YaMaPa", "ယင်းမာပင်"),
    ("Kayah", "MMR002", "Demoso", "MMR002002", 19.5300, 97.1500, 2, "DaMaSa", "ဒီးမော့ဆို"),
    ("Kayin", "MMR003", "Hpapun", "MMR003009", 18.0600, 97.4400, 3, "PhaPaNa", "ဖာပွန်"),
    ("Magway", "MMR009", "Gangaw", "MMR009017", 22.1700, 94.1400, 8, "GaGaNa", "ဂန့်ဂေါ"),
    ("Ayeyarwady", "MMR017", "Pathein", "MMR017001", 16.7800, 94.7300, 14, "PaTheNa", "ပုသိမ်"),
    ("Ayeyarwady", "MMR017", "Labutta", "MMR017024", 16.1500, 94.7600, 14, "LaPaTa", "လပွတ္တာ"),
    ("Yangon", "MMR013", "North Okkalapa", "MMR013008", 16.9000, 96.1700, 12, "OuKaMa", "မြောက်ဥက္ကလာပ"),
]
NRC_BUR = ["မကန", "ဥကမ", "လရှ", "စတန", "ပလဝ", "ကလန", "ဖကန", "ဒမဆ"]
VSYL = [
    "Nam",
    "Hpa",
    "Kawng",
    "Ja",
    "Sut",
    "Ngai",
    "Yang",
    "Tha",
    "Yet",
    "Chaung",
    "Kyauk",
    "Ta",
    "Lone",
    "Ah",
    "Nauk",
    "Ywe",
    "Ohn",
    "Taw",
    "Gyi",
    "Thet",
    "Kay",
    "Pyin",
    "Nyaung",
    "Kone",
    "Thar",
    "Hpare",
    "Lim",
    "Pa",
    "Hka",
    "Pin",
    "Gon",
    "Inn",
    "Ywar",
    "Thit",
    "Seik",
]
CAMPS = [
    "Ohn Taw Gyi (South)",
    "Baw Du Pha (2)",
    "Jan Mai Kawng IDP camp",
    "Maina RC camp",
    "Shwe Zet",
    "Pa Kahtawng",
    "Thet Kay Pyin",
    "Sin Tet Maw",
    "Robert Church compound",
    "Nant Tha Pyin",
]
BUR_VILLAGES = ["ကျောက်တန်း", "သရက်ချောင်း", "အောက်ရွာ", "ညောင်ပင်သာ", "ကုန်းသာ", "ရွာသစ်", "ဆိပ်ကြီး"]
ORGS = [
    "KMSS",
    "Metta Development Foundation",
    "Shalom Foundation",
    "Kachin Baptist Convention",
    "Myanmar Red Cross Society",
    "Save the Children",
    "World Vision Myanmar",
    "Plan International",
    "Oxfam",
    "Karuna Mission Social Solidarity",
    "Community Partners International",
    "Thingaha",
    "Malteser International",
    "Norwegian Refugee Council",
    "Danish Refugee Council",
    "Lutheran World Federation",
    "Mercy Corps",
    "Relief International",
    "CDN",
    "Nyein (Shalom) Foundation",
]
ACTS = [
    ("WASH", "Hygiene kit distribution"),
    ("WASH", "Latrine construction"),
    ("WASH", "Water trucking"),
    ("Food Security", "Rice distribution"),
    ("Food Security", "Multi-purpose cash"),
    ("Shelter/NFI", "NFI kits"),
    ("Shelter/NFI", "Emergency shelter kits"),
    ("Protection", "PSS sessions"),
    ("Protection", "Case management"),
    ("Protection", "Mine risk education"),
    ("Health", "Mobile clinic consultations"),
    ("Education", "Temporary learning spaces"),
    ("Nutrition", "MUAC screening"),
]
NEEDS = ["food", "shelter", "water", "health", "cash", "education", "protection", "livelihood"]
SENSITIVE_AREAS = SensitiveAreas(names=["Hpakant", "Paletwa", "Yinmabin", "ဖားကန့်", "Demoso"], pcodes=["MMR005020"])


@dataclass
class FieldCase:
    name: str
    data: bytes
    family: str
    level: str  # what the content truly requires (public when clear)
    label: str | None = None  # label the partner placed (anywhere), None when none
    must: frozenset[str] = frozenset()
    areas: SensitiveAreas | None = None
    note: str = ""
    label_where: str = ""

    @property
    def sensitive(self) -> bool:
        return rank(self.level) >= rank(C)

    @property
    def expected(self) -> str:
        if not self.sensitive:
            return "clear"
        return "labelled" if rank(self.label) >= rank(self.level) else "unlabelled_sensitive"


# --------------------------------------------------------------------------- writers
def csv_bytes(rows: list[list[object]], *, delimiter: str = ",", encoding: str = "utf-8", crlf: bool = True) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    text = buf.getvalue()
    if encoding == "utf-16":
        return text.encode("utf-16")  # with BOM, as Excel's "Unicode text"
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    return text.encode("utf-8")


_XLSX_TOGGLE = [0]


def xlsx_bytes(
    sheets: list[tuple[str, list[list[object]]]],
    *,
    header: str | None = None,
    footer: str | None = None,
    custom: dict[str, str] | None = None,
    keywords: str | None = None,
    extra_parts: dict[str, bytes] | None = None,
) -> bytes:
    """Two writers in turn: an Excel-like one with shared strings (as Excel and xlsxwriter,
    which Kobo uses, write them) and openpyxl (inline strings)."""
    _XLSX_TOGGLE[0] += 1
    if _XLSX_TOGGLE[0] % 3:
        data = _xlsx_sst(sheets, header=header, footer=footer, custom=custom, keywords=keywords)
        return _add_parts(data, extra_parts) if extra_parts else data
    return _xlsx_openpyxl(
        sheets, header=header, footer=footer, custom=custom, keywords=keywords, extra_parts=extra_parts
    )


def _col_letters(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def _xlsx_sst(
    sheets: list[tuple[str, list[list[object]]]],
    *,
    header: str | None,
    footer: str | None,
    custom: dict[str, str] | None,
    keywords: str | None,
) -> bytes:
    sst: dict[str, int] = {}
    parts: dict[str, str] = {}
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    for si, (_title, rows) in enumerate(sheets, 1):
        out = []
        for ri, row in enumerate(rows, 1):
            cells = []
            for ci, v in enumerate(row):
                if v is None or v == "":
                    continue
                ref = f"{_col_letters(ci)}{ri}"
                if isinstance(v, bool):
                    v = str(v)
                if isinstance(v, dt.date):
                    serial = (v - dt.date(1899, 12, 30)).days
                    cells.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
                elif isinstance(v, (int, float)):
                    cells.append(f'<c r="{ref}"><v>{v}</v></c>')
                else:
                    idx = sst.setdefault(str(v), len(sst))
                    cells.append(f'<c r="{ref}" t="s"><v>{idx}</v></c>')
            out.append(f'<row r="{ri}">{"".join(cells)}</row>')
        hf = ""
        if header or footer:
            hf = (
                "<headerFooter>"
                + (f"<oddHeader>&amp;C{escape(header)}</oddHeader>" if header else "")
                + (f"<oddFooter>&amp;L{escape(footer)}&amp;RPage &amp;P</oddFooter>" if footer else "")
                + "</headerFooter>"
            )
        parts[f"xl/worksheets/sheet{si}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f"<worksheet {ns} {rns}><sheetData>{''.join(out)}</sheetData>"
            f'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
            f'header="0.3" footer="0.3"/>{hf}</worksheet>'
        )
    strings = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in sst)
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {ns} '
        f'count="{len(sst)}" uniqueCount="{len(sst)}">{strings}</sst>'
    )
    parts["xl/styles.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {ns}><cellXfs count="2">'
        '<xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'
    )
    sh = "".join(f'<sheet name="{escape(t[:31])}" sheetId="{i}" r:id="rId{i}"/>' for i, (t, _) in enumerate(sheets, 1))
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} {rns}><sheets>{sh}</sheets></workbook>'
    )
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    rels += f'<Relationship Id="rIdSS" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
    rels += f'<Relationship Id="rIdST" Type="{rel}/styles" Target="styles.xml"/>'
    pr = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pr}">{rels}</Relationships>'
    )
    kw = f"<cp:keywords>{escape(keywords)}</cp:keywords>" if keywords else ""
    parts["docProps/core.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.'
        'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/'
        f'dc/elements/1.1/"><dc:creator>M&amp;E</dc:creator>{kw}</cp:coreProperties>'
    )
    if custom:
        props = "".join(
            f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i + 2}" '
            f'name="{escape(k)}"><vt:lpwstr>{escape(v)}</vt:lpwstr></property>'
            for i, (k, v) in enumerate(custom.items())
        )
        parts["docProps/custom.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.'
            'openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://'
            f'schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">{props}</Properties>'
        )
    parts["_rels/.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pr}"><Relationship Id="rId1" '
        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
        'org/package/2006/content-types"><Default Extension="xml" ContentType="application/'
        'xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n in (
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "docProps/core.xml",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/styles.xml",
                "xl/sharedStrings.xml",
            ]
            + sorted(k for k in parts if k.startswith("xl/worksheets/"))
            + (["docProps/custom.xml"] if custom else [])
        ):
            z.writestr(n, parts[n])
    return out.getvalue()


def _xlsx_openpyxl(
    sheets: list[tuple[str, list[list[object]]]],
    *,
    header: str | None = None,
    footer: str | None = None,
    custom: dict[str, str] | None = None,
    keywords: str | None = None,
    extra_parts: dict[str, bytes] | None = None,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title[:31])
        for r in rows:
            ws.append(list(r))
        if header:
            ws.oddHeader.center.text = header
        if footer:
            ws.oddFooter.left.text = footer
    if custom:
        for k, v in custom.items():
            wb.custom_doc_props.append(StringProperty(name=k, value=v))
    if keywords:
        wb.properties.keywords = keywords
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    if extra_parts:
        data = _add_parts(data, extra_parts)
    return data


def _add_parts(data: bytes, parts: dict[str, bytes]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
        for n, b in parts.items():
            z.writestr(n, b)
    return out.getvalue()


_W = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)


def _wp(text: str, bold: bool = False) -> str:
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:p><w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def docx_bytes(
    blocks: list[tuple],
    *,
    header: str | None = None,
    footer: str | None = None,
    custom: dict[str, str] | None = None,
    labelinfo: bytes | None = None,
    keywords: str | None = None,
    title: str = "",
) -> bytes:
    body: list[str] = []
    for b in blocks:
        if b[0] == "p":
            body.append(_wp(b[1], bold=len(b) > 2 and b[2]))
        elif b[0] == "break":
            body.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
        elif b[0] == "table":
            rows = b[1]
            trs = []
            for r in rows:
                tcs = "".join(f'<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr>{_wp(str(c))}</w:tc>' for c in r)
                trs.append(f"<w:tr>{tcs}</w:tr>")
            body.append('<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>' + "".join(trs) + "</w:tbl>")
    sect = ""
    rels = [
        (
            '<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'styles" Target="styles.xml"/>'
        )
    ]
    refs = ""
    if header:
        rels.append(
            '<Relationship Id="rIdH1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/header" Target="header1.xml"/>'
        )
        refs += '<w:headerReference w:type="default" r:id="rIdH1"/>'
    if footer:
        rels.append(
            '<Relationship Id="rIdF1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/footer" Target="footer1.xml"/>'
        )
        refs += '<w:footerReference w:type="default" r:id="rIdF1"/>'
    sect = f'<w:sectPr>{refs}<w:pgSz w:w="11906" w:h="16838"/></w:sectPr>'
    doc = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {_W}><w:body>'
        + "".join(body)
        + sect
        + "</w:body></w:document>"
    )
    ct = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        (
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/>'
        ),
    ]
    pkg_rels = [
        (
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/>'
        ),
        (
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
        ),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", doc)
        z.writestr("word/styles.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:styles {_W}/>')
        if header:
            z.writestr("word/header1.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:hdr {_W}>{_wp(header)}</w:hdr>')
        if footer:
            z.writestr("word/footer1.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:ftr {_W}>{_wp(footer)}</w:ftr>')
        z.writestr(
            "word/_rels/document.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships">' + "".join(rels) + "</Relationships>",
        )
        kw = f"<cp:keywords>{escape(keywords)}</cp:keywords>" if keywords else ""
        z.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats'
            '.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{escape(title)}</dc:title><dc:creator>Field Officer</dc:creator>{kw}"
            "</cp:coreProperties>",
        )
        if custom:
            props = "".join(
                f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i + 2}" name="{escape(k)}">'
                f"<vt:lpwstr>{escape(v)}</vt:lpwstr></property>"
                for i, (k, v) in enumerate(custom.items())
            )
            z.writestr(
                "docProps/custom.xml",
                '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/'
                'officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/'
                f'officeDocument/2006/docPropsVTypes">{props}</Properties>',
            )
            pkg_rels.append(
                '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/custom-properties" Target="docProps/custom.xml"/>'
            )
        if labelinfo:
            z.writestr("docMetadata/LabelInfo.xml", labelinfo)
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships">' + "".join(pkg_rels) + "</Relationships>",
        )
        z.writestr("[Content_Types].xml", "".join(ct) + "</Types>")
    return out.getvalue()


def _pdf_str(s: str) -> str:
    s = s.encode("latin-1", "replace").decode("latin-1")
    return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(pages: list[list[str]], *, info: dict[str, str] | None = None) -> bytes:
    """A small text PDF (Helvetica, one text object per page), as a report exported from Word."""
    objs: list[bytes] = []

    def add(b: str | bytes) -> int:
        objs.append(b.encode("latin-1") if isinstance(b, str) else b)
        return len(objs)

    cat = add("")  # placeholder 1
    pages_id = add("")  # placeholder 2
    font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 9 Tf", "11 TL", "40 800 Td"]
        for ln in lines:
            ops.append(_pdf_str(ln) + " Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1", "replace")
        cid = add(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {cid} 0 R >>"
            )
        )
    objs[cat - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    objs[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    ).encode()
    info_id = None
    if info:
        info_id = add("<< " + " ".join(f"/{k} {_pdf_str(v)}" for k, v in info.items()) + " >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offs:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objs) + 1} /Root {cat} 0 R" + (f" /Info {info_id} 0 R" if info_id else "") + " >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in members:
            z.writestr(n, b)
    return out.getvalue()


def msip(level_name: str) -> dict[str, str]:
    g = str(uuid.UUID(int=random.Random(level_name).getrandbits(128)))
    return {
        f"MSIP_Label_{g}_Enabled": "true",
        f"MSIP_Label_{g}_SetDate": "2024-05-02T04:11:09Z",
        f"MSIP_Label_{g}_Method": "Privileged",
        f"MSIP_Label_{g}_Name": level_name,
        f"MSIP_Label_{g}_SiteId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        f"MSIP_Label_{g}_ContentBits": "2",
    }


# --------------------------------------------------------------------------- the generator
class Corpus:
    def __init__(self, seed: int = 2024) -> None:
        self.r = random.Random(seed)
        self.cases: list[FieldCase] = []

    # ---------------------------------------------------------- value helpers
    def phone(self, style: str = "plain") -> str:
        r = self.r
        while True:
            pre = r.choice(
                [
                    "0979",
                    "0978",
                    "0977",
                    "0976",
                    "0975",
                    "0945",
                    "0944",
                    "0943",
                    "0925",
                    "0926",
                    "0966",
                    "0967",
                    "0969",
                    "0997",
                    "0995",
                    "0989",
                ]
            )
            num = pre + "".join(str(r.randint(0, 9)) for _ in range(11 - len(pre)))
            if phonenumbers.is_valid_number(phonenumbers.parse(num, "MM")):
                break
        if style == "plain":
            return num
        if style == "dash":
            return f"{num[:2]}-{num[2:5]}-{num[5:]}"
        if style == "space":
            return f"{num[:2]} {num[2:5]} {num[5:8]} {num[8:]}"
        if style == "intl":
            return "+95 " + num[1:2] + " " + num[2:5] + " " + num[5:]
        if style == "959":
            return "95" + num[1:]
        if style == "nozero":
            return num[1:]
        if style == "mm":
            return "".join(MM_DIGITS[int(c)] for c in num)
        return num

    def phone_any(self) -> str:
        return self.phone(self.r.choice(["plain", "plain", "dash", "space", "intl", "959"]))

    def person(self, sex: str | None = None, hon: bool = False, ethnic: float = 0.25) -> str:
        r = self.r
        sex = sex or r.choice("MF")
        if r.random() < ethnic:
            n = r.choice(ETHNIC)
        else:
            n = r.choice(MALE if sex == "M" else FEMALE)
        if hon:
            n = f"{r.choice(HON_M if sex == 'M' else HON_F)} {n}"
        return n

    def bur_name(self, hon: bool = True) -> str:
        return (self.r.choice(BUR_HON) if hon else "") + self.r.choice(BUR_NAMES)

    def nrc(self, t: tuple | None = None, style: str | None = None) -> str:
        r = self.r
        t = t or r.choice(TSP)
        style = style or r.choice(["std", "std", "caps", "naing", "space", "bur"])
        num = f"{r.randint(0, 999999):06d}"
        if style == "std":
            return f"{t[6]}/{t[7]}(N){num}"
        if style == "caps":
            return f"{t[6]}/{t[7].upper()}(N){num}"
        if style == "naing":
            short = "".join(ch for ch in t[7] if ch.isupper())
            return f"{t[6]}/{short}(NAING){num}"
        if style == "space":
            return f"{t[6]}/{t[7]} (N) {num}"
        return f"{''.join(MM_DIGITS[int(c)] for c in str(t[6]))}/{r.choice(NRC_BUR)}(နိုင်)" + "".join(
            MM_DIGITS[int(c)] for c in num
        )

    def village(self) -> str:
        r = self.r
        return " ".join(r.choice(VSYL) for _ in range(r.randint(2, 3)))

    def tsp(self, exclude_sensitive: bool = True) -> tuple:
        while True:
            t = self.r.choice(TSP)
            if not exclude_sensitive or t[2] not in ("Hpakant", "Paletwa", "Yinmabin", "Demoso"):
                return t

    def vt_pcode(self, t: tuple) -> str:
        return f"{t[3]}{self.r.randint(1, 80):03d}"

    def date(self, start: int = 2023, end: int = 2025) -> dt.date:
        return dt.date(self.r.randint(start, end), self.r.randint(1, 12), self.r.randint(1, 28))

    def dob(self) -> dt.date:
        return dt.date(self.r.randint(1945, 2020), self.r.randint(1, 12), self.r.randint(1, 28))

    def add(
        self,
        name: str,
        data: bytes,
        family: str,
        level: str,
        *,
        label: str | None = None,
        must: set[str] | frozenset[str] = frozenset(),
        areas: SensitiveAreas | None = None,
        note: str = "",
        label_where: str = "",
    ) -> FieldCase:
        c = FieldCase(name, data, family, level, label, frozenset(must), areas, note, label_where)
        self.cases.append(c)
        return c

    # ---------------------------------------------------------- tables
    def kobo_rows(
        self,
        n: int,
        *,
        names: str = "latin",
        phones: str = "mixed",
        gps: bool = True,
        xml_headers: bool = True,
        with_names: bool = True,
    ) -> list[list[object]]:
        r = self.r
        t = self.tsp()
        if xml_headers:
            hdr = [
                "start",
                "end",
                "today",
                "deviceid",
                "consent",
                "grp_location/state",
                "grp_location/township",
                "grp_location/village_tract",
                "grp_location/village",
            ]
            if with_names:
                hdr += [
                    r.choice(
                        [
                            "grp_resp/resp_name",
                            "group_hh/hh_head_name",
                            "respondent/full_name",
                            "grp_resp/name_resp",
                            "hh_info/hoh_nm",
                        ]
                    )
                ]
            hdr += ["grp_resp/resp_sex", "grp_resp/resp_age"]
            if phones:
                hdr += [r.choice(["grp_resp/resp_phone", "grp_resp/contact_no", "group_hh/phone_number"])]
            hdr += ["group_hh/hh_size", "group_hh/hh_pwd", "grp_needs/priority_need"]
            if gps:
                hdr += [
                    "grp_location/gps",
                    "grp_location/_gps_latitude",
                    "grp_location/_gps_longitude",
                    "grp_location/_gps_altitude",
                    "grp_location/_gps_precision",
                ]
        else:
            hdr = [
                "start",
                "end",
                "today",
                "deviceid",
                "Do you agree to be interviewed?",
                "State",
                "Township",
                "Village tract",
                "Village name",
            ]
            if with_names:
                hdr += [
                    r.choice(
                        ["Name of the respondent", "What is your name?", "Respondent's name", "Name of household head"]
                    )
                ]
            hdr += ["Sex of respondent", "Age of respondent (years)"]
            if phones:
                hdr += ["Phone number (if any)"]
            hdr += [
                "How many people live in this household?",
                "Is anyone in the household living with a disability?",
                "What is your priority need?",
            ]
            if gps:
                hdr += ["GPS", "_GPS_latitude", "_GPS_longitude", "_GPS_altitude", "_GPS_precision"]
        hdr += [
            "_id",
            "_uuid",
            "_submission_time",
            "_validation_status",
            "_notes",
            "_status",
            "_submitted_by",
            "__version__",
            "_tags",
            "_index",
        ]
        rows: list[list[object]] = [hdr]
        vt = self.village()
        for i in range(n):
            sex = r.choice("MF")
            s = dt.datetime(2024, r.randint(1, 12), r.randint(1, 28), r.randint(7, 16), r.randint(0, 59))
            row: list[object] = [
                s.isoformat() + ".000+06:30",
                (s + dt.timedelta(minutes=r.randint(9, 40))).isoformat() + ".000+06:30",
                s.date().isoformat(),
                f"collect:{r.getrandbits(40):x}",
                "yes",
                t[0],
                t[2],
                vt + " VT",
                self.village(),
            ]
            if with_names:
                if names == "latin":
                    nm = self.person(sex)
                elif names == "lower":
                    nm = self.person(sex).lower()
                elif names == "caps":
                    nm = self.person(sex).upper()
                else:
                    nm = self.bur_name()
                row.append(nm)
            row += ["male" if sex == "M" else "female", r.randint(18, 80)]
            if phones:
                style = {"mixed": r.choice(["plain", "nozero", "plain", "959"]), "nozero": "nozero"}.get(
                    phones, "plain"
                )
                p = self.phone(style)
                row.append(int(p) if style == "nozero" and r.random() < 0.5 else p if r.random() < 0.85 else "")
            row += [r.randint(1, 11), r.choice(["no", "no", "no", "yes"]), r.choice(NEEDS)]
            if gps:
                la, lo = t[4] + r.uniform(-0.2, 0.2), t[5] + r.uniform(-0.2, 0.2)
                row += [
                    f"{la:.6f} {lo:.6f} {r.randint(80, 600)}.0 {r.randint(3, 20)}.0",
                    round(la, 6),
                    round(lo, 6),
                    r.randint(80, 600),
                    r.randint(3, 20),
                ]
            row += [
                100000 + i,
                str(uuid.UUID(int=r.getrandbits(128))),
                s.isoformat(),
                "",
                "",
                "submitted_via_web",
                "",
                "vLgT4xq3" + str(r.randint(10, 99)),
                "",
                i + 1,
            ]
            rows.append(row)
        return rows

    def four_w(
        self,
        n: int,
        *,
        villages: bool,
        pcodes: str = "tsp",
        centroid: bool = False,
        area_township: str | None = None,
        focal: bool = False,
        vcode: bool = False,
    ) -> list[list[object]]:
        r = self.r
        hdr = [
            "Reporting Month",
            "Organisation",
            "Implementing Partner",
            "Sector",
            "Activity",
            "State/Region",
            "State Pcode",
            "Township",
            "Township Pcode",
        ]
        if villages:
            hdr += ["Village Tract", "VT Pcode", "Village"]
        if vcode:
            hdr += ["Village Code"]
        if centroid:
            hdr += ["Latitude", "Longitude"]
        hdr += ["# HH reached", "# Individuals reached", "Male", "Female", "Boys", "Girls", "Status", "Remarks"]
        if focal:
            hdr += ["Focal Point", "Focal Point Email"]
        rows: list[list[object]] = [hdr]
        tsps = [self.tsp() for _ in range(4)]
        for _ in range(n):
            t = r.choice(tsps)
            if area_township and r.random() < 0.3:
                t = next(x for x in TSP if x[2] == area_township)
            sec, act = r.choice(ACTS)
            m, f, b, g = (r.randint(0, 900) for _ in range(4))
            row: list[object] = [
                f"2024-{r.randint(1, 12):02d}",
                r.choice(ORGS[:8]),
                r.choice(ORGS),
                sec,
                act,
                t[0],
                t[1],
                t[2],
                t[3],
            ]
            if villages:
                row += [self.village() + " VT", self.vt_pcode(t), self.village()]
            if vcode:
                row += [f"{r.randint(150000, 229999)}"]
            if centroid:
                row += [t[4], t[5]]
            row += [
                r.randint(10, 900),
                m + f + b + g,
                m,
                f,
                b,
                g,
                r.choice(["Completed", "Ongoing", "Planned"]),
                r.choice(["", "", "access constraints", "delayed due to road closure", "joint with WFP"]),
            ]
            if focal:
                first, last = r.choice(MALE + FEMALE).split(" ")[0], r.choice(["aung", "win", "htet", "oo", "naing"])
                row += [self.person(), f"{first.lower()}.{last}{r.randint(1, 99)}@gmail.com"]
            rows.append(row)
        return rows

    def distribution_list(
        self,
        n: int,
        *,
        lang: str = "en",
        dob: bool = False,
        nrc: bool = True,
        phone_style: str = "mixed",
        names: str = "plain",
    ) -> list[list[object]]:
        r = self.r
        t = self.tsp()
        if lang == "en":
            hdr = [
                "No.",
                "Beneficiary Name",
                "Father's Name",
                "Sex",
                "Age",
                "NRC No.",
                "Phone",
                "Village",
                "HH Size",
                "Rice (bag)",
                "Oil (bottle)",
                "Cash (MMK)",
                "Signature/Thumbprint",
                "Remark",
            ]
        elif lang == "my":
            hdr = [
                "စဉ်",
                "အမည်",
                "အဖအမည်",
                "ကျား/မ",
                "အသက်",
                "မှတ်ပုံတင်အမှတ်",
                "ဖုန်းနံပါတ်",
                "ကျေးရွာ",
                "မိသားစုဝင်ဦးရေ",
                "ဆန် (အိတ်)",
                "ဆီ (ပုလင်း)",
                "ငွေ (ကျပ်)",
                "လက်မှတ်",
                "မှတ်ချက်",
            ]
        else:  # Zawgyi-encoded headers (still common in older templates)
            hdr = [
                "စဥ္",
                "အမည္",
                "အဖအမည္",
                "က်ား/မ",
                "အသက္",
                "မွတ္ပံုတင္အမွတ္",
                "ဖုန္းနံပါတ္",
                "ေက်းရြာ",
                "မိသားစုဝင္ဦးေရ",
                "ဆန္ (အိတ္)",
                "ဆီ (ပုလင္း)",
                "ေငြ (က်ပ္)",
                "လက္မွတ္",
                "မွတ္ခ်က္",
            ]
        if dob:
            hdr.insert(5, "Date of Birth" if lang == "en" else "မွေးသက္ကရာဇ္" if lang == "zg" else "မွေးသက္ကရာဇ်")
        rows: list[list[object]] = [hdr]
        for i in range(n):
            sex = r.choice("MF")
            if lang == "en":
                nm = self.person(sex, hon=(names == "hon"))
                if names == "caps":
                    nm = nm.upper()
                fa = self.person("M", hon=r.random() < 0.5)
                vil = self.village()
                ph = self.phone(r.choice(["plain", "dash", "space", "intl"]) if phone_style == "mixed" else phone_style)
                if phone_style == "nozero":
                    ph = int(ph)
                sx = "M" if sex == "M" else "F"
            else:
                nm, fa = self.bur_name(), "ဦး" + self.r.choice(BUR_NAMES)
                vil = r.choice(BUR_VILLAGES)
                ph = self.phone("mm") if r.random() < 0.7 else self.phone()
                sx = "ကျား" if sex == "M" else "မ"
            row: list[object] = [i + 1, nm, fa, sx, r.randint(18, 85)]
            if dob:
                row.append(self.dob())
            row += [
                self.nrc(t) if nrc and r.random() < 0.8 else "",
                ph if r.random() < 0.8 else "",
                vil,
                r.randint(1, 10),
                r.randint(1, 3),
                r.randint(1, 4),
                r.choice([50000, 75000, 100000]),
                "",
                r.choice(["", "", "received", "absent - collected by neighbour"]),
            ]
            rows.append(row)
        return rows

    # ---------------------------------------------------------- families
    def build(self) -> list[FieldCase]:
        self.kobo_xlsx()
        self.kobo_json()
        self.four_w_files()
        self.distribution_lists()
        self.protection_docx()
        self.sitrep_pdf()
        self.hxl_csv()
        self.remarks_far_down()
        self.other_sensitive()
        self.hard_negatives()
        self.more_hard()
        self.round2()
        self.round3()
        self.clear_labelled()
        self.zips()
        return self.cases

    def kobo_xlsx(self) -> None:
        r = self.r
        variants = [
            ("latin", "mixed", True, True),
            ("lower", "nozero", True, True),
            ("caps", "mixed", False, True),
            ("burmese", "mixed", True, True),
            ("latin", "", True, False),
            ("lower", "mixed", False, False),
            ("latin", "nozero", False, True),
        ]
        for k, (names, phones, gps, xmlh) in enumerate(variants):
            rows = self.kobo_rows(r.randint(40, 160), names=names, phones=phones, gps=gps, xml_headers=xmlh)
            must = {"person_name", "raw_survey", "precise_location"} | ({"phone_number"} if phones else set())
            name = r.choice(
                [
                    "MSNA_2024_Kachin_-_all_versions_-_False_-_2024-06-12-03-11-45.xlsx",
                    f"hh_assessment_{k}.xlsx",
                    "Rapid_Needs_Assessment_Sagaing.xlsx",
                    f"aTJ8mQ2vLkP9_{k}.xlsx",
                ]
            )
            self.add(
                f"kobo{k}_{name}",
                xlsx_bytes([(r.choice(["Sheet1", "RNA 2024", name[:20]]), rows)]),
                "kobo_xlsx",
                HC,
                must=must,
                note=f"names={names} phones={phones} xml={xmlh}",
            )
        # no names: raw survey responses with villages (confidential)
        for k in range(4):
            rows = self.kobo_rows(r.randint(50, 120), with_names=False, phones="", gps=k % 2 == 0, xml_headers=k < 2)
            self.add(
                f"kobo_noname{k}_MSNA_export.xlsx",
                xlsx_bytes([("MSNA", rows)]),
                "kobo_xlsx",
                C,
                must={"raw_survey", "precise_location"},
            )
        # repeat group on a second sheet: main sheet no names, roster with member names
        for k in range(2):
            main = self.kobo_rows(30, with_names=False, phones="", gps=False)
            roster = [
                [
                    "hh_roster/member_name",
                    "hh_roster/member_sex",
                    "hh_roster/member_age",
                    "hh_roster/relation_to_hoh",
                    "_index",
                    "_parent_table_name",
                    "_parent_index",
                    "_submission__uuid",
                ]
            ]
            for i in range(90):
                sx = r.choice("MF")
                roster.append(
                    [
                        self.person(sx, ethnic=0.1),
                        "male" if sx == "M" else "female",
                        r.randint(0, 80),
                        r.choice(["head", "spouse", "child", "parent"]),
                        i + 1,
                        "hh_survey",
                        r.randint(1, 30),
                        str(uuid.UUID(int=r.getrandbits(128))),
                    ]
                )
            self.add(
                f"kobo_roster{k}.xlsx",
                xlsx_bytes([("hh_survey", main), ("hh_roster", roster)]),
                "kobo_xlsx",
                HC,
                must={"person_name", "raw_survey"},
            )
        # labelled Kobo exports
        for k, (fname, lab) in enumerate(
            [
                ("RNA_Kachin_HIGHLY_CONFIDENTIAL.xlsx", HC),
                ("Strictly Confidential - HH survey export.xlsx", HC),
                ("hh_survey_CONFIDENTIAL.xlsx", C),
            ]
        ):
            rows = self.kobo_rows(40, with_names=k < 2, phones="mixed" if k < 2 else "", gps=True)
            self.add(
                fname,
                xlsx_bytes([("Sheet1", rows)]),
                "kobo_xlsx_labelled",
                HC if k < 2 else C,
                label=lab,
                must={"raw_survey"},
                label_where="filename",
            )

    def kobo_json(self) -> None:
        r = self.r
        for k in range(7):
            t = self.tsp()
            recs = []
            names_main = k % 3 != 0
            for i in range(r.randint(15, 50)):
                rec: dict[str, object] = {
                    "_id": 200000 + i,
                    "formhub/uuid": uuid.UUID(int=r.getrandbits(128)).hex,
                    "start": f"2024-03-0{r.randint(1, 9)}T09:12:00.000+06:30",
                    "end": "2024-03-09T09:40:00.000+06:30",
                    "grp_loc/township": t[2],
                    "grp_loc/village": self.village(),
                    "grp_hh/hh_size": str(r.randint(1, 9)),
                    "grp_hh/hoh_sex": r.choice(["male", "female"]),
                    "grp_hh/hoh_age": str(r.randint(18, 80)),
                    "_geolocation": [round(t[4] + r.uniform(-0.1, 0.1), 6), round(t[5] + r.uniform(-0.1, 0.1), 6)],
                    "_submission_time": "2024-03-09T03:10:11",
                    "_uuid": str(uuid.UUID(int=r.getrandbits(128))),
                    "meta/instanceID": "uuid:" + str(uuid.UUID(int=r.getrandbits(128))),
                    "_attachments": [],
                    "_status": "submitted_via_web",
                    "_tags": [],
                    "_notes": [],
                    "_validation_status": {},
                    "_submitted_by": None,
                    "__version__": "vX9s2",
                    "_xform_id_string": "aTJ8mQ2vLkP9",
                }
                if names_main:
                    rec["grp_hh/hoh_name"] = self.person(ethnic=0.3) if k % 2 else self.bur_name()
                    rec["grp_hh/contact_phone"] = self.phone(r.choice(["plain", "nozero"]))
                rec["grp_members"] = [
                    {
                        "grp_members/member_name": self.person(ethnic=0.2),
                        "grp_members/member_age": str(r.randint(0, 80)),
                        "grp_members/member_sex": r.choice(["male", "female"]),
                        "grp_members/member_disability": r.choice(["none", "none", "seeing", "walking"]),
                    }
                    for _ in range(r.randint(1, 5))
                ]
                recs.append(rec)
            body: object = recs if k % 2 else {"count": len(recs), "next": None, "previous": None, "results": recs}
            self.add(
                f"kobo_api_{k}.json",
                json.dumps(body, ensure_ascii=k % 2 == 0, indent=None if k < 4 else 1).encode(),
                "kobo_json",
                HC,
                must={"person_name", "raw_survey"} | ({"phone_number"} if names_main else set()),
            )
        # aggregated JSON from an API (clear)
        for k in range(2):
            recs = [
                {
                    "org": r.choice(ORGS),
                    "sector": a[0],
                    "activity": a[1],
                    "admin1": t[0],
                    "admin1_pcode": t[1],
                    "admin3": t[2],
                    "admin3_pcode": t[3],
                    "month": f"2024-{r.randint(1, 12):02d}",
                    "people_reached": r.randint(10, 9000),
                    "budget_usd": r.randint(1000, 900000),
                }
                for t, a in ((self.tsp(), r.choice(ACTS)) for _ in range(60))
            ]
            self.add(f"4w_api_{k}.json", json.dumps({"data": recs}).encode(), "clear_json", P)

    def four_w_files(self) -> None:
        r = self.r
        # township level, clear
        for k in range(8):
            rows = self.four_w(r.randint(30, 300), villages=False, centroid=k in (2, 5))
            if k % 2:
                data = xlsx_bytes([("4W", rows)])
                ext = "xlsx"
            else:
                data = csv_bytes(rows, encoding="utf-8-sig" if k == 4 else "utf-8")
                ext = "csv"
            self.add(
                f"4W_Q{k % 4 + 1}_2024_{r.choice(['Kachin', 'NShan', 'Rakhine', 'SE'])}.{ext}",
                data,
                "4w_clear",
                P,
                areas=SENSITIVE_AREAS if k < 4 else None,
                note="centroids" if k in (2, 5) else "",
            )
        # with village tract / village columns: precise
        for k in range(6):
            rows = self.four_w(r.randint(30, 200), villages=True)
            if k % 3 == 2:  # partner dropped the VT pcode column
                rows = [row[:10] + row[11:] for row in rows]
            data = xlsx_bytes([("4W", rows)]) if k % 2 else csv_bytes(rows)
            self.add(
                f"5W_{r.choice(['WASH', 'FSC', 'CCCM'])}_villages_{k}.{'xlsx' if k % 2 else 'csv'}",
                data,
                "4w_village",
                C,
                must={"precise_location"},
            )
        # only a 6-digit village code column
        for k in range(2):
            rows = self.four_w(r.randint(30, 100), villages=False, vcode=True)
            self.add(f"4W_village_codes_{k}.csv", csv_bytes(rows), "4w_village", C, must={"precise_location"})
        # sensitive area: an organisation active in a listed township
        for k, area in enumerate(["Hpakant", "Paletwa", "Yinmabin", "Demoso"]):
            rows = self.four_w(r.randint(30, 80), villages=False, area_township=area)
            data = xlsx_bytes([("4W", rows)]) if k % 2 else csv_bytes(rows)
            self.add(
                f"4W_{area}_partners.{'xlsx' if k % 2 else 'csv'}",
                data,
                "4w_area",
                C,
                must={"partner_presence_sensitive_area"},
                areas=SENSITIVE_AREAS,
            )
        # focal point names and personal e-mails in a 4W
        for k in range(2):
            rows = self.four_w(40, villages=False, focal=True)
            self.add(
                f"4W_with_focal_points_{k}.xlsx", xlsx_bytes([("4W", rows)]), "4w_focal", HC, must={"email_address"}
            )
        # labelled 4W with villages
        for _k, (how, lab) in enumerate([("filename", C), ("row", C), ("footer", HC)]):
            rows = self.four_w(50, villages=True)
            if how == "filename":
                self.add(
                    "WASH_5W_village_level_CONFIDENTIAL.csv",
                    csv_bytes(rows),
                    "4w_labelled",
                    C,
                    label=lab,
                    label_where=how,
                )
            elif how == "row":
                rows = [["WASH Cluster 5W - village level"], ["Classification: Confidential"], [], *rows]
                self.add(
                    "WASH_5W_village_level.xlsx",
                    xlsx_bytes([("5W", rows)]),
                    "4w_labelled",
                    C,
                    label=lab,
                    label_where=how,
                )
            else:
                self.add(
                    "FSC_5W_May.xlsx",
                    xlsx_bytes([("5W", rows)], footer="Highly Confidential"),
                    "4w_labelled",
                    C,
                    label=lab,
                    label_where=how,
                )

    def distribution_lists(self) -> None:
        r = self.r
        for k in range(7):
            names = ["plain", "plain", "caps", "hon", "plain", "plain", "plain"][k]
            rows = self.distribution_list(
                r.randint(40, 250),
                dob=k in (1, 4),
                nrc=k != 2,
                phone_style="nozero" if k == 5 else "mixed",
                names=names,
            )
            if k == 6:  # no ID / phone columns at all: only names, sex, age, village
                rows = [[c for j, c in enumerate(row) if j not in (5, 6)] for row in rows]
            t = self.tsp()
            title = [
                [f"{r.choice(ORGS)} - {r.choice(['Rice', 'NFI', 'Cash'])} distribution, {t[2]} Township"],
                [f"Date: {self.date().isoformat()}"],
                [],
            ]
            rows = title + rows if k % 2 == 0 else rows
            must = (
                {"person_name"}
                | ({"national_id"} if k not in (2, 6) else set())
                | ({"phone_number"} if k != 6 else set())
                | ({"date_of_birth"} if k in (1, 4) else set())
            )
            fname = r.choice(
                [
                    "Distribution_list_{}.xlsx",
                    "Beneficiary list {}.xlsx",
                    "Cash_payroll_{}.xlsx",
                    "Final list for distribution ({}).xlsx",
                ]
            ).format(t[2])
            self.add(
                f"d{k}_{fname}", xlsx_bytes([("List", rows)]), "distribution_en", HC, must=must, note=f"names={names}"
            )
        for k in range(5):
            rows = self.distribution_list(r.randint(30, 150), lang="my", dob=k == 3)
            self.add(
                f"dmy{k}_စာရင်း_{TSP[k][8]}.xlsx",
                xlsx_bytes([("စာရင်း", rows)]),
                "distribution_my",
                HC,
                must={"person_name", "phone_number", "national_id"} | ({"date_of_birth"} if k == 3 else set()),
            )
        for k in range(2):
            rows = self.distribution_list(60, lang="zg")
            self.add(
                f"dzg{k}_list.xlsx",
                xlsx_bytes([("Sheet1", rows)]),
                "distribution_zawgyi",
                HC,
                must={"person_name", "phone_number"},
            )
        # phones stored as numbers with the leading 0 lost, no names
        for k in range(2):
            rows = [["Beneficiary ID", "Sex", "Age", "Phone No", "Township", "Amount (MMK)", "Transfer date"]]
            t = self.tsp()
            for i in range(80):
                rows.append(
                    [
                        f"BEN-{t[3][3:]}-{i:04d}",
                        r.choice(["M", "F"]),
                        r.randint(18, 80),
                        int(self.phone("nozero")),
                        t[2],
                        75000,
                        self.date(),
                    ]
                )
            self.add(
                f"mpesa_cash_transfer_{k}.xlsx",
                xlsx_bytes([("Transfers", rows)]),
                "distribution_en",
                HC,
                must={"phone_number"},
            )
        # labelled lists (sufficiently)
        for k, how in enumerate(["filename", "row1", "row2", "header", "msip", "custom", "keywords", "filename2"]):
            rows = self.distribution_list(60, names="plain")
            fname = f"NFI_distribution_list_{k}.xlsx"
            kw: dict = {}
            if how == "filename":
                fname = "NFI distribution list - HIGHLY CONFIDENTIAL.xlsx"
            elif how == "filename2":
                fname = "Payroll_Bhamo_STRICTLY_CONFIDENTIAL_v2.xlsx"
            elif how == "row1":
                rows = [["HIGHLY CONFIDENTIAL"], *rows]
            elif how == "row2":
                rows = [["Shalom Foundation - NFI distribution Waingmaw"], ["Sensitivity: Highly Confidential"], *rows]
            elif how == "header":
                kw["header"] = "Strictly Confidential"
            elif how == "msip":
                kw["custom"] = msip("Highly Confidential")
            elif how == "custom":
                kw["custom"] = {"Classification": "Highly Confidential"}
            elif how == "keywords":
                kw["keywords"] = "distribution; highly confidential"
            self.add(
                f"l{k}_{fname}",
                xlsx_bytes([("List", rows)], **kw),
                "distribution_labelled",
                HC,
                label=HC,
                must={"person_name"},
                label_where=how,
            )
        # under-labelled: CONFIDENTIAL on a list of names and phones
        for k in range(2):
            rows = self.distribution_list(40)
            if k == 0:
                self.add(
                    "Distribution_list_CONFIDENTIAL.xlsx",
                    xlsx_bytes([("List", rows)]),
                    "distribution_underlab",
                    HC,
                    label=C,
                    must={"person_name"},
                    label_where="filename",
                )
            else:
                self.add(
                    "list_confidential_row.csv",
                    csv_bytes([["Classification: Confidential"], *rows]),
                    "distribution_underlab",
                    HC,
                    label=C,
                    must={"person_name"},
                    label_where="row1",
                )

    def protection_docx(self) -> None:
        r = self.r
        vuln = [
            "was separated from her family during the displacement and is now staying alone",
            "is an unaccompanied child staying with neighbours",
            "reported sexual violence by an armed actor at the checkpoint",
            "was arrested at the checkpoint and is still detained",
            "is a person with disability (cannot walk) and was left behind",
            "is a GBV survivor and was referred to the safe house",
        ]
        # narratives with honorific names
        for k in range(4):
            t = self.tsp()
            paras: list[tuple] = [
                ("p", f"Protection Monitoring Report - {t[2]} Township", True),
                ("p", f"Reporting period: {self.date().strftime('%B %Y')}"),
            ]
            for _ in range(r.randint(3, 6)):
                paras.append(
                    (
                        "p",
                        r.choice(
                            [
                                "Armed clashes continued in the northern part of the township, and road "
                                "access remained limited.",
                                "Community members reported restrictions of movement at two checkpoints.",
                                "Most displaced families are staying in religious compounds and host communities.",
                            ]
                        ),
                    )
                )
            sx = r.choice("MF")
            nm = self.person(sx, hon=True, ethnic=0.1)
            paras.append(
                (
                    "p",
                    (
                        f"Case {r.randint(1, 40)}: {nm} ({r.randint(9, 17)}) from {self.village()} village "
                        f"{r.choice(vuln)}."
                    ),
                )
            )
            if k % 2:
                paras.append(("p", f"Contact of the caregiver: {self.phone_any()}"))
            paras.append(("p", "Follow-up: the case worker will visit again next week."))
            self.add(
                f"PM_report_{t[2]}_{k}.docx",
                docx_bytes(paras),
                "protection_narrative",
                HC,
                must={"person_name", "vulnerable_individual"},
            )
        # narratives where the name has no honorific, but a phone / NRC identifies the person
        for k in range(3):
            nm = self.person(ethnic=0.2)
            ident = self.phone_any() if k != 1 else self.nrc()
            paras = [
                ("p", "Incident summary", True),
                (
                    "p",
                    f"On {self.date().strftime('%d %B')}, {nm}, {r.randint(12, 17)} years old, "
                    f"{r.choice(vuln)}. The family can be reached on {ident}."
                    if k != 1
                    else f"On {self.date().strftime('%d %B')}, {nm} (NRC {ident}) {r.choice(vuln)}.",
                ),
            ]
            self.add(
                f"incident_{k}.docx",
                docx_bytes(paras),
                "protection_narrative",
                HC,
                must={"national_id" if k == 1 else "phone_number", "vulnerable_individual"},
            )
        # key-value incident forms (two-column tables)
        for k in range(3):
            t = self.tsp()
            sx = r.choice("MF")
            form = [
                ["Incident Report Form", ""],
                ["Case code", f"PM-{t[3][3:]}-{r.randint(1, 999):03d}"],
                ["Name of survivor" if k != 2 else "Full name", self.person(sx, hon=k == 0)],
                ["Age", str(r.randint(9, 17))],
                ["Sex", "Female" if sx == "F" else "Male"],
                ["Village", self.village()],
                ["Township", t[2]],
                [
                    "Type of incident",
                    r.choice(
                        [
                            "GBV - sexual assault",
                            "Arbitrary detention",
                            "Child recruitment",
                            "Separation from family (UASC)",
                        ]
                    ),
                ],
                ["Contact phone", self.phone_any() if k else ""],
                ["Referred to", r.choice(["Safe house", "Health facility", "Legal aid"])],
            ]
            self.add(
                f"incident_form_{k}.docx",
                docx_bytes(
                    [
                        ("p", "CONFIDENTIAL CASE NOTE - PROTECTION", True)
                        if False
                        else ("p", "Protection incident", True),
                        ("table", form),
                    ]
                ),
                "protection_form",
                HC,
                must={"person_name", "vulnerable_individual"},
            )
        # case list tables in DOCX
        for k in range(3):
            rows = [["No", "Name", "Age", "Sex", "Case type", "Village", "Action taken"]]
            for i in range(r.randint(6, 20)):
                sx = r.choice("MF")
                rows.append(
                    [
                        str(i + 1),
                        self.person(sx, ethnic=0.3),
                        str(r.randint(5, 17)),
                        sx,
                        r.choice(["UASC", "GBV", "Child labour", "PwD", "Detention of caregiver"]),
                        self.village(),
                        r.choice(["Referred", "Family tracing", "PSS", "Cash assistance"]),
                    ]
                )
            self.add(
                f"CP_caselist_{k}.docx",
                docx_bytes([("p", "Child protection case list", True), ("table", rows)]),
                "protection_caselist",
                HC,
                must={"person_name", "vulnerable_individual"},
            )
        # aggregated protection monitoring (clear)
        for k in range(5):
            tt = [self.tsp() for _ in range(4)]
            paras = [
                ("p", "Protection Monitoring Snapshot", True),
                ("p", f"Period covered: {self.date().strftime('%B %Y')}. Townships: {', '.join(t[2] for t in tt)}."),
                (
                    "p",
                    (
                        f"{r.randint(10, 90)} incidents of GBV were reported to service providers; survivors were "
                        "referred to case management where services exist."
                    ),
                ),
                (
                    "p",
                    (
                        f"{r.randint(3, 40)} unaccompanied and separated children were identified and referred for "
                        "family tracing."
                    ),
                ),
                (
                    "p",
                    (
                        f"{r.randint(5, 60)} civilians were reportedly detained or arrested at checkpoints; "
                        "persons with disabilities face particular barriers to evacuation."
                    ),
                ),
                (
                    "p",
                    (
                        "Recommendations: scale up PSS, mine risk education and legal aid; ensure confidential "
                        "referral pathways."
                    ),
                ),
                (
                    "table",
                    [["Township", "Pcode", "GBV incidents", "UASC identified", "Detentions"]]
                    + [[t[2], t[3], str(r.randint(0, 30)), str(r.randint(0, 15)), str(r.randint(0, 20))] for t in tt],
                ),
            ]
            self.add(f"PM_snapshot_{k}.docx", docx_bytes(paras), "protection_clear", P)
        # labelled protection documents
        for _k, how in enumerate(["header", "msip", "labelinfo", "firstpage", "custom"]):
            nm = self.person(hon=True)
            paras = [
                ("p", "Case note", True),
                ("p", f"{nm} ({r.randint(8, 16)}) {r.choice(vuln)}."),
                ("p", f"Caregiver phone: {self.phone_any()}"),
            ]
            kw: dict = {}
            if how == "header":
                kw["header"] = "STRICTLY CONFIDENTIAL"
            elif how == "msip":
                kw["custom"] = msip("Highly Confidential")
            elif how == "labelinfo":
                g = "{" + str(uuid.UUID(int=r.getrandbits(128))) + "}"
                kw["labelinfo"] = (
                    '<?xml version="1.0" encoding="utf-8" standalone="yes"?><clbl:labelList '
                    'xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
                    f'<clbl:label id="{g}" enabled="1" method="Privileged" siteId="{{72f988bf}}" '
                    'contentBits="2" removed="0" name="Highly Confidential" /></clbl:labelList>'
                ).encode()
            elif how == "firstpage":
                paras.insert(0, ("p", "Classification: Highly Confidential"))
            elif how == "custom":
                kw["custom"] = {"Sensitivity": "Highly Confidential"}
            self.add(
                f"casenote_{how}.docx",
                docx_bytes(paras, **kw),
                "protection_labelled",
                HC,
                label=HC,
                must={"person_name"},
                label_where=how,
            )

    def sitrep_pdf(self) -> None:
        r = self.r

        def tsp_table() -> list[str]:
            lines = ["Township        Pcode        IDPs     Reached   Gap"]
            for t in (self.tsp() for _ in range(6)):
                idp = r.randint(1000, 40000)
                lines.append(f"{t[2]:<15} {t[3]}    {idp:,}   {r.randint(0, idp):,}   {r.randint(0, 99)}%")
            return lines

        for k in range(5):
            pages = [
                [
                    "Myanmar Humanitarian Update",
                    (f"Situation Report No. {r.randint(10, 60)} | {self.date().strftime('%d %B %Y')}"),
                    "",
                    "HIGHLIGHTS",
                    "- Over 3.4 million people remain displaced across the country.",
                    f"- Clusters reached {r.randint(100, 900)},000 people with assistance in the last quarter.",
                    "- Funding: US$ 9,500,000 received of US$ 95,000,000 required (10%).",
                    "",
                    *tsp_table(),
                ],
                [
                    "Contacts",
                    "Head of Office: info@unocha.org | Cluster coordination: cluster.coord@wash-mm.org",
                    "For more information see reliefweb.int",
                ],
            ]
            self.add(f"Sitrep_{k}.pdf", pdf_bytes(pages), "sitrep_clear", P)
        for k in range(3):
            case_lines = [
                "Annex 2: Cases requiring follow-up",
                "No  Name                 Age  Sex  Village          Phone",
            ]
            for i in range(r.randint(5, 15)):
                sx = r.choice("MF")
                case_lines.append(
                    f"{i + 1}  {self.person(sx, hon=True):<20} {r.randint(1, 80)}  {sx}  "
                    f"{self.village():<15} {self.phone('plain') if r.random() < 0.7 else '-'}"
                )
            pages = [["Flash Update: flooding in the delta", *tsp_table()], case_lines]
            self.add(
                f"FlashUpdate_{k}.pdf", pdf_bytes(pages), "sitrep_caselist", HC, must={"person_name", "phone_number"}
            )
        for _k, how in enumerate(["subject", "keywords", "firstpage"]):
            case_lines = ["Case list"] + [f"{i + 1}. {self.person(hon=True)} - {self.phone('plain')}" for i in range(8)]
            info = {"Title": "Flash update"}
            pages = [["Flash update", *tsp_table()], case_lines]
            if how == "subject":
                info["Subject"] = "Highly Confidential"
            elif how == "keywords":
                info["Keywords"] = "flood, Strictly Confidential"
            else:
                pages[0].insert(0, "HIGHLY CONFIDENTIAL")
            self.add(
                f"FlashUpdate_lab_{how}.pdf",
                pdf_bytes(pages, info=info),
                "sitrep_labelled",
                HC,
                label=HC,
                must={"person_name"},
                label_where=how,
            )
        for k, area in enumerate(["Paletwa", "Hpakant"]):
            pages = [
                [
                    "Partner update",
                    (
                        f"Our mobile team distributed hygiene kits to 420 households in {area} "
                        "township last week and will return in June."
                    ),
                    *tsp_table(),
                ]
            ]
            self.add(
                f"Partner_update_{k}.pdf",
                pdf_bytes(pages),
                "sitrep_area",
                C,
                must={"partner_presence_sensitive_area"},
                areas=SENSITIVE_AREAS,
            )

    def hxl_csv(self) -> None:
        r = self.r
        for k in range(3):  # aggregated with HXL after title rows (clear)
            rows = [
                ["Myanmar - Food Security Cluster 4W"],
                ["Source: FSC partners, compiled by IMO"],
                [f"Last update: {self.date().isoformat()}"],
                [],
                [
                    "Organisation",
                    "Sector",
                    "State",
                    "State Pcode",
                    "Township",
                    "Township Pcode",
                    "People reached",
                    "Female",
                    "Male",
                ],
                [
                    "#org",
                    "#sector",
                    "#adm1+name",
                    "#adm1+code",
                    "#adm3+name",
                    "#adm3+code",
                    "#reached+ind",
                    "#reached+f",
                    "#reached+m",
                ],
            ]
            for _ in range(r.randint(20, 120)):
                t = self.tsp()
                rows.append(
                    [
                        r.choice(ORGS),
                        r.choice(ACTS)[0],
                        t[0],
                        t[1],
                        t[2],
                        t[3],
                        r.randint(50, 9000),
                        r.randint(20, 4000),
                        r.randint(20, 4000),
                    ]
                )
            self.add(f"fsc_4w_hxl_{k}.csv", csv_bytes(rows), "hxl_clear", P)
        for k in range(4):  # beneficiary-level HXL after titles
            rows = [
                ["Cash assistance registration - Phase 2"],
                ["Prepared by M&E"],
                [],
                [
                    "Registration ID",
                    "Full name of recipient" if k != 1 else "Recipient",
                    "Gender",
                    "Age",
                    "Mobile",
                    "Camp",
                    "Amount MMK",
                ],
                [
                    "#beneficiary+id",
                    "#beneficiary+name",
                    "#beneficiary+gender",
                    "#beneficiary+age",
                    "#contact+phone",
                    "#loc+camp+name",
                    "#value+mmk",
                ],
            ]
            for i in range(r.randint(30, 100)):
                sx = r.choice("MF")
                rows.append(
                    [
                        f"REG-{i:05d}",
                        self.person(sx),
                        "male" if sx == "M" else "female",
                        r.randint(18, 80),
                        self.phone_any(),
                        r.choice(CAMPS),
                        r.choice([60000, 90000, 120000]),
                    ]
                )
            self.add(
                f"cash_registration_hxl_{k}.csv",
                csv_bytes(rows, delimiter=";" if k == 3 else ","),
                "hxl_benef",
                HC,
                must={"person_name", "phone_number", "precise_location"},
            )

    def remarks_far_down(self) -> None:
        r = self.r
        for k in range(6):
            rows = [
                [
                    "Date",
                    "Township",
                    "Township Pcode",
                    "Item",
                    "Unit",
                    "Quantity",
                    "Unit price (MMK)",
                    "Total (MMK)",
                    "Supplier",
                    "Remarks",
                ]
            ]
            n = r.randint(1800, 3200)
            pos = r.randint(1300, n - 5)
            for i in range(n):
                t = self.tsp()
                qty, price = r.randint(1, 500), r.choice([2500, 4800, 9500, 32000, 95000])
                rem = r.choice(["", "", "", "delivered", "partial delivery", "price increased"])
                if i == pos:
                    rem = [
                        f"driver {self.person('M')} {self.phone('space')} to confirm",
                        f"received by {self.person(hon=True)}, NRC {self.nrc(style='std')}",
                        f"call {self.phone('plain')} (store keeper)",
                        f"signed by Daw {r.choice(FEMALE)} (storekeeper)",
                        f"contact {self.phone('dash')}",
                        f"ID {self.nrc(style='caps')}",
                    ][k]
                rows.append(
                    [
                        self.date(2024, 2024).isoformat(),
                        t[2],
                        t[3],
                        r.choice(["Rice", "Oil", "Tarpaulin", "Soap", "Bucket"]),
                        r.choice(["bag", "bottle", "pcs", "kg"]),
                        qty,
                        price,
                        qty * price,
                        r.choice(["Shwe Lin Trading", "Golden Harvest Co., Ltd", "Aung Myin Thar"]),
                        rem,
                    ]
                )
            must = {["phone_number", "national_id", "phone_number", "person_name", "phone_number", "national_id"][k]}
            if k < 4:
                self.add(f"procurement_tracker_{k}.csv", csv_bytes(rows), "remarks_far", HC, must=must)
            else:
                self.add(f"procurement_tracker_{k}.xlsx", xlsx_bytes([("Tracker", rows)]), "remarks_far", HC, must=must)

    def other_sensitive(self) -> None:
        r = self.r
        for k in range(3):  # household records, no names
            rows = [
                [
                    "HH ID",
                    "HH head sex",
                    "HH size",
                    "# children under 5",
                    "Shelter type",
                    "Township",
                    "Village",
                    "Vulnerability score",
                ]
            ]
            t = self.tsp()
            for i in range(r.randint(40, 200)):
                rows.append(
                    [
                        f"HH-{t[3][3:]}-{i:04d}",
                        r.choice(["M", "F"]),
                        r.randint(1, 10),
                        r.randint(0, 3),
                        r.choice(["bamboo", "tarpaulin", "brick"]),
                        t[2],
                        self.village(),
                        r.randint(1, 5),
                    ]
                )
            self.add(f"hh_profiling_{k}.csv", csv_bytes(rows), "household", C, must={"household_record"})
        for k in range(3):  # MSNA-style raw survey, no Kobo metadata, no names
            rows = [
                [
                    "resp_sex",
                    "resp_age",
                    "hh_size",
                    "township",
                    "displaced",
                    "income_source",
                    "main_need",
                    "food_consumption_score",
                    "has_debt",
                ]
            ]
            for _ in range(r.randint(60, 200)):
                rows.append(
                    [
                        r.choice(["female", "male"]),
                        r.randint(18, 80),
                        r.randint(1, 12),
                        self.tsp()[2],
                        r.choice(["yes", "no"]),
                        r.choice(["daily labour", "farming", "none", "small business"]),
                        r.choice(NEEDS),
                        r.randint(10, 90),
                        r.choice(["yes", "no"]),
                    ]
                )
            self.add(f"msna_clean_data_{k}.csv", csv_bytes(rows), "raw_survey", C, must={"raw_survey"})
        for k in range(2):  # staff contact list with personal e-mails
            rows = [["Organisation", "Name", "Position", "Email", "Phone"]]
            for _ in range(15):
                nm = self.person(ethnic=0.1)
                rows.append(
                    [
                        r.choice(ORGS),
                        nm,
                        r.choice(["Project Manager", "Field Officer", "MEAL Officer"]),
                        nm.split()[0].lower()
                        + "."
                        + nm.split()[-1].lower()
                        + "@"
                        + r.choice(["gmail.com", "kmss-myanmar.org", "yahoo.com"]),
                        self.phone_any(),
                    ]
                )
            self.add(
                f"cluster_contact_list_{k}.csv",
                csv_bytes(rows),
                "contacts_personal",
                HC,
                must={"email_address", "phone_number"},
            )
        for k in range(2):  # village-level assessment with GPS
            rows = [["Assessment date", "Township", "Village", "Latitude", "Longitude", "Households", "Water source"]]
            t = self.tsp()
            for _ in range(40):
                rows.append(
                    [
                        self.date().isoformat(),
                        t[2],
                        self.village(),
                        round(t[4] + r.uniform(-0.3, 0.3), 5),
                        round(t[5] + r.uniform(-0.3, 0.3), 5),
                        r.randint(20, 400),
                        r.choice(["well", "river"]),
                    ]
                )
            if k == 1:  # partner cleaned the village name away but kept the points
                rows = [row[:2] + row[3:] for row in rows]
            self.add(f"village_assessment_gps_{k}.csv", csv_bytes(rows), "gps", C, must={"precise_location"})
        # UTF-16 TSV (Excel "Unicode text"), semicolon CSV, header-less CSV
        rows = self.distribution_list(50)
        self.add(
            "export_unicode.txt",
            csv_bytes(rows, delimiter="\t", encoding="utf-16"),
            "encoding",
            HC,
            must={"person_name", "phone_number"},
        )
        rows = self.distribution_list(50)
        self.add(
            "liste_beneficiaires.csv",
            csv_bytes(rows, delimiter=";"),
            "encoding",
            HC,
            must={"person_name", "phone_number"},
        )
        for k in range(2):
            rows = [
                [self.person(), self.phone("plain"), r.choice(["M", "F"]), r.randint(18, 70), self.village()]
                for _ in range(40)
            ]
            self.add(f"pasted_list_{k}.csv", csv_bytes(rows), "headerless", HC, must={"phone_number"})
        for k in range(2):  # training attendance sheet
            rows = [
                [f"Training on PSEA - {self.tsp()[2]} - {self.date().isoformat()}"],
                [],
                ["Sr.", "Participant name", "Organisation", "Position", "M/F", "Contact", "Signature"],
            ]
            for i in range(25):
                rows.append(
                    [i + 1, self.person(ethnic=0.3), r.choice(ORGS), "Volunteer", r.choice("MF"), self.phone_any(), ""]
                )
            self.add(
                f"attendance_PSEA_{k}.xlsx",
                xlsx_bytes([("Attendance", rows)]),
                "attendance",
                HC,
                must={"person_name", "phone_number"},
            )
        for k in range(2):  # camp population table: camp = precise location
            rows = [["State", "Township", "Camp name", "Camp Pcode", "HHs", "Individuals", "Female", "Male"]]
            for _ in range(20):
                t = self.tsp()
                rows.append(
                    [
                        t[0],
                        t[2],
                        r.choice(CAMPS),
                        f"{t[3]}C{r.randint(1, 99):02d}",
                        r.randint(50, 900),
                        r.randint(300, 5000),
                        r.randint(100, 2500),
                        r.randint(100, 2500),
                    ]
                )
            self.add(
                f"CCCM_camp_population_{k}.xlsx", xlsx_bytes([("Camps", rows)]), "camps", C, must={"precise_location"}
            )
        for k in range(3):  # protection case list XLSX with names without honorifics and vulnerability
            rows = [["Case ID", "Child name", "Age", "Sex", "Category", "Caregiver", "Township", "Status"]]
            for i in range(r.randint(15, 60)):
                sx = r.choice("MF")
                rows.append(
                    [
                        f"CP-{i:04d}",
                        self.person(sx, ethnic=0.3),
                        r.randint(2, 17),
                        sx,
                        r.choice(["UASC", "Separated", "Unaccompanied", "Child with disability"]),
                        self.person(hon=r.random() < 0.3),
                        self.tsp()[2],
                        r.choice(["open", "closed"]),
                    ]
                )
            self.add(
                f"cp_cases_{k}.xlsx",
                xlsx_bytes([("Cases", rows)]),
                "protection_caselist",
                HC,
                must={"person_name", "vulnerable_individual"},
            )

    def more_hard(self) -> None:
        """Names under headers that do not say 'name', long-format population tables, a cover
        sheet carrying the label, a Burmese 4W in a listed area, a summary + raw-data workbook."""
        r = self.r
        for k, hdr in enumerate(["Head of Household", "Patient", "Beneficiary", "HH member", "Student"]):
            rows = [["Sr", hdr, "Sex", "Age", "Township", "Service"]]
            for i in range(r.randint(20, 80)):
                sx = r.choice("MF")
                rows.append(
                    [
                        i + 1,
                        self.person(sx, ethnic=0.6),
                        sx,
                        r.randint(1, 80),
                        self.tsp()[2],
                        r.choice(["consultation", "NFI kit", "cash", "tuition"]),
                    ]
                )
            self.add(
                f"register_{k}.xlsx", xlsx_bytes([("Register", rows)]), "name_header_weak", HC, must={"person_name"}
            )
        for k in range(2):  # long-format population statistics: per-row sex and age, but aggregated
            rows = [["admin1Name_en", "admin3Name_en", "admin3Pcode", "Sex", "Age", "Population"]]
            for t in TSP[:6]:
                for sx in ("female", "male"):
                    for age in range(0, 81, 5 if k else 1):
                        rows.append([t[0], t[2], t[3], sx, age, r.randint(50, 4000)])
            self.add(f"mmr_pop_by_age_sex_adm3_{k}.csv", csv_bytes(rows), "neg_population_long", P)
        rows = self.distribution_list(40)
        self.add(
            "cash_list_with_cover.xlsx",
            xlsx_bytes(
                [("Cover", [["Cash distribution - Kale"], [], ["Classification: Highly Confidential"]]), ("List", rows)]
            ),
            "distribution_labelled",
            HC,
            label=HC,
            must={"person_name"},
            label_where="cover sheet",
        )
        rows = [["အဖွဲ့အစည်း", "ကဏ္ဍ", "လုပ်ငန်း", "မြို့နယ်", "Pcode", "အကျိုးခံစားသူ"]]
        for _ in range(30):
            t = r.choice([x for x in TSP if x[2] in ("Hpakant", "Myitkyina", "Bhamo")])
            rows.append([r.choice(ORGS), r.choice(ACTS)[0], r.choice(ACTS)[1], t[8], t[3], r.randint(10, 900)])
        self.add(
            "4W_burmese_kachin.xlsx",
            xlsx_bytes([("4W", rows)]),
            "4w_area",
            C,
            must={"partner_presence_sensitive_area"},
            areas=SENSITIVE_AREAS,
        )
        summary = [["Township", "HHs", "Individuals"]] + [
            [t[2], r.randint(10, 99), r.randint(50, 400)] for t in TSP[:5]
        ]
        raw = self.distribution_list(60)
        self.add(
            "distribution_report_with_raw.xlsx",
            xlsx_bytes([("Summary", summary), ("raw data", raw)]),
            "multi_sheet",
            HC,
            must={"person_name", "phone_number"},
        )
        rows = self.distribution_list(50, lang="my")
        for row in rows[1:]:
            if row[6] and isinstance(row[6], str) and row[6][0] == "၀":
                row[6] = f"{row[6][:2]}-{row[6][2:5]}-{row[6][5:]}"
        self.add(
            "dmy_dashed_phones.xlsx",
            xlsx_bytes([("Sheet1", rows)]),
            "distribution_my",
            HC,
            must={"person_name", "phone_number"},
        )

    def round2(self) -> None:
        """Written after the first fixes, measured before touching the engine again."""
        r = self.r
        # a distribution template with a long instruction block: the header is on row 13
        rows = self.distribution_list(60)
        top = (
            [["Shalom Foundation"], ["Emergency NFI distribution - beneficiary registration form"], ["Instructions:"]]
            + [
                [f"{i}. {txt}"]
                for i, txt in enumerate(
                    [
                        "Fill one row per household.",
                        "Write the name of the household head as on the NRC.",
                        "Leave the NRC column empty when the person has no card.",
                        "Phone: write 09 numbers only.",
                        "Do not add columns.",
                        "Send the file to the project officer.",
                        "Check the totals.",
                        "Sign at the bottom.",
                    ],
                    1,
                )
            ]
            + [[], ["Township:", "Kale"]]
        )
        self.add(
            "NFI_registration_template_filled.xlsx",
            xlsx_bytes([("Form", top + rows)]),
            "r2_deep_header",
            HC,
            must={"person_name", "phone_number", "precise_location"},
        )  # the Village column needs the header
        # Kobo export with Burmese question labels as headers, names without honorifics in Latin script
        hdr = [
            "start",
            "end",
            "ဖြေဆိုသူ၏အမည်",
            "ကျား/မ",
            "အသက်",
            "ဖုန်းနံပါတ်",
            "မြို့နယ်",
            "ကျေးရွာ",
            "_uuid",
            "_submission_time",
            "_index",
        ]
        rows = [hdr]
        for i in range(60):
            sx = r.choice("MF")
            rows.append(
                [
                    "2024-05-01T08:00:00",
                    "2024-05-01T08:20:00",
                    self.person(sx),
                    "ကျား" if sx == "M" else "မ",
                    r.randint(18, 70),
                    self.phone("mm"),
                    r.choice(TSP)[8],
                    r.choice(BUR_VILLAGES),
                    str(uuid.UUID(int=r.getrandbits(128))),
                    "2024-05-01T02:00:00",
                    i + 1,
                ]
            )
        self.add(
            "kobo_burmese_labels.xlsx",
            xlsx_bytes([("data", rows)]),
            "r2_kobo_burmese",
            HC,
            must={"person_name", "phone_number", "raw_survey"},
        )
        # Burmese narrative case note with a name label
        text = f"ကလေးသူငယ်ကာကွယ်ရေး ဖြစ်ရပ်မှတ်တမ်း\nအမည် - {self.bur_name()}၊ အသက် ၁၄ နှစ်၊ မိဘမဲ့ကလေး\nဖုန်း - {self.phone('mm')}\n"
        self.add(
            "case_note_my.docx",
            docx_bytes([("p", ln) for ln in text.splitlines()]),
            "r2_burmese_text",
            HC,
            must={"person_name"},
        )
        # a public sitrep that gives the inter-agency hotline (an organisation's number, not a person's)
        for k in range(2):
            pages = [
                [
                    "Humanitarian update",
                    "Township figures only: Lashio 1,200; Kutkai 900.",
                    (
                        f"Feedback and complaints: call the inter-agency hotline {self.phone('space')} (toll-free) "
                        "or write to feedback@cfm-myanmar.org."
                    ),
                    f"Helpline for survivors: {self.phone('dash')}",
                ]
            ]
            self.add(
                f"sitrep_hotline_{k}.pdf" if k == 0 else "sitrep_hotline.txt",
                pdf_bytes(pages) if k == 0 else "\n".join(pages[0]).encode(),
                "r2_hotline",
                P,
            )
        # DOCX footer "Highly Confidential<TAB>Page 1", and "Page 1 | Strictly Confidential"
        for k, foot in enumerate(["Highly Confidential\tPage 1", "Page 1 of 3 | Strictly Confidential"]):
            body = [
                ("p", "Case list", True),
                (
                    "table",
                    [["Name", "Age", "Case type"]]
                    + [[self.person(hon=True), str(r.randint(5, 17)), r.choice(["UASC", "GBV"])] for _ in range(8)],
                ),
            ]
            self.add(
                f"caselist_footer_{k}.docx",
                docx_bytes(body, footer=foot),
                "r2_footer_label",
                HC,
                label=HC,
                must={"person_name"},
                label_where="footer with page number",
            )
        # 4W with a P-code of a listed township only (no name)
        rows = self.four_w(40, villages=False, area_township="Yinmabin")
        rows = [[c for j, c in enumerate(row) if j != 7] for row in rows]  # township name column dropped
        self.add(
            "4W_pcodes_only.csv",
            csv_bytes(rows),
            "r2_area_pcode",
            C,
            must={"partner_presence_sensitive_area"},
            areas=SENSITIVE_AREAS,
        )
        # PDF distribution list: names without honorifics, but NRC numbers
        lines = ["Distribution list - Pauktaw", "No Name NRC Village Signature"]
        for i in range(15):
            lines.append(f"{i + 1} {self.person()} {self.nrc(style='std')} {self.village()}")
        self.add("distribution_list_scan.pdf", pdf_bytes([lines]), "r2_pdf_list", HC, must={"national_id"})
        # hard negative: assessment table listing townships and the number of villages assessed
        rows = [
            [
                "Township",
                "Township Pcode",
                "Number of villages assessed",
                "Number of village tracts",
                "Wards covered",
                "Camps",
            ]
        ]
        for t in TSP:
            rows.append([t[2], t[3], r.randint(1, 80), r.randint(1, 20), r.randint(0, 9), r.randint(0, 5)])
        self.add("coverage_by_township.csv", csv_bytes(rows), "r2_neg_counts", P)
        # hard negative: staff positions in a "Contact person" column
        rows = [["Organisation", "Township", "Sector", "Contact person", "Email"]]
        for _ in range(15):
            rows.append(
                [
                    r.choice(ORGS),
                    self.tsp()[2],
                    r.choice(ACTS)[0],
                    r.choice(["Project Manager", "Field Coordinator", "WASH Officer", "Area Manager"]),
                    r.choice(["info@org.org", "wash.cluster@org.org"]),
                ]
            )
        self.add("partner_contacts_positions.csv", csv_bytes(rows), "r2_neg_positions", P)

    def round3(self) -> None:
        """Hard negatives aimed at the rules added after rounds 1-2 (weak name headers, lower-case
        names, single names after a weak honorific, service lines)."""
        r = self.r
        rows = [["Township", "Beneficiary", "Member", "Sector", "HHs", "Individuals"]]
        for _ in range(60):
            rows.append(
                [
                    self.tsp()[2],
                    r.choice(["IDP", "Host community", "Returnee", "Stateless", "IDP in camp"]),
                    r.choice(ORGS),
                    r.choice(ACTS)[0],
                    r.randint(5, 900),
                    r.randint(20, 4000),
                ]
            )
        self.add("consortium_reach_by_group.csv", csv_bytes(rows), "r3_neg_weak_headers", P)
        hdr = [
            "grp_resp/respondent_type",
            "grp_site/site_type",
            "grp_site/township",
            "grp_site/households",
            "grp_site/individuals",
            "grp_site/main_need",
        ]
        rows = [hdr] + [
            [
                r.choice(["idp", "host community", "returnee", "key informant", "community leader"]),
                r.choice(["formal", "informal"]),
                self.tsp()[2].lower(),
                r.randint(5, 300),
                r.randint(20, 1500),
                r.choice(NEEDS),
            ]
            for _ in range(40)
        ]
        self.add("site_monitoring_aggregated.xlsx", xlsx_bytes([("sites", rows)]), "r3_neg_lower", P)
        text = (
            "Meeting notes\nU Thant House hosted the coordination meeting. Ma Ba Tha statements were discussed.\n"
            "The hotline (toll-free) 09 450 123 456 remains open."
        )
        self.add(
            "notes_place_like_names.txt",
            text.encode(),
            "r3_neg_text",
            P,
            note="'Ma Ba Tha' (an organisation) reads as a name after an honorific",
        )

    def hard_negatives(self) -> None:
        r = self.r
        for k in range(4):  # budgets
            rows = [
                ["Budget line", "Description", "Unit", "Qty", "Unit cost (MMK)", "Total (MMK)", "Total (USD)", "Donor"]
            ]
            for i in range(r.randint(20, 60)):
                q, u = r.randint(1, 2000), r.choice([9500, 95000, 950000, 2_500_000, 9_500_000])
                rows.append(
                    [
                        f"{r.randint(1, 9)}.{i + 1}",
                        r.choice(
                            [
                                "Rice 50kg bag",
                                "Staff salary",
                                "Vehicle rent",
                                "Hygiene kit",
                                "Warehouse rent",
                                "Bank charges",
                            ]
                        ),
                        r.choice(["bag", "month", "trip", "kit"]),
                        q,
                        f"{u:,}" if k % 2 else u,
                        f"{q * u:,}" if k % 2 else q * u,
                        round(q * u / 2100, 2),
                        r.choice(["ECHO", "MHF", "SIDA", "BHA"]),
                    ]
                )
            rows.append(["", "TOTAL", "", "", "", "959,500,000" if k % 2 else 959500000, 456904.76, ""])
            self.add(
                f"budget_{k}.xlsx" if k < 2 else f"budget_{k}.csv",
                xlsx_bytes([("Budget", rows)]) if k < 2 else csv_bytes(rows),
                "neg_budget",
                P,
            )
        for k in range(4):  # market monitoring / item quantities
            rows = [
                [
                    "Month",
                    "State",
                    "Township",
                    "Township Pcode",
                    "Commodity",
                    "Unit",
                    "Price (MMK)",
                    "Change vs last month (%)",
                    "Availability",
                ]
            ]
            for _ in range(r.randint(40, 150)):
                t = self.tsp()
                rows.append(
                    [
                        f"2024-{r.randint(1, 12):02d}",
                        t[0],
                        t[2],
                        t[3],
                        r.choice(["Rice (Emata)", "Cooking oil", "Salt", "Diesel", "Pulses"]),
                        r.choice(["kg", "viss", "litre"]),
                        r.choice([2500, 4800, 9500, 12500, 98000]),
                        round(r.uniform(-20, 40), 1),
                        r.choice(["available", "limited", "not available"]),
                    ]
                )
            self.add(f"JMMI_market_prices_{k}.csv", csv_bytes(rows), "neg_prices", P)
        for k in range(3):  # distribution reports with dates
            rows = [
                [
                    "Distribution date",
                    "Township",
                    "Township Pcode",
                    "Modality",
                    "HHs",
                    "Individuals",
                    "Rice (MT)",
                    "Cash (MMK)",
                    "Next distribution",
                    "Report date",
                ]
            ]
            for _ in range(r.randint(20, 80)):
                t = self.tsp()
                rows.append(
                    [
                        self.date(),
                        t[2],
                        t[3],
                        r.choice(["in-kind", "cash"]),
                        r.randint(10, 900),
                        r.randint(40, 4000),
                        round(r.uniform(0.5, 40), 2),
                        r.randint(1, 999) * 10000,
                        self.date(),
                        self.date(),
                    ]
                )
            self.add(f"distribution_report_{k}.xlsx", xlsx_bytes([("Report", rows)]), "neg_dates", P)
        for k in range(3):  # township centroids
            rows = [["State", "Township", "Township Pcode", "Latitude", "Longitude", "IDPs", "Returnees"]]
            for t in TSP[: r.randint(8, len(TSP))]:
                rows.append([t[0], t[2], t[3], t[4], t[5], r.randint(100, 90000), r.randint(0, 5000)])
            data = csv_bytes(rows) if k != 1 else xlsx_bytes([("IDP", rows)])
            self.add(
                f"idp_by_township_{k}.{'xlsx' if k == 1 else 'csv'}",
                data,
                "neg_centroids",
                P,
                note="township centroids",
            )
        for k in range(3):  # organisation contact sheets with role e-mails
            rows = [["Organisation", "Acronym", "Type", "Sectors", "General email", "Website", "Townships covered"]]
            roles = [
                "info",
                "contact",
                "cluster.coord",
                "im",
                "protection",
                "wash.cluster",
                "feedback",
                "hotline",
                "mm.info",
                "coordination",
            ]
            for o in ORGS[: r.randint(8, 18)]:
                acr = "".join(w[0] for w in o.split() if w[0].isupper())
                rows.append(
                    [
                        o,
                        acr,
                        r.choice(["NNGO", "INGO", "UN", "CBO"]),
                        r.choice(ACTS)[0],
                        f"{r.choice(roles)}@{acr.lower() or 'org'}.org",
                        f"www.{acr.lower() or 'org'}.org",
                        ", ".join(t[2] for t in (self.tsp() for _ in range(3))),
                    ]
                )
            self.add(f"partner_directory_{k}.csv", csv_bytes(rows), "neg_contacts", P)
        for k in range(3):  # ticket numbers, P-codes, IDs that are not NRC
            rows = [
                [
                    "Ticket No.",
                    "Date received",
                    "Channel",
                    "Township",
                    "Township Pcode",
                    "District Pcode",
                    "Category",
                    "Status",
                    "Days to close",
                    "Reference",
                ]
            ]
            for i in range(r.randint(40, 150)):
                t = self.tsp()
                rows.append(
                    [
                        f"CFM-2024-{i:05d}",
                        self.date().isoformat(),
                        r.choice(["hotline", "box", "F2F"]),
                        t[2],
                        t[3],
                        t[1] + "D00" + str(r.randint(1, 5)),
                        r.choice(["request for info", "complaint - quality", "thanks"]),
                        r.choice(["closed", "open"]),
                        r.randint(0, 40),
                        f"PO/{r.randint(2023, 2024)}/{r.randint(1, 9999):04d}",
                    ]
                )
            self.add(f"cfm_summary_{k}.csv", csv_bytes(rows), "neg_ids", P)
        for k in range(4):  # sex/age disaggregated aggregates, PwD counts, Burmese headers
            if k < 2:
                rows = [
                    [
                        "Township",
                        "Pcode",
                        "Boys 0-17",
                        "Girls 0-17",
                        "Men 18-59",
                        "Women 18-59",
                        "Elderly 60+",
                        "PwD",
                        "Total",
                    ]
                ]
            else:
                rows = [["မြို့နယ်", "Pcode", "ကျား", "မ", "စုစုပေါင်း", "မသန်စွမ်း", "အသက် ၆၀ အထက်"]]
            for t in TSP:
                nums = [r.randint(0, 3000) for _ in range(len(rows[0]) - 3)]
                rows.append([t[2] if k < 2 else t[8], t[3], *nums, sum(nums)])
            self.add(
                f"people_reached_disagg_{k}.{'xlsx' if k % 2 else 'csv'}",
                xlsx_bytes([("Reached", rows)]) if k % 2 else csv_bytes(rows),
                "neg_disagg",
                P,
            )
        for k in range(3):  # meeting minutes
            lines = [
                f"# {r.choice(['WASH', 'Protection', 'Shelter/NFI/CCCM'])} Cluster coordination meeting",
                f"Date: {self.date().strftime('%d %B %Y')}, 10:00-12:00, online",
                f"Participants: {', '.join(r.sample(ORGS, 8))}",
                "",
                "## Agenda",
                "1. Situation update",
                "2. 4W reporting",
                "3. AOB",
                "",
                f"- Access to {self.tsp()[2]} and {self.tsp()[2]} townships remains restricted.",
                "- Partners to submit the 4W by the 5th of each month to im@wash-cluster.org.",
                "- The cluster will share the township-level gap analysis (see annex).",
                "- Reminder: beneficiary lists must never be shared by e-mail.",
                f"- Next meeting: {self.date().strftime('%d/%m/%Y')}.",
            ]
            self.add(f"minutes_{k}.md" if k else "minutes.txt", "\n".join(lines).encode(), "neg_minutes", P)
        for k in range(2):  # "Name" columns of organisations / townships
            rows = [["Name", "Type", "Township", "Pcode", "Projects"]]
            for o in r.sample(ORGS, 12):
                t = self.tsp()
                rows.append([o, r.choice(["NNGO", "INGO"]), t[2], t[3], r.randint(1, 9)])
            self.add(f"org_list_{k}.csv", csv_bytes(rows), "neg_namecol", P)
        for k in range(2):  # free text sitrep with protection words, township-level only
            text = (
                f"Situation overview {self.date().strftime('%B %Y')}\n\n"
                f"Fighting in {self.tsp()[2]} and {self.tsp()[2]} displaced an estimated 12,000 people. "
                "Reports indicate that 35 civilians were arrested and detained; GBV survivors have limited access "
                "to services. Unaccompanied children were identified in two townships.\n"
                "Cluster partners distributed 9,500 hygiene kits and 1,200 MT of rice.\n"
                "Funding received: 9,500,000 USD (2024-06-30).\n"
            )
            self.add(f"overview_{k}.txt", text.encode(), "neg_text", P)

    def clear_labelled(self) -> None:
        rows = self.four_w(40, villages=False)
        self.add("4W_township_PUBLIC.csv", csv_bytes(rows), "public_label", P, label=P, label_where="filename")
        self.add(
            "4W_township.csv",
            csv_bytes([["Classification: Public"], *self.four_w(40, villages=False)]),
            "public_label",
            P,
            label=P,
            label_where="row1",
        )
        self.add(
            "PM_snapshot_public.docx",
            docx_bytes(
                [("p", "Protection snapshot", True), ("p", "28 incidents were reported in 4 townships.")],
                footer="PUBLIC",
            ),
            "public_label",
            P,
            label=P,
            label_where="footer",
        )
        self.add(
            "Sitrep_public.pdf",
            pdf_bytes([["Humanitarian update", "Township figures only."]], info={"Keywords": "Public"}),
            "public_label",
            P,
            label=P,
            label_where="keywords",
        )
        # clear content, but labelled confidential anyway (over-labelling is fine)
        self.add(
            "4W_Q2_CONFIDENTIAL.xlsx",
            xlsx_bytes([("4W", self.four_w(30, villages=False))]),
            "overlabel",
            P,
            label=C,
            label_where="filename",
        )
        self.add(
            "gap_analysis_Restricted.xlsx",
            xlsx_bytes([("Gaps", self.four_w(30, villages=False))]),
            "overlabel",
            P,
            label="restricted",
            label_where="filename",
        )
        # label wording seen in the field
        for k, line in enumerate(
            [
                "HIGHLY CONFIDENTIAL - DO NOT SHARE",
                "CONFIDENTIAL: for cluster use only",
                "Strictly Confidential (internal use)",
            ]
        ):
            lab = C if k == 1 else HC
            rows = self.distribution_list(30) if lab == HC else self.four_w(30, villages=True)
            self.add(
                f"field_marking_{k}.csv",
                csv_bytes([[line], *rows]),
                "field_marking",
                HC if lab == HC else C,
                label=lab,
                label_where="row1-wording",
                must={"person_name"} if lab == HC else {"precise_location"},
            )

    def zips(self) -> None:
        r = self.r
        clear1 = csv_bytes(self.four_w(40, villages=False))
        clear2 = pdf_bytes([["Humanitarian update", "Township table only", "Lashio MMR015001 1,200"]])
        lst = xlsx_bytes([("List", self.distribution_list(40))])
        caseno = docx_bytes(
            [("p", f"{self.person(hon=True)} (14) is an unaccompanied child."), ("p", f"Phone {self.phone_any()}")]
        )
        kobo = json.dumps(
            [
                {
                    "_uuid": str(uuid.UUID(int=r.getrandbits(128))),
                    "_submission_time": "2024-01-01",
                    "grp/resp_name": self.person(),
                    "grp/resp_phone": self.phone(),
                }
                for _ in range(20)
            ]
        ).encode()
        self.add("Q3_submission.zip", zip_bytes([("4W_Q3.csv", clear1), ("update.pdf", clear2)]), "zip", P)
        self.add(
            "Q3_submission_full.zip",
            zip_bytes([("4W_Q3.csv", clear1), ("Annex/distribution list.xlsx", lst)]),
            "zip",
            HC,
            must={"person_name", "phone_number"},
        )
        self.add(
            "cases_HIGHLY_CONFIDENTIAL.zip",
            zip_bytes([("case.docx", caseno), ("list.xlsx", lst)]),
            "zip_labelled",
            HC,
            label=HC,
            must={"person_name"},
            label_where="filename",
        )
        self.add(
            "submission_may.zip",
            zip_bytes(
                [
                    ("list_HIGHLY_CONFIDENTIAL.xlsx", lst),
                    ("case_Strictly_Confidential.docx", caseno),
                    ("4W.csv", clear1),
                ]
            ),
            "zip_labelled",
            HC,
            label=HC,
            must={"person_name"},
            label_where="members",
        )
        inner = zip_bytes([("kobo.json", kobo)])
        self.add(
            "nested_export.zip",
            zip_bytes([("readme.txt", b"Kobo export, see inner zip"), ("data.zip", inner)]),
            "zip",
            HC,
            must={"person_name", "phone_number"},
        )
        self.add(
            "mixed_labels.zip",
            zip_bytes([("list_HIGHLY_CONFIDENTIAL.xlsx", lst), ("case_note.docx", caseno)]),
            "zip",
            HC,
            must={"person_name"},
            note="one member labelled, one not",
        )
        self.add(
            "reports.zip",
            zip_bytes(
                [("a.pdf", clear2), ("b.csv", clear1), ("c.docx", docx_bytes([("p", "Township-level summary only.")]))]
            ),
            "zip",
            P,
        )
        self.add(
            "areas_update.zip",
            zip_bytes(
                [
                    (
                        "upd.pdf",
                        pdf_bytes([["Partner update", ("Our team supported 300 families in Yinmabin this month.")]]),
                    )
                ]
            ),
            "zip",
            C,
            must={"partner_presence_sensitive_area"},
            areas=SENSITIVE_AREAS,
        )


def build_corpus(seed: int = 2024) -> list[FieldCase]:
    return Corpus(seed).build()


if __name__ == "__main__":  # pragma: no cover - a quick look at the corpus
    import collections

    cs = build_corpus()
    print(len(cs), "files", collections.Counter(c.expected for c in cs))
