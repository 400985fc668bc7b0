"""bot.screening.hxl: HXL hashtag rows and what a tag means for screening."""

from __future__ import annotations

import pytest

from bot.screening import hxl


def test_parse_tag() -> None:
    assert hxl.parse_tag("#contact+phone") == ("#contact", frozenset({"phone"}))
    assert hxl.parse_tag(" #Contact +Email ") == ("#contact", frozenset({"email"}))
    assert hxl.parse_tag("#adm1+name+i_en") == ("#adm1", frozenset({"name", "i_en"}))
    assert hxl.parse_tag("#org") == ("#org", frozenset())
    for bad in ("", "contact+phone", "#", "#1st", "# contact", "#contact+", "Phone #", "#contact+ph one"):
        assert hxl.parse_tag(bad) == ("", frozenset()), bad


def test_is_hxl_row() -> None:
    assert hxl.is_hxl_row(["#org", "#sector", "#adm1+name", "#affected+num"])
    assert hxl.is_hxl_row(["#org", "", "#adm1+name", "notes"])  # half of the non-empty cells
    assert not hxl.is_hxl_row(["Organisation", "Sector", "#adm1+name"])
    assert not hxl.is_hxl_row(["", "", ""])
    assert not hxl.is_hxl_row(["#1", "#2", "3"])  # numbered rows, not tags
    assert not hxl.is_hxl_row(["Save the Children", "12", "Yangon"])


@pytest.mark.parametrize(
    "tag,category",
    [
        ("#contact+phone", "phone_number"),
        ("#contact+mobile", "phone_number"),
        ("#contact +phone", "phone_number"),
        ("#contact+email", "email_address"),
        ("#contact+name", "person_name"),
        ("#beneficiary+name", "person_name"),
        ("#respondee+name", "person_name"),
        ("#affected+name", "person_name"),
        ("#person+name", "person_name"),
        ("#contact", "person_name"),
        ("#geo+lat", "precise_location"),
        ("#geo+lon", "precise_location"),
        ("#geo+coord", "precise_location"),
        ("#adm4+name", "precise_location"),
        ("#adm5+code", "precise_location"),
        ("#loc+name", "precise_location"),
        ("#loc", "precise_location"),
        ("#beneficiary+id", "national_id"),
        ("#affected+id", "national_id"),
        ("#respondee+id", "national_id"),
        ("#date+birth", "date_of_birth"),
    ],
)
def test_personal_tags(tag: str, category: str) -> None:
    assert hxl.hxl_category(tag) == category


@pytest.mark.parametrize(
    "tag",
    [
        "#org",
        "#org+name",
        "#org+acronym",
        "#sector",
        "#adm1",
        "#adm1+name",
        "#adm2+code",
        "#adm3+name",
        "#country",
        "#indicator",
        "#population",
        "#affected+num",
        "#affected+f+children+num",
        "#reached",
        "#targeted+num",
        "#value",
        "#meta+id",
        "#status",
        "#date",
        "#date+reported",
        "#activity+name",
        "#geo+elevation",
        "#geo+bounds",
        "#beneficiary+num",
        "#contact+url",
        "#loc+type",
        "#x_custom+name",
        "#respondee+age",
        "#affected+sex",
        "#beneficiary+pct",
        "Phone",
        "",
        "#inneed",
        "#sector+name",
    ],
)
def test_not_personal_tags(tag: str) -> None:
    assert hxl.hxl_category(tag) is None


def test_value_checks_required() -> None:
    assert hxl.hxl_meaning("#geo+lat").confirm == "coordinate"
    assert hxl.hxl_meaning("#beneficiary+id").confirm == "id"
    assert hxl.hxl_meaning("#contact+email").confirm == "email"  # role addresses decided by values
    assert hxl.hxl_meaning("#contact+name").confirm is None  # staff focal points are persons


def test_hxl_categories_row() -> None:
    row = ["#org+name", "#contact+name", "#contact+phone", "", "#adm1+name", "#affected+num"]
    assert hxl.hxl_categories(row) == [None, "person_name", "phone_number", None, None, None]
