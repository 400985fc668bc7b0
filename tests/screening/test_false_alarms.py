"""False alarms and wrong reasons seen on real public files (issue 12), one case each.

Each file is small and shaped like the real one it stands for; each test failed on the
engine before its fix."""

from __future__ import annotations

import json

from fixtures import to_csv, to_xlsx

from bot.screening import Verdict, screen_bytes
from bot.screening.patterns import personal_email


def cats(v: Verdict) -> set[str]:
    return set(v.categories)


def test_a_data_cell_is_never_a_label() -> None:
    rows = [
        ["Daw Hla Hla Win", "09 250 123 456", "Public"],
        ["U Ba Thein", "09 420 012 345", "Confidential"],
        ["Ma Thida", "09 797 123 456", "Private"],
    ]
    v = screen_bytes(to_xlsx([("List", [["Name", "Phone", "Sector"], *rows])]), "list.xlsx")
    assert v.label is None
    assert v.verdict == "unlabelled_sensitive"
    v = screen_bytes(
        to_xlsx(
            [
                (
                    "Facilities",
                    [
                        ["Facility", "Township", "Ownership", "Beds"],
                        ["Clinic A", "Sittwe", "Public", "12"],
                        ["Clinic B", "Pauktaw", "Private", "4"],
                    ],
                )
            ]
        ),
        "facilities.xlsx",
    )
    assert v.label is None and v.verdict == "clear", v.to_json()


def test_a_title_row_still_labels() -> None:
    rows = [["Confidential - do not share"], [], ["Name", "Phone"], ["Daw Hla Hla Win", "09 250 123 456"]]
    v = screen_bytes(to_xlsx([("List", rows)]), "list.xlsx")
    assert v.label == "confidential"


def test_documentation_domains_are_not_personal() -> None:
    for addr in (
        "jane.doe@example.org",
        "someone@example.com",
        "a.b@test.example",
        "x@foo.invalid",
        "first.last@mail.example.net",
        "a.user@localhost",
    ):
        assert not personal_email(addr), addr
    assert personal_email("hla.win@gmail.com")
    v = screen_bytes(b"For questions write to jane.doe@example.org or see the wiki.\n", "README.txt")
    assert v.verdict == "clear", v.to_json()


def test_percentage_columns_are_not_coordinates() -> None:
    hdr = ["Township", "% households with latrine", "% access to water"]
    rows = [
        ["Sittwe", "18.250", "95.333"],
        ["Pauktaw", "20.125", "94.875"],
        ["Minbya", "21.500", "93.125"],
        ["Mrauk-U", "17.750", "96.250"],
        ["Kyauktaw", "19.375", "92.500"],
    ]
    v = screen_bytes(to_csv(hdr, None, rows).encode(), "wash_coverage.csv")
    assert v.verdict == "clear", v.to_json()
    # unnamed columns: values alone never make a coordinate pair
    v = screen_bytes(to_csv(["Township", "A", "B"], None, rows).encode(), "wash_coverage.csv")
    assert v.verdict == "clear", v.to_json()
    # the real thing still counts
    v = screen_bytes(
        to_csv(
            ["Household", "Latitude", "Longitude"],
            None,
            [["HH-1", "20.14523", "92.89871"], ["HH-2", "20.15011", "92.90212"]],
        ).encode(),
        "hh_gps.csv",
    )
    assert "precise_location" in cats(v)


def test_dataset_metadata_json_is_not_people() -> None:
    meta = {
        "name": "myanmar-health-facilities",
        "title": "Myanmar - Health Facilities",
        "maintainer": "hdx-bot",
        "license_id": "cc-by",
        "organization": {
            "name": "mimu",
            "title": "Myanmar Information Management Unit",
            "display_name": "Myanmar Information Management Unit",
        },
        "tags": [
            {"name": t.lower(), "display_name": t}
            for t in ("Health", "Facilities", "Hospitals", "Geodata", "Education", "Children", "Cholera")
        ],
        "groups": [{"name": "mmr", "display_name": "Myanmar", "title": "Myanmar"}],
        "resources": [
            {
                "name": f"facilities_{i}.csv",
                "format": "CSV",
                "size": 1234 * (i + 1),
                "url": f"https://data.example.org/r/{i}.csv",
            }
            for i in range(5)
        ],
    }
    v = screen_bytes(json.dumps(meta, indent=2).encode(), "dataset.json")
    assert v.verdict == "clear", v.to_json()


def test_business_and_admin_name_columns_are_not_person_names() -> None:
    rows = [
        ["Shwe Pyi Restaurant", "Yangon", "Kamayut"],
        ["Golden Rose", "Mandalay", "Chanayethazan"],
        ["Aung Mingalar", "Yangon", "Sanchaung"],
        ["Royal Taste", "Mandalay", "Mahaaungmye"],
    ]
    v = screen_bytes(to_csv(["restaurant_name", "state_name", "township_name"], None, rows).encode(), "restaurants.csv")
    assert "person_name" not in cats(v), v.to_json()
    rows = [
        ["MMR001", "Kachin", "MMR001D001", "Myitkyina"],
        ["MMR001", "Kachin", "MMR001D002", "Mohnyin"],
        ["MMR012", "Rakhine", "MMR012D001", "Sittwe"],
        ["MMR013", "Yangon", "MMR013D001", "Yangon (East)"],
        ["MMR003", "Sagaing", "MMR005D001", "Monywa"],
        ["MMR011", "Mon", "MMR011D001", "Mawlamyine"],
    ]
    v = screen_bytes(
        to_csv(["SR_Pcode", "SR_Name_Eng", "DT_Pcode", "DT_Name_Eng"], None, rows).encode(), "districts.csv"
    )
    assert v.verdict == "clear", v.to_json()


