"""Byte-stream helpers: BOM sniffing and transcoding to UTF-8, byte counting with a cap."""

from __future__ import annotations

import codecs
import io
from typing import IO

from ..collector import Unreadable


class Utf8Transcoder(io.RawIOBase):
    """Stream a UTF-16/32 (or other) encoded stream out as UTF-8 bytes, incrementally."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self.raw = raw
        self.dec = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.buf = b""
        self.eof = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = size if size is not None and size >= 0 else 1 << 62
        while len(self.buf) < want and not self.eof:
            chunk = self.raw.read(1 << 20)
            if not chunk:
                self.eof = True
                self.buf += self.dec.decode(b"", final=True).encode("utf-8")
                break
            self.buf += self.dec.decode(chunk).encode("utf-8")
        out, self.buf = self.buf[:want], self.buf[want:]
        return out

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class CountingReader(io.RawIOBase):
    """Counts real bytes read and stops at a cap (declared sizes can lie)."""

    def __init__(self, raw: IO[bytes], cap: int, what: str = "the file") -> None:
        self.raw = raw
        self.cap = cap
        self.count = 0
        self.what = what

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if size is not None and size >= 0 else self.cap + 1 - self.count)
        self.count += len(data)
        if self.count > self.cap:
            raise Unreadable(f"{self.what} is larger than the size limit ({self.cap // (1024 * 1024)} MB)")
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def utf8_stream(raw: IO[bytes]) -> tuple[IO[bytes], bytes]:
    """Return a UTF-8 byte stream and its first bytes (already consumed, BOM stripped)."""
    head = raw.read(4)
    enc: str | None = None
    skip = 0
    if head.startswith(codecs.BOM_UTF8):
        skip = 3
    elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) and head not in (b"\xff\xfe\x00\x00",):
        enc = "utf-32"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    elif len(head) >= 4 and head[1:2] == b"\x00" and head[3:4] == b"\x00" and head[0:1] != b"\x00":
        enc = "utf-16-le"
    if enc is None:
        return raw, head[skip:]
    t = Utf8Transcoder(_Prepend(head, raw), enc)  # type: ignore[arg-type]
    return t, b""  # type: ignore[return-value]


class _Prepend(io.RawIOBase):
    def __init__(self, first: bytes, raw: IO[bytes]) -> None:
        self.first = first
        self.raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.first:
            out, self.first = self.first, b""
            if size is None or size < 0:
                return out + self.raw.read()
            return out + self.raw.read(max(size - len(out), 0))
        return self.raw.read(size)


def read_head(stream: IO[bytes], first: bytes, want_lines: int, max_bytes: int) -> tuple[bytes, bool]:
    """Read until `want_lines` newlines or `max_bytes`; return (head, eof)."""
    buf = bytearray(first)
    eof = False
    while buf.count(b"\n") < want_lines and len(buf) < max_bytes:
        chunk = stream.read(256 * 1024)
        if not chunk:
            eof = True
            break
        buf += chunk
    return bytes(buf), eof


def looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample[:4096]:
        return True
    ctrl = sum(1 for b in sample[:4096] if b < 9 or 13 < b < 32)
    return ctrl > 0.02 * min(len(sample), 4096)
