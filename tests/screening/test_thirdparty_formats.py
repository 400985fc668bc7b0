"""Spreadsheets written by real office suites (python-calamine's own test files, see
thirdparty/PROVENANCE.md): read, not refused; password-protected ones are `encrypted`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.screening import screen_path

HERE = Path(__file__).parent / "thirdparty"


@pytest.mark.parametrize("name", ["base.xlsb", "any_sheets.xlsb", "empty_file.xlsb", "base.xls", "base.ods"])
def test_real_office_files_are_read(name: str) -> None:
    v = screen_path(HERE / name)
    assert v.verdict == "clear", v.to_json()


@pytest.mark.parametrize("name", ["password.xlsb", "password.xls", "password.ods"])
def test_password_protected_office_files_are_encrypted(name: str) -> None:
    v = screen_path(HERE / name)
    assert v.verdict == "encrypted", v.to_json()
