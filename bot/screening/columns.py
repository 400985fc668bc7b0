"""Column roles from header text (English and Burmese) and HXL hashtags.

A role is only a *hint*: the table analyser confirms it against a sample of values, so that
e.g. a "Phone" column full of budget figures, or "Number of villages", is not flagged."""

from __future__ import annotations

import re
import unicodedata

from .names import header_says_not_person
from .places import admin_level

_NORM = re.compile(r"[\s_\-./:()\[\]#?]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def norm_header(h: str) -> str:
    h = unicodedata.normalize("NFC", h or "")
    h = _CAMEL.sub(" ", h)
    return " " + _NORM.sub(" ", h.lower()).strip() + " "


def _has(h: str, words: tuple[str, ...]) -> bool:
    return any(w in h for w in words)


# ' word ' with spaces means whole word; otherwise substring (Burmese has no spaces)
NAME_W = (
    " name ",
    " names ",
    " fullname ",
    " full name ",
    " first name ",
    " last name ",
    " surname ",
    " given name ",
    " family name ",
    " firstname ",
    " lastname ",
    " fname ",
    " lname ",
    " nm ",
    " respondent ",
    " hoh ",
    " contact person ",
    " focal point ",
    " person ",
    " child ",
    " mother ",
    " father ",
    " caregiver ",
    " guardian ",
    "\u1021\u1019\u100a\u103a",
    "\u1014\u102c\u1019\u100a\u103a",  # အမည် နာမည်
    "\u1021\u1019\u100a\u1039",
    "\u1014\u102c\u1019\u100a\u1039",
)  # the same in Zawgyi
#: headers that name people without saying "name" (the values must also look like names)
NAME_WEAK_W = (
    " head of household",
    " head of hh",
    " hh head",
    " hoh ",
    " member ",
    " members name",
    " patient ",
    " student ",
    " beneficiary ",
    " recipient ",
    " participant ",
    " attendee",
    " survivor ",
    " victim ",
    " deceased",
    " applicant",
    " registrant",
    " caregiver ",
    " guardian ",
    " child ",
)
NOT_PERSON_W = (
    " restaurant",
    " hotel",
    " business",
    " brand",
    " store",
    " venue",
    " cafe",
    " tag",
    " display",
    " resource",
    " package",
    " title",
    " nationalit",
    " ethnic",
    " religion",
    " language",
    " org",
    " agency",
    " partner",
    " township",
    " village",
    " ward ",
    " camp",
    " site",
    " project",
    " activity",
    " district",
    " state",
    " region",
    " file",
    " cluster",
    " sector",
    " item",
    " facility",
    " school",
    " health",
    " market",
    " location",
    " place",
    " street",
    " road",
    " tract",
    " donor",
    " company",
    " vendor",
    " supplier",
    " shop",
    " hospital",
    " clinic",
    " warehouse",
    " product",
    " commodity",
    " user",
    " indicator",
    " unit",
    " field",
    " sheet",
    " group ",
    " team",
    " program",
    " type",
    " category",
    " event",
    " admin",
    " adm",
    " country",
    " city",
    " town",
    " office",
    " bank",
    " institution",
    " center",
    " centre",
    " quarter",
    " hamlet",
    " tsp",
    " level",
    " code",
    " pcode",
    " id ",
    " number of",
    " no of",
    " count",
    " total",
    " dataset",
    " form",
    " question",
    " status",
    " ngo",
    " inst",
    " donor",
    " fund",
    " ministry",
    " dept",
    " department",
    " age",
    " sex",
    "\u1019\u103c\u102d\u102f\u1037\u1014\u101a\u103a",  # မြို့နယ်
    "\u1000\u103b\u1031\u1038\u101b\u103d\u102c",  # ကျေးရွာ
    "\u1021\u1016\u103d\u1032\u1037",
)  # အဖွဲ့
PHONE_W = (
    " phone",
    " mobile",
    " tel ",
    " tel no",
    " telephone",
    " cell ",
    " cellphone",
    " contact no",
    " contact number",
    " viber",
    " whatsapp",
    " signal ",
    " ph no",
    " ph ",
    " hp ",
    " msisdn",
    " contact ",
    "\u1016\u102f\u1014\u103a\u1038",  # ဖုန်း
    "\u1016\u102f\u1014\u1039\u1038",
)  # ဖုန္း (Zawgyi)
EMAIL_W = (" email", " e mail", " mail ", " gmail", "\u1021\u102e\u1038\u1019\u1031\u1038\u101c\u103a")
NID_W = (
    " driver licen",
    " drivers licen",
    " driving licen",
    " licence no",
    " license no",
    " licence number",
    " license number",
    " dl no",
    " dl number",
    " ssn",
    " social security",
    " nrc",
    " national id",
    " nationalid",
    " id card",
    " idcard",
    " nid ",
    " citizenship",
    " identity",
    " passport",
    " card no",
    " card number",
    " id no ",
    " id number",
    "\u1019\u103e\u1010\u103a\u1015\u102f\u1036\u1010\u1004\u103a",  # မှတ်ပုံတင်
    "\u1014\u102d\u102f\u1004\u103a\u1004\u1036\u101e\u102c\u1038",  # နိုင်ငံသား
    "\u1019\u103d\u1010\u1039\u1015\u1036\u102f\u1010\u1004\u1039",
)  # မွတ္ပံုတင္ (Zawgyi)
DOB_W = (
    " dob ",
    " date of birth",
    " birth date",
    " birthdate",
    " birthday",
    " born ",
    " yob ",
    " year of birth",
    "\u1019\u103d\u1031\u1038",
)  # မွေး
AGE_W = (
    " age ",
    " age years",
    " age yrs",
    " ages ",
    " age of",
    "\u1021\u101e\u1000\u103a",  # အသက်
    "\u1021\u101e\u1000\u1039",
)  # Zawgyi
SEX_W = (
    " sex ",
    " gender ",
    "\u1000\u103b\u102c\u1038",
    "\u101c\u102d\u1004\u103a",  # ကျား လိင်
    "\u1000\u103a\u102c\u1038",
)  # က်ား (Zawgyi)
#: a column counting people: a table that has one is aggregated statistics, even with per-row sex and age
POP_COUNT_W = (
    " population",
    " pop ",
    " count",
    " total",
    " people",
    " persons",
    " individuals",
    " inhabitants",
    " headcount",
    " caseload",
    " number of people",
    " number of persons",
    " no of people",
)
HH_W = (
    " household",
    " hh ",
    " hhid",
    " hh id",
    " hh size",
    " hoh ",
    " head of household",
    " family size",
    " family members",
    " hh members",
    "\u1021\u102d\u1019\u103a\u1011\u1031\u102c\u1004\u103a",
)  # အိမ်ထောင်
HHSIZE_W = (" hh size", " household size", " family size", " hh members", " members ", " size ", " household members")
DISAB_W = (
    " disab",
    " pwd",
    " washington group",
    " wg ss",
    " wgss",
    " handicap",
    " impairment",
    "\u1019\u101e\u1014\u103a",
)  # မသန်
VULN_W = (
    " gbv",
    " sgbv",
    " survivor",
    " uasc",
    " unaccompanied",
    " separated",
    " detain",
    " arrest",
    " trafficking",
    " trafficked",
    " child soldier",
    " caafag",
    " protection case",
    " case type",
    " vulnerab",
    " specific need",
    " at risk",
    " risk category",
    " incident type",
    " abuse",
    " violence",
    " orphan",
    " missing",
    " disab",
    " pwd ",
    "\u1019\u101e\u1014\u103a",
)
PRECISE_W = (
    " village",
    " vt ",
    " ward",
    " camp",
    " idp site",
    " site name",
    " site ",
    " settlement",
    " hamlet",
    " street",
    " address",
    " house no",
    " house number",
    " gps",
    " adm4",
    " adm5",
    " admin4",
    " admin5",
    " admin 4",
    " admin 5",
    " quarter",
    " location detail",
    " exact location",
    " vill ",
    " vill name",
    " village tract",
    "\u1000\u103b\u1031\u1038\u101b\u103d\u102c",  # ကျေးရွာ (village / village tract)
    "\u101b\u1015\u103a\u1000\u103d\u1000\u103a",  # ရပ်ကွက်
    "\u1005\u1001\u1014\u103a\u1038",  # စခန်း
    "\u101c\u102d\u1015\u103a\u1005\u102c",  # လိပ်စာ
    # Zawgyi: ေက်းရြာ ရပ္ကြက္ စခန္း လိပ္စာ
    "\u1031\u1000\u103a\u1038\u101b\u103c\u102c",
    "\u101b\u1015\u1039\u1000\u103c\u1000\u1039",
    "\u1005\u1001\u1014\u1039\u1038",
    "\u101c\u102d\u1015\u1039\u1005\u102c",
)
#: a column *about* a place, not naming it ("site type", "camp management agency", "village leader")
PLACE_ATTR_W = (
    " type ",
    " types ",
    " status ",
    " category ",
    " classification ",
    " leader",
    " committee",
    " management",
    " agency ",
    " manager",
    " coordinator",
    " condition",
    " accessib",
    " access ",
    " distance",
)
ADMIN_W = (
    " state",
    " region",
    " district",
    " township",
    " tsp",
    " adm1",
    " adm2",
    " adm3",
    " admin1",
    " admin2",
    " admin3",
    " admin 1",
    " admin 2",
    " admin 3",
    "\u1019\u103c\u102d\u102f\u1037\u1014\u101a\u103a",
    "\u1001\u101b\u102d\u102f\u1004\u103a",
    "\u1015\u103c\u100a\u103a\u1014\u101a\u103a",
    "\u1010\u102d\u102f\u1004\u103a\u1038",
)
LAT_W = (" lat ", " latitude", " gps lat", " y coord", " lat dd", " lat y", " latitud")
LON_W = (" lon ", " long ", " longitude", " lng ", " x coord", " long dd", " lon x", " longitud")
COORD_W = (
    " gps ",
    " coordinates",
    " coordinate",
    " geolocation",
    " geopoint",
    " geo point",
    " latlong",
    " lat long",
    " latlon",
    " lat lon",
    " location gps",
    " gps location",
    " gps coordinates",
)
ORG_W = (
    " org ",
    " organisation",
    " organization",
    " orgs ",
    " agency",
    " partner",
    " implementing",
    " ip ",
    " reporting org",
    " lead org",
    " ngo",
    " ingo",
    " implementer",
    "\u1021\u1016\u103d\u1032\u1037\u1021\u1005\u100a\u103a\u1038",
)
ACTIVITY_W = (
    " activit",
    " project",
    " intervention",
    " sector",
    " cluster",
    " reached",
    " target",
    " served",
    " distribution",
    " modality",
    " output",
    " beneficiar",
    " people",
    " persons",
    " programme",
    " program",
    " service",
    " response",
)
BENEF_W = (
    " beneficiar",
    " recipient",
    " registrant",
    " registration",
    " participant",
    " enrol",
    "\u1021\u1000\u103b\u102d\u102f\u1038\u1001\u1036\u1005\u102c\u1038",
)
MEASURE_W = (
    " price",
    " cost",
    " budget",
    " amount",
    " total",
    " usd",
    " mmk",
    " kyat",
    " value ",
    " population",
    " number of",
    " no of",
    " num ",
    " count",
    " sum ",
    " figure",
    " qty",
    " quantity",
    " reached",
    " target",
    " pin ",
    " people in need",
    " percent",
    " pct",
    " %",
    " rate",
    " ratio",
    " score",
    " weight",
    " height",
    " area ",
    " km",
    " distance",
    " salary",
    " income",
    " expenditure",
    " fee",
    " payment",
    " transfer value",
    " ks ",
    " lakh",
    " year ",
    " month",
    " week",
    " code ",
    " pcode",
    " p code",
    " index",
    " serial",
    " sn ",
    " s no",
    " no ",
)
KOBO_META = {
    "_uuid",
    "_id",
    "_submission_time",
    "_index",
    "_validation_status",
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "instanceid",
    "meta/instanceid",
    "_submitted_by",
    "__version__",
    "_xform_id_string",
    "formhub/uuid",
    "_status",
    "_notes",
    "_tags",
    "_attachments",
    "_geolocation",
    "audit",
    "enumerator",
    "_parent_index",
}
REMARK_W = (
    " remark",
    " comment",
    " note",
    " description",
    " narrative",
    " details",
    " observation",
    " feedback",
    " other specify",
    " specify",
    " explain",
    " story",
    " notes",
    " text ",
)


def hxl_roles(tag: str) -> set[str]:
    """Roles from an HXL hashtag with attributes, e.g. '#contact+name', '#geo+lat'."""
    t = tag.strip().lower().replace(" ", "")
    if not t.startswith("#"):
        return set()
    parts = t[1:].split("+")
    base, attrs = parts[0], set(parts[1:])
    roles: set[str] = set()
    people = base in (
        "contact",
        "beneficiary",
        "respondee",
        "affected",
        "person",
        "staff",
        "ind",
        "indiv",
        "member",
        "household",
        "hoh",
        "child",
        "survivor",
        "inneed",
        "reached",
        "targeted",
    )
    if "name" in attrs and base not in (
        "org",
        "loc",
        "adm1",
        "adm2",
        "adm3",
        "adm4",
        "adm5",
        "sector",
        "activity",
        "country",
        "event",
        "item",
        "service",
        "operations",
        "output",
        "indicator",
        "site",
    ):
        roles.add("name")
    if "phone" in attrs or base == "phone":
        roles.add("phone")
    if "email" in attrs or base == "email":
        roles.add("email")
    if base == "geo" and "lat" in attrs:
        roles.add("lat")
    if base == "geo" and ("lon" in attrs or "long" in attrs):
        roles.add("lon")
    if base == "geo" and ("coord" in attrs or "point" in attrs):
        roles.add("coord")
    if base in ("adm4", "adm5") or (base == "loc" and (attrs & {"camp", "site", "village", "ward", "address"})):
        roles.add("precise")
    if base in ("adm1", "adm2", "adm3"):
        roles.add("admin")
    if base in ("respondee", "beneficiary") or (base == "affected" and attrs & {"ind", "name", "id"}):
        roles.add("beneficiary")
    if base == "household" or "hh" in attrs:
        roles.add("household")
    if base == "org" or "org" in attrs:
        roles.add("org")
    if base in ("activity", "sector", "output", "reached", "targeted", "operations", "service"):
        roles.add("activity")
    if "age" in attrs or base == "age":
        roles.add("age")
    if "sex" in attrs or "gender" in attrs:
        roles.add("sex")
    if "dob" in attrs or (base == "date" and "birth" in attrs):
        roles.add("dob")
    if attrs & {"disabled", "disability", "pwd"}:
        roles.add("disability")
    if attrs & {"gbv", "uasc", "detained", "survivor"}:
        roles.add("vulnerable")
    if attrs & {"nrc", "nid"} or ("id" in attrs and people and "code" not in attrs):
        roles.add("nid_maybe")
    return roles


#: words that, joined to "name" in a header, say whose name it is: a person's
PERSON_QUALIFIERS = frozenset(
    [
        "first",
        "last",
        "full",
        "given",
        "family",
        "middle",
        "sur",
        "nick",
        "maiden",
        "father",
        "fathers",
        "mother",
        "mothers",
        "husband",
        "wife",
        "spouse",
        "child",
        "childs",
        "children",
        "head",
        "hoh",
        "hh",
        "household",
        "respondent",
        "respondents",
        "beneficiary",
        "beneficiarys",
        "recipient",
        "caregiver",
        "guardian",
        "contact",
        "person",
        "persons",
        "patient",
        "member",
        "members",
        "staff",
        "enumerator",
        "interviewer",
        "focal",
        "point",
        "survivor",
        "victim",
        "student",
        "participant",
        "applicant",
        "registrant",
        "owner",
        "of",
        "the",
        "your",
        "my",
        "his",
        "her",
        "their",
        "in",
        "eng",
        "en",
        "english",
        "mm",
        "mya",
        "mm3",
        "myanmar",
        "burmese",
        "zawgyi",
        "unicode",
        "latin",
        "local",
        "s",
        "1",
        "2",
        "3",
        "4",
        "5",
        "name",
        "names",
    ]
)
#: MIMU and boundary-file abbreviations before "name": state/region, district, township, village tract
_ADMIN_ABBR = frozenset({"sr", "st", "dt", "ts", "vt", "tsp", "adm", "admin", "ward", "vill"})


def qualified_thing_name(h: str) -> bool:
    """`restaurant_name`, `display_name`, `SR_Name_Eng`: a name of something, not of a person.
    `name`, `full_name`, `hoh_name`, `name_of_child` stay person names."""
    words = h.split()
    if "name" not in words and "names" not in words:
        return False
    others = [w for w in words if w not in ("name", "names")]
    return any(w in _ADMIN_ABBR or (w not in PERSON_QUALIFIERS and not w.isdigit()) for w in others)


#: JSON containers of dataset metadata whose "name" and "size" describe things, not people
METADATA_CONTAINERS = frozenset(
    [
        "tags",
        "tag",
        "groups",
        "group",
        "organization",
        "organisation",
        "organizations",
        "org",
        "owner_org",
        "resources",
        "resource",
        "extras",
        "license",
        "licenses",
        "keywords",
        "categories",
        "category",
        "formats",
        "files",
        "attachments",
        "datasets",
        "dataset",
        "relationships",
        "distributions",
        "distribution",
        "themes",
        "links",
    ]
)


def header_roles(header: str) -> set[str]:
    h = norm_header(header)
    raw = (header or "").strip().lower()
    roles: set[str] = set()
    if raw in KOBO_META or raw.lstrip("_") in ("uuid", "submission_time", "submitted_by"):
        roles.add("kobo")
    # use the last path segment of Kobo group paths too
    if "/" in raw:
        last = norm_header(raw.rsplit("/", 1)[-1])
        roles |= header_roles(raw.rsplit("/", 1)[-1]) - {"kobo"}
        roles.add("kobo_group")
        h = last if len(last) > 2 else h
        parents = set(norm_header(raw.rsplit("/", 1)[0]).split())
        if parents & METADATA_CONTAINERS:
            # dataset metadata (CKAN/HDX): the name of a tag, group, organisation or resource
            return (roles - {"name", "name_weak", "household", "hhsize", "beneficiary"}) | {"metadata"}
    measure = _has(h, MEASURE_W) or h.startswith((" no ", " num ", " n ", " count ", " total ", " number "))
    not_person = qualified_thing_name(h) or header_says_not_person(header) or admin_level(header) is not None
    if _has(h, NAME_W) and not _has(h, NOT_PERSON_W) and not not_person:
        roles.add("name")
    elif _has(h, NAME_WEAK_W) and not _has(h, NOT_PERSON_W) and not measure and not not_person:
        roles.add("name_weak")
    if _has(h, POP_COUNT_W):
        roles.add("popcount")
    if _has(h, PHONE_W) and not h.startswith((" number of", " no of")):
        roles.add("phone")
    if _has(h, EMAIL_W):
        roles.add("email")
    if _has(h, NID_W):
        roles.add("nid")
    if _has(h, DOB_W):
        roles.add("dob")
    if _has(h, AGE_W) and not measure:
        roles.add("age")
    if _has(h, SEX_W) or h.strip() in ("m f", "sex", "gender"):
        roles.add("sex")
    if _has(h, HH_W):
        roles.add("household")
    if _has(h, HHSIZE_W) and _has(h, HH_W + (" family",)):
        roles.add("hhsize")
    if _has(h, DISAB_W):
        roles.add("disability")
    if _has(h, VULN_W):
        roles.add("vulnerable")
    if (
        _has(h, PRECISE_W)
        and not h.startswith((" number of", " no of", " num ", " total "))
        and not _has(h, PLACE_ATTR_W)
        and not _has(h, (" email", " e mail", " mail ", " web", " url", " ip ", " mac "))
    ):
        roles.add("precise")
    level = admin_level(header)
    if _has(h, ADMIN_W) or (level is not None and level <= 3):
        roles.add("admin")
    if level is not None and level >= 4 and not _has(h, PLACE_ATTR_W):
        roles.add("precise")
    if _has(h, LAT_W) or h.strip() in ("y", "lat"):
        roles.add("lat")
    if _has(h, LON_W) or h.strip() in ("x", "lon", "long", "lng"):
        roles.add("lon")
    if _has(h, COORD_W) or raw == "_geolocation":
        roles.add("coord")
    if _has(h, ORG_W):
        roles.add("org")
    if _has(h, ACTIVITY_W):
        roles.add("activity")
    if _has(h, BENEF_W):
        roles.add("beneficiary")
    if measure:
        roles.add("measure")
    if _has(h, REMARK_W):
        roles.add("remark")
    if _has(
        h,
        (
            " marital",
            " ethnic",
            " religion",
            " occupation",
            " education",
            " nationality",
            " livelihood",
            " pregnan",
            " lactat",
        ),
    ):
        roles.add("qi_other")
    return roles
