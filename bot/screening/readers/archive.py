"""ZIP archives (nested too), read member by member from the central directory with
zipfile streams: never extracted to disk, member paths never used as paths.

Limits: depth, member count, declared total size, per-member compression ratio, and the
*actual* number of bytes inflated (declared sizes can lie) via CountingReader."""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ..collector import Collector, Encrypted, Unreadable
from ..sanitize import clean_text
from .textio import CountingReader

AES_EXTRA = 0x9901
SKIP_NAMES = (".ds_store", "thumbs.db", "desktop.ini")


@dataclass
class Budget:
    """Shared across one top-level file: total inflated bytes and members seen."""

    total: int = 0
    members: int = 0


def is_aes(info: zipfile.ZipInfo) -> bool:
    if info.compress_type == 99:
        return True
    extra = info.extra
    i = 0
    while i + 4 <= len(extra):
        hid = int.from_bytes(extra[i : i + 2], "little")
        size = int.from_bytes(extra[i + 2 : i + 4], "little")
        if hid == AES_EXTRA:
            return True
        i += 4 + size
    return False


def safe_name(name: str) -> str:
    """Printable, bounded member name (never used to touch the file system)."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in clean_text(name.replace("\\", "/")))
    return cleaned[-120:]


def check_zip(z: zipfile.ZipFile, col: Collector, budget: Budget) -> list[zipfile.ZipInfo]:
    lim = col.limits
    infos = z.infolist()
    budget.members += len(infos)
    if budget.members > lim.max_members:
        raise Unreadable(f"the archive has too many files (more than {lim.max_members})")
    declared = sum(max(i.file_size, 0) for i in infos)
    if budget.total + declared > lim.max_total_uncompressed:
        raise Unreadable(
            f"the archive would unpack to more than the size limit ({lim.max_total_uncompressed // (1 << 20)} MB)"
        )
    for n, i in enumerate(infos):
        if n % 1024 == 0:
            col.check_time()
        if i.file_size > lim.max_file_size:
            raise Unreadable(
                f"a file in the archive is larger than the size limit ({lim.max_file_size // (1 << 20)} MB)"
            )
        if i.file_size > (1 << 20) and i.compress_size > 0 and i.file_size / i.compress_size > lim.max_ratio:
            raise Unreadable("the archive looks like a zip bomb (compression ratio over the limit)")
        if i.file_size > (1 << 20) and i.compress_size == 0:
            raise Unreadable("the archive looks like a zip bomb (declared sizes are inconsistent)")
    return infos


def encrypted_members(infos: list[zipfile.ZipInfo]) -> tuple[bool, bool]:
    enc = any(i.flag_bits & 0x1 for i in infos)
    aes = any((i.flag_bits & 0x1) and is_aes(i) for i in infos)
    return enc, aes


class MemberOpener:
    """Re-openable, byte-counted stream of one member (some readers need two passes)."""

    def __init__(
        self, z: zipfile.ZipFile, info: zipfile.ZipInfo, col: Collector, budget: Budget, password: bytes | None
    ) -> None:
        self.z = z
        self.info = info
        self.col = col
        self.budget = budget
        self.password = password
        self.opened = 0
        self.counted = 0  # bytes of this member already charged to the budget (highest offset read)

    def __call__(self) -> IO[bytes]:
        lim = self.col.limits
        cap = min(
            lim.max_file_size,
            max(int(self.info.compress_size * lim.max_ratio), 1 << 20),
            max(lim.max_total_uncompressed - self.budget.total, 0),
        )
        self.opened += 1
        stream = self.z.open(self.info, pwd=self.password)
        return _BudgetReader(
            stream,
            cap,
            self.budget,
            lim.max_total_uncompressed,  # type: ignore[return-value]
            f"archive member {safe_name(self.info.filename)}",
            owner=self,
        )


class _BudgetReader(CountingReader):
    """Charges the shared budget with the bytes inflated beyond what earlier opens of the same
    member already charged (a member read twice, or its head then its body, counts once)."""

    def __init__(
        self, raw: IO[bytes], cap: int, budget: Budget, total_cap: int, what: str, owner: MemberOpener
    ) -> None:
        super().__init__(raw, cap, what)
        self.budget = budget
        self.total_cap = total_cap
        self.owner = owner

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        if self.count > self.owner.counted:
            self.budget.total += self.count - self.owner.counted
            self.owner.counted = self.count
            if self.budget.total > self.total_cap:
                raise Unreadable("the archive unpacks to more than the size limit")
        return data

    def seekable(self) -> bool:
        return bool(getattr(self.raw, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self.raw.seek(offset, whence))

    def tell(self) -> int:
        return int(self.raw.tell())


ScreenFn = Callable[[Callable[[], IO[bytes]], str, Collector, int], None]


@functools.cache
def _pyzipper() -> Any:
    """pyzipper (AES-encrypted archives) pulls in a crypto library: imported on the first
    archive, not at start-up (a CSV never needs it)."""
    import pyzipper

    return pyzipper


def bad_zip() -> tuple[type[Exception], ...]:
    """zipfile's and pyzipper's own exception classes for a damaged archive."""
    z = _pyzipper()
    return (zipfile.BadZipFile, zipfile.LargeZipFile, z.BadZipFile, z.LargeZipFile)


def open_zip(stream: IO[bytes]) -> zipfile.ZipFile:
    """A zip reader that also opens AES-encrypted members (pyzipper's AESZipFile)."""
    try:
        return _pyzipper().AESZipFile(stream)
    except bad_zip() + (OSError, ValueError, EOFError, KeyError, IndexError):
        raise Unreadable("the archive is damaged or not a zip file") from None
    except NotImplementedError:
        raise Unreadable("the archive uses a feature that is not supported") from None


def guard_encryption(infos: list[zipfile.ZipInfo], password: str | None) -> bytes | None:
    enc, _aes = encrypted_members(infos)  # AES members open too (pyzipper)
    if not enc:
        return None
    if password is None:
        raise Encrypted("the archive is password protected; send the password with --password")
    return password.encode("utf-8")
