"""`clusterbot screen` on paths that are not files, and `clusterbot pseudonymize` end to end
(issue 13): format kept, OUT never equal to IN, missing output folder, identifying lines
removed from documents, password-protected input, atomic writes, one line and no traceback."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from fixtures import to_docx, to_xlsx

from bot.screening import SensitiveAreas, screen_bytes
from bot.screening.cli import main as cli_main

BENEFICIARIES = (
    b"Name,Phone,Org,Township,VT Pcode,Remarks\n"
    b"Daw Hla Hla,09250123456,Oxfam,Hpakant,MMR001013040,call 09 420 012 345\n"
    b"U Ba,09420012345,NRC,Sittwe,MMR012001002,ok\n"
)
REPORT = [
    "Household visit report",
    "Name: Daw Khin Myint",
    "Date of birth: 12/03/1985",
    "Village: Nam Hkam",
    "Phone: 09 250 123 456",
    "NRC: 12/OUKAMA(N)123456",
    "Needs: shelter repair, hygiene kit",
    "Met U Ba Thein at the distribution; call him on 09420012345.",
]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    k = tmp_path / "pseudonym.key"
    k.write_bytes(b"x" * 32)
    return k


def _json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


# ------------------------------------------------------------------------------ screen


def test_screen_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clear = tmp_path / "clear.csv"
    clear.write_text("Township,Reached\nSittwe,10\n")
    missing = tmp_path / "missing.csv"
    assert cli_main(["screen", "--json", str(clear), str(missing)]) == 2
    out, err = capsys.readouterr()
    lines = _json_lines(out)
    assert [o["verdict"] for o in lines] == ["clear", "unreadable"]  # still one line per path
    assert "does not exist" in str(lines[1]["error"])
    assert str(missing) in err and "does not exist" in err and "Traceback" not in err
    # the table output too
    assert cli_main(["screen", str(missing)]) == 2


def test_screen_folder_fifo_device_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, words in ((tmp_path, "folder"), (fifo, "FIFO"), (Path("/dev/null"), "device")):
        assert cli_main(["screen", "--json", str(path)]) == 2, path
        out, err = capsys.readouterr()
        (line,) = _json_lines(out)
        assert line["verdict"] == "unreadable" and words in str(line["error"])
        assert words in err and err.count("\n") == 1


def test_screen_usage_error_wins_over_sensitive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Phone\nDaw Hla,09250123456\n")
    assert cli_main(["screen", "--json", str(bad)]) == 1
    assert cli_main(["screen", "--json", str(bad), str(tmp_path / "nope.csv")]) == 2
    assert [o["verdict"] for o in _json_lines(capsys.readouterr().out)] == [
        "unlabelled_sensitive",
        "unlabelled_sensitive",
        "unreadable",
    ]


# ------------------------------------------------------------------------ pseudonymize


def test_xlsx_in_xlsx_out(tmp_path: Path, key: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    src = tmp_path / "list.xlsx"
    src.write_bytes(
        to_xlsx(
            [
                (
                    "List",
                    [
                        ["Name", "Phone", "Township", "Reached"],
                        ["Daw Hla Hla", "09250123456", "Sittwe", "3"],
                        ["U Ba", "09420012345", "Hpakant", "5"],
                    ],
                ),
                ("Notes", [["Remark"], ["call Daw Mya on 09 420 012 346"]]),
            ]
        )
    )
    out = tmp_path / "out.xlsx"
    assert cli_main(["pseudonymize", str(src), str(out), "--key-file", str(key)]) == 0
    data = out.read_bytes()
    assert data[:4] == b"PK\x03\x04"  # never CSV text in an .xlsx
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["List", "Notes"]
    rows = [list(r) for r in wb["List"].iter_rows(values_only=True)]
    assert rows[0] == ["Township", "Reached"] and rows[1] == ["Sittwe", 3]
    text = json.dumps([[list(r) for r in ws.iter_rows(values_only=True)] for ws in wb])
    for secret in ("Hla Hla", "09250123456", "420 012", "Daw Mya"):
        assert secret not in text
    assert screen_bytes(data, "out.xlsx").verdict == "clear"


def test_xlsx_to_csv_converts_one_sheet_and_refuses_several(
    tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.xlsx"
    one.write_bytes(
        to_xlsx(
            [
                (
                    "List",
                    [
                        ["Name", "Phone", "Township"],
                        ["Daw Hla", "09250123456", "Sittwe"],
                        ["U Ba", "09420012345", "Sittwe"],
                    ],
                )
            ]
        )
    )
    assert cli_main(["pseudonymize", str(one), str(tmp_path / "one.csv"), "--key-file", str(key)]) == 0
    assert (tmp_path / "one.csv").read_text() == "Township\nSittwe\nSittwe\n"
    two = tmp_path / "two.xlsx"
    two.write_bytes(to_xlsx([("A", [["Township"], ["Sittwe"]]), ("B", [["Township"], ["Lashio"]])]))
    assert cli_main(["pseudonymize", str(two), str(tmp_path / "two.csv"), "--key-file", str(key)]) == 2
    assert "2 sheets" in capsys.readouterr().err
    assert not (tmp_path / "two.csv").exists()


def test_csv_in_csv_out_and_table_into_docx_refused(
    tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(BENEFICIARIES)
    assert cli_main(["pseudonymize", str(src), str(tmp_path / "out.csv"), "--key-file", str(key)]) == 0
    text = (tmp_path / "out.csv").read_text()
    assert text.startswith("Org,Township,VT Pcode,Remarks\n") and "MMR001013," in text
    assert cli_main(["pseudonymize", str(src), str(tmp_path / "out.docx"), "--key-file", str(key)]) == 2
    err = capsys.readouterr().err
    assert "table" in err and ".docx" in err and err.count("\n") == 1
    assert not (tmp_path / "out.docx").exists()
    assert cli_main(["pseudonymize", str(src), str(tmp_path / "out.pdf"), "--key-file", str(key)]) == 2


def test_docx_in_docx_out_without_identifying_lines(
    tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "visit.docx"
    src.write_bytes(
        to_docx(
            REPORT,
            tables=[
                [["Name", "Daw Hla"], ["Age", "34"], ["Sex", "F"], ["Village", "Lonkin"], ["Phone", "09250123457"]]
            ],
        )
    )
    out = tmp_path / "visit_copy.docx"
    assert cli_main(["pseudonymize", str(src), str(out), "--key-file", str(key)]) == 0
    assert "identifying line(s) removed" in capsys.readouterr().out
    z = zipfile.ZipFile(out)
    doc = z.read("word/document.xml").decode()
    assert "docProps/core.xml" not in z.namelist()  # no author / metadata copied
    for gone in (
        "Date of birth",
        "Village",
        "Nam Hkam",
        "Lonkin",
        "Khin Myint",
        "Daw Hla",
        "Ba Thein",
        "09420012345",
        "250 123",
        "OUKAMA",
    ):
        assert gone not in doc, gone
    assert "Needs: shelter repair, hygiene kit" in doc and "Household visit report" in doc
    assert screen_bytes(out.read_bytes(), out.name).verdict == "clear"
    # text out from a document is allowed (same family), and holds none of it either
    txt = tmp_path / "visit.txt"
    assert cli_main(["pseudonymize", str(src), str(txt), "--key-file", str(key)]) == 0
    body = txt.read_text()
    assert "Date of birth" not in body and "Village" not in body and "Needs:" in body


def test_text_in_text_out(tmp_path: Path, key: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("\n".join(REPORT) + "\n")
    assert cli_main(["pseudonymize", str(src), str(tmp_path), "--key-file", str(key)]) == 0
    out = tmp_path / "notes_pseudonymised.txt"
    body = out.read_text()
    assert "Date of birth" not in body and "Village:" not in body and "Khin Myint" not in body
    assert "Needs: shelter repair" in body


def test_out_equal_to_in_refused(tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(BENEFICIARIES)
    os.link(src, tmp_path / "hard.csv")
    (tmp_path / "sym.csv").symlink_to(src)
    for out in (src, tmp_path / "." / "in.csv", tmp_path / "hard.csv", tmp_path / "sym.csv"):
        assert cli_main(["pseudonymize", str(src), str(out), "--key-file", str(key)]) == 2, out
        err = capsys.readouterr().err
        assert "same file" in err and err.count("\n") == 1
    assert src.read_bytes() == BENEFICIARIES


def test_missing_output_folder(tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(BENEFICIARIES)
    assert cli_main(["pseudonymize", str(src), str(tmp_path / "nodir" / "out.csv"), "--key-file", str(key)]) == 2
    err = capsys.readouterr().err
    assert f"output folder {tmp_path / 'nodir'} does not exist" in err and err.count("\n") == 1
    assert cli_main(["pseudonymize", str(tmp_path / "none.csv"), str(tmp_path / "o.csv"), "--key-file", str(key)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_encrypted_zip_and_office_one_clear_line(tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyzipper = pytest.importorskip("pyzipper")
    src = tmp_path / "list.zip"
    with pyzipper.AESZipFile(src, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as z:
        z.setpassword(b"secret")
        z.writestr("list.csv", BENEFICIARIES)
    out = tmp_path / "out.csv"
    assert cli_main(["pseudonymize", str(src), str(out), "--key-file", str(key)]) == 1
    err = capsys.readouterr().err
    assert "password protected" in err and "KeyError" not in err and err.count("\n") == 1
    assert not out.exists()
    # a zipcrypto-encrypted "docx" (what a renamed protected archive looks like)
    legacy = tmp_path / "report.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<x/>")
    raw = bytearray(buf.getvalue())
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # set the "encrypted" flag bit in both headers
        i = raw.find(sig)
        off = 6 if sig == b"PK\x03\x04" else 8
        raw[i + off] |= 1
    legacy.write_bytes(bytes(raw))
    assert cli_main(["pseudonymize", str(legacy), str(tmp_path / "r.docx"), "--key-file", str(key)]) == 1
    assert "password protected" in capsys.readouterr().err


def test_nothing_half_written_on_failure(
    tmp_path: Path, key: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(BENEFICIARIES)
    out = tmp_path / "out.csv"
    out.write_text("the previous copy\n")
    real_fsync = os.fsync

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    assert cli_main(["pseudonymize", str(src), str(out), "--key-file", str(key)]) == 2
    monkeypatch.setattr(os, "fsync", real_fsync)
    err = capsys.readouterr().err
    assert "No space left" in err and "Traceback" not in err
    assert out.read_text() == "the previous copy\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "pseudonym.key"]  # no temp left


def test_pseudonymize_bytes_keeps_the_input_format_for_the_bot() -> None:
    from bot.screening import pseudonymize_bytes

    areas = SensitiveAreas.from_lines(["Hpakant"])
    x = to_xlsx(
        [
            (
                "List",
                [
                    ["Name", "Phone", "Township"],
                    ["Daw Hla", "09250123456", "Hpakant"],
                    ["U Ba", "09420012345", "Sittwe"],
                ],
            )
        ]
    )
    out, name, v = pseudonymize_bytes(x, "list.xlsx", b"k" * 32, sensitive_areas=areas)
    assert name == "list_pseudonymised.xlsx" and out[:4] == b"PK\x03\x04" and v.verdict == "clear"
    d = to_docx(REPORT)
    out, name, v = pseudonymize_bytes(d, "r.docx", b"k" * 32)
    assert name == "r_pseudonymised.docx" and out[:4] == b"PK\x03\x04" and v.verdict == "clear", v
    out, name, v = pseudonymize_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "x.xls", b"k" * 32)
    assert out == b"" and v.verdict == "unreadable" and "xls" in (v.error or "")
