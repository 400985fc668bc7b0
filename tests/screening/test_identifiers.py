"""bot.screening.identifiers: phones outside Myanmar, identity numbers, reserved e-mail domains,
coordinate columns.  Positives are the misses of the external evaluation; negatives are the false
alarms it found plus the usual traps of numeric files (amounts, dates, ISBNs, versions, ids)."""

from __future__ import annotations

import random
import time

import pytest

from bot.screening import identifiers as ids
from bot.screening.patterns import compile_bytes

INTL = [
    ("+66 2 123 4567", "+6621234567"),
    ("+880 1712-345678", "+8801712345678"),
    ("+91 98765 43210", "+919876543210"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("+1 415 555 2671", "+14155552671"),
    ("+95 9 420 123 456", "+959420123456"),
    ("0066 2 123 4567", "+6621234567"),
]


def _scan(pattern: str, data: bytes) -> list[tuple[int, int, bytes]]:
    prog = compile_bytes(pattern)
    out, pos = [], 0
    while pos < len(data):
        m = prog.search(data, pos)
        if m is None:
            break
        s, e = m.span()
        out.append((s, e, data[s:e]))
        pos = e if e > s else s + 1
    return out


# --------------------------------------------------------------------------- patterns compile, run linearly
@pytest.mark.parametrize("name", ["INTL_PHONE", "ID_TRIGGER"])
def test_patterns_compile_with_re2(name: str) -> None:
    compile_bytes(getattr(ids, name))
    compile_bytes(getattr(ids, name), case_insensitive=True)


def _bulk_patterns() -> list[str]:
    """The patterns of today's combined bulk program (detectors registry, or the older BULK_PARTS)."""
    try:
        from bot.screening.detectors import REGISTRY
    except ImportError:  # pragma: no cover - before the registry refactor
        from bot.screening import patterns

        return list(patterns.BULK_PARTS.values())  # type: ignore[attr-defined]
    return [d.pattern for d in REGISTRY]


def test_combined_with_bulk_program_compiles() -> None:
    parts = [*_bulk_patterns(), ids.INTL_PHONE, ids.ID_TRIGGER]
    compile_bytes("|".join("(?:" + v + ")" for v in parts))
    for v in parts:  # classify_match anchors each part at 0
        compile_bytes("^(?:" + v + ")")


class _Cand:
    def __init__(self, block: bytes, start: int, end: int) -> None:
        self.block, self.start, self.end = block, start, end


def test_detector_validators() -> None:
    block = b"Somchai +66 2 123 4567; my SSN: 460-89-9847; amount +1,250.00\n"
    out = []
    for s, e, _ in _scan(ids.INTL_PHONE + "|" + ids.ID_TRIGGER, block):
        c = _Cand(block, s, e)
        out.append(ids.detect_intl_phone(c) or ids.detect_identifier(c))
    assert [o for o in out if o] == [("+6*******67", "+6621234567"), ("46*****47", "us_ssn")]


@pytest.mark.parametrize("unit", [b"+1 (2) ", b"00", b"1-", b"+", b"passport ", b"GB82 ", b"ssn: 1", b"0" * 7 + b" "])
def test_patterns_run_linearly(unit: bytes) -> None:
    pat = ids.INTL_PHONE + "|" + ids.ID_TRIGGER

    def timed(n: int) -> float:
        data = unit * n
        t = time.perf_counter()
        _scan(pat, data)
        return time.perf_counter() - t

    timed(1000)
    small, big = timed(20_000), timed(80_000)
    assert big < max(10 * small, 0.05), (small, big)


# --------------------------------------------------------------------------- international phones
@pytest.mark.parametrize("text,e164", INTL)
def test_intl_phone_found_by_pattern_and_valid(text: str, e164: str) -> None:
    block = f"Contact: {text}\n".encode()
    hits = _scan(ids.INTL_PHONE, block)
    assert hits, text
    s, e, _ = hits[0]
    assert ids.check_intl_candidate(block, s, e) == e164
    assert ids.valid_intl_phone(text) == e164


def test_intl_phone_with_parentheses_dots_and_myanmar_digits() -> None:
    assert ids.valid_intl_phone("+1 (415) 555-2671") == "+14155552671"
    assert ids.valid_intl_phone("+66.2.123.4567") == "+6621234567"
    mm = "+\u1046\u1046 \u1042 \u1041\u1042\u1043 \u1044\u1045\u1046\u1047"  # +၆၆ ၂ ၁၂၃ ၄၅၆၇
    block = ("ph " + mm).encode()
    ((s, e, _),) = _scan(ids.INTL_PHONE, block)
    assert ids.check_intl_candidate(block, s, e) == "+6621234567"


def test_intl_phone_swallowing_next_number_is_cut() -> None:
    assert ids.valid_intl_phone("+66 2 123 4567 2024") == "+6621234567"


def test_fictional_nanp_numbers_are_not_personal() -> None:
    assert ids.valid_intl_phone("+1 212 555 0123") is None
    assert ids.valid_intl_phone("+1 (212) 555-0199") is None
    assert ids.valid_intl_phone("+1 212 555 0200") == "+12125550200"


@pytest.mark.parametrize(
    "block",
    [
        b"amount +1,250.00 USD",
        b"change +12.5% since 2023",
        b"+2024-01-15",
        b"total: +1 250 000",
        b"delta +1234567.89",
        b"ISBN +978-3-16-148410-0",
        b"x 12+66 2 123 4567",
        b"+66 2 123 4567.5",
        b"version +10.2.3.4567",
        b"USD +66 2 123 4567",
        b"+66 2 123 4567 THB",
        b"+1234567890123",
        b"id 0012125551234567",
        b"12.0012125551234",
        b"+9999999999",
    ],
)
def test_intl_false_alarms(block: bytes) -> None:
    for s, e, _ in _scan(ids.INTL_PHONE, block):
        assert ids.check_intl_candidate(block, s, e) is None, block


def test_service_lines_are_not_personal() -> None:
    for text in (
        "Hotline: +66 2 123 4567",
        "toll-free +880 1712-345678",
        "Call centre +91 98765 43210",
        "Fax +95 1 234 567",
        "CFM line (free): +95 9 420 123 456",
    ):
        block = text.encode()
        for s, e, _ in _scan(ids.INTL_PHONE, block):
            assert ids.check_intl_candidate(block, s, e) is None, text
        assert ids.find_phones(text) == [], text


def test_intl_pattern_selective_on_numeric_csv() -> None:
    rnd = random.Random(7)
    rows = ["id,amount,share,date,count"]
    for _ in range(5000):
        rows.append(
            f"{rnd.randrange(10**9, 10**10)},{rnd.randrange(1, 10**6)}.{rnd.randrange(100):02d},"
            f"{rnd.uniform(0, 100):.2f},2024-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d},"
            f"{rnd.randrange(10**12, 10**13)}"
        )
    data = "\n".join(rows).encode()
    assert _scan(ids.INTL_PHONE, data) == []
    assert _scan(ids.ID_TRIGGER, data) == []
    text = data[:20000].decode()
    assert ids.find_phones(text) == []
    assert ids.find_identifiers(text) == []


# --------------------------------------------------------------------------- national phones in prose
def test_find_phones_international_any_country() -> None:
    text = "Field team: Somchai +66 2 123 4567, Rahim +880 1712-345678 and Priya +91 98765 43210."
    assert [p for _, _, p in ids.find_phones(text)] == ["+6621234567", "+8801712345678", "+919876543210"]


def test_find_phones_national_needs_keyword_outside_myanmar() -> None:
    assert [p for *_, p in ids.find_phones("mobile 9812345678")] == ["+919812345678"]
    assert [p for *_, p in ids.find_phones("Tel. 02 123 4567")] == ["+6621234567"]
    assert [p for *_, p in ids.find_phones("\u624b\u673a 13800138000")] == ["+8613800138000"]  # 手机
    assert [p for *_, p in ids.find_phones("ph. 01712-345678")] == ["+8801712345678"]
    assert ids.find_phones("row 9876543210 13800138000 01712345678 021234567") == []


def test_find_phones_myanmar_mobile_without_keyword() -> None:
    found = ids.find_phones(
        "U Aung 09 420 123 456, Daw Hla \u1040\u1049\u1044\u1042\u1040\u1041\u1042\u1043\u1044\u1045\u1047"
    )
    assert [p for *_, p in found] == ["+959420123456", "+959420123457"]


def test_find_phones_regions_are_configurable() -> None:
    assert ids.find_phones("mobile 9812345678", regions=("MM", "TH")) == []
    assert ids.find_phones("mobile 9812345678", regions=("IN",))


@pytest.mark.parametrize(
    "text",
    [
        "ISBN 978-3-16-148410-0",
        "ISBN: 9783161484100",
        "version 10.2.3.4567",
        "on 2024-01-15 at 10:30",
        "amount 1,250.00 MMK",
        "total 0912345678 MMK",
        "price: 0912345678",
        "12.5 95.3 16.85 96.12",
        "phone: 1234567890",
        "contact 0000000000",
    ],
)
def test_find_phones_false_alarms(text: str) -> None:
    assert ids.find_phones(text) == []


def test_phone_context_re() -> None:
    assert ids.phone_context_re.search("WhatsApp: ")
    assert ids.phone_context_re.search("\u1016\u102f\u1014\u103a\u1038 ")  # ဖုန်း
    assert not ids.phone_context_re.search("Household size ")


# --------------------------------------------------------------------------- phone column cells
@pytest.mark.parametrize(
    "cell",
    [
        "+66 2 123 4567",
        "+880 1712-345678",
        "0066 2 123 4567",
        "0812345678",
        "01712-345678",
        "09420123456",
        "+1 415 555 2671",
        "0912345678 / +66 81 234 5678",
        "(+880) 1712-345678",
        "+66 2 123 4567 ext. 12",
        "081 234 5678, 089 876 5432",
    ],
)
def test_phone_cell_any_positive(cell: str) -> None:
    assert ids.valid_phone_cell_any(cell)


@pytest.mark.parametrize(
    "cell", ["", "n/a", "1234567890", "2024-01-15", "12.5", "1,250.00", "+1 212 555 0123", "0000000000", "Yes", "12345"]
)
def test_phone_cell_any_negative(cell: str) -> None:
    assert not ids.valid_phone_cell_any(cell)


def test_phone_cell_regions() -> None:
    assert ids.valid_phone_cell_any("0812345678", ("TH",))
    assert not ids.valid_phone_cell_any("0812345678", ("CN",))
    assert ids.valid_phone_cell_any("+66 81 234 5678", ("CN",))  # international: any country


# --------------------------------------------------------------------------- identity numbers
@pytest.mark.parametrize(
    "text,kind",
    [
        ("my SSN: 460-89-9847", "us_ssn"),
        ("Social Security Number 460 89 9847", "us_ssn"),
        ("Passport No: K1234567", "passport"),
        ("passport number MA123456", "passport"),
        ("\u1015\u1010\u103a\u1005\u103a\u1015\u102d\u102f\u1037 MB1234567", "passport"),  # ပတ်စ်ပို့
        ("Thai ID card: 1101700207030", "th_national_id"),
        ("card 1-1017-00207-03-0 attached", "th_national_id"),
        ("Aadhaar: 2341 2341 2346", "in_aadhaar"),
        ("PAN: ABCPE1234F", "in_pan"),
        ("NID 19901234567890123", "bd_nid"),
        ("national id no. 1234567890", "bd_nid"),
        ("\u8eab\u4efd\u8bc1 360426199101010071", "cn_resident_id"),
        ("transfer to GB82 WEST 1234 5698 7654 32 today", "iban"),
        ("IBAN: DE89370400440532013000", "iban"),
        ("credit card 4539 1488 0343 6467", "payment_card"),
        ("Visa: 4539148803436467", "payment_card"),
        ("UNHCR case no: KKP-12C00123", "unhcr_progres"),
        ("proGres ID 338-00012345", "unhcr_progres"),
        ("unhcr id MMR-00123456", "unhcr_progres"),
        ("FCN: 123456", "fcn_moha"),
        ("family counting number 10234567", "fcn_moha"),
        ("MOHA no: 123456", "fcn_moha"),
    ],
)
def test_identifiers_found(text: str, kind: str) -> None:
    found = ids.find_identifiers(text)
    assert [k for _, _, k, _ in found] == [kind], found
    s, e, _, masked = found[0]
    value = text[s:e].replace(" ", "").replace("-", "")
    # never more than the first 2 and last 2 characters
    assert masked[:2] == value[:2] and masked[-2:] == value[-2:]
    assert set(masked[2:-2]) <= {"*"}
    assert len([c for c in masked if c != "*"]) <= 4


@pytest.mark.parametrize(
    "text",
    [
        "SSN: 000-12-3456",
        "SSN: 666-12-3456",
        "ssn 078-05-1120",
        "SSN: 123-45-6789",
        "passport photo 12345678",
        "Passport: Myanmar",
        "passport size 2x2",
        "Thai ID: 1101700207031",
        "Aadhaar: 2341 2341 2347",
        "PAN: ABCDE12345",
        "credit card 4539 1488 0343 6468",
        "Visa test card 4111 1111 1111 1111",
        "visa on arrival 30 days",
        "Visa: 2024-01-15",
        "IBAN: GB82 WEST 1234 5698 7654 33",
        "GB82 TEST",
        "UNHCR supported 12 camps in 2024",
        "case no: 5",
        "FCN: 1111",
        "MoHA 2019 report",
        "MoHA 201934 report",
        "FCN 2019",
        "identity documents 2024",
        "Visa 2024 extension",
        "national id no. 12345",
        "NID 123456789012345",
        "ISBN 978-3-16-148410-0",
        "version 10.2.3",
        "2024-01-15",
        "+1,250.00",
        "12.5%",
    ],
)
def test_identifiers_false_alarms(text: str) -> None:
    assert ids.find_identifiers(text) == []


def test_id_trigger_and_scanner_helper() -> None:
    block = b"row 1, my SSN: 460-89-9847, Passport No: K1234567, IBAN GB82 WEST 1234 5698 7654 32\n"
    kinds = []
    for s, e, _ in _scan(ids.ID_TRIGGER, block):
        hit = ids.check_id_candidate(block, s, e)
        if hit:
            kinds.append(hit[0])
    assert kinds == ["us_ssn", "passport", "iban"]


def test_id_trigger_is_selective_in_prose() -> None:
    prose = (
        "The cluster reached 12,500 people in 2024 across 14 townships. Distributions of cash "
        "(MMK 50,000 per household) continued; see the 4W dashboard v2.3 and ISBN 978-3-16-148410-0. "
    ) * 50
    assert _scan(ids.ID_TRIGGER, prose.encode()) == []


# --------------------------------------------------------------------------- identity columns
@pytest.mark.parametrize(
    "header,value",
    [
        ("ssn", "460-89-9847"),
        ("passport_no", "MA123456"),
        ("Passport No", "K1234567"),
        ("national_id", "1101700207030"),
        ("nid", "19901234567890123"),
        ("id_number", "ABC123456"),
        ("nrc", "12/MaYaKa(N)123456"),
        ("aadhaar", "2341 2341 2346"),
        ("unhcr_id", "KKP-12C00123"),
        ("progres_id", "338-00012345"),
        ("case_number", "MMR-00123456"),
        ("fcn", "123456"),
        ("household_id", "KKP-12C00123"),
        ("household_id", "FCN-1023456"),
        ("group/id_no", "1234567"),
    ],
)
def test_valid_id_cell_positive(header: str, value: str) -> None:
    assert ids.valid_id_cell(header, value)


@pytest.mark.parametrize(
    "header,value",
    [
        ("household_id", "5f0c1a2b-1c2d-4e5f-8a9b-0123456789ab"),
        ("household_id", "HH-0012"),
        ("household_id", "1234567"),
        ("id_no", "12"),
        ("id_no", "1"),
        ("national_id", "n/a"),
        ("ssn", "123-45-6789"),
        ("passport", "yes"),
        ("fcn", "1111"),
        ("Name", "460-89-9847"),
        ("nid", "5f0c1a2b-1c2d-4e5f-8a9b-0123456789ab"),
        ("id_number", "16.8123"),
    ],
)
def test_valid_id_cell_negative(header: str, value: str) -> None:
    assert not ids.valid_id_cell(header, value)


def test_identifier_headers_cover_the_brief() -> None:
    for h in (
        "ssn",
        "passport",
        "passport_no",
        "national_id",
        "nid",
        "id_number",
        "id_no",
        "nrc",
        "aadhaar",
        "unhcr_id",
        "progres_id",
        "case_number",
        "fcn",
    ):
        assert h in ids.IDENTIFIER_HEADERS
    assert ids.IDENTIFIER_HEADERS["household_id"] == "household_ref"


# --------------------------------------------------------------------------- e-mail
@pytest.mark.parametrize(
    "domain",
    [
        "example.org",
        "example.com",
        "EXAMPLE.NET",
        "mail.example.com",
        "foo.example",
        "host.test",
        "x.invalid",
        "localhost",
        "a.localhost",
        "example.co.uk",
        "yourdomain.com",
        "info@example.org",
        "users.noreply.github.com",
    ],
)
def test_reserved_domains(domain: str) -> None:
    assert ids.reserved_domain(domain)


@pytest.mark.parametrize(
    "domain", ["gmail.com", "unicef.org", "agency.local", "examples.com", "myexample.org", "testing.com", "", "mail.ru"]
)
def test_real_domains(domain: str) -> None:
    assert not ids.reserved_domain(domain)


# --------------------------------------------------------------------------- coordinates
LAT = ["16.80123", "17.12345", "21.98765", "19.74561", "16.83012"]
LON = ["96.14567", "95.12345", "96.08812", "96.12999", "96.15531"]


@pytest.mark.parametrize(
    "header,values,expected",
    [
        ("Latitude", LAT, "lat"),
        ("_gps_latitude", LAT, "lat"),
        ("lat", LAT, "lat"),
        ("y", LAT, "lat"),
        ("#geo+lat", LAT, "lat"),
        ("Longitude", LON, "lon"),
        ("lng", LON, "lon"),
        ("x", LON, "lon"),
        ("long", LON, "lon"),
        ("#geo+lon", LON, "lon"),
        ("", LAT, "lat"),
        ("", LON, "lon"),
        ("Latitude", ["13.7563", "-33.8688", "51.5074"], "lat"),  # anywhere on earth when the header says so
        ("location", ["16.80123 96.14567 12.0 5.0", "17.12345 95.12345 0 0"], "point"),
        ("_geolocation", ["[16.80123, 96.14567]", "[17.12345, 95.12345]"], "point"),
        ("geometry", ['{"type":"Point","coordinates":[96.1234,16.8123]}'], "point"),
        ("#geo+coord", ["16.8012,96.1456", "17.1234,95.1234"], "point"),
    ],
)
def test_coordinate_columns(header: str, values: list[str], expected: str) -> None:
    assert ids.looks_like_coordinate_column(header, values) == expected


@pytest.mark.parametrize(
    "header,values",
    [
        ("% female", ["12.5", "95.3", "20.1"]),  # percentages in a % column
        ("pct_female", ["16.80123", "17.12345"]),
        ("Coverage rate", ["16.80123", "17.12345"]),
        ("share of households", ["16.8012", "20.1234"]),
        ("", ["12.5%", "20.1%"]),
        ("", ["12.5", "25.3", "18.75", "20.25"]),  # 0-100 with 2 decimals: not coordinates
        ("Latitude", ["16.8", "17.1", "21.9"]),  # township level at most
        ("location", ["16.8 96.1 0 0", "17.1 95.1 0 0"]),  # Kobo geopoint, 1 decimal
        ("Number of people", ["16.80123", "17.12345"]),
        ("", ["16", "17", "21"]),  # counts
        ("Public/Private", ["Public", "Private", "Public"]),
        ("", ["50.12345", "60.12345"]),  # outside Myanmar, no coordinate header
        ("Latitude", ["a", "b"]),
        ("Latitude", []),
        ("Latitude", ["120.12345", "16.12345"]),
    ],
)
def test_not_coordinate_columns(header: str, values: list[str]) -> None:
    assert ids.looks_like_coordinate_column(header, values) is None


def test_coordinate_pair() -> None:
    assert ids.coordinate_pair_ok(LAT, LON)
    assert not ids.coordinate_pair_ok(["12.5", "95.3", "20.1"], ["12.5", "20.1", "95.3"])  # percentages
    assert not ids.coordinate_pair_ok(["16.8", "17.1"], ["96.1", "95.1"])  # 1 decimal
    assert not ids.coordinate_pair_ok(LAT, LAT)  # a copy
    assert not ids.coordinate_pair_ok(["", "n/a"], ["", ""])
    assert not ids.coordinate_pair_ok(["51.5074", "48.8566"], ["-0.1278", "2.3522"])  # outside the region


def test_parse_point() -> None:
    assert ids.parse_point("16.80123 96.14567 0 0")[:2] == (16.80123, 96.14567)
    assert ids.parse_point('{"type":"Point","coordinates":[96.1234,16.8123]}')[:2] == (16.8123, 96.1234)
    assert ids.parse_point("96.1234, 16.8123")[:2] == (16.8123, 96.1234)  # lon, lat inside Myanmar: swapped
    assert ids.parse_point("hello") is None
