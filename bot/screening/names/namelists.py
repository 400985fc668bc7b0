"""The given-name / surname / place lexicon: the derived cache ``bot/data/person_names.txt.gz``,
its build from Faker and ``names`` (``python -m bot.screening.names build``), and lookups."""

from __future__ import annotations

import functools
import gzip
import importlib
import os
import pkgutil
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..patterns import NAME_SYLLABLES
from .wordlists import (
    _MM_HONORIFICS,
    _ORG_AFTER,
    COMMON_WORDS,
    MYANMAR_ADMIN_NAMES,
    fold,
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


_BOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bot/
DATA_FILE = os.path.join(_BOT_DIR, "data", "person_names.txt.gz")


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
