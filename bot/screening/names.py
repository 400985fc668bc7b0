"""Person names without a Myanmar honorific: Latin-script prose, Burmese script, name columns.

Pure and synchronous: the only I/O is loading the word lists once per process (lazily, on
first use, ~0.1 s, ~14 MB RSS) from ``bot/data/person_names.txt.gz``, a derived cache built by
``python -m bot.screening.names build`` from:

* Faker (MIT, https://github.com/joke2k/faker, maintained): the given names and surnames of its
  86 ``faker.providers.person.<locale>`` providers (Latin-script entries only), and the country /
  US state / street-suffix lists of ``faker.providers.address.en_US`` as place stop words.
* ``names`` 0.3.0 (MIT code; data: US Census Bureau 1990 name frequency files, public domain):
  ``dist.all.last`` (88,799 surnames) and ``dist.{male,female}.first`` (5,494 given names).

Both allow redistribution; the cache header records the versions.  Without the cache the lists
are read from the installed packages (slower, ~1.5 s).  Optional: ``gender_guesser`` (GPLv3
code, nam_dict.txt GFDL 1.2, ~40k international given names) is read at run time when installed
and is never written into the cache.  No model or data set is downloaded at run time.

A known name word is only *evidence*; a name needs a cue (title, "my name is", "contact ...",
"... said", signature, age after it ...) or two known words (given name + surname, capitalised)
outside an organisation / place context.  Words that are common English (or humanitarian /
place) words - "May", "Will", "Rose", "Hope", "Page", "Long", "Young", "Park" ... - never count
as evidence on their own (``COMMON_WORDS``, a hand-made list).

Burmese script: a small syllable segmenter (the myWord / pyidaungsu syllable-break rule) and a
list of common Myanmar name syllables (``BURMESE_NAME_SYLLABLES``, written from linguistic
knowledge of Myanmar naming - not derived from a data set).  A run of 2-4 name syllables counts
when an honorific precedes it or a person particle / verb follows it.
"""

from __future__ import annotations

import functools
import gzip
import importlib
import os
import pkgutil
import re
import sys
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import mask
from .patterns import HONORIFIC_LOWER, NAME_STOP, NAME_SYLLABLES, compile_bytes

__all__ = [
    "BURMESE_NAME_SYLLABLES",
    "COMMON_WORDS",
    "CUE_PATTERN",
    "MYANMAR_ADMIN_NAMES",
    "NOT_PERSON_HEADER",
    "PAIR_PATTERN",
    "detector_validate",
    "find_burmese_names",
    "find_person_names",
    "fold",
    "header_says_not_person",
    "is_given_name",
    "is_surname",
    "load_stats",
    "looks_like_person_name",
    "name_column_score",
    "segment_syllables",
    "validate_candidate",
    "validate_pair",
]

# =========================================================================== word lists


def _ws(text: str) -> list[str]:
    """The whitespace-separated words of a word-list block."""
    return text.split()


@functools.lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """Lowercase and strip accents: 'Fábio' -> 'fabio', 'Jürgen' -> 'jurgen'."""
    if word.isascii():
        return word.lower()
    w = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in w if not unicodedata.combining(ch)).replace("’", "'")


#: common English / humanitarian / place words that appear in name lists ("May", "Will", "Rose").
#: Hand-made (own judgement): they never count as name evidence on their own.
COMMON_WORDS = frozenset(
    _ws("""
a an the and or but nor of in on at to for by with from as is was be are were been it its this that these
those he she we they you i me my our your his her their who what when where why how all any some no not yes
so up down out over under more most many much new old good great best better first last next other same such
only also just very well still even back here there then now today general major royal grand little big small
high low long short young white black brown green gray grey red blue gold golden silver rose violet ivory amber
jade pearl ruby coral hazel olive scarlet crystal star sky rain storm sunny sunshine sun moon angel bliss
blossom honey sugar candy cherry berry apple ginger pepper sage basil ash oak holly ivy iris lily daisy poppy
heather fern willow laurel jasmine may june april august january february march july september october november
december monday tuesday wednesday thursday friday saturday sunday summer winter autumn spring fall dawn day
night morning evening will hope faith grace joy love charity mercy patience prudence honor honour justice
liberty trinity unity destiny harmony serenity page park hall hill wood woods field fields house church street
lane bridge ford brook banks bank lake river rivers stone rock king kings queen prince princess duke earl baron
lord bishop pope mayor judge marshal sheriff dean chancellor president director manager officer chief head
lead cook baker butler carpenter mason turner hunter fisher porter walker ward cash price cost rich money bill
bills case center centre state states nation nations united union city town village county camp land world
north south east west central upper lower mid middle ocean sea bay point port fort mount cape island valley
forest garden gardens market office home family child children baby man woman men women boy girl son daughter
mother father brother sister uncle aunt people person human health education food water shelter protection
nutrition security safety support service services care aid relief help emergency response action plan program
programme project team group cluster sector partner partners report data form survey update note notes total
sum number date time year years month week hour name names user admin guest test sample example demo unknown
none null various misc true false ok okay please thanks thank dear hello hi regards sincerely cheers kind warm
warmly respectfully yours cordially wash sue pat rob art guy don mark frank chase grant wade drew lance miles sterling
van gene ray jay bob rusty sandy dusty misty happy lucky buddy noble reed rod sky sunday christian christmas
easter english french german dutch spanish american african asian british chinese indian thai lao burmese
karen kachin shan chin mon bamar rakhine rohingya muslim hindu buddhist catholic baptist god lord jesus
allah buddha san santa saint st sao don dona del della de la le los las el al bin bint van von der den
das dos du di da ter ten mac mc o hong kong wan chai salt lime iron steel glass field victoria albert
washington jefferson madison austin houston dallas denver phoenix orlando
jordan israel egypt chad kenya georgia virginia carolina dakota florida indiana louisiana maryland nevada
china india japan korea france paris london berlin sydney vienna florence venice milan geneva lourdes
ireland england scotland wales asia africa europe america australia canada mexico brazil argentina chile peru
cuba haiti jamaica siena sierra leone niger sudan mali lebanon syria
""")
)

