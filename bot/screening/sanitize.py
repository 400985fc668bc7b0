"""Text hygiene for anything echoed back (file and member names, finding examples, places)
and per-line decoding of files that mix encodings.

clean_text() removes terminal escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte
ESC sequences, 8-bit C1 CSI/OSC), C0/C1 control characters and bidirectional overrides, so
an echoed name cannot repaint a terminal or a chat client's line."""

from __future__ import annotations

import re
import typing
from typing import Self

# ESC [ ... final | CSI (0x9b) ... final | ESC ] ... BEL/ST | OSC (0x9d) ... | ESC P/X/^/_ ... ST | ESC + one char
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 except TAB, DEL, C1; bidi embeddings/overrides/isolates; zero-width and BOM characters
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(text: str, *, keep_newlines: bool = False) -> str:
    """`text` without escape sequences and control characters (TAB kept; CR/LF kept or spaced)."""
    if not text:
        return text
    out = _ESCAPES.sub("", text)
    if keep_newlines:
        return _CONTROLS.sub(lambda m: m.group(0) if m.group(0) in "\r\n" else "", out)
    out = out.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _CONTROLS.sub("", out)


_ESC_BYTES = re.compile(rb"\x1b[\[\]PX^_ -/]")


def needs_line_decoding(head: bytes) -> bool:
    """True when the head of a text file (no BOM) is not clean UTF-8: NUL bytes (UTF-16 lines),
    invalid UTF-8 (cp1252/latin-1 lines) or terminal escape sequences."""
    if not head:
        return False
    if b"\x00" in head or _ESC_BYTES.search(head) or b"\x9b" in head:
        return True
    cut = head
    # a multi-byte character may be cut at the end of the sample
    for back in range(1, 4):
        if len(cut) >= back and cut[-back] >= 0xC0:
            cut = cut[:-back]
            break
    try:
        cut.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _utf16_like(seg: bytes) -> bool:
    if len(seg) < 2:
        return False
    odd = seg[1::2].count(0)
    even = seg[0::2].count(0)
    return odd >= 0.3 * (len(seg) // 2) and odd > 2 * even


def decode_line(seg: bytes) -> str:
    """One line's bytes to text: UTF-16LE when it looks like it, else UTF-8, else cp1252, else latin-1."""
    if seg.startswith(b"\xff\xfe"):
        seg = seg[2:]
        return (seg + b"\x00" if len(seg) % 2 else seg).decode("utf-16-le", "replace")
    if _utf16_like(seg):
        return (seg + b"\x00" if len(seg) % 2 else seg).decode("utf-16-le", "replace")
    try:
        return seg.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return seg.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252
        return seg.decode("latin-1")


class LineDecoder:
    """Incremental: bytes in, cleaned text lines out (each line decoded on its own)."""

    def __init__(self, max_line: int = 1 << 20, clean: bool = True) -> None:
        self.clean = clean
        self.buf = b""
        self.prev_utf16 = False
        self.max_line = max_line

    def _line(self, seg: bytes) -> str:
        if self.prev_utf16 and seg.startswith(b"\x00"):
            seg = seg[1:]  # the high byte of the previous UTF-16LE line's LF
        self.prev_utf16 = seg.startswith(b"\xff\xfe") or _utf16_like(seg)
        if seg.endswith(b"\r\x00") and self.prev_utf16:
            seg = seg[:-2]
        elif seg.endswith(b"\r"):
            seg = seg[:-1]
        text = decode_line(seg)
        return clean_text(text) if self.clean else text

    def feed(self, data: bytes, final: bool = False) -> str:
        self.buf += data
        segs = self.buf.split(b"\n")
        self.buf = segs.pop()
        if len(self.buf) > self.max_line and not final:  # no newline for a long time: cut
            segs.append(self.buf[: self.max_line])
            self.buf = self.buf[self.max_line :]
        out = [self._line(s) + "\n" for s in segs]
        if final and self.buf:
            out.append(self._line(self.buf))
            self.buf = b""
        return "".join(out)


def decode_lines(data: bytes) -> str:
    return LineDecoder().feed(data, final=True)


_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def is_mixed_text(head: bytes, max_bad: float = 0.01) -> bool:
    """The head reads as text once each line is decoded on its own and escape sequences are
    removed: at most `max_bad` of the characters are stray controls or undecodable."""
    text = LineDecoder(clean=False).feed(head, final=True)
    text = _ESCAPES.sub("", text)
    if not text.strip():
        return False
    return len(_BAD.findall(text)) <= max_bad * len(text)


class MixedTextStream:
    """A byte stream of clean UTF-8 made from a stream of mixed-encoding lines."""

    def __init__(self, raw: typing.IO[bytes], chunk: int = 1 << 20) -> None:
        self.raw = raw
        self.dec = LineDecoder()
        self.buf = b""
        self.eof = False
        self.chunk = chunk

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = size if size is not None and size >= 0 else 1 << 62
        while len(self.buf) < want and not self.eof:
            data = self.raw.read(self.chunk)
            if not data:
                self.eof = True
                self.buf += self.dec.feed(b"", final=True).encode("utf-8")
                break
            self.buf += self.dec.feed(data).encode("utf-8")
        out, self.buf = self.buf[:want], self.buf[want:]
        return out

    def close(self) -> None:
        close = getattr(self.raw, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
