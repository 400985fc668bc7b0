"""Person names in Burmese script: a syllable segmenter and ``find_burmese_names``."""

from __future__ import annotations

import re
import unicodedata

from .burmese_words import (
    _BURMESE_PLACES,
    _HONORIFICS_SET,
    _PERSON_AFTER_SET,
    _PLACE_AFTER_SET,
    _PLACE_BEFORE_SET,
    _STRONG_HON,
    _WEAK_SYL,
    BURMESE_NAME_SYLLABLES,
)

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


def _is_my_syl(s: str) -> bool:
    return "\u1000" <= s[:1] <= "\u102a" or s[:1] == "\u103f"


class _Syllables:
    """The syllables of a (NFC) text, without whitespace tokens, and the place names in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        # spaces between syllables are dropped: 'အောင် ကျော်' is one run (gap_ok checks for spaces only)
        self.toks = [x for x in segment_syllables(text) if x[2].strip()]
        self.n = len(self.toks)
        self.place_spans: list[tuple[int, int]] = []
        for p in _BURMESE_PLACES:
            st = text.find(p)
            while st >= 0:
                self.place_spans.append((st, st + len(p)))
                st = text.find(p, st + 1)

    def in_place(self, s: int, e: int) -> bool:
        return any(ps < e and s < pe for ps, pe in self.place_spans)

    def joined(self, i: int, m: int) -> str:
        return "".join(t[2] for t in self.toks[i : i + m])

    def gap_ok(self, i: int) -> bool:
        """Tokens i and i+1 are adjacent or separated by spaces only."""
        return 0 <= i < self.n - 1 and self.text[self.toks[i][1] : self.toks[i + 1][0]].strip() == ""

    def word_at(self, i: int, words: frozenset[str]) -> bool:
        """A word of `words` (1-3 syllables) starts at token i."""
        return any(i + m <= self.n and self.joined(i, m) in words for m in (1, 2, 3))

    def honorific_at(self, i: int) -> int:
        """The number of tokens (0-2) of an honorific at token i that a name run may follow."""
        hon_len = 0
        for m in (2, 1):
            if self.joined(i, m) in _HONORIFICS_SET and (m == 1 or self.gap_ok(i)):
                hon_len = m
                break
        j = i + hon_len
        if hon_len and j < self.n and not self.gap_ok(j - 1):
            return 0
        return hon_len

    def run_end(self, j: int) -> int:
        """The end (exclusive) of the run of up to 4 adjacent name syllables from token j."""
        k = j
        while k < self.n and k - j < 4 and self.toks[k][2] in BURMESE_NAME_SYLLABLES and (k == j or self.gap_ok(k - 1)):
            k += 1
        return k

    def near_place(self, i: int, k: int, nxt: int) -> bool:
        """Tokens i..k-1 lie in a place name, before a place word or after a place / name syllable."""
        s, e = self.toks[i][0], self.toks[k - 1][1]
        prev_adjacent = i > 0 and self.gap_ok(i - 1)
        return (
            self.in_place(s, e)
            or (nxt >= 0 and self.word_at(nxt, _PLACE_AFTER_SET))
            or (
                prev_adjacent
                and (self.toks[i - 1][2] in _PLACE_BEFORE_SET or self.toks[i - 1][2] in BURMESE_NAME_SYLLABLES)
            )
        )

    def verdict(self, i: int, hon_len: int, j: int, k: int) -> str | None:
        """'honorific' / 'particle' when tokens i..k-1 (honorific i..j-1, name run j..k-1) are a
        person name, else None."""
        run = [self.toks[x][2] for x in range(j, k)]
        nxt = k if k < self.n and self.gap_ok(k - 1) else -1
        if self.near_place(i, k, nxt):
            return None
        strong = sum(x not in _WEAK_SYL for x in run)
        if hon_len:
            hon = self.joined(i, hon_len)
            if len(run) >= 2 and strong or hon in _STRONG_HON and (len(run) >= 2 or strong):
                return "honorific"
            return None
        if 2 <= len(run) <= 4 and strong and nxt >= 0 and self.word_at(nxt, _PERSON_AFTER_SET):
            return "particle"
        return None


def find_burmese_names(text: str) -> list[tuple[int, int, str]]:
    """Burmese-script person names: (start, end, reason), reason 'honorific' or 'particle'.

    A run of 1-4 name syllables after an honorific (ဦး ဒေါ် ကို မ မောင် စော နော် ...), or of
    2-4 name syllables (at least one not an everyday word) followed by a person particle or
    verb (က ကို ရဲ့ ၏ နှင့် နဲ့ သည် ပြောသည် နေထိုင် အသက် ဆက်သွယ် ...).  Runs next to a place word
    (ရွာ ကျေးရွာ မြို့ မြို့နယ် ရပ်ကွက် တိုင်း ပြည်နယ် ...) or inside a state / town name are not names."""
    if not text or not any("\u1000" <= c <= "\u109f" for c in text):
        return []
    syl = _Syllables(unicodedata.normalize("NFC", text))
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < syl.n:
        hon_len = syl.honorific_at(i)
        j = i + hon_len
        k = syl.run_end(j)
        reason = syl.verdict(i, hon_len, j, k) if k > j else None
        if reason is not None:
            out.append((syl.toks[i][0], syl.toks[k - 1][1], reason))
            i = k
        else:
            i += 1
    return out
