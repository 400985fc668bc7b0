"""Concrete verdicts on hand-made files: each test can fail."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import pytest
from fixtures import Gen, add_msip_label, to_csv, to_docx, to_pdf, to_xlsx, zipped

from bot.screening import LEVELS, Limits, SensitiveAreas, Verdict, screen_bytes, screen_path
from bot.screening.cli import main as cli_main
from bot.screening.labels import label_from_filename
from bot.screening.mask import mask_email, mask_middle, mask_name

AREAS = SensitiveAreas.from_lines(["Hpakant", "\u1016\u102c\u1038\u1000\u1014\u1037\u103a", "MMR012003  # Pauktaw"])


def cats(v: Verdict) -> set[str]:
    return set(v.categories)


def test_levels_order() -> None:
    assert LEVELS == ("public", "restricted", "confidential", "highly_confidential")


def test_beneficiary_csv_unlabelled_and_masked() -> None:
    data = (
        "Name,Phone,NRC,Village\nDaw Hla Hla Win,09 250 123 456,12/OUKAMA(N)123456,Nam Hkam\n"
        "U Ba Thein,+95 9 420 012 345,12/OKM(NAING)654321,Lonkin\n"
    )
    v = screen_bytes(data.encode(), "list.csv")
    assert v.verdict == "unlabelled_sensitive"
    assert v.required_level == "highly_confidential"
    assert {"person_name", "phone_number", "national_id", "precise_location"} <= cats(v)
    text = json.dumps(v.to_json())
    for secret in ("Hla Hla Win", "250 123 456", "09250123456", "123456", "Ba Thein"):
        assert secret not in text
    assert any(f.example.startswith("Daw H**") for f in v.findings)
    assert set(v.to_json()) == {"path", "verdict", "required_level", "label", "categories", "findings", "risk", "error"}


@pytest.mark.parametrize(
    "label,expected",
    [(None, "unlabelled_sensitive"), ("confidential", "unlabelled_sensitive"), ("highly_confidential", "labelled")],
)
def test_label_argument(label: str | None, expected: str) -> None:
    v = screen_bytes(b"Name,Phone\nDaw Hla,09250123456\n", "x.csv", label=label)
    assert v.verdict == expected


def test_filename_labels() -> None:
    assert label_from_filename("list_HIGHLY_CONFIDENTIAL.csv") == "highly_confidential"
    assert label_from_filename("Strictly Confidential - list.xlsx") == "highly_confidential"
    assert label_from_filename("3W.public.v2.csv") == "public"
    assert label_from_filename("restricted-3w.csv") == "restricted"
    assert label_from_filename("confidentiality_policy.csv") is None
    v = screen_bytes(b"Name,Phone\nDaw Hla,09250123456\n", "x-highly-confidential.csv")
    assert v.verdict == "labelled" and v.label == "highly_confidential"


def test_content_marking_csv_and_txt() -> None:
    v = screen_bytes(b"Classification: Highly Confidential\nName,Phone\nDaw Hla,09250123456\n", "x.csv")
    assert v.label == "highly_confidential" and v.verdict == "labelled"
    v = screen_bytes(b"STRICTLY CONFIDENTIAL\n\nNotes\nCall Daw Hla Hla Win on 09 250 123 456\n", "n.txt")
    assert v.label == "highly_confidential" and v.verdict == "labelled"
    # a marking below line 5 does not count
    v = screen_bytes(b"a\nb\nc\nd\ne\nf\nConfidential\nName,Phone\n", "late.txt")
    assert v.label is None


def test_one_phone_deep_in_free_text_column() -> None:
    g = Gen(1)
    hdr, hxl, rows = g.aggregated_3w(6000)
    hdr.append("Remarks")
    rows = [r + ["ok"] for r in rows]
    rows[5500][-1] = "contact 09 978 123 456 for access"
    v = screen_bytes(to_csv(hdr, hxl, rows).encode(), "3w.csv")
    assert v.verdict == "unlabelled_sensitive"
    assert cats(v) == {"phone_number"}
    f = v.findings[0]
    line = 5500 + 2 + (1 if hxl else 0)  # header (+ HXL row) above, 1-based
    assert "Remarks" in f.where and f"line {line}," in f.where and f.count == 1


def test_hard_negatives_prices_budgets_admin_codes_centroids() -> None:
    g = Gen(2)
    for hdr, hxl, rows in (g.aggregated_3w(300), g.prices(300), g.centroids(), g.admin_list(), g.disaggregated()):
        v = screen_bytes(to_csv(hdr, hxl, rows).encode(), "agg.csv")
        assert v.verdict == "clear", (hdr, v.findings)
        vx = screen_bytes(to_xlsx([("S", [hdr] + rows)]), "agg.xlsx")
        assert vx.verdict == "clear", (hdr, vx.findings)


def test_budget_numbers_in_text_are_not_phones() -> None:
    v = screen_bytes(b"Total budget 9590000000 MMK; grant 0959000000 kyat; ratio 16.0912345678\n", "b.txt")
    assert "phone_number" not in cats(v)


def test_role_email_is_not_personal() -> None:
    assert screen_bytes(b"Contact info@wash-cluster.org or cluster.coordination@un.org\n", "c.txt").verdict == "clear"
    v = screen_bytes(b"Contact hla.hla88@gmail.com\n", "c.txt")
    assert cats(v) == {"email_address"}
    assert mask_email("hla.hla88@gmail.com") == "h***@g***.com"


def test_masks() -> None:
    assert mask_middle("09 123 456 712") == "09*******12"
    assert mask_name("Daw Hla Hla Win") == "Daw H** H** W**"


def test_burmese_nrc_phone_and_headers() -> None:
    text = (
        "\u1021\u1019\u100a\u103a,\u1016\u102f\u1014\u103a\u1038,\u1000\u103b\u1031\u1038\u101b\u103d\u102c\n"
        "\u1012\u1031\u102b\u103a\u101c\u103e\u101c\u103e,\u1040\u1049\u1042\u1045\u1040\u1041\u1042\u1043\u1044\u1045\u1046,"
        "\u101b\u103d\u102c\u101e\u1005\u103a\n"
    )
    v = screen_bytes(text.encode(), "b.csv")
    assert {"person_name", "phone_number", "precise_location"} <= cats(v)
    v = screen_bytes(
        "\u1041\u1042/\u1025\u1000\u1019(\u1014\u102d\u102f\u1004\u103a)\u1041\u1042\u1043\u1044\u1045\u1046\n".encode(),
        "n.txt",
    )
    assert cats(v) == {"national_id"}


def test_hxl_tags() -> None:
    data = (
        "Who,Where,Lat,Lon\n#contact+name,#adm4+name,#geo+lat,#geo+lon\nKo Aung Aung,Lonkin,25.61234,96.31234\n"
        "Ma Su Su,Hpa Lan,25.71234,96.41234\n"
    )
    v = screen_bytes(data.encode(), "hxl.csv")
    assert {"person_name", "precise_location"} <= cats(v)


def test_pcodes_precise_vs_admin() -> None:
    assert screen_bytes(b"Township,Pcode,People\nSittwe,MMR012001,100\nHakha,MMR004001,5\n", "a.csv").verdict == "clear"
    v = screen_bytes(b"Ward,Pcode,People\nA,MMR012001701501,100\nB,MMR012001701502,5\n", "w.csv")
    assert "precise_location" in cats(v) and v.required_level == "confidential"


def test_gps_pair_in_text() -> None:
    v = screen_bytes(b"The site is at 20.14567, 92.89812 near the river.\n", "s.txt")
    assert cats(v) == {"precise_location"}
    assert "20.14567" not in json.dumps(v.to_json())


def test_sensitive_area_presence() -> None:
    data = b"Org,Township,Activity\nOrg A,Sittwe,WASH\nOrg B,Hpakant,Food distribution\n"
    assert screen_bytes(data, "3w.csv").verdict == "clear"
    v = screen_bytes(data, "3w.csv", sensitive_areas=AREAS)
    assert cats(v) == {"partner_presence_sensitive_area"} and v.verdict == "unlabelled_sensitive"
    v = screen_bytes(b"Org,Tsp Pcode,Activity\nOrg A,MMR012003,WASH\n", "3w.csv", sensitive_areas=AREAS)
    assert cats(v) == {"partner_presence_sensitive_area"}
    v = screen_bytes(
        "Our team distributed kits in \u1016\u102c\u1038\u1000\u1014\u1037\u103a last week.\n".encode(),
        "r.txt",
        sensitive_areas=AREAS,
    )
    assert cats(v) == {"partner_presence_sensitive_area"}


def test_sensitive_areas_file(tmp_path: Path) -> None:
    f = tmp_path / "areas.txt"
    f.write_text("# areas\nHpakant\nMMR012003 # Pauktaw\n\n", encoding="utf-8")
    a = SensitiveAreas.from_file(f)
    assert a.names == ("hpakant",) and a.pcodes == ("MMR012003",)
    assert pickle.loads(pickle.dumps(a)).find("in Hpakant town") == "Hpakant"


def test_xlsx_docx_pdf_labels_and_content() -> None:
    rows = [["Name", "Phone"], ["Daw Hla Hla", "09250123456"], ["U Ba", "09420012345"]]
    assert screen_bytes(to_xlsx([("S", rows)]), "a.xlsx").verdict == "unlabelled_sensitive"
    v = screen_bytes(to_xlsx([("S", rows)], msip="Highly Confidential"), "a.xlsx")
    assert v.label == "highly_confidential" and v.verdict == "labelled"
    v = screen_bytes(to_xlsx([("S", [["Classification: Confidential"]] + rows)]), "a.xlsx")
    assert v.label == "confidential" and v.verdict == "unlabelled_sensitive"
    v = screen_bytes(to_xlsx([("S", rows)], props={"keywords": "HIGHLY CONFIDENTIAL"}), "a.xlsx")
    assert v.label == "highly_confidential"
    d = to_docx(["Case note", "Daw Hla Hla Win, a GBV survivor, phone 09 250 123 456."], header="CONFIDENTIAL")
    v = screen_bytes(d, "n.docx")
    assert v.label == "confidential" and {"person_name", "phone_number", "vulnerable_individual"} <= cats(v)
    v = screen_bytes(to_docx(["x"], tables=[rows]), "t.docx")
    assert {"person_name", "phone_number"} <= cats(v)
    p = to_pdf(["Report", "Call U Tin Win on 09 250 123 456"], subject="Highly Confidential")
    v = screen_bytes(p, "r.pdf")
    assert v.label == "highly_confidential" and v.verdict == "labelled" and "phone_number" in cats(v)
    assert screen_bytes(to_pdf(["Sitrep", "1200 people reached in Sittwe"]), "s.pdf").verdict == "clear"


def test_kobo_json() -> None:
    recs = [
        {
            "_uuid": f"u{i}",
            "_submission_time": "2024-05-01",
            "grp/respondent_name": "Daw Hla Hla",
            "grp/phone": "09250123456",
            "_geolocation": [21.123456, 95.654321],
        }
        for i in range(20)
    ]
    v = screen_bytes(json.dumps({"count": 20, "results": recs}).encode(), "kobo.json")
    assert {"person_name", "phone_number", "precise_location", "raw_survey"} <= cats(v)


def test_zip_nested_and_member_where() -> None:
    inner = zipped([("lists/b.csv", b"Name,Phone\nDaw Hla,09250123456\n")])
    z = zipped([("3w.csv", b"Township,Reached\nSittwe,10\n"), ("nested.zip", inner)])
    v = screen_bytes(z, "sub.zip")
    assert v.verdict == "unlabelled_sensitive"
    assert any(f.where.startswith("member nested.zip: member lists/b.csv: column") for f in v.findings)
    assert screen_bytes(z, "sub_HIGHLY_CONFIDENTIAL.zip").verdict == "labelled"


def _aes_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", b"x")
    raw = bytearray(buf.getvalue())
    # mark the member encrypted (flag bit 0) with method 99 (AES) in both headers
    for sig, flag_off, meth_off in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        i = raw.find(sig)
        raw[i + flag_off] |= 1
        raw[i + meth_off : i + meth_off + 2] = (99).to_bytes(2, "little")
    return bytes(raw)


def test_encrypted_files() -> None:
    aes = _aes_zip()
    v = screen_bytes(aes, "a.zip")
    assert v.verdict == "encrypted" and v.error
    v = screen_bytes(aes, "a.zip", password="pw")  # a forged AES header: not a real AES member
    assert v.verdict in ("unreadable", "encrypted") and v.error
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 100
    assert screen_bytes(ole, "x.xlsx").verdict == "encrypted"
    assert screen_bytes(ole, "x.xlsx", password="pw").verdict == "unreadable"  # damaged container
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(100, 100)
    w.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    b = io.BytesIO()
    w.write(b)
    assert screen_bytes(b.getvalue(), "e.pdf").verdict == "encrypted"
    assert screen_bytes(b.getvalue(), "e.pdf", password="secret").verdict == "clear"
    assert screen_bytes(b.getvalue(), "e.pdf", password="wrong").verdict == "encrypted"


BENEFICIARIES = b"Name,Phone,Village\nDaw Hla Hla Win,09791234567,Kyauk Taw\nU Kyaw Min,09450012345,Ah Lel\n"


def test_real_aes_zip_opens_with_the_password() -> None:
    import pyzipper

    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as z:
        z.setpassword(b"s3cret")
        z.writestr("list.csv", BENEFICIARIES)
    data = buf.getvalue()
    assert screen_bytes(data, "data.zip").verdict == "encrypted"
    wrong = screen_bytes(data, "data.zip", password="nope")
    assert wrong.verdict == "encrypted" and "wrong password" in (wrong.error or "")
    right = screen_bytes(data, "data.zip", password="s3cret")
    assert right.verdict == "unlabelled_sensitive" and "phone_number" in right.categories


def test_encrypted_xlsx_opens_with_the_password() -> None:
    import openpyxl
    from msoffcrypto.format.ooxml import OOXMLFile

    wb = openpyxl.Workbook()
    for row in BENEFICIARIES.decode().splitlines():
        wb.active.append(row.split(","))
    plain, enc = io.BytesIO(), io.BytesIO()
    wb.save(plain)
    OOXMLFile(io.BytesIO(plain.getvalue())).encrypt("pw123", enc)
    data = enc.getvalue()
    assert screen_bytes(data, "list.xlsx").verdict == "encrypted"
    assert screen_bytes(data, "list.xlsx", password="wrong").verdict == "encrypted"
    right = screen_bytes(data, "list.xlsx", password="pw123")
    assert right.verdict == "unlabelled_sensitive" and "phone_number" in right.categories


def test_unreadable_in_plain_words() -> None:
    for data, name in (
        (b"PK\x03\x04garbage", "x.xlsx"),
        (b"%PDF-1.4 garbage", "x.pdf"),
        (b"\x00\x01\x02" * 100, "x.bin"),
        (b"\x1f\x8b\x08\x00", "x.gz"),
        (b'{"a": [1, 2', "x.json"),
    ):
        v = screen_bytes(data, name)
        assert v.verdict == "unreadable", (name, v)
        assert v.error and "Traceback" not in v.error


def test_zip_bomb_limits() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.csv", b"0" * (30 << 20))
    v = screen_bytes(bomb.getvalue(), "bomb.zip")
    assert v.verdict == "unreadable" and "bomb" in (v.error or "")
    many = zipped([(f"f{i}.txt", b"x") for i in range(30)])
    v = screen_bytes(many, "many.zip", limits=Limits(max_members=10))
    assert v.verdict == "unreadable" and "too many" in (v.error or "")
    deep = b"Name,Phone\nDaw Hla,09250123456\n"
    z = zipped([("a.csv", deep)])
    for i in range(5):
        z = zipped([(f"l{i}.zip", z)])
    assert screen_bytes(z, "deep.zip").verdict == "unreadable"


def test_risk_reported_for_individual_tables() -> None:
    g = Gen(5)
    hdr, hxl, rows = g.household_survey(200)
    v = screen_bytes(to_csv(hdr, hxl, rows).encode(), "survey.csv")
    assert v.risk is not None and v.risk["threshold"] == 0.03
    assert v.risk["k_min"] >= 1 and 0 <= v.risk["global_risk"] <= 1
    assert ("reidentification_risk" in cats(v)) == (v.risk["global_risk"] > 0.03)


def test_screen_path_streams(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    with open(p, "w") as fh:
        fh.write("Township,Reached\n")
        fh.writelines(f"Sittwe,{i}\n" for i in range(200_000))
        fh.write("Sittwe,call 09250123456\n")
    v = screen_path(p, limits=Limits(block_size=256 * 1024))
    assert v.verdict == "unlabelled_sensitive" and "line 200002" in v.findings[0].where
    assert v.path == str(p)


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clear = tmp_path / "clear.csv"
    clear.write_text("Township,Reached\nSittwe,10\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Phone\nDaw Hla,09250123456\n")
    assert cli_main(["screen", str(clear)]) == 0
    assert cli_main(["screen", "--json", str(clear), str(bad)]) == 1
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert [o["verdict"] for o in out] == ["clear", "unlabelled_sensitive"]
    assert cli_main(["screen", "--label", "highly_confidential", str(bad)]) == 0
    with pytest.raises(SystemExit) as exc:
        cli_main(["screen", "--label", "secret", str(bad)])
    assert exc.value.code == 2
    assert cli_main(["screen", "--sensitive-areas", str(tmp_path / "missing.txt"), str(clear)]) == 2


def test_pseudonymize_roundtrip(tmp_path: Path) -> None:
    from bot.screening import pseudonymize_bytes

    data = (
        b"Name,Phone,Org,Township,VT Pcode,Remarks\nDaw Hla "
        b"Hla,09250123456,Oxfam,Hpakant,MMR001013040,call 09 420 012 345\n"
        b"U Ba,09420012345,NRC,Sittwe,MMR012001002,ok\n"
    )
    out, name, v = pseudonymize_bytes(data, "list.csv", b"k" * 32, sensitive_areas=AREAS)
    text = out.decode()
    assert name == "list_pseudonymised.csv"
    assert "Daw Hla" not in text and "09250123456" not in text and "420 012" not in text and "Oxfam" not in text
    assert "Hpakant" not in text and "MMR001013," in text  # generalised to admin 3
    out2, _, _ = pseudonymize_bytes(data, "list.csv", b"k" * 32, sensitive_areas=AREAS)
    assert out2 == out  # stable
    out3, _, _ = pseudonymize_bytes(data, "list.csv", b"j" * 32, sensitive_areas=AREAS)
    assert out3 != out  # keyed
    assert v.verdict == "clear", v.findings
    src = tmp_path / "in.csv"
    src.write_bytes(data)
    key = tmp_path / "k.key"
    key.write_bytes(b"x" * 32)
    assert cli_main(["pseudonymize", str(src), str(tmp_path / "out.csv"), "--key-file", str(key)]) == 0
    assert (tmp_path / "out.csv").exists()


def test_add_msip_helper_roundtrip() -> None:
    d = add_msip_label(to_docx(["x"]), "Confidential")
    assert screen_bytes(d, "d.docx").label == "confidential"
