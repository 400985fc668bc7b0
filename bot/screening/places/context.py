"""Does a place candidate locate people?  Cue words around it, and the registry validators."""

from __future__ import annotations

from ..patterns import compile_bytes
from .codes import validate_village_code
from .settlements import validate_settlement

PLACE_CUE_TEXT = (
    r"(?i:\b(?:households?|hhs?|hoh|famil(?:y|ies)|beneficiar\w*|respondents?|interviewees?|residents?|"
    r"villagers|individuals?|persons?|women|woman|girls?|boys?|child|children|infants?|babies|baby|elderly|"
    r"widows?|orphans?|survivors?|victims?|patients?|clients?|idps?|displaced|refugees?|returnees?|"
    r"he|she|his|her|him|mother|father|son|daughter|husband|wife|"
    r"incidents?|cases?|killed|injured|wounded|died|deaths?|dead|arrested|detained|abducted|raid(?:ed)?|"
    r"attack\w*|shell\w*|airstrikes?|air ?strikes?|bomb\w*|burn(?:ed|t)|looted|destroyed|fled|flee\w*|"
    r"violence|assault\w*|rape[ds]?|threat\w*|recruit\w*|landmines?|uxo|explosions?|"
    r"distribut\w*|receiv\w*|assist\w*|aid|cash|food|nfis?|kits?|vouchers?|referr\w*|registered|"
    r"registration|enrolled|visited|treated|treatment|vaccinat\w*|provided|delivered|served|"
    r"lives|living|lived|resid\w*|address|house|houses|home|homes|stay\w*|relocat\w*)\b)"
    r"|\b(?:Daw|U|Ko|Ma|Maung|Mg|Naw|Saw|Sai|Nang|Nan|Mi|Khun|Mr|Mrs|Ms)\.? [A-Z][a-z]{1,12}"
    "|\u1021\u102d\u1019\u103a\u1011\u1031\u102c\u1004\u103a\u1005\u102f"  # အိမ်ထောင်စု household
    "|\u1019\u102d\u101e\u102c\u1038\u1005\u102f"  # မိသားစု family
    "|\u1021\u102d\u1019\u103a"  # အိမ် house
    "|\u101c\u1030\u1014\u102c"  # လူနာ patient
    "|\u1000\u101c\u1031\u1038"  # ကလေး child
    "|\u1021\u1019\u103b\u102d\u102f\u1038\u101e\u1019\u102e\u1038"  # အမျိုးသမီး woman
    "|\u1012\u102f\u1000\u1039\u1001\u101e\u100a\u103a"  # ဒုက္ခသည် displaced
    "|\u1005\u1005\u103a\u1018\u1031\u1038\u101b\u103e\u1031\u102c\u1004\u103a"  # စစ်ဘေးရှောင်
    "|\u1014\u1031\u1011\u102d\u102f\u1004\u103a"  # နေထိုင် reside
    "|\u1016\u1019\u103a\u1038\u1006\u102e\u1038"  # ဖမ်းဆီး arrest
    "|\u101e\u1031\u1006\u102f\u1036\u1038"  # သေဆုံး died
    "|\u1012\u100f\u103a\u101b\u102c"  # ဒဏ်ရာ injury
    "|\u1010\u102d\u102f\u1000\u103a\u1001\u102d\u102f\u1000\u103a"  # တိုက်ခိုက် attack
    "|\u1016\u103c\u1005\u103a\u101b\u1015\u103a"  # ဖြစ်ရပ် incident
    "|\u1021\u1000\u1030\u1021\u100a\u102e"  # အကူအညီ assistance
    "|\u1011\u1031\u102c\u1000\u103a\u1015\u1036\u1037"  # ထောက်ပံ့ support
    "|\u1016\u103c\u1014\u1037\u103a\u101d\u1031"  # ဖြန့်ဝေ distribute
    "|\u1012\u1031\u102b\u103a|\u1026\u1038 ?[\u1000-\u1021]"  # ဒေါ် / ဦး + a name
)
PLACE_CUE_RE = compile_bytes(PLACE_CUE_TEXT)
CONTEXT_BYTES = 300


def place_context(block: bytes, s: int, e: int, *, names_elsewhere: bool = False) -> str | None:
    """Does a place candidate at block[s:e] locate people?  Returns the cue (for the example) or
    None.  The window is ±CONTEXT_BYTES around the match within its line, the match itself excluded; a file with
    person names elsewhere always counts."""
    if names_elsewhere:
        return "person names in the file"
    # the same line (a sentence, a cell, a list entry): in a list of village names one entry
    # naming a person's honorific must not make its neighbours locate people
    ls = block.rfind(b"\n", max(0, s - CONTEXT_BYTES), s) + 1
    le = block.find(b"\n", e, e + CONTEXT_BYTES)
    le = le if le >= 0 else min(len(block), e + CONTEXT_BYTES)
    for part in (block[max(ls, s - CONTEXT_BYTES) : s], block[e:le]):
        m = PLACE_CUE_RE.search(part)
        if m is not None:
            return m.group(0).decode("utf-8", "replace")[:30]
    return None


def settlement_candidate(
    block: bytes, s: int, e: int, *, names_elsewhere: bool = False, need_context: bool = True
) -> str | None:
    """A SETTLEMENT_PATTERN match at block[s:e] as a label when it is a specific place that
    locates people (validate_settlement + place_context), else None.  The registry validator."""
    label = validate_settlement(
        block[s:e].decode("utf-8", "replace"),
        block[max(0, s - 60) : s].decode("utf-8", "replace"),
        block[e : e + 60].decode("utf-8", "replace"),
    )
    if label is None or (need_context and place_context(block, s, e, names_elsewhere=names_elsewhere) is None):
        return None
    return label


def village_code_candidate(
    block: bytes, s: int, e: int, *, names_elsewhere: bool = False, need_context: bool = True
) -> str | None:
    """A VILLAGE_CODE_PATTERN match as the bare code when valid (and locating people), else None."""
    code = validate_village_code(
        block[s:e].decode("utf-8", "replace"),
        block[max(0, s - 60) : s].decode("utf-8", "replace"),
        block[e : e + 20].decode("utf-8", "replace"),
    )
    if code is None or (need_context and place_context(block, s, e, names_elsewhere=names_elsewhere) is None):
        return None
    return code