#: words that, right after a pair of capitalised words, make it an organisation / place / thing
_ORG_AFTER = (
    frozenset(
        _ws("""
hospital clinic school college university academy institute foundation trust fund association society union
council committee ministry department agency office bank restaurant cafe café bar hotel motel guesthouse inn
shop store market mall company co corp corporation inc ltd limited llc plc group holdings partners partnership
services service church mosque temple monastery pagoda cathedral chapel street st road rd avenue ave lane
boulevard blvd drive highway way square park bridge station airport port harbour harbor river lake hill
mountain mount valley township village tract ward district state region province county city town camp site
center centre hall house building tower plaza gardens garden stadium library museum theatre theater cinema
project programme program network alliance coalition federation league club team cluster sector initiative
award prize act law treaty convention declaration report index day week month year festival
""")
    )
    | NAME_STOP
)

#: Myanmar states/regions, districts and major townships (own list from MIMU naming conventions),
#: plus ethnic/state names that are also given names elsewhere ("Karen", "Chin", "Shan")
MYANMAR_ADMIN_NAMES = frozenset(
    fold(x)
    for x in _ws("""
kachin kayah kayin karen karenni chin sagaing tanintharyi tenasserim bago pegu magway magwe mandalay mon
rakhine arakan yangon rangoon shan ayeyarwady irrawaddy naypyitaw naypyidaw myitkyina bhamo mohnyin putao
hpakant waingmaw momauk loikaw demoso hpruso bawlakhe hpa-an hpaan hpapun myawaddy kawkareik hlaingbwe
kyainseikgyi falam hakha mindat matupi paletwa tedim tonzang kanpetlet monywa shwebo katha kale kalay tamu
hkamti mawlaik yinmarbin kani pale budalin dawei myeik kawthoung taungoo pyay thayarwady minbu thayet pakokku
gangaw meiktila myingyan kyaukse pyinoolwin yamethin nyaung-u mawlamyine thaton mudon ye sittwe mrauk-u
maungdaw buthidaung kyaukphyu thandwe rathedaung minbya pauktaw myebon ann taunggyi lashio kengtung muse
kyaukme hsipaw loilem tachileik langkho hopang matman mongmit namhsan kutkai laukkai pathein hinthada
myaungmya maubin pyapon labutta bogale insein hlaing thingangyun dagon hlegu hmawbi thanlyin twante kyauktan
ottarathiri dekkhina zabuthiri pobbathiri lewe pyinmana tatkon zeyarthiri kalaw pindaya hsihseng pekon
pinlaung mongton mongyai namtu manton tangyan myanmar burma kyar
""")
) | frozenset({"nay pyi taw", "ma kyar", "hpa an", "mrauk u", "nyaung u", "mawlamyine gyun"})

#: Myanmar honorifics / titles in Latin script: never evidence of a name on their own
_MM_HONORIFICS = HONORIFIC_LOWER | frozenset(
    {
        "daw",
        "u",
        "ko",
        "ma",
        "maung",
        "mg",
        "saw",
        "naw",
        "nan",
        "sai",
        "khun",
        "sayar",
        "saya",
        "sayama",
        "dr",
        "mr",
        "mrs",
        "ms",
    }
)

_LETTERS = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*$")
_LATIN_MAX = 0x24F


def _latin(word: str) -> bool:
    return all(ord(c) <= _LATIN_MAX or unicodedata.combining(c) for c in word if c.isalpha())


@dataclass(frozen=True)
class Lexicon:
    given: frozenset[str]
    surnames: frozenset[str]
    places: frozenset[str]
    sources: tuple[str, ...]
    seconds: float


DATA_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "person_names.txt.gz")


def _faker_names() -> tuple[set[str], set[str], set[str], str]:
    first: set[str] = set()
    last: set[str] = set()
    places: set[str] = set()
    try:
        import faker
        import faker.providers.person as fp
    except ImportError:
        return first, last, places, ""
    for info in pkgutil.iter_modules(fp.__path__):
        try:
            mod = importlib.import_module(f"faker.providers.person.{info.name}")
        except Exception:  # noqa: BLE001, S112 - a broken locale must not break the build
            continue
        prov = getattr(mod, "Provider", None)
        if prov is None:
            continue
        for attr, val in vars(prov).items():
            if not isinstance(val, (tuple, list, dict)):
                continue
            if attr.startswith(("first_names", "first_romanized_names")):
                first.update(v for v in val if isinstance(v, str))
            elif attr.startswith(("last_names", "last_romanized_names")):
                last.update(v for v in val if isinstance(v, str))
    try:
        from faker.providers.address.en_US import Provider as _Addr

        for attr in ("countries", "states", "street_suffixes", "city_suffixes", "city_prefixes"):
            places.update(str(x) for x in getattr(_Addr, attr, ()))
    except ImportError:
        pass
    return first, last, places, f"Faker {getattr(faker, 'VERSION', '?')} (MIT)"


def _census_names() -> tuple[set[str], set[str], str]:
    first: set[str] = set()
    last: set[str] = set()
    try:
        import names as _census  # the `names` package: US Census 1990 lists
    except ImportError:
        return first, last, ""
    base = os.path.dirname(_census.__file__)
    for fname, target in (("dist.male.first", first), ("dist.female.first", first), ("dist.all.last", last)):
        try:
            with open(os.path.join(base, fname), encoding="ascii", errors="ignore") as fh:
                target.update(line.split(None, 1)[0] for line in fh if line.strip())
        except OSError:
            continue
    ver = getattr(_census, "__version__", "?")
    return first, last, f"names {ver} (MIT; data US Census Bureau 1990, public domain)"


def _gender_guesser_names() -> set[str]:
    """Optional: nam_dict.txt of gender_guesser (GFDL data), read at run time when installed.

    Never written into the cache (its licence differs from the cache's)."""
    out: set[str] = set()
    try:
        import gender_guesser
    except ImportError:
        return out
    path = os.path.join(os.path.dirname(gender_guesser.__file__), "data", "nam_dict.txt")
    try:
        with open(path, encoding="iso-8859-1") as fh:
            for line in fh:
                if line.startswith("#") or len(line) < 30:
                    continue
                name = line[3:29].strip()
                if name and "<" not in name and "+" not in name and " " not in name:
                    out.add(name)
    except OSError:
        pass
    return out


