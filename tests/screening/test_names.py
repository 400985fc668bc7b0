"""Unit tests of bot.screening.names (person names without a Myanmar honorific)."""

from __future__ import annotations

import pytest
import re2

from bot.screening import names as N


def found(text: str, *, bare: bool = True) -> list[str]:
    return [text[s:e] for s, e, _ in N.find_person_names(text, bare=bare)]


def reasons(text: str) -> list[str]:
    return [r for _, _, r in N.find_person_names(text)]


# ----------------------------------------------------------------------------- lexicon
def test_lexicon_loads_small_and_fast() -> None:
    stats = N.load_stats()
    assert stats["given"] > 15000 and stats["surnames"] > 50000
    assert stats["seconds"] < 1.0  # < 0.3 s warm; generous for a loaded CI machine
    assert any("Faker" in s for s in stats["sources"])


@pytest.mark.parametrize("word", ["Siiri", "Vilma", "Fábio", "fabio", "Patricia", "Maria", "Mohammed"])
def test_given_names(word: str) -> None:
    assert N.is_given_name(word)


@pytest.mark.parametrize("word", ["Holm", "Barros", "Desrosiers", "Nishiyama", "Smith", "Nguyen"])
def test_surnames(word: str) -> None:
    assert N.is_surname(word)


@pytest.mark.parametrize(
    "word",
    [
        "May",
        "Will",
        "Rose",
        "Hope",
        "Summer",
        "Page",
        "Long",
        "Young",
        "Park",
        "Health",
        "Kachin",
        "Shan",
        "Karen",
        "Chin",
        "Mon",
        "Yangon",
    ],
)
def test_common_and_place_words_are_not_evidence(word: str) -> None:
    assert not N.is_given_name(word) and not N.is_surname(word)


def test_fold() -> None:
    assert N.fold("Fábio") == "fabio" and N.fold("Jürgen") == "jurgen"


# ----------------------------------------------------------------------------- the evaluation misses
@pytest.mark.parametrize(
    "text, name",
    [
        ("My name is Siiri and I need help with my registration.", "Siiri"),
        ("User: Vilma Holm", "Vilma Holm"),
        ("Please correct it to Mr. Fábio Barros before sending.", "Fábio Barros"),
        ("We need to follow up with patricia desrosiers next week.", "patricia desrosiers"),
        ("Tomomi Nishiyama lives at 14 Pansodan Street.", "Tomomi Nishiyama"),
    ],
)
def test_evaluation_misses_are_found(text: str, name: str) -> None:
    assert name in found(text)


# ----------------------------------------------------------------------------- each cue
@pytest.mark.parametrize(
    "text, name, reason",
    [
        ("Mrs Jones will attend.", "Jones", "title"),
        ("according to Dr. Smith the clinic is closed", "Smith", "title"),
        ("Herr Müller rief an", "Müller", "title"),
        ("Sra. Lucía Fernández llamó", "Lucía Fernández", "title"),
        ("M. Dupont est arrivé", "Dupont", "title"),
        ("my name is maria", "maria", "my name is"),
        ("Hello, I am Vilma and I live in camp 3", "Vilma", "intro"),
        ("I'm Patricia from the office", "Patricia", "intro"),
        ("Contact person: Vilma Holm", "Vilma Holm", "key"),
        ("Focal point: John Smith", "John Smith", "key"),
        ("Caller: maria barros", "maria barros", "key"),
        ("Beneficiary - Anna Nowak", "Anna Nowak", "key"),
        ("Please contact Mary for details", "Mary", "verb"),
        ("We met Tomomi Nishiyama yesterday", "Tomomi Nishiyama", "verb"),
        ("I spoke with Peter Novak about the case", "Peter Novak", "verb"),
        ("The case was referred to Anna Kowalski", "Anna Kowalski", "verb"),
        ("Aung Kyaw Moe said the road was closed", "Aung Kyaw Moe", "said"),
        ("Maria Barros told us she had moved", "Maria Barros", "said"),
        ("Peter Novak was born in 1990", "Peter Novak", "lives"),
        ("Mary Jones (34, female) was displaced", "Mary Jones", "age"),
        ("Peter Parker, 34, arrived", "Peter Parker", "age"),
        ("Kind regards,\nJohn Smith", "John Smith", "sign"),
        ("Thanks,\nVilma", "Vilma", "sign"),
        ("Best,\n  Anna Nowak\nProgramme Officer", "Anna Nowak", "sign"),
        ("see you\n-- Siiri Virtanen", "Siiri Virtanen", "sign"),
    ],
)
def test_cues(text: str, name: str, reason: str) -> None:
    hits = N.find_person_names(text, bare=False)
    assert (name, reason) in [(text[s:e], r) for s, e, r in hits], hits


