"""Opaque, atomically written blob files.

Blobs hold *ciphertext only* (``storage.crypto.seal`` output). They are named by a
random id, never by the submitted file name, and are written to a temporary name,
fsynced and renamed, so a crash mid-write never leaves a half-written object under
a real name. Stray temporaries are removed by :meth:`BlobStore.sweep`.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobNotFound(Exception):
    pass


def new_blob_id() -> str:
    return secrets.token_hex(16)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def _path(self, blob_id: str) -> Path:
        if not _BLOB_ID.match(blob_id):
            raise ValueError("invalid blob id")
        return self.root / blob_id[:2] / blob_id

    def put(self, blob_id: str, data: bytes) -> None:
        final = self._path(blob_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{blob_id}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def get(self, blob_id: str) -> bytes:
        try:
            return self._path(blob_id).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(blob_id) from None

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).exists()

    def delete(self, blob_id: str) -> None:
        self._path(blob_id).unlink(missing_ok=True)

    def ids(self) -> list[tuple[str, float]]:
        """(blob id, modification time) of every stored blob."""
        if not self.root.exists():
            return []
        return [(p.name, p.stat().st_mtime) for p in self.root.glob("*/*") if _BLOB_ID.match(p.name)]

    def sweep(self) -> int:
        """Remove temporaries left by a crash; returns how many were removed."""
        removed = 0
        if not self.root.exists():
            return 0
        for tmp in self.root.glob("*/.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed
