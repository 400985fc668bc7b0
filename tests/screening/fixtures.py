"""A varied fixture generator: realistic positives and hard negatives in every format.

Each case is (filename, bytes, Expected).  Nothing here is real personal data: names are
assembled from common syllables, phone numbers are random but valid-format."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

import phonenumbers

SYL = [
    "Aung",
    "Kyaw",
    "Hla",
    "Win",
    "Myint",
    "Thein",
    "Su",
    "Mya",
    "Khin",
    "Zaw",
    "Htet",
    "Naing",
    "Moe",
    "Thandar",
    "Nilar",
    "Phyo",
    "Thu",
    "Zin",
    "Ye",
    "Min",
    "Soe",
    "Tun",
    "Lwin",
    "Oo",
    "Nyein",
    "Ei",
    "Hnin",
    "Wai",
    "Yadanar",
    "Chit",
    "San",
    "Htay",
    "Khaing",
    "Myo",
    "Kyi",
    "Nandar",
    "Pyae",
    "Sandar",
    "Thiri",
]
HON = ["U", "Daw", "Ko", "Ma", "Maung", "Mg", "Naw", "Saw", "Sai", "Nang", "Khun", "Mahn"]
OTHER_NAMES = [
    "Brang Seng",
    "Lahpai Zau Nan",
    "Mohammed Hussein",
    "Nur Begum",
    "Hkawng Lum",
    "Seng Tawng",
    "Paw Htoo",
    "Eh Say",
    "Abdul Rahman",
    "Roshida Begum",
]
BSYL = [
    "\u1021\u1031\u102c\u1004\u103a",
    "\u1000\u103b\u1031\u102c\u103a",
    "\u101c\u103e",
    "\u101d\u1004\u103a\u1038",
    "\u1019\u103c\u1004\u1037\u103a",
    "\u101e\u102d\u1014\u103a\u1038",
    "\u1005\u102f",
    "\u1019\u103c",
    "\u1001\u1004\u103a",
    "\u1007\u1031\u102c\u103a",
    "\u1011\u1000\u103a",
    "\u1014\u102d\u102f\u1004\u103a",
]
BHON = [
    "\u1026\u1038",
    "\u1012\u1031\u102b\u103a",
    "\u1000\u102d\u102f",
    "\u1019\u1031\u102c\u1004\u103a",
    "\u1014\u1031\u102c\u103a",
]
MMDIG = "\u1040\u1041\u1042\u1043\u1044\u1045\u1046\u1047\u1048\u1049"
TOWNSHIPS = [
    ("Kachin", "MMR001", "Myitkyina", "MMR001001"),
    ("Kachin", "MMR001", "Waingmaw", "MMR001002"),
    ("Kachin", "MMR001", "Bhamo", "MMR001010"),
    ("Kachin", "MMR001", "Hpakant", "MMR001013"),
    ("Shan (North)", "MMR015", "Lashio", "MMR015001"),
    ("Shan (North)", "MMR015", "Kutkai", "MMR015012"),
    ("Rakhine", "MMR012", "Sittwe", "MMR012001"),
    ("Rakhine", "MMR012", "Pauktaw", "MMR012003"),
    ("Rakhine", "MMR012", "Minbya", "MMR012005"),
    ("Kayin", "MMR007", "Hpa-An", "MMR007001"),
    ("Sagaing", "MMR005", "Monywa", "MMR005001"),
    ("Magway", "MMR009", "Pakokku", "MMR009012"),
    ("Yangon", "MMR013", "Hlaing Tharyar", "MMR013012"),
    ("Kayah", "MMR002", "Loikaw", "MMR002001"),
    ("Chin", "MMR004", "Hakha", "MMR004001"),
    ("Mandalay", "MMR010", "Meiktila", "MMR010015"),
]
SENSITIVE = ["Hpakant", "Pauktaw", "Loikaw", "MMR004001"]
VILLAGES = [
    "Nam Hkam",
    "Lonkin",
    "Sai Taung",
    "Ah Lel Chaung",
    "Thet Kel Pyin",
    "Kyauk Ta Lone",
    "Ywar Thit",
    "Hpa Lan",
    "Mile 7",
    "Nyaung Pin Lay",
    "Ohn Taw",
    "Baw Du Pha",
]
ORGS = [
    "Myanmar Red Cross Society",
    "Save the Children",
    "Metta Development Foundation",
    "Karuna Mission",
    "World Vision",
    "Shalom Foundation",
    "KBC",
    "Community Partners International",
    "NRC",
    "Oxfam",
]
ACTIVITIES = ["Food distribution", "WASH kits", "Cash transfer", "Shelter repair", "PSS sessions", "Hygiene promotion"]
LEVEL_PHRASES = {
    "public": ["PUBLIC", "Public"],
    "restricted": ["RESTRICTED", "Restricted"],
    "confidential": ["CONFIDENTIAL", "Confidential"],
    "highly_confidential": ["HIGHLY CONFIDENTIAL", "Highly_Confidential", "STRICTLY CONFIDENTIAL"],
}
RANK = {"public": 0, "restricted": 1, "confidential": 2, "highly_confidential": 3}


@dataclass
class Expected:
    required: str  # level the content requires
    label: str | None  # label we expect to be recognised (placed in name/content/metadata/arg)
    label_arg: str | None = None  # passed as --label
    kind: str = ""
    label_placed: bool = False

    @property
    def sensitive(self) -> bool:
        return RANK[self.required] >= 2

    @property
    def verdict(self) -> str:
        if not self.sensitive:
            return "clear"
        return (
            "labelled" if self.label is not None and RANK[self.label] >= RANK[self.required] else "unlabelled_sensitive"
        )


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    # ------------------------------------------------------------- values
    def name(self, burmese: bool = False) -> str:
        r = self.r
        if burmese:
            return r.choice(BHON) + "".join(r.choice(BSYL) for _ in range(r.randint(1, 3)))
        if r.random() < 0.1:
            return r.choice(OTHER_NAMES)
        words = [r.choice(SYL) for _ in range(r.randint(2, 3))]
        if r.random() < 0.6:
            words.insert(0, r.choice(HON))
        return " ".join(words)

    def phone(self, style: int | None = None) -> str:
        r = self.r
        while True:
            prefix = r.choice(
                [
                    "925",
                    "942",
                    "944",
                    "945",
                    "966",
                    "967",
                    "969",
                    "975",
                    "976",
                    "977",
                    "978",
                    "979",
                    "973",
                    "940",
                    "995",
                    "996",
                    "997",
                    "998",
                    "988",
                    "989",
                    "26",
                    "25",
                    "43",
                ]
            )
            nsn = "9" + prefix[1:] + "".join(r.choice("0123456789") for _ in range(r.choice([6, 7, 8])))
            if prefix in ("26", "25", "43"):
                nsn = "9" + prefix + "".join(r.choice("0123456789") for _ in range(r.choice([6, 7])))
            num = phonenumbers.parse("0" + nsn, "MM")
            if phonenumbers.is_valid_number(num):
                break
        s = style if style is not None else r.randint(0, 6)
        local = "0" + nsn
        if s == 0:
            return local
        if s == 1:
            return f"{local[:2]} {local[2:5]} {local[5:8]} {local[8:]}"
        if s == 2:
            return f"+95 9 {nsn[1:4]} {nsn[4:]}"
        if s == 3:
            return "95" + nsn
        if s == 4:
            return f"{local[:2]}-{local[2:5]}-{local[5:]}"
        if s == 5:
            return "".join(MMDIG[int(c)] for c in local)
        return f"+95{nsn}"

    def nrc(self, burmese: bool = False) -> str:
        r = self.r
        st = r.randint(1, 14)
        digits = "".join(r.choice("0123456789") for _ in range(6))
        if burmese:
            to = lambda s: "".join(MMDIG[int(c)] for c in s)
            return f"{to(str(st))}/\u1025\u1000\u1019(\u1014\u102d\u102f\u1004\u103a){to(digits)}"
        code = r.choice(["OUKAMA", "MAYANA", "KAMATA", "LAMANA", "PABATA", "YAKANA", "OKM", "MKN"])
        typ = r.choice(["N", "NAING", "E", "P"])
        return f"{st}/{code}({typ}){digits}"

    def email(self, personal: bool = True) -> str:
        r = self.r
        if personal:
            local = f"{r.choice(SYL).lower()}.{r.choice(SYL).lower()}{r.randint(1, 99)}"  # same draw order as before
            return f"{local}@{r.choice(['gmail.com', 'yahoo.com', 'outlook.com'])}"
        local = r.choice(["info", "contact", "wash.cluster", "office", "hr"])
        return f"{local}@{r.choice(['mrcs.org.mm', 'ngo.org', 'un.org'])}"

    def gps(self) -> tuple[str, str]:
        return f"{self.r.uniform(16, 25):.5f}", f"{self.r.uniform(94, 98):.5f}"

    def township(self, avoid_sensitive: bool = True) -> tuple[str, str, str, str]:
        while True:
            t = self.r.choice(TOWNSHIPS)
            if not avoid_sensitive or (t[2] not in SENSITIVE and t[3] not in SENSITIVE):
                return t

    # ------------------------------------------------------------- tables
    def beneficiary_table(self, n: int) -> tuple[list[str], list[str] | None, list[list[str]]]:
        r = self.r
        style = r.choice(["en", "bur", "hxl", "kobo", "short"])
        burmese = r.random() < 0.3
        hdr = {
            "en": ["No.", "Beneficiary Name", "Sex", "Age", "Phone Number", "Township", "Village", "HH Size"],
            "bur": [
                "\u1005\u1009\u103a",
                "\u1021\u1019\u100a\u103a",
                "\u1000\u103b\u102c\u1038/\u1019",
                "\u1021\u101e\u1000\u103a",
                "\u1016\u102f\u1014\u103a\u1038",
                "\u1019\u103c\u102d\u102f\u1037\u1014\u101a\u103a",
                "\u1000\u103b\u1031\u1038\u101b\u103d\u102c",
                "HH Size",
            ],
            "hxl": ["#", "Name", "Gender", "Age", "Contact", "Township", "Location", "Members"],
            "kobo": [
                "_index",
                "respondent_name",
                "resp_sex",
                "resp_age",
                "phone_no",
                "township",
                "village_name",
                "hh_size",
            ],
            "short": ["SN", "Full name", "M/F", "Age", "Mobile", "Tsp", "Vill", "Family size"],
        }[style]
        hxl = (
            [
                "#x",
                "#beneficiary+name",
                "#beneficiary+sex",
                "#beneficiary+age",
                "#contact+phone",
                "#adm3+name",
                "#adm4+name",
                "#household+size",
            ]
            if style == "hxl"
            else None
        )
        rows = []
        for i in range(n):
            t = self.township()
            rows.append(
                [
                    str(i + 1),
                    self.name(burmese),
                    r.choice(["M", "F", "Male", "Female"]),
                    str(r.randint(1, 85)),
                    self.phone(),
                    t[2],
                    r.choice(VILLAGES),
                    str(r.randint(1, 9)),
                ]
            )
        if r.random() < 0.3:  # drop the phone column: names + village still sensitive
            hdr = hdr[:4] + hdr[5:]
            hxl = (hxl[:4] + hxl[5:]) if hxl else None
            rows = [row[:4] + row[5:] for row in rows]
        return hdr, hxl, rows

    def household_survey(self, n: int) -> tuple[list[str], list[str] | None, list[list[str]]]:
        r = self.r
        hdr = [
            "start",
            "end",
            "_uuid",
            "_submission_time",
            "consent",
            "township",
            "village_tract",
            "hh_size",
            "head_sex",
            "head_age",
            "disability_in_hh",
            "main_need",
            "income_mmk",
        ]
        rows = []
        for _ in range(n):
            t = self.township()
            rows.append(
                [
                    "2024-05-01T08:00:00",
                    "2024-05-01T08:30:00",
                    (
                        f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-4{r.getrandbits(12):03x}-"
                        f"a{r.getrandbits(12):03x}-{r.getrandbits(48):012x}"
                    ),
                    "2024-05-01T09:00:00",
                    "yes",
                    t[2],
                    r.choice(VILLAGES) + " VT",
                    str(r.randint(1, 10)),
                    r.choice(["male", "female"]),
                    str(r.randint(18, 80)),
                    r.choice(["yes", "no", "no"]),
                    r.choice(["food", "shelter", "cash", "health"]),
                    str(r.randint(50, 900) * 1000),
                ]
            )
        return hdr, None, rows

    def aggregated_3w(
        self, n: int, sensitive_area: bool = False
    ) -> tuple[list[str], list[str] | None, list[list[str]]]:
        r = self.r
        hxl = (
            [
                "#adm1+name",
                "#adm1+code",
                "#adm3+name",
                "#adm3+code",
                "#org+impl",
                "#sector",
                "#activity",
                "#reached+m",
                "#reached+f",
                "#value+budget",
            ]
            if r.random() < 0.3
            else None
        )
        hdr = [
            "State/Region",
            "State Pcode",
            "Township",
            "Township Pcode",
            "Implementing Partner",
            "Sector",
            "Activity",
            "Reached Male",
            "Reached Female",
            "Budget (MMK)",
        ]
        rows = []
        sens_row = r.randrange(n) if sensitive_area else -1
        for i in range(n):
            t = self.township(avoid_sensitive=True)
            if i == sens_row:
                t = next(x for x in TOWNSHIPS if x[2] in SENSITIVE)
            budget = r.choice(
                [
                    str(r.randint(1, 99) * 1_000_000),
                    f"{r.randint(1, 999):,}000",
                    "9590000000",
                    str(r.randint(100000, 999999)),
                    "0",
                ]
            )
            rows.append(
                [
                    t[0],
                    t[1],
                    t[2],
                    t[3],
                    r.choice(ORGS),
                    r.choice(["WASH", "Food Security", "Shelter", "Health"]),
                    r.choice(ACTIVITIES),
                    str(r.randint(0, 5000)),
                    str(r.randint(0, 5000)),
                    budget,
                ]
            )
        return hdr, hxl, rows

    def prices(self, n: int) -> tuple[list[str], list[str] | None, list[list[str]]]:
        r = self.r
        hdr = ["Date", "State", "Township", "Township Pcode", "Item", "Unit", "Price (MMK)", "Change %"]
        rows = []
        for _ in range(n):
            t = self.township()
            rows.append(
                [
                    f"2024-{r.randint(1, 12):02d}-01",
                    t[0],
                    t[2],
                    t[3],
                    r.choice(["Rice", "Oil", "Salt", "Fuel"]),
                    r.choice(["kg", "viss", "litre"]),
                    str(r.choice([2500, 4800, 9500, 12500, 95000, 1250000])),
                    f"{r.uniform(-20, 40):.2f}",
                ]
            )
        return hdr, None, rows

    def centroids(self) -> tuple[list[str], list[str] | None, list[list[str]]]:
        hdr = ["ST", "ST_PCODE", "TS", "TS_PCODE", "Latitude", "Longitude", "Population 2024"]
        rows = [
            [
                t[0],
                t[1],
                t[2],
                t[3],
                f"{self.r.uniform(16, 25):.4f}",
                f"{self.r.uniform(94, 98):.4f}",
                str(self.r.randint(50000, 400000)),
            ]
            for t in TOWNSHIPS
            if t[2] not in SENSITIVE and t[3] not in SENSITIVE
        ]
        return hdr, None, rows

    def disaggregated(self) -> tuple[list[str], list[str] | None, list[list[str]]]:
        hdr = ["Township", "Township Pcode", "Sex", "Age group", "People in need", "Targeted"]
        rows = []
        for t in TOWNSHIPS:
            if t[2] in SENSITIVE or t[3] in SENSITIVE:
                continue
            for sex in ("Male", "Female"):
                for ag in ("0-5", "6-17", "18-59", "60+"):
                    rows.append([t[2], t[3], sex, ag, str(self.r.randint(100, 9000)), str(self.r.randint(50, 4000))])
        return hdr, None, rows

    def gps_sites(self, n: int) -> tuple[list[str], list[str] | None, list[list[str]]]:
        hdr = (
            ["Site", "Type", "Lat", "Long", "IDPs"]
            if self.r.random() < 0.5
            else ["IDP site", "Type", "#geo+lat", "#geo+lon", "Individuals"]
        )
        rows = []
        for _ in range(n):
            la, lo = self.gps()
            rows.append([self.r.choice(VILLAGES) + " camp", "camp", la, lo, str(self.r.randint(50, 3000))])
        return hdr, None, rows

    def precise_pcodes(self, n: int) -> tuple[list[str], list[str] | None, list[list[str]]]:
        hdr = ["Township", "VT Pcode", "Households reached"]
        rows = []
        for _ in range(n):
            t = self.township()
            rows.append([t[2], t[3] + f"{self.r.randint(1, 60):03d}", str(self.r.randint(10, 500))])
        return hdr, None, rows

    def contacts(self, n: int) -> tuple[list[str], list[str] | None, list[list[str]]]:
        hdr = ["Organisation", "Focal point", "Position", "Email", "Phone"]
        rows = [[self.r.choice(ORGS), self.name(), "Project Officer", self.email(True), self.phone()] for _ in range(n)]
        return hdr, None, rows

    def admin_list(self) -> tuple[list[str], list[str] | None, list[list[str]]]:
        hdr = ["Name", "Pcode", "Level"]
        rows = []
        for t in TOWNSHIPS:
            rows.append([t[0], t[1], "State"])
            rows.append([t[0] + " District", t[1] + "D00" + str(self.r.randint(1, 9)), "District"])
            rows.append([t[2], t[3], "Township"])
        return hdr, None, rows


# ------------------------------------------------------------------ writers
def to_csv(
    hdr: list[str], hxl: list[str] | None, rows: list[list[str]], delim: str = ",", top: list[str] | None = None
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\n")
    for line in top or []:
        w.writerow([line])
    w.writerow(hdr)
    if hxl:
        w.writerow(hxl)
    w.writerows(rows)
    return buf.getvalue()


def to_xlsx(
    sheets: list[tuple[str, list[list[str]]]], props: dict[str, str] | None = None, msip: str | None = None
) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title[:31])
        for row in rows:
            ws.append(row)
    if props:
        for k, v in props.items():
            setattr(wb.properties, k, v)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if msip:
        data = add_msip_label(data, msip)
    return data


def add_msip_label(ooxml: bytes, name: str) -> bytes:
    guid = "f42aa342-8706-4288-bd11-ebb85995028c"
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="MSIP_Label_{guid}_Enabled">'
        "<vt:lpwstr>true</vt:lpwstr></property>"
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="3" name="MSIP_Label_{guid}_Name">'
        f"<vt:lpwstr>{escape(name)}</vt:lpwstr></property></Properties>"
    )
    src = zipfile.ZipFile(io.BytesIO(ooxml))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != "docProps/custom.xml":
                z.writestr(info, src.read(info))
        z.writestr("docProps/custom.xml", custom)
    return out.getvalue()


def to_docx(
    paragraphs: list[str],
    tables: list[list[list[str]]] | None = None,
    header: str | None = None,
    msip: str | None = None,
    keywords: str | None = None,
) -> bytes:
    W = (
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    )

    def p(t: str) -> str:
        return f'<w:p><w:r><w:t xml:space="preserve">{escape(t)}</w:t></w:r></w:p>'

    body = "".join(p(t) for t in paragraphs)
    for tb in tables or []:
        body += (
            "<w:tbl>"
            + "".join("<w:tr>" + "".join(f"<w:tc>{p(c)}</w:tc>" for c in row) + "</w:tr>" for row in tb)
            + "</w:tbl>"
        )
    doc = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr("word/document.xml", doc)
        if header:
            z.writestr("word/header1.xml", f'<?xml version="1.0"?><w:hdr {W}>{p(header)}</w:hdr>')
        if keywords:
            z.writestr(
                "docProps/core.xml",
                '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.'
                'openxmlformats.org/package/2006/metadata/core-properties">'
                f"<cp:keywords>{escape(keywords)}</cp:keywords></cp:coreProperties>",
            )
    data = out.getvalue()
    return add_msip_label(data, msip) if msip else data


def to_pdf(lines: list[str], subject: str | None = None, keywords: str | None = None) -> bytes:
    """A minimal, valid PDF with Helvetica text (Latin only), one page per 50 lines."""
    pages = [lines[i : i + 50] for i in range(0, max(len(lines), 1), 50)] or [[]]
    objs: list[bytes] = []
    font_id = 3
    page_ids = []
    next_id = 4
    content: list[tuple[int, bytes]] = []
    for pl in pages:
        ops = ["BT /F1 9 Tf 40 800 Td 11 TL"]
        for ln in pl:
            safe = (
                ln.encode("latin-1", "replace")
                .decode("latin-1")
                .replace("\\", "\\\\")
                .replace("(", "\\(")
                .replace(")", "\\)")
            )
            ops.append(f"({safe}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1", "replace")
        pid, cid = next_id, next_id + 1
        next_id += 2
        page_ids.append(pid)
        content.append(
            (
                pid,
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {cid} 0 R "
                f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode(),
            )
        )
        content.append((cid, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"))
    info_id = next_id
    info = "<< /Producer (fixture)"
    if subject:
        info += f" /Subject ({subject})"
    if keywords:
        info += f" /Keywords ({keywords})"
    info += " >>"
    objs_map = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: (
            "<< /Type /Pages /Kids [" + " ".join(f"{i} 0 R" for i in page_ids) + f"] /Count {len(page_ids)} >>"
        ).encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for i, b in content:
        objs_map[i] = b
    objs_map[info_id] = info.encode("latin-1", "replace")
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for i in sorted(objs_map):
        offsets[i] = len(out)
        out += b"%d 0 obj\n" % i + objs_map[i] + b"\nendobj\n"
    xref = len(out)
    n = max(objs_map) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % n
    for i in range(1, n):
        out += b"%010d 00000 n \n" % offsets.get(i, 0)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (n, info_id, xref)
    del objs
    return bytes(out)


def zipped(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
    return out.getvalue()


# ------------------------------------------------------------------ cases
def cases(seed: int, n: int) -> list[tuple[str, bytes, Expected]]:
    g = Gen(seed)
    r = g.r
    out: list[tuple[str, bytes, Expected]] = []
    for i in range(n):
        out.append(one_case(g, r, i))
    return out


def _label_plan(r: random.Random, required: str) -> tuple[str | None, str]:
    """Which label to place and where; returns (level or None, where)."""
    x = r.random()
    if RANK[required] >= 2:
        if x < 0.45:
            return None, "none"
        if x < 0.55:  # a lower label: still unlabelled
            return r.choice(["public", "restricted"]) if required == "confidential" else r.choice(
                ["restricted", "confidential"]
            ), r.choice(["name", "content", "arg"])
        return (required if r.random() < 0.7 else "highly_confidential"), r.choice(["name", "content", "arg", "meta"])
    if x < 0.6:
        return None, "none"
    return r.choice(["public", "restricted", "confidential"]), r.choice(["name", "content", "meta", "arg"])


def one_case(g: Gen, r: random.Random, i: int) -> tuple[str, bytes, Expected]:
    kinds = [
        "benef",
        "survey",
        "buried",
        "narrative",
        "presence",
        "gps",
        "contacts",
        "precise",
        "kobojson",
        "nrc_bur",
        "zipmix",
        "agg",
        "prices",
        "centroids",
        "sitrep",
        "aggjson",
        "zipclear",
        "admin",
        "disagg",
        "agg_big",
    ]
    kind = kinds[i % len(kinds)] if r.random() < 0.8 else r.choice(kinds)
    required = {
        "benef": "highly_confidential",
        "survey": "confidential",
        "buried": "highly_confidential",
        "narrative": "highly_confidential",
        "presence": "confidential",
        "gps": "confidential",
        "contacts": "highly_confidential",
        "precise": "confidential",
        "kobojson": "highly_confidential",
        "nrc_bur": "highly_confidential",
        "zipmix": "highly_confidential",
    }.get(kind, "public")
    level, where = _label_plan(r, required)
    base = f"{kind}_{i:04d}"
    name_tok = ""
    if level and where == "name":
        name_tok = "_" + r.choice(LEVEL_PHRASES[level]).replace(" ", r.choice(["_", "-", " "]))
    content_mark = (
        r.choice(
            [
                f"Classification: {r.choice(LEVEL_PHRASES[level])}",
                f"Sensitivity: {r.choice(LEVEL_PHRASES[level])}",
                r.choice(LEVEL_PHRASES[level]),
            ]
        )
        if level and where == "content"
        else None
    )
    meta = level if where == "meta" else None
    fmt = r.choice(["csv", "xlsx", "tsv", "json", "docx", "pdf", "zip", "txt"])
    hdr: list[str]
    if kind in (
        "benef",
        "survey",
        "presence",
        "gps",
        "contacts",
        "precise",
        "agg",
        "prices",
        "centroids",
        "admin",
        "disagg",
        "buried",
        "agg_big",
    ):
        hxl = None
        if kind == "benef":
            hdr, hxl, rows = g.beneficiary_table(r.randint(5, 400))
        elif kind == "survey":
            hdr, hxl, rows = g.household_survey(r.randint(20, 300))
        elif kind == "presence":
            hdr, hxl, rows = g.aggregated_3w(r.randint(5, 200), sensitive_area=True)
        elif kind == "gps":
            hdr, hxl, rows = g.gps_sites(r.randint(5, 100))
        elif kind == "contacts":
            hdr, hxl, rows = g.contacts(r.randint(3, 40))
        elif kind == "precise":
            hdr, hxl, rows = g.precise_pcodes(r.randint(5, 200))
        elif kind == "agg":
            hdr, hxl, rows = g.aggregated_3w(r.randint(5, 300))
        elif kind == "agg_big":
            hdr, hxl, rows = g.aggregated_3w(r.randint(1500, 2500))
        elif kind == "prices":
            hdr, hxl, rows = g.prices(r.randint(10, 300))
        elif kind == "centroids":
            hdr, hxl, rows = g.centroids()
        elif kind == "admin":
            hdr, hxl, rows = g.admin_list()
        elif kind == "disagg":
            hdr, hxl, rows = g.disaggregated()
        else:  # buried: a clear table with one phone deep in a free-text column
            hdr, hxl, rows = g.aggregated_3w(r.randint(5200, 6000))
            hdr = hdr + ["Remarks"]
            if hxl:
                hxl = hxl + ["#meta+remarks"]
            rows = [row + [r.choice(["", "on track", "delayed due to access", "completed"])] for row in rows]
            k = r.randint(5001, len(rows) - 1)
            rows[k][-1] = r.choice(["please call ", "contact focal point at ", "ph: "]) + g.phone(
                r.choice([0, 1, 2, 4])
            )
            fmt = r.choice(["csv", "xlsx", "tsv", "csv"])
        if fmt in ("pdf", "txt") and kind not in ("contacts", "benef"):
            fmt = "csv"
        if fmt == "pdf" or fmt == "txt":
            fmt = "docx"
        top = [content_mark] if content_mark else None
        if fmt in ("csv", "tsv"):
            text = to_csv(hdr, hxl, rows, "," if fmt == "csv" else "\t", top)
            enc = (
                r.choice(["utf-8", "utf-8-sig", "utf-8", "utf-16"])
                if fmt == "tsv"
                else r.choice(["utf-8", "utf-8-sig"])
            )
            data = text.encode(enc)
        elif fmt == "xlsx":
            rows_all = ([[content_mark]] if content_mark else []) + [hdr] + ([hxl] if hxl else []) + rows
            sheets = [("Data", rows_all)]
            if r.random() < 0.3:
                sheets.insert(0, ("ReadMe", [["About this file"], ["Prepared by the cluster"]]))
            props = {"keywords": r.choice(LEVEL_PHRASES[meta])} if meta and r.random() < 0.5 else None
            data = to_xlsx(sheets, props, msip=r.choice(LEVEL_PHRASES[meta]).title() if meta and not props else None)
        elif fmt == "json":
            data = json.dumps([dict(zip(hdr, row, strict=False)) for row in rows], ensure_ascii=False).encode()
            if content_mark:
                data = json.dumps(
                    {"classification": content_mark, "results": [dict(zip(hdr, row, strict=False)) for row in rows]},
                    ensure_ascii=False,
                ).encode()
        elif fmt == "docx":
            data = to_docx(
                ["Report"],
                [[hdr] + rows[:300]],
                header=content_mark,
                msip=r.choice(LEVEL_PHRASES[meta]).title() if meta else None,
            )
        else:  # zip with a csv inside
            inner = to_csv(hdr, hxl, rows, ",", top).encode()
            data = zipped([("data/" + base + ".csv", inner), ("README.txt", b"Submitted by partner\n")])
        if meta and fmt not in ("xlsx", "docx"):
            where = "arg"
    elif kind in ("narrative", "sitrep", "nrc_bur"):
        if kind == "sitrep":
            t = g.township()
            lines = [
                "Situation Report",
                f"{t[0]} - {t[2]} Township",
                "",
                f"Partners reached {r.randint(1000, 9000)} people in {r.randint(2, 9)} townships.",
                "GBV survivors were supported through case management in three townships.",
                f"Budget spent: {r.randint(10, 900)},000,000 MMK. Stock price index 0.912.",
                "Contact the cluster at info@foodsecuritycluster.net for details.",
                f"Population figures from township centroid {r.uniform(16, 25):.2f}, {r.uniform(94, 98):.2f}.",
            ]
            lines += [
                f"Week {w}: {r.randint(100, 999)} households received {r.choice(ACTIVITIES).lower()}."
                for w in range(1, 30)
            ]
        elif kind == "narrative":
            nm = g.name()
            while len(nm.split()) < 3 or nm.split()[0] not in HON:
                nm = g.name()
            lines = [
                "Case follow-up note",
                "",
                "Background and referral pathway discussed with the protection team.",
                *["Routine monitoring visit completed without incident." for _ in range(r.randint(5, 60))],
            ]
            lines.append(
                r.choice(
                    [
                        f"{nm}, a GBV survivor, was referred to the safe house; phone {g.phone(1)}.",
                        f"Detained person: {nm}, NRC {g.nrc()}.",
                        f"Unaccompanied child traced; caregiver {nm} can be reached on {g.phone(2)}.",
                        f"Date of birth: 12/05/1987, {nm}.",
                    ]
                )
            )
            lines += ["End of note."]
        else:
            lines = [
                "\u1005\u102c\u101b\u1004\u103a\u1038",
                *[f"{g.name(True)} {g.nrc(True)} {g.phone(5)}" for _ in range(r.randint(3, 30))],
            ]
            fmt = r.choice(["txt", "docx", "csv"])
        if content_mark:
            lines.insert(0, content_mark)
        if fmt in ("csv", "tsv", "xlsx", "json", "zip"):
            fmt = r.choice(["txt", "md", "docx", "pdf"]) if kind != "nrc_bur" else "txt"
        if fmt in ("txt", "md"):
            data = "\n".join(lines).encode()
        elif fmt == "docx":
            data = to_docx(
                lines[1:] if content_mark else lines,
                header=content_mark,
                keywords=r.choice(LEVEL_PHRASES[meta]) if meta else None,
            )
        else:
            data = to_pdf(lines, subject=r.choice(LEVEL_PHRASES[meta]) if meta else None)
        if meta and fmt not in ("docx", "pdf"):
            where = "arg"
    elif kind == "kobojson":
        recs = []
        for _ in range(r.randint(5, 80)):
            la, lo = g.gps()
            recs.append(
                {
                    "_id": r.randint(1, 10**8),
                    "_submission_time": "2024-05-01T09:00:00",
                    "group_resp/respondent_name": g.name(),
                    "group_resp/phone": g.phone(0),
                    "group_hh/hh_size": r.randint(1, 9),
                    "_geolocation": [float(la), float(lo)],
                    "group_hh/members": [{"group_hh/members/age": r.randint(0, 80)} for _ in range(2)],
                }
            )
        obj: object = recs if r.random() < 0.5 else {"count": len(recs), "results": recs}
        data = json.dumps(obj, ensure_ascii=False).encode()
        fmt = "json"
        if where in ("content", "meta"):
            where = "arg"
    elif kind == "aggjson":
        recs = [
            {"adm3_pcode": t[3], "adm3_name": t[2], "people_reached": r.randint(0, 9000), "org": r.choice(ORGS)}
            for t in TOWNSHIPS
            if t[2] not in SENSITIVE and t[3] not in SENSITIVE
        ]
        data = json.dumps(recs).encode()
        fmt = "json"
        if where in ("content", "meta"):
            where = "arg"
    else:  # zipmix / zipclear
        hdr, hxl, rows = g.aggregated_3w(r.randint(5, 50))
        files = [("summary/3w.csv", to_csv(hdr, hxl, rows).encode())]
        if kind == "zipmix":
            bh, bx, br = g.beneficiary_table(r.randint(5, 100))
            inner = [("lists/beneficiaries.csv", to_csv(bh, bx, br).encode())]
            if r.random() < 0.4:
                inner = [("nested.zip", zipped(inner))]
            files += inner
        else:
            ph, px, pr = g.prices(20)
            files.append(("prices.csv", to_csv(ph, px, pr).encode()))
        data = zipped(files)
        fmt = "zip"
        if where in ("content", "meta"):
            where = "arg"
    label_arg = level if where == "arg" else None
    fname = f"{base}{name_tok}.{fmt}"
    exp = Expected(required=required, label=level, label_arg=label_arg, kind=kind, label_placed=level is not None)
    return fname, data, exp