@pytest.mark.parametrize(
    "text",
    [
        "I am going home now",
        "I am Will",  # 'Will' is a common word
        "This is Health Cluster data",
        "Patient: Yes",
        "User: admin",
        "Focal point: Health Cluster",
        "Please contact Save the Children",
        "Please call the hotline",
        "contact the office",
        "We visited Kachin State and Mandalay Region",
        "We visited Rose Hill",
        "Yangon said to be calm",
        "The Township (12, new) was visited",
        "Best regards,\nThe WASH team",
        "Thanks,\nHealth Cluster",
        "He works at Maria Barros Hospital",
        "Dr. Mya Clinic is open",
        "follow up with the team",
        "follow up with health partners",
        "I am May",
        "Mandalay, 34, 56",
    ],
)
def test_cue_negatives(text: str) -> None:
    assert found(text) == []


# ----------------------------------------------------------------------------- bare Given Surname
def test_bare_pair_without_cue() -> None:
    assert found("Yesterday John Smith arrived at the camp.") == ["John Smith"]
    assert found("Dear Fábio Barros, thank you") == ["Fábio Barros"]
    assert found("Yesterday John Smith arrived", bare=False) == []


@pytest.mark.parametrize(
    "text",
    [
        "New York",
        "United Nations",
        "Monday Morning",
        "Best Practices",
        "the Ma Kyar village tract",
        "Victoria Street",
        "Grace Church",
        "San Francisco",
        "Hong Kong office",
        "Mary Chapman School",
        "Maria Barros Hospital",
        "John Smith Foundation",
        "University of Maria Barros",
        "Kachin State",
        "Nay Pyi Taw",
        "Aung San Road",
        "Save the Children",
        "World Vision",
        "Norwegian Refugee Council",
        "Rural Health Centre",
        "Station Hospital",
        "Golden Duck Restaurant",
        "Long Term Plan",
        "Summer Page was long",
        "Jordan River",
        "Sierra Leone",
    ],
)
def test_bare_negatives(text: str) -> None:
    assert found(text) == []


def test_ma_kyar_is_not_a_name() -> None:
    assert found("Flooding in Ma Kyar village tract, Hpakant Township") == []
    assert not N.looks_like_person_name("Ma Kyar")


# ----------------------------------------------------------------------------- CUE_PATTERN / validate
def test_cue_pattern_compiles_with_re2_and_is_selective() -> None:
    prog = re2.compile(N.CUE_PATTERN.encode())
    csv = b"\n".join(b"%d,Kachin,Myitkyina,MMR001001,%d.5,Mandalay Region,Ma Kyar" % (i, i * 7) for i in range(2000))
    assert prog.search(csv) is None
    m = prog.search("Please correct it to Mr. Fábio Barros".encode())
    assert m is not None


def test_validate_candidate() -> None:
    prog = re2.compile(N.CUE_PATTERN.encode())
    text = "Note: follow up with patricia desrosiers tomorrow"
    b = text.encode()
    m = prog.search(b)
    cand = b[m.start() : m.end()].decode()
    assert N.validate_candidate(cand, text[: m.start()], text[m.end() :]) == "patricia desrosiers"
    assert N.validate_candidate("contact the", "", " office") is None
    assert N.validate_candidate("Mr. Fábio Barros") == "Fábio Barros"


def test_validate_pair() -> None:
    assert N.validate_pair("John Smith", "Yesterday ", " arrived") == "John Smith"
    assert N.validate_pair("John Smith", "", " Foundation") is None
    assert N.validate_pair("Monday Morning") is None
    prog = re2.compile(N.PAIR_PATTERN.encode())
    assert prog.search("Fábio Barros".encode()) is not None


def test_spans_are_character_offsets_with_accents() -> None:
    text = "Olá! Médico: según Sra. Lucía Fernández, todo bien."
    ((s, e, _),) = N.find_person_names(text)
    assert text[s:e] == "Lucía Fernández"


# ----------------------------------------------------------------------------- Burmese
def test_segmenter() -> None:
    syl = [t for _, _, t in N.segment_syllables("ဒေါ်ခင်မာဝင်းသည် မြင့်သန္တာ")]
    assert syl == ["ဒေါ်", "ခင်", "မာ", "ဝင်း", "သည်", " ", "မြင့်", "သန္တာ"]


@pytest.mark.parametrize(
    "text, name",
    [
        ("အောင်ကျော်မိုးက ပြောသည်", "အောင်ကျော်မိုး"),
        ("ဒေါ်ခင်မာဝင်း သည် ရန်ကုန်တွင် နေထိုင်သည်", "ဒေါ်ခင်မာဝင်း"),
        ("မြတ်သီတာ၏ အသက်မှာ ၂၅ နှစ်", "မြတ်သီတာ"),
        ("ဇင်မာထက်နှင့် ဆက်သွယ်ပါ", "ဇင်မာထက်"),
        ("ဦးထွန်းလွင်ကို ဆက်သွယ်ပါ", "ဦးထွန်းလွင်"),
        ("ဒီနေ့ သီတာဝင်းက ဖုန်းဆက်တယ်", "သီတာဝင်း"),
        ("ဇော်ဝင်းထွန်း ပြောတယ်", "ဇော်ဝင်းထွန်း"),
        ("အောင် ကျော် မိုး က ပြောသည်", "အောင် ကျော် မိုး"),
    ],
)
def test_burmese_positives(text: str, name: str) -> None:
    assert name in [text[s:e] for s, e, _ in N.find_burmese_names(text)]


