"""Word tables for admin-area column headers (data only; used by ``admin``)."""

from __future__ import annotations

#: header words naming an admin level (1 state/region, 2 district, 3 township,
#: 4 village tract/ward/town, 5 village/camp)
ADMIN_HEADER: dict[str, int] = {
    "state": 1,
    "states": 1,
    "region": 1,
    "regions": 1,
    "state region": 1,
    "sr": 1,
    "division": 1,
    "adm1": 1,
    "admin1": 1,
    "adm 1": 1,
    "admin 1": 1,
    "district": 2,
    "districts": 2,
    "dist": 2,
    "adm2": 2,
    "admin2": 2,
    "adm 2": 2,
    "admin 2": 2,
    "township": 3,
    "townships": 3,
    "tsp": 3,
    "tship": 3,
    "sub township": 3,
    "adm3": 3,
    "admin3": 3,
    "adm 3": 3,
    "admin 3": 3,
    "village tract": 4,
    "village tracts": 4,
    "vt": 4,
    "ward": 4,
    "wards": 4,
    "town": 4,
    "towns": 4,
    "quarter": 4,
    "adm4": 4,
    "admin4": 4,
    "adm 4": 4,
    "admin 4": 4,
    "village": 5,
    "villages": 5,
    "vill": 5,
    "vlg": 5,
    "hamlet": 5,
    "camp": 5,
    "camps": 5,
    "idp camp": 5,
    "idp site": 5,
    "settlement": 5,
    "adm5": 5,
    "admin5": 5,
    "adm 5": 5,
    "admin 5": 5,
}
#: short abbreviations only accepted alone or with a name/code suffix ("ST_Pcode", "TS", "DT_Name");
#: "D" only with a suffix ("D_Pcode"): a bare "D" header is too often something else
_ADMIN_ABBR = {"st": 1, "d": 2, "dt": 2, "ts": 3}
_ADMIN_SUFFIX = frozenset(
    [
        "name",
        "names",
        "pcode",
        "pcodes",
        "p",
        "code",
        "codes",
        "id",
        "eng",
        "en",
        "mya",
        "mm",
        "mmr",
        "mmr3",
        "mm3",
        "my",
        "burmese",
        "myanmar",
        "english",
        "alt",
        "alternate",
        "nm",
    ]
)
_ADMIN_BURMESE = (
    ("\u1000\u103b\u1031\u1038\u101b\u103d\u102c\u1021\u102f\u1015\u103a\u1005\u102f", 4),  # ကျေးရွာအုပ်စု
    ("\u1031\u1000\u103a\u1038\u101b\u103c\u102c\u1021\u102f\u1015\u1039\u1005\u102f", 4),  # Zawgyi
    ("\u1019\u103c\u102d\u102f\u1037\u1014\u101a\u103a", 3),  # မြို့နယ်
    ("\u107f\u1019\u102d\u1033\u1095\u1014\u101a\u1039", 3),  # ၿမိဳ႕နယ္ (Zawgyi)
    ("\u1000\u103b\u1031\u1038\u101b\u103d\u102c", 5),
    ("\u1031\u1000\u103a\u1038\u101b\u103c\u102c", 5),
    ("\u101b\u1015\u103a\u1000\u103d\u1000\u103a", 4),
    ("\u101b\u1015\u1039\u1000\u103c\u1000\u1039", 4),
    ("\u101b\u103d\u102c", 5),
    ("\u101b\u103c\u102c", 5),  # ရွာ
    ("\u1005\u1001\u1014\u103a\u1038", 5),  # စခန်း
    ("\u1015\u103c\u100a\u103a\u1014\u101a\u103a", 1),
    ("\u103b\u1015\u100a\u1039\u1014\u101a\u1039", 1),  # ပြည်နယ်
    ("\u1010\u102d\u102f\u1004\u103a\u1038\u1012\u1031\u101e\u1000\u103c\u102e\u1038", 1),  # တိုင်းဒေသကြီး
    ("\u1001\u101b\u102d\u102f\u1004\u103a", 2),
    ("\u1001\u1090\u102d\u102f\u1004\u1039", 2),  # ခရိုင်
    ("\u1019\u103c\u102d\u102f\u1037", 4),  # မြို့ (town), after မြို့နယ် was removed
)
_ADMIN_NOT_MM = (
    "\u1021\u101b\u1031\u1021\u1010\u103d\u1000\u103a",  # အရေအတွက် count
    "\u1026\u1038\u101b\u1031",
    "\u1005\u102f\u1005\u102f\u1015\u1031\u102b\u1004\u103a\u1038",
    "\u1021\u102f\u1015\u103a\u1001\u103b\u102f\u1015\u103a\u101b\u1031\u1038",
)  # ဦးရေ စုစုပေါင်း အုပ်ချုပ်ရေး