def _norm_words(words: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for w in words:
        w = w.strip()
        if len(w) < 2 or not _latin(w):
            continue
        for part in w.replace("-", " ").split():
            lw = part.casefold().replace("’", "'")
            if len(lw) >= 2 and _LETTERS.match(lw):
                out.add(lw)
                fw = fold(lw)
                if fw != lw:
                    out.add(fw)
    return out


def build_cache(path: str = DATA_FILE) -> dict[str, int]:
    """Regenerate the derived word cache from the installed Faker and `names` packages.

    ``python -m bot.screening.names build``.  Both sources allow redistribution (MIT / public
    domain); the header of the file records the versions."""
    f_first, f_last, places, f_src = _faker_names()
    c_first, c_last, c_src = _census_names()
    if not f_src or not c_src:
        raise SystemExit("install Faker and names first (see names_requirements.txt)")
    given = sorted(_norm_words(f_first | c_first))
    surnames = sorted(_norm_words(f_last | c_last))
    place_words = sorted({fold(p) for p in places} - {"of", "and", "the"})
    lines = [
        "# clusterbot person-name word lists (lowercase; accent-folded variants included)",
        f"# given names + surnames: {f_src}, all faker.providers.person locales, Latin-script entries",
        f"# given names + surnames: {c_src}",
        "# place words: faker.providers.address.en_US countries, states, street/city suffixes",
        "# regenerate: python -m bot.screening.names build",
        "[given]",
        *given,
        "[surname]",
        *surnames,
        "[place]",
        *place_words,
    ]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as fh:
        fh.write(data)  # mtime=0: the same inputs give the same bytes
    return {"given": len(given), "surnames": len(surnames), "places": len(place_words)}


def _read_cache(path: str) -> tuple[list[str], list[str], list[str], str] | None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    sections: dict[str, list[str]] = {"given": [], "surname": [], "place": []}
    head: list[str] = []
    for block in text.split("\n["):
        name, _, body = block.partition("]\n")
        if name in sections:
            sections[name] = [ln for ln in body.split("\n") if ln]
        else:
            head = [ln for ln in block.splitlines() if ln.startswith("# given")]
    src = "; ".join(h[2:] for h in head) or path
    return sections["given"], sections["surname"], sections["place"], src


@functools.cache
def lexicon() -> Lexicon:
    """The name lists, loaded once per process from the derived cache (or, when the cache is
    missing, straight from the installed Faker / names packages)."""
    t0 = time.perf_counter()
    cached = _read_cache(DATA_FILE)
    if cached is not None:
        g_words, s_words, p_words, src = cached
        sources: tuple[str, ...] = (src,)
    else:
        f_first, f_last, places, f_src = _faker_names()
        c_first, c_last, c_src = _census_names()
        g_words = sorted(_norm_words(f_first | c_first))
        s_words = sorted(_norm_words(f_last | c_last))
        p_words = sorted({fold(p) for p in places})
        sources = tuple(s for s in (f_src, c_src) if s)
    extra = _gender_guesser_names()
    if extra:
        g_words = list(g_words) + sorted(_norm_words(extra))
        sources += ("gender_guesser nam_dict.txt (GFDL, optional)",)
    drop = COMMON_WORDS | MYANMAR_ADMIN_NAMES | _MM_HONORIFICS
    pool: dict[str, str] = {}
    given = frozenset(pool.setdefault(w, w) for w in g_words if w not in drop)
    surnames = frozenset(pool.setdefault(w, w) for w in s_words if w not in drop)
    places_fs = frozenset(p_words) - {"of", "and", "the"}
    return Lexicon(given, surnames, places_fs, sources, time.perf_counter() - t0)


def load_stats() -> dict[str, Any]:
    lex = lexicon()
    return {
        "given": len(lex.given),
        "surnames": len(lex.surnames),
        "places": len(lex.places),
        "sources": lex.sources,
        "seconds": round(lex.seconds, 4),
    }


def is_given_name(word: str) -> bool:
    w = word.casefold().replace("’", "'")
    if w in COMMON_WORDS:
        return False
    lex = lexicon()
    return w in lex.given or fold(w) in lex.given


def is_surname(word: str) -> bool:
    w = word.casefold().replace("’", "'")
    if w in COMMON_WORDS:
        return False
    lex = lexicon()
    return w in lex.surnames or fold(w) in lex.surnames


def _is_mm_syllable(word: str) -> bool:
    w = word.casefold()
    return w in NAME_SYLLABLES and w not in _MM_HONORIFICS


def _known(word: str) -> bool:
    """A word that is evidence of a person name (given name, surname or Myanmar name syllable)."""
    return is_given_name(word) or is_surname(word) or _is_mm_syllable(word)


def _blocked(word: str) -> bool:
    f = fold(word)
    return f in _ORG_AFTER or f in MYANMAR_ADMIN_NAMES or f in lexicon().places


# =========================================================================== the cue pattern (RE2, bytes)
# Latin letters only (ASCII + Latin-1 + Extended-A/B): keeps the UTF-8 automaton small.
_UP = r"[A-Z\x{C0}-\x{D6}\x{D8}-\x{DE}\x{100}-\x{24F}]"
_LT = r"[A-Za-z\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{24F}'’\-]"
_CAPW = _UP + _LT + "+"
_CAPS = r"(?:" + _UP + r"\. ?)?" + _CAPW + r"(?: (?:" + _UP + r"\. ?)?" + _CAPW + r"){0,3}"
_ANYW = _LT + "{2,}"
_ANYS = _ANYW + r"(?: " + _ANYW + r"){0,3}"


def _alt(words: str) -> str:
    """An alternation, longest first (RE2 is leftmost-first: 'referred to' before 'referred')."""
    items = sorted({w.strip() for w in words.split("|") if w.strip()}, key=len, reverse=True)
    return "|".join(items)


_TITLE = (
    r"\b(?:"
    + _alt("Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sr|Sra|Srta|Herr|Frau|Mme|Mlle|Madame|Monsieur|Mister|Doctor|MR|MRS|MS|DR")
    + r")\.? |\bM\. "
)
_INTRO = r"(?i:\b(?:" + _alt("my name is|my name's|my name’s|i am called|call me|i am|i'm|i’m|this is") + r")) "
_KEY = (
    r"(?i:\b(?:"
    + _alt(
        "user|username|user name|contact person|contact name|focal point|focal person|caller|patient|beneficiary|"
        "respondent|client|applicant|complainant|interviewee|informant|requester|requested by|reported by|"
        "submitted by|prepared by|attn|attention|from|cc"
    )
    + r")) ?[:\-] ?"
)
_VERB = (
    r"(?i:\b(?:"
    + _alt(
        "contact|contacted|contacting|call|called|calling|ask|asked|met|meet|met with|meet with|meeting with|"
        "follow up with|followed up with|follow-up with|following up with|spoke with|spoke to|speak with|speak to|"
        "talk to|talked to|talk with|talked with|visited|interviewed|referred|referred to|according to|informed|"
        "thanks to|on behalf of|assigned to|handed over to|escalated to|correct it to|corrected it to|change it to|"
        "changed it to|married|husband|wife|son of|daughter of|widow of"
    )
    + r")) "
)
_SIGN = (
    r"(?i:\b(?:"
    + _alt(
        "regards|best|best wishes|thanks|thank you|many thanks|sincerely|cheers|yours truly|yours sincerely|"
        "yours faithfully|respectfully|warmly"
    )
    + r")),?[ \t]*\r?\n[ \t]*|(?:^|\n)--[ \t]?"
)
_SUFFIX = (
    r"(?:,? (?:said|says|told|explained|stated|added|recalled|reported|complained|mentioned|replied|"
    r"confirmed)\b"
    r"|,? (?:lives|lived|resides|resided|stays|stayed|is living|was living) (?:at|in|with|near)\b"
    r"| (?:was|were) born\b"
    r"| \((?:aged? )?[0-9]{1,2}(?:,|\)| ?y| ?yrs| ?years)"
    r"|, (?:aged? )?[0-9]{1,2}(?:,| ?y\b| ?yrs\b| ?years\b))"
)

#: part -> (prefix, name, suffix); the part programs capture the name as group 1
_PARTS: dict[str, tuple[str, str, str]] = {
    "title": (_TITLE, _CAPS, ""),
    "intro": (_INTRO, _ANYS, ""),
    "key": (_KEY, _ANYS, ""),
    "verb": (_VERB, _ANYS, ""),
    "sign": (_SIGN, _CAPS, ""),
    "suffix": ("", _CAPS, _SUFFIX),
}
#: the combined cue pattern: add it as one more part of the bulk program (RE2 over UTF-8 bytes,
#: no backreferences / lookarounds).  Every match needs a cue word, so numeric / place-name
#: data yields (almost) no candidates.
CUE_PATTERN: str = "|".join("(?:(?:" + p + ")" + n + "(?:" + s + "))" for p, n, s in _PARTS.values())
_PART_RES = {k: compile_bytes("^(?:" + p + ")(" + n + ")(?:" + s + ")") for k, (p, n, s) in _PARTS.items()}
CUE_RE = compile_bytes(CUE_PATTERN)

#: bare "Given Surname" candidates: only for text mode / prose cells; validate with validate_pair
PAIR_PATTERN: str = (
    r"\b"
    + _UP
    + r"[a-z\x{DF}-\x{F6}\x{F8}-\x{FF}\x{100}-\x{24F}'’\-]+ "
    + _UP
    + r"[a-z\x{DF}-\x{F6}\x{F8}-\x{FF}\x{100}-\x{24F}'’\-]+"
)
PAIR_RE = compile_bytes(PAIR_PATTERN)

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*")
_TITLES = frozenset(_ws("mr mrs ms mx miss dr prof sr sra srta herr frau mme mlle madame monsieur mister doctor m"))
_NEXT_WORD = re.compile(r"^[ \t]+([^\W\d_]+)")
_LIVES = re.compile(r"^,? (?:lives|lived|resides|resided|stays|stayed|is living|was living|was born|were born)")
_AGE = re.compile(r"^(?: \(|, )")


def _cap(w: str) -> bool:
    """'Fábio', 'McDonald', "O'Neil", 'NGUYEN' (all caps up to 3 words is fine too)."""
    return w[:1].isupper()


def _words(raw: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(raw)]


def _bad(word: str) -> bool:
    f = fold(word)
    return f in COMMON_WORDS or _blocked(word)


def _prefix_name(kind: str, raw: str, after: str) -> tuple[int, int] | None:
    """The name right after a prefix cue (title, intro, key, verb, signature)."""
    words = _words(raw)
    while words and (words[0][2].casefold() in _TITLES or len(words[0][2]) == 1):
        words = words[1:]  # "correct it to Mr. Fábio Barros", "Dr. J. Smith"
    if not words:
        return None
    caps = _cap(words[0][2])
    keep: list[tuple[int, int, str]] = []
    for w in words:
        if len(keep) == 4 or _cap(w[2]) != caps or (not caps and not w[2].islower()):
            break
        if _bad(w[2]):
            if not keep or not caps:
                break
            return None  # "Dr. Mya Clinic", "contact Mary Hospital": an organisation / place
        if not caps and not _known(w[2]):
            break
        keep.append(w)
    if not keep:
        return None
    # a capitalised name followed by an organisation / place word: not a person
    nxt = _NEXT_WORD.match(raw[keep[-1][1] :] + after)
    if caps and nxt and _cap(nxt.group(1)) and _blocked(nxt.group(1)):
        return None
    texts = [w[2] for w in keep]
    if " ".join(fold(t) for t in texts) in MYANMAR_ADMIN_NAMES:
        return None
    if not caps:
        # lowercase only after intro / key / verb cues, and only known name words, two or more
        # starting with a given name ("follow up with patricia desrosiers")
        if kind not in ("intro", "key", "verb", "my name is") or not is_given_name(texts[0]):
            return None
        if len(texts) < 2 and kind != "my name is":
            return None
        return keep[0][0], keep[-1][1]
    if kind in ("title", "my name is"):
        return keep[0][0], keep[-1][1]
    if kind == "intro":  # "I am X" / "this is X": a known given name first
        if not (is_given_name(texts[0]) or _is_mm_syllable(texts[0])):
            return None
        return keep[0][0], keep[-1][1]
    # key, verb, sign: one known given name, or 2+ words with at least one known name word
    known = [_known(t) for t in texts]
    if len(texts) == 1:
        return (keep[0][0], keep[0][1]) if is_given_name(texts[0]) or kind == "sign" and is_surname(texts[0]) else None
    return (keep[0][0], keep[-1][1]) if any(known) else None


def _suffix_name(raw: str, tail: str, before: str) -> tuple[int, int, str] | None:
    """The name right before 'said', 'lives in', '(34, female)', ', 34,'."""
    words = _words(raw)[-4:]
    # drop sentence-initial common words and titles: "Yesterday Mary Jones said", "Mr Smith said"
    while words and (_bad(words[0][2]) or words[0][2].casefold() in _TITLES or len(words[0][2]) == 1):
        words = words[1:]
    if not words:
        return None
    texts = [w[2] for w in words]
    if any(_bad(t) or not _cap(t) for t in texts):
        return None
    if " ".join(fold(t) for t in texts) in MYANMAR_ADMIN_NAMES:
        return None
    reason = "lives" if _LIVES.match(tail) else "age" if _AGE.match(tail) else "said"
    known = [_known(t) for t in texts]
    if len(texts) == 1:
        ok = is_given_name(texts[0]) or (
            reason == "said" and is_surname(texts[0]) and before.rstrip().endswith((".", ",", "\n")) is False
        )
        if not ok:
            return None
    elif not any(known):
        return None
    return words[0][0], words[-1][1], reason


_MY_NAME = re.compile(r"(?i)(?:my name(?: is|'s|’s)|call me|i am called) $")


def _validate(text: str, before: str = "", after: str = "") -> tuple[int, int, str] | None:
    """(start, end, reason) of the name inside `text` (a CUE_PATTERN match), or None."""
    b = text.encode("utf-8")
    for kind, prog in _PART_RES.items():
        m = prog.match(b)
        if m is None:
            continue
        gs, ge = m.span(1)
        pre = b[:gs].decode("utf-8", "replace")
        raw = b[gs:ge].decode("utf-8", "replace")
        tail = b[ge:].decode("utf-8", "replace")
        off = len(pre)
        if kind == "suffix":
            res3 = _suffix_name(raw, tail, before + pre)
            if res3 is not None:
                return off + res3[0], off + res3[1], res3[2]
            continue
        k = "my name is" if kind == "intro" and _MY_NAME.search(pre) else kind
        res = _prefix_name(k, raw, tail + after)
        if res is not None:
            return off + res[0], off + res[1], k
    return None


def validate_candidate(text: str, before: str = "", after: str = "") -> str | None:
    """The person name in a CUE_PATTERN match (decoded str), whitespace-normalised, or None.

    `before` / `after`: ~40 characters of text around the match (stop context).  The returned
    string is the name only (no cue words), ready for ``mask.mask_name``."""
    hit = _validate(text, before, after)
    return None if hit is None else " ".join(text[hit[0] : hit[1]].split())


def detector_validate(c: Any) -> tuple[str, str] | None:
    """Validator for a ``detectors.Detector`` entry with ``pattern=CUE_PATTERN``: takes the
    registry's ``Candidate`` (``.text``, ``.before(n)``, ``.after(n)``) and returns
    (masked example, name) or None."""
    before = c.before(120).decode("utf-8", "replace")
    after = c.after(60).decode("utf-8", "replace")
    name = validate_candidate(c.text, before, after)
    return None if name is None else (mask.mask_name(name), name)


def validate_pair(text: str, before: str = "", after: str = "") -> str | None:
    """A bare 'Given Surname' candidate (PAIR_PATTERN match): the name, or None.

    Only for text mode / prose cells: the first word must be a known given name, the second a
    known surname, neither a common / place word, and no organisation / place word after it."""
    words = text.split()
    if len(words) != 2:
        return None
    g, s = words
    if not (is_given_name(g) and is_surname(s)):
        return None
    if _blocked(g) or _blocked(s) or fold(g) in _MM_HONORIFICS:
        return None
    if " ".join((fold(g), fold(s))) in MYANMAR_ADMIN_NAMES:
        return None
    nxt = _WORD.match(after)
    if after[:1] == " " and (nxt := _WORD.match(after[1:])) is not None and _blocked(nxt.group(0)):
        return None
    if nxt is None and after[:1] in ("'", "’"):  # "Maria Barros's Restaurant" is still a person
        pass
    prev = before.rstrip().rsplit(None, 1)[-1] if before.strip() else ""
    if prev and fold(prev.strip(".,")) in ("of", "the", "at", "in", "on", "on"):
        return None  # "University of Maria Barros", "at Rose Garden": usually an institution / place
    return f"{g} {s}"


# =========================================================================== Latin prose


def find_person_names(text: str, *, bare: bool = True) -> list[tuple[int, int, str]]:
    """Person names in Latin-script prose: sorted (start, end, reason) character spans.

    reason: 'title', 'my name is', 'intro', 'key', 'verb', 'sign', 'said', 'lives', 'age', or
    'pair' (bare "Given Surname", only with bare=True - use it for prose, not for table cells
    of a big CSV)."""
    if not text:
        return []
    data = text.encode("utf-8")
    out: list[tuple[int, int, str]] = []
    index: list[int] | None = None

    def to_char(bpos: int) -> int:
        nonlocal index
        if data.isascii() if index is None and len(data) == len(text) else False:
            return bpos
        if index is None:
            index = [0] * (len(data) + 1)
            c = 0
            for i, byte in enumerate(data):
                index[i] = c
                if byte & 0xC0 != 0x80:
                    c += 1
                    index[i] = c - 1
            index[len(data)] = len(text)
        return index[bpos]

    pos = 0
    while pos < len(data):
        m = CUE_RE.search(data, pos)
        if m is None:
            break
        s, e = m.span()
        cs, ce = to_char(s), to_char(e)
        hit = _validate(text[cs:ce], text[max(0, cs - 40) : cs], text[ce : ce + 40])
        if hit is not None:
            out.append((cs + hit[0], cs + hit[1], hit[2]))
            pos = e if e > s else s + 1
        else:
            # the cue may have swallowed the start of another one ("according to Dr. Smith")
            nxt = data.find(b" ", s + 1, e)
            pos = nxt + 1 if nxt > 0 else (e if e > s else s + 1)
    if bare:
        pos = 0
        while pos < len(data):
            m = PAIR_RE.search(data, pos)
            if m is None:
                break
            s, e = m.span()
            cs, ce = to_char(s), to_char(e)
            name = validate_pair(text[cs:ce], text[max(0, cs - 40) : cs], text[ce : ce + 40])
            if name is not None:
                out.append((cs, ce, "pair"))
                pos = e
            else:  # slide one word: "Dear Tomomi Nishiyama" pairs the 2nd and 3rd words
                sp = data.find(b" ", s, e)
                pos = sp + 1 if sp > 0 else e
    return _merge(out)


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    spans.sort(key=lambda x: (x[0], -x[1]))
    out: list[tuple[int, int, str]] = []
    for s, e, r in spans:
        if out and s < out[-1][1]:
            ps, pe, pr = out[-1]
            out[-1] = (ps, max(pe, e), pr)
            continue
        out.append((s, e, r))
    return out


# =========================================================================== Burmese script
_SYL_BREAK = re.compile(
    r"(?:(?<!\u1039)([\u1000-\u102a\u103f\u104a-\u104f]|[\u1040-\u1049]+|[^\u1000-\u104f]+)"
    r"(?![\u103e\u103b]?[\u1037\u1039\u103a]))"
)


def segment_syllables(text: str) -> list[tuple[int, int, str]]:
    """Myanmar syllables (and non-Myanmar runs) with their spans: the myWord/pyidaungsu break rule."""
    starts = sorted({m.start() for m in _SYL_BREAK.finditer(text)} | {0})
    out: list[tuple[int, int, str]] = []
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(text)
        if e > s:
            out.append((s, e, text[s:e]))
    return out


#: common syllables of Myanmar personal names in Burmese script (own linguistic knowledge of
#: Myanmar naming; romanisations in comments of the Latin NAME_SYLLABLES in patterns.py)
BURMESE_NAME_SYLLABLES = frozenset(
    _ws("""
အောင် ကျော် ဇင် ထက် စု မြတ် နိုး သီ တာ ခင် မာ ဇော် မင်း ဦး မေ သူ နီ လာ ဝင်း ခန့် ရ တ နာ ဖြိုး စိုး မိုး
သန္တာ အေး ဝေ ယံ လင်း နှင်း ထွန်း လွင် မြင့် သိန်း လှ မြ ဆွေ ရွှေ ငွေ ဖြူ စိန် သန့် တင့် သ ဟန် ဟိန်း ထိုက်
ကြယ် နေ ပြည့် ကောင်း ဝင့် ဝတ် ယ ချစ် ဆန်း ဌေး ခိုင် မျိုး ကြည် နန္ဒာ ဇေ ယျာ ဇာ ညီ ချို ဘို ဘိုး ထူး ပေါ်
သက် ရိ ဒါ နွယ် နု ယဉ် ရီ ရည် မိ မူ ဆိုင်း စံ ဆု ချမ်း ချော ပန်း ဖူး ပွင့် ရဲ ထင် တင် ညို သွယ် အိ ဧ ယု
ဉာဏ် သစ် ဟေ မိုင် နိုင် ထွေး ဝါ ခြည် ပြုံး ပိုင် ကျင် ဇွဲ ကြီး ငယ် တိုး နောင် ရင် ဝဏ္ဏ လဲ့ မော် ဗ လ ကလျာ
စော နော် နန်း မောင် ဒေါ် သော် ဟိုင်း ထား ပို ဆင့် မွန် ပြည် ဖုန်း သဲ ဟင်း ကေ ကေသီ ဘုန်း ဗိုလ် ပြင်း ယမင်း
သင်း သုဇာ ဇီ ခိုင် ပပ ပု စန္ဒာ ရွှန်း ကြူ ကြိုင် ဖြိုး မြင့် ဥ ဥမ္မာ မင် ဟို ချိုချို သဇင် သီရိ
""")
)
#: name syllables that are also everyday words / particles: never enough on their own
_WEAK_SYL = frozenset(
    _ws("""
သူ နေ လာ တာ ရ သ ဝ မာ ဒါ ထား တင် ကောင်း ကြီး ငယ် လေး နာ ရီ ပြည် မိုး ပန်း ချစ် ဆု အေး ရဲ ညီ မြ မေ ဝေ
နီ စု ရည် ဖြူ ပေါ် နိုင် ထက် ဝင် စိုး မင်း ချို ဖူး တိုး ပို မ ကို ဦး ယ တ လ ဗ သက် ငွေ ရွှေ ဖုန်း ထူး ရင် ဟို
ပြည့် ကြည် ဝါ သဲ ဟင်း ပြင်း ပု မင် ဥ နု မူ မိ ခြည် ဒေါ် မောင် စော နော် ဗိုလ် သစ် ထင် ကြယ်
""")
)
_HONORIFICS_MY = ("ဦး", "ဒေါ်", "ကို", "မ", "မောင်", "စော", "နော်", "ဒေါက်တာ", "ဆရာ", "ဆရာမ", "နန်း", "စိုင်း")
_STRONG_HON = frozenset({"ဦး", "ဒေါ်", "ဒေါက်တာ", "ဆရာမ", "စော", "နော်", "စိုင်း", "နန်း", "မောင်"})
#: particles / verbs that mark the preceding noun phrase as a person
_PERSON_AFTER = (
    "က",
    "ကို",
    "ရဲ့",
    "၏",
    "နှင့်",
    "နဲ့",
    "သည်",
    "ဟာ",
    "မှာ",
    "အား",
    "သို့",
    "ပြောသည်",
    "ပြောတယ်",
    "ပြော",
    "နေထိုင်",
    "အသက်",
    "နှစ်",
    "မွေးဖွား",
    "ဆက်သွယ်",
    "ဖုန်း",
    "၊",
    "။",
    "တို့",
)
_PLACE_AFTER = (
    "ရွာ",
    "ကျေးရွာ",
    "မြို့",
    "မြို့နယ်",
    "ရပ်ကွက်",
    "တိုင်း",
    "ပြည်နယ်",
    "လမ်း",
    "ဘုရား",
    "ကျောင်း",
    "ဆေးရုံ",
    "ဆေးခန်း",
    "ဈေး",
    "စခန်း",
    "အဖွဲ့",
    "ကုမ္ပဏီ",
    "ဆိုင်",
    "ရုံး",
    "တောင်",
    "မြစ်",
    "ချောင်း",
    "ကန်",
    "ဒေသ",
    "ခရိုင်",
    "ကျွန်း",
    "အသင်း",
    "ဌာန",
    "ဟိုတယ်",
    "စားသောက်",
    "ကုန်",
    "ရေး",
    "မြင်",
    "ချက်",
    "မှု",
    "ခြင်း",
    "ရှိ",
    "ပါ",
    "တယ်",
    "သည့်",
    "စွာ",
    "ကြေး",
    "ဆိုး",
    "သား",
    "သမီး",
)
_PLACE_BEFORE = ("ရွာ", "မြို့", "မြို့နယ်", "ရပ်ကွက်", "ကျေးရွာ", "ပြည်နယ်", "တိုင်း", "လမ်း", "အ")
#: Burmese spellings of states/regions and big towns (never names)
_BURMESE_PLACES = (
    "ကချင်",
    "ကယား",
    "ကရင်",
    "ချင်း",
    "စစ်ကိုင်း",
    "တနင်္သာရီ",
    "ပဲခူး",
    "မကွေး",
    "မန္တလေး",
    "မွန်",
    "ရခိုင်",
    "ရန်ကုန်",
    "ရှမ်း",
    "ဧရာဝတီ",
    "နေပြည်တော်",
    "မြန်မာ",
    "မြစ်ကြီးနား",
    "လားရှိုး",
    "တောင်ကြီး",
    "စစ်တွေ",
    "မော်လမြိုင်",
    "ပုသိမ်",
    "ဘားအံ",
    "လွိုင်ကော်",
    "ဟားခါး",
    "မုံရွာ",
    "မြိတ်",
    "ထားဝယ်",
    "ပြည်",
    "မင်းဘူး",
    "တောင်ငူ",
    "ကလေး",
    "မကွေး",
)


#: syllables of Burmese place names (village, town, lake, hill, stream, island, market, road ...)
_BURMESE_PLACE_SYL = frozenset(
    (
        "ရွာ",
        "မြို့",
        "ကျေး",
        "ကုန်း",
        "ကန်",
        "တောင်",
        "ချောင်း",
        "ကျွန်း",
        "ဈေး",
        "လမ်း",
        "ရပ်",
        "ကွက်",
        "နယ်",
        "တိုင်း",
        "ပြည်",
        "စခန်း",
        "ဆိပ်",
        "ကမ်း",
        "တော",
        "ကွင်း",
    )
)


_HONORIFICS_SET = frozenset(_HONORIFICS_MY)
_PERSON_AFTER_SET = frozenset(_PERSON_AFTER) - {"၊", "။"}
_PLACE_AFTER_SET = frozenset(_PLACE_AFTER)
_PLACE_BEFORE_SET = frozenset(_PLACE_BEFORE)


def _is_my_syl(s: str) -> bool:
    return "\u1000" <= s[:1] <= "\u102a" or s[:1] == "\u103f"


def find_burmese_names(text: str) -> list[tuple[int, int, str]]:
    """Burmese-script person names: (start, end, reason), reason 'honorific' or 'particle'.

    A run of 1-4 name syllables after an honorific (ဦး ဒေါ် ကို မ မောင် စော နော် ...), or of
    2-4 name syllables (at least one not an everyday word) followed by a person particle or
    verb (က ကို ရဲ့ ၏ နှင့် နဲ့ သည် ပြောသည် နေထိုင် အသက် ဆက်သွယ် ...).  Runs next to a place word
    (ရွာ ကျေးရွာ မြို့ မြို့နယ် ရပ်ကွက် တိုင်း ပြည်နယ် ...) or inside a state / town name are not names."""
    if not text or not any("\u1000" <= c <= "\u109f" for c in text):
        return []
    text = unicodedata.normalize("NFC", text)
    # spaces between syllables are dropped: 'အောင် ကျော်' is one run (gap_ok checks for spaces only)
    toks = [x for x in segment_syllables(text) if x[2].strip()]
    n = len(toks)
    place_spans: list[tuple[int, int]] = []
    for p in _BURMESE_PLACES:
        st = text.find(p)
        while st >= 0:
            place_spans.append((st, st + len(p)))
            st = text.find(p, st + 1)

    def in_place(s: int, e: int) -> bool:
        return any(ps < e and s < pe for ps, pe in place_spans)

    def joined(i: int, m: int) -> str:
        return "".join(t[2] for t in toks[i : i + m])

    def gap_ok(i: int) -> bool:
        """Tokens i and i+1 are adjacent or separated by spaces only."""
        return 0 <= i < n - 1 and text[toks[i][1] : toks[i + 1][0]].strip() == ""

    def word_at(i: int, words: frozenset[str]) -> bool:
        """A word of `words` (1-3 syllables) starts at token i."""
        return any(i + m <= n and joined(i, m) in words for m in (1, 2, 3))

    out: list[tuple[int, int, str]] = []
    i = 0
    while i < n:
        hon_len = 0
        for m in (2, 1):
            if joined(i, m) in _HONORIFICS_SET and (m == 1 or gap_ok(i)):
                hon_len = m
                break
        j = i + hon_len
        if hon_len and j < n and not gap_ok(j - 1):
            hon_len, j = 0, i
        k = j
        while k < n and k - j < 4 and toks[k][2] in BURMESE_NAME_SYLLABLES and (k == j or gap_ok(k - 1)):
            k += 1
        run = [toks[x][2] for x in range(j, k)]
        if not run:
            i += 1
            continue
        s, e = toks[i][0], toks[k - 1][1]
        nxt = k if k < n and gap_ok(k - 1) else -1
        prev_adjacent = i > 0 and gap_ok(i - 1)
        strong = sum(x not in _WEAK_SYL for x in run)
        ok, reason = False, ""
        if (
            in_place(s, e)
            or (nxt >= 0 and word_at(nxt, _PLACE_AFTER_SET))
            or (prev_adjacent and (toks[i - 1][2] in _PLACE_BEFORE_SET or toks[i - 1][2] in BURMESE_NAME_SYLLABLES))
        ):
            ok = False
        elif hon_len:
            hon = joined(i, hon_len)
            if len(run) >= 2 and strong or hon in _STRONG_HON and (len(run) >= 2 or strong):
                ok, reason = True, "honorific"
        elif 2 <= len(run) <= 4 and strong and nxt >= 0 and word_at(nxt, _PERSON_AFTER_SET):
            ok, reason = True, "particle"
        if ok:
            out.append((s, e, reason))
            i = k
        else:
            i += 1
    return out


# =========================================================================== columns
NOT_PERSON_HEADER = frozenset(
    _ws("""
restaurant shop store business company firm organisation organization org orgs agency partner partners ngo ingo
facility facilities site sites school schools hospital clinic health camp village tract ward township district
state region province county admin1 admin2 admin3 admin4 adm1 adm2 adm3 adm4 adm0 admin0 country nationality
ethnicity ethnic religion tag tags group groups category categories type types title display cluster sector
project activity program programme donor vendor supplier brand product item commodity market city town place
location area zone office branch building street road hotel bank institution ministry department unit team
file dataset resource package license licence format indicator event language currency species crop disease
""")
)
_NOT_PERSON_PHRASES = (
    "display name",
    "display_name",
    "health facility",
    "health_facility",
    "business name",
    "org name",
    "site name",
    "school name",
    "facility name",
    "restaurant name",
    "shop name",
    "village name",
    "camp name",
    "dataset name",
    "file name",
    "tag name",
    "group name",
)
_HSPLIT = re.compile(r"[\s_\-./:()\[\]#?+]+|(?<=[a-z])(?=[A-Z])")


def header_says_not_person(header: str) -> bool:
    """True when a column header names something that is not a person ('restaurant_name',
    'Organisation', 'health_facility', 'admin2Name_en', 'tags', 'nationality' ...)."""
    if not header:
        return False
    h = " ".join(_HSPLIT.split(header.strip())).lower()
    if any(p.replace("_", " ") in h for p in _NOT_PERSON_PHRASES):
        return True
    words = [w for w in h.split() if w]
    return any(w in NOT_PERSON_HEADER or re.fullmatch(r"adm(?:in)?[0-5](?:name|pcode|en|mm)*", w) for w in words)


_DIGIT = re.compile(r"\d")
#: syllables of Myanmar *place* names in Latin script (own knowledge: kone = hill, ywa = village,
#: chaung = stream, kyun = island, taung = mountain, kan = lake, nyaung = banyan, kyauk = stone ...)
_MM_PLACE_SYL = frozenset(
    _ws("""kone gone ywa ywar ywama chaung kyun taung daung inn kan pin nyaung kyauk zay
pauk seik kwin gaung thit haung myaung gyaung hpo gyi gyee kyar ngu kyin sin taw tan dan hpa pyin wa kya""")
)


def _burmese_name_value(v: str) -> bool:
    toks = [t[2] for t in segment_syllables(v) if t[2].strip()]
    if not toks or any(not _is_my_syl(t) for t in toks):
        return False
    if any(p in v for p in _BURMESE_PLACES) or any(v.rstrip().endswith(p) for p in _PLACE_AFTER[:12]):
        return False
    body = toks
    for h in sorted(_HONORIFICS_MY, key=len, reverse=True):
        if "".join(toks[:2]).startswith(h):
            hn = 1 if toks[0] == h else 2 if "".join(toks[:2]) == h else 0
            if hn:
                body = toks[hn:]
            break
    if not 1 <= len(body) <= 5:
        return False
    if any(t in _BURMESE_PLACE_SYL for t in toks):
        return False
    good = sum(t in BURMESE_NAME_SYLLABLES for t in body)
    need = len(body) if len(body) <= 3 else len(body) - 1
    return good >= need and (len(body) >= 2 or len(toks) > len(body)) and any(t not in _WEAK_SYL for t in body)


def looks_like_person_name(value: str) -> bool:
    """A cell value that looks like a person name on its own (for name columns)."""
    v = " ".join(value.split())
    if not v or len(v) > 60 or _DIGIT.search(v) or "@" in v:
        return False
    if any("\u1000" <= c <= "\u109f" for c in v):
        return _burmese_name_value(v)
    words = [w.strip(".,") for w in v.split()]
    words = [w for w in words if w]
    if not 1 <= len(words) <= 4 or not all(_LETTERS.match(w) for w in words):
        return False
    if " ".join(fold(w) for w in words) in MYANMAR_ADMIN_NAMES:
        return False
    if any(_blocked(w) and fold(w) not in NAME_SYLLABLES for w in words):
        return False
    if any(fold(w) in COMMON_WORDS and fold(w) not in NAME_SYLLABLES for w in words):
        return False
    if any(fold(w) in _MM_PLACE_SYL for w in words):
        return False
    body = [w for w in words if fold(w) not in _MM_HONORIFICS and fold(w) not in _TITLES]
    if not body or any(w.isupper() and len(w) <= 4 and not _known(w) for w in body):
        return False
    known = [_known(w) for w in body]
    if len(body) == 1:
        return known[0] and (len(words) > 1 or is_given_name(body[0]) or _is_mm_syllable(body[0]))
    if len(body) == 2:
        # both known, or an unknown given name before a known surname ("Tomomi Nishiyama")
        return all(known) or (
            not known[0] and len(body[0]) >= 3 and is_surname(body[1]) and not _is_mm_syllable(body[1])
        )
    return sum(known) >= len(body) - 1


def name_column_score(values: list[str]) -> float:
    """Share (0..1) of the non-empty values that look like person names."""
    vals = [v for v in values if v and v.strip()]
    if not vals:
        return 0.0
    # a column of a handful of repeated values is a category, not names
    distinct = len({v.strip().casefold() for v in vals})
    hits = sum(1 for v in vals if looks_like_person_name(v))
    score = hits / len(vals)
    if len(vals) >= 10 and distinct / len(vals) < 0.2:
        score *= distinct / len(vals) / 0.2
    return round(score, 4)


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if sys.argv[1:] == ["build"]:
        print(build_cache())
    else:
        print(load_stats())