@pytest.mark.parametrize(
    "text",
    [
        "ကျေးရွာတွင် ရေကြီးသည်",
        "မြို့နယ်ရုံး",
        "ကချင်ပြည်နယ်",
        "ရန်ကုန်တိုင်းဒေသကြီး",
        "ကျောင်းသားများ ပညာရေး",
        "မိုးရွာသည်",
        "သူက ပြောတယ်",
        "အောင်မြင်စွာ ပြီးဆုံးသည်",
        "ငွေကြေး အကူအညီ",
        "ရေနှင့် သန့်ရှင်းရေး",
        "ကျန်းမာရေး ဝန်ဆောင်မှု",
        "မင်းကို ချစ်တယ်",
        "နေကောင်းလား",
        "မြန်မာနိုင်ငံ",
        "လူဦးရေ ၅၀၀",
        "အသက် ၂၅ နှစ်",
        "ခင်ဗျားကို ကျေးဇူးတင်ပါတယ်",
        "စစ်ကိုင်းတိုင်း",
        "မေလ ၂၀၂၄",
        "ရွာသားများ နေထိုင်သည်",
        "မသွားဘူး",
        "မလာနိုင်ဘူး",
    ],
)
def test_burmese_negatives(text: str) -> None:
    assert N.find_burmese_names(text) == []


# ----------------------------------------------------------------------------- columns
PEOPLE = [
    "Vilma Holm",
    "Siiri Virtanen",
    "Fábio Barros",
    "Tomomi Nishiyama",
    "Patricia Desrosiers",
    "John Smith",
    "Aung Kyaw Moe",
    "Daw Hla Hla Win",
    "Mohammed Rahman",
    "Khin Thandar",
]
COLUMNS_NOT_PEOPLE = {
    "states": [
        "Kachin",
        "Kayah",
        "Kayin",
        "Chin",
        "Sagaing",
        "Tanintharyi",
        "Bago",
        "Magway",
        "Mandalay",
        "Mon",
        "Rakhine",
        "Yangon",
        "Shan",
        "Ayeyarwady",
        "Nay Pyi Taw",
    ],
    "townships": ["Myitkyina", "Hpakant", "Lashio", "Sittwe", "Hakha", "Loikaw", "Pathein", "Dawei", "Monywa"],
    "villages": ["Ma Kyar", "Kan Gyi", "Thit Yar Kone", "Nyaung Pin", "Kyauk Pyu", "Ywar Thit", "Myo Thit"],
    "restaurants": ["Golden Duck", "Feel Myanmar Food", "Rangoon Tea House", "Lucky Seven", "999 Shan Noodle Shop"],
    "orgs": [
        "Save the Children",
        "UNICEF",
        "World Vision",
        "Metta Development Foundation",
        "Mercy Corps",
        "Plan International",
        "Norwegian Refugee Council",
    ],
    "tags": ["health", "education", "wash", "protection", "shelter", "nutrition", "food security", "hxl"],
    "nationality": ["Myanmar", "Burmese", "Thai", "Chinese", "Indian", "Bangladeshi", "Rohingya", "Karen"],
    "numbers": ["12", "345", "6.7", "0", "1,200"],
    "facilities": ["Myitkyina General Hospital", "Rural Health Centre", "Station Hospital", "Township Hospital"],
    "countries": ["France", "Germany", "Jordan", "Chad", "Georgia", "Israel", "Kenya", "Thailand"],
    "burmese_places": ["ရွာသစ်", "ကန်ကြီး", "မြို့သစ်", "ကချင်ပြည်နယ်"],
}


def test_name_column_scores() -> None:
    assert N.name_column_score(PEOPLE) >= 0.9
    assert N.name_column_score(["Aung Aung", "Zaw Min Htet", "Su Myat Noe", "Hnin Wai", "Ko Zarni"]) >= 0.8
    assert N.name_column_score(["အောင်ကျော်မိုး", "ဒေါ်ခင်မာဝင်း", "မြတ်သီတာ", "ဇင်မာထက်"]) >= 0.75
    assert N.name_column_score([]) == 0.0
    assert N.name_column_score(["", "  "]) == 0.0


@pytest.mark.parametrize("kind", sorted(COLUMNS_NOT_PEOPLE))
def test_not_person_columns(kind: str) -> None:
    assert N.name_column_score(COLUMNS_NOT_PEOPLE[kind]) <= 0.2


def test_repeated_values_are_a_category() -> None:
    assert N.name_column_score(["John Smith"] * 50) < 0.2


@pytest.mark.parametrize(
    "header",
    [
        "restaurant_name",
        "Organisation",
        "org_name",
        "health_facility",
        "site",
        "business name",
        "admin2Name_en",
        "ADM3_EN",
        "tags",
        "nationality",
        "display_name",
        "title",
        "groups",
        "village_tract",
        "Ethnicity",
    ],
)
def test_header_says_not_person(header: str) -> None:
    assert N.header_says_not_person(header)


@pytest.mark.parametrize("header", ["token", "name", "Full Name", "respondent", "col_3", "", "hoh"])
def test_header_not_ruled_out(header: str) -> None:
    assert not N.header_says_not_person(header)
