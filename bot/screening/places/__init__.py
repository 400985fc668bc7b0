"""Village-level places: settlement words in prose, bare village codes, an operator gazetteer,
and admin-area column headers.

Pure and synchronous, like the rest of the engine.  Every pattern is RE2 over UTF-8 bytes (no
lookarounds, no backreferences) so it can join the combined bulk program of ``patterns.py``;
the validators below only run on candidates.

When a place counts (the rule the integrator applies; see ``place_context``):

* a *candidate* is a settlement word next to a proper name ("Nyaung Pin village", "the village
  of Kyauk Taw", "village tract Thayet Pin", "Ward No. 5", "ကျောက်တော်ရွာ", "အမှတ် ၃ ရပ်ကွက်"),
  a village code next to a code keyword ("village code 150123"), or a gazetteer name;
* generic uses are never candidates ("the village", "every village", "village-level",
  "village tract administrators", "Village Development Committee", "ward office");
* a candidate in *prose* is reported as ``precise_location`` only when it locates people: the
  ±300 bytes around it (the match itself excluded) hold a person cue (honorific + name,
  pronoun, household, family, beneficiary, respondent, patient, child ...), an incident or case
  word (incident, case, killed, arrested, airstrike ...) or an assistance word (distribution,
  received, cash, referral ...), or the file already has person names elsewhere
  (``names_elsewhere=True``, the integrator knows it per file).  A plain gazetteer — names and
  P-codes with no people — is therefore not sensitive by itself;
* in *tables*, a column whose header is an admin area (``admin_level``) is a place column and
  never a person-name column; level >= 4 (village tract, ward, town, village) is precise.

Layout: ``settlements`` (settlement words in prose; word tables in ``settlement_words``),
``codes`` (village codes), ``context`` (cue words and the registry validators), ``admin``
(admin-level headers; tables in ``admin_words``), ``gazetteer`` (the name table and matching;
common names in ``gazetteer_words``) and ``gazetteer_files`` (reading the operator's file).
"""

from __future__ import annotations

from .admin import ADMIN_HEADER, admin_level
from .codes import VILLAGE_CODE_PATTERN, VILLAGE_CODE_RE, validate_village_code
from .context import (
    CONTEXT_BYTES as CONTEXT_BYTES,
)
from .context import (
    PLACE_CUE_RE as PLACE_CUE_RE,
)
from .context import (
    PLACE_CUE_TEXT,
    place_context,
    settlement_candidate,
    village_code_candidate,
)
from .gazetteer import GAZETTEER_RE2_MEM as GAZETTEER_RE2_MEM
from .gazetteer import Gazetteer
from .gazetteer_files import GazetteerError
from .gazetteer_files import read_text_table as read_text_table
from .settlements import (
    LATIN_PLACE_NAME as LATIN_PLACE_NAME,
)
from .settlements import (
    SETTLEMENT_PATTERN,
    SETTLEMENT_RE,
    followed_by_settlement_word,
    iter_settlements,
    validate_settlement,
)

__all__ = [
    "ADMIN_HEADER",
    "PLACE_CUE_TEXT",
    "SETTLEMENT_PATTERN",
    "SETTLEMENT_RE",
    "VILLAGE_CODE_PATTERN",
    "VILLAGE_CODE_RE",
    "Gazetteer",
    "GazetteerError",
    "admin_level",
    "followed_by_settlement_word",
    "iter_settlements",
    "place_context",
    "settlement_candidate",
    "validate_settlement",
    "validate_village_code",
    "village_code_candidate",
]
