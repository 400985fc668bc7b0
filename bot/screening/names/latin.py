"""Person names in Latin-script prose: the cue pattern (``CUE_PATTERN``, RE2 over bytes), the bare
'Given Surname' pattern (``PAIR_PATTERN``), their validators and ``find_person_names``."""

from __future__ import annotations

import re
from typing import Any

from .. import mask
from ..patterns import compile_bytes
from .namelists import _blocked, _is_mm_syllable, _known, is_given_name, is_surname
from .wordlists import (
    _MM_HONORIFICS,
    _TITLES,
    COMMON_WORDS,
    MYANMAR_ADMIN_NAMES,
    fold,
)

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
