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

Layout: ``wordlists`` and ``burmese_words`` (the hand-made tables), ``lexicon`` (the name lists
and their cache), ``latin`` (cue / pair patterns and their validators), ``burmese`` (segmenter,
Burmese names), ``cells`` (name columns); this package re-exports their public names.
"""

from __future__ import annotations

from .burmese import find_burmese_names, segment_syllables
from .burmese_words import BURMESE_NAME_SYLLABLES
from .cells import header_says_not_person, looks_like_person_name, name_column_score
from .latin import CUE_PATTERN, PAIR_PATTERN, detector_validate, find_person_names, validate_candidate, validate_pair
from .latin import CUE_RE as CUE_RE
from .latin import PAIR_RE as PAIR_RE
from .namelists import DATA_FILE as DATA_FILE
from .namelists import Lexicon as Lexicon
from .namelists import build_cache as build_cache
from .namelists import is_given_name, is_surname, load_stats
from .namelists import lexicon as lexicon
from .wordlists import COMMON_WORDS, MYANMAR_ADMIN_NAMES, NOT_PERSON_HEADER, fold

# the `X as X` imports stay importable from here as before (outside __all__): the compiled
# patterns, the lexicon and its cache
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