def test_email_column_is_not_a_location_and_category_columns_are_not_places() -> None:
    rows = [
        ["Aung Aung", "aung.aung@gmail.com", "Public"],
        ["Su Su", "su.su@yahoo.com", "Private"],
        ["Kyaw Kyaw", "kyaw.k@gmail.com", "Public"],
    ]
    v = screen_bytes(to_csv(["Name", "Email Address", "Site (Public/Private)"], None, rows).encode(), "staff.csv")
    assert "email_address" in cats(v)
    wheres = {f.where for f in v.findings if f.category == "precise_location"}
    assert not wheres, v.to_json()


def test_nationality_column_is_not_a_name() -> None:
    rows = [["Myanmar", "F", "34"], ["Bangladeshi", "M", "27"], ["Thai", "F", "41"], ["Chinese", "M", "52"]]
    v = screen_bytes(
        to_csv(["Nationality", "Sex", "Age"], ["#affected+nationality+name", "#affected+sex", "#affected+age"], rows),
        "arrivals.csv",
    )
    assert "person_name" not in cats(v), v.to_json()


# --------------------------------------------------------------------------- the misses, end to end
MISSES = [
    ("My name is Siiri and I need help.", "person_name"),
    ("User: Vilma Holm\nAgent: hello", "person_name"),
    ("Please correct it to Mr. F\u00e1bio Barros.", "person_name"),
    ("We will follow up with patricia desrosiers tomorrow.", "person_name"),
    ("Tomomi Nishiyama lives at 12 Elm road.", "person_name"),
    (
        (
            "\u1000\u103b\u1031\u102c\u103a\u1007\u1004\u103a\u1011\u1000\u103a\u1000 \u1015\u103c\u1031\u102c\u101e"
            "\u100a\u103a\u104b"
        ),
        "person_name",
    ),
    ("The village of Kyauk Taw received 30 families of displaced households.", "precise_location"),
    ("my SSN: 460-89-9847", "national_id"),
    ("Passport No: K1234567", "national_id"),
    ("Call me at +66 2 123 4567 please", "phone_number"),
    ("WhatsApp +880 1712-345678 (Rahim, Cox's Bazar)", "phone_number"),
]


def test_the_real_world_misses_are_found_in_prose() -> None:
    for text, category in MISSES:
        v = screen_bytes(text.encode(), "note.txt")
        assert category in cats(v), (text, v.to_json())


def test_ordinary_prose_and_gazetteer_lines_stay_clear() -> None:
    for text in (
        "The meeting discussed New York and the United Nations on Monday Morning.",
        "Nyaung Pin village, MMR012003, 20.14",
        "Best Practices for village-level data collection are in annex 2.",
        "Call the hotline +95 1 234 567 for information.",
    ):
        v = screen_bytes(text.encode(), "note.txt")
        assert v.verdict == "clear", (text, v.to_json())


def test_lists_of_places_and_configuration_keys_are_not_people() -> None:
    iso = {
        "3166-2": [
            {"code": f"MM-0{i}", "name": n, "type": "Region"}
            for i, n in enumerate(["Sagaing", "Bago", "Magway", "Mandalay", "Tanintharyi"], 1)
        ]
    }
    assert screen_bytes(json.dumps(iso).encode(), "iso.json").verdict == "clear"
    towns = "\u1015\u103c\u1004\u103a\u1026\u1038\u101c\u103d\u1004\u103a\n\u1019\u1014\u1039\u1010\u101c\u1031\u1038"
    assert screen_bytes(towns.encode(), "towns.txt").verdict == "clear"  # Pyin Oo Lwin is a town
    yaml = b"recognizers:\n  - name: CreditCardRecognizer\n    supported_language: en\n  - name: my_ip_recognizer\n"
    assert screen_bytes(yaml, "recognizers.yaml").verdict == "clear"
    hdr = ["village_pcode", "village_tract_pcode", "village_eng", "township_eng", "latitude", "longitude"]
    rows = [
        ["150004", "MMR017024040", "Da None Chaung", "Bogale", "16.1847161", "95.3604794"],
        ["150005", "MMR017024041", "Kyun Hteik", "Bogale", "16.1912345", "95.3712345"],
    ]
    assert screen_bytes(to_csv(hdr, None, rows).encode(), "villages.csv").verdict == "clear"
    # the same villages with what happened there are precise locations
    v = screen_bytes(to_csv(hdr + ["Households reached"], None, [r + ["40"] for r in rows]).encode(), "reach.csv")
    assert "precise_location" in cats(v)


def test_credits_citations_and_lists_of_villages_are_not_people_or_locations() -> None:
    for text in (
        '"sources": ["Cleveland, WS (1993) Visualizing data. Hobart Press"]',
        "The electronic dataset was created by Mike Bostock and released into the public domain.",
        "\n".join(
            [
                "\u1000\u103b\u1031\u102c\u1000\u103a\u1010\u1031\u102c\u103a\u101b\u103d\u102c",
                "\u1021\u102d\u1019\u103a\u1011\u1031\u102c\u1004\u103a\u1005\u102f",  # household
                "\u101b\u103d\u102c\u101e\u1005\u103a\u1000\u103b\u1031\u1038\u101b\u103d\u102c",
            ]
        ),
    ):
        v = screen_bytes(text.encode(), "notes.txt")
        assert v.verdict == "clear", (text, v.to_json())
    # a bare name pair in a sentence about a person is still found
    v = screen_bytes(b"Tomomi Nishiyama lives at 12 Elm road.", "notes.txt")
    assert "person_name" in cats(v)
