"""Admin-area column headers: the admin level a header names."""

from __future__ import annotations

import re
import unicodedata

from .admin_words import _ADMIN_ABBR, _ADMIN_BURMESE, _ADMIN_NOT_MM, _ADMIN_SUFFIX, ADMIN_HEADER

#: a header about a place's attribute or a count, not naming the place
_ADMIN_NOT = re.compile(
    r"\b(?:number|no|num|count|total|sum|population|pop|households?|hh|people|persons|individuals|type|types|"
    r"status|category|classification|leader|leaders|head|heads|committee|management|manager|agency|"
    r"administrator|administrators|office|condition|access|accessibility|distance|size|area|percent|pct|"
    r"rate|ratio|score|level|levels|budget|cost|price|of repair|private|public|date|year|month)\b"
)
_HDR_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")
_HDR_SPLIT = re.compile(r"[\s_\-./:()\[\]#?+,;|\\]+")
_HDR_NUM = re.compile(r"\b(adm|admin)\s+([1-5])\b")


def _header_tokens(header: str) -> list[str]:
    h = unicodedata.normalize("NFC", header or "")
    h = _HDR_CAMEL.sub(" ", h)
    h = re.sub(r"(?<=[A-Za-z])(?=[1-5]\b)", " ", h)  # "adm1Name" -> "adm 1 Name"
    h = _HDR_SPLIT.sub(" ", h.lower()).strip()
    h = _HDR_NUM.sub(r"\1\2", h)
    return [t[3:] if t.startswith("alt") and t[3:] in ("vlg", "village", "vill") else t for t in h.split()]


def admin_level(header: str) -> int | None:
    """The admin level a column header names, or None.

    1 state/region, 2 district, 3 township, 4 village tract / ward / town, 5 village / camp.
    English, MIMU (SR_Pcode, TS, VT_Pcode, Village_Mya_MMR3, VLG_PCODE), HXL (#adm1+name,
    #loc+name is not admin), Burmese (ပြည်နယ် ခရိုင် မြို့နယ် ကျေးရွာအုပ်စု ရပ်ကွက် ကျေးရွာ) and Zawgyi.
    Code columns count too (they are never person names either).  When a header names two
    levels ("Village/Ward", "Village_Tract/Town") the finer one wins.  Counts and attributes
    ("Number of villages", "Village leader", "Township population", "State of repair") are None."""
    raw = unicodedata.normalize("NFC", header or "").strip()
    if not raw or len(raw) > 120:
        return None
    toks = _header_tokens(raw)
    joined = " " + " ".join(toks) + " "
    if _ADMIN_NOT.search(joined) or any(w in raw for w in _ADMIN_NOT_MM):
        return None
    if raw.startswith("#"):  # HXL: #adm1+name, #adm4+code, #loc+village
        base = toks[0] if toks else ""
        if re.fullmatch(r"adm[1-5]", base):
            return int(base[3])
        if base == "loc" and set(toks[1:]) & {"village", "ward", "camp", "site"}:
            return 5
        return None
    level: int | None = None
    lv: int | None
    used: set[int] = set()
    for i, t in enumerate(toks):  # two-word phrases first ("village tract", "state region")
        if i + 1 < len(toks):
            two = t + " " + toks[i + 1]
            if two in ADMIN_HEADER:
                lv = ADMIN_HEADER[two]
                level = lv if level is None else max(level, lv)
                used |= {i, i + 1}
    for i, t in enumerate(toks):
        if i in used:
            continue
        lv = ADMIN_HEADER.get(t)
        if (
            lv is None
            and t in _ADMIN_ABBR
            and all(o in _ADMIN_SUFFIX or o in _ADMIN_ABBR or o in ADMIN_HEADER for j, o in enumerate(toks) if j != i)
        ):
            lv = _ADMIN_ABBR[t] if (t != "d" or len(toks) > 1) else None
        if lv is not None:
            level = lv if level is None else max(level, lv)
    rest = raw
    for word, mm_level in _ADMIN_BURMESE:
        if word in rest:
            rest = rest.replace(word, " ")
            level = mm_level if level is None else max(level, mm_level)
    return level
