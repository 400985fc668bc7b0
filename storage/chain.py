"""Hash chains for append-only tables (the audit log and the consent ledger).

Each row stores ``hash = SHA-256(prev_hash || canonical JSON of the row's fields,
including its sequence number)``. Sequence numbers are assigned explicitly as
``last + 1`` under a primary-key constraint, so two writers racing for the same
position cannot fork the chain: the loser gets an integrity error and retries.

Verification walks the chain in order and reports the first row whose sequence
number, back-link or own hash is wrong; that catches an edited, removed, inserted
or reordered row. Removing the *newest* rows leaves a valid shorter chain: that is
caught by the head anchor kept outside the database (see ``HeadAnchor`` below).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite hands back naive UTC, PostgreSQL aware datetimes: hash one form.
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    return value


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    payload = json.dumps({k: _canonical(v) for k, v in sorted(fields.items())}, separators=(",", ":"))
    return hashlib.sha256(prev_hash.encode("ascii") + payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str

    def __str__(self) -> str:
        if self.seq == 0:  # not an entry: the head anchor itself
            return f"the head anchor: {self.reason}"
        return f"entry {self.seq}: {self.reason}"


def verify_chain(rows: Sequence[tuple[int, str, str, Mapping[str, Any]]]) -> ChainProblem | None:
    """Check rows of (seq, prev_hash, hash, hashed fields) sorted by seq; None when intact."""
    prev = GENESIS
    expected_seq = 1
    for seq, prev_hash, stored_hash, fields in rows:
        if seq != expected_seq:
            reason = "missing entry before this one" if seq > expected_seq else "unexpected sequence number"
            return ChainProblem(seq, reason)
        if prev_hash != prev:
            return ChainProblem(seq, "does not link to the previous entry (removed, inserted or reordered)")
        if entry_hash(prev_hash, fields) != stored_hash:
            return ChainProblem(seq, "content does not match its hash (edited)")
        prev = stored_hash
        expected_seq += 1
    return None


# --------------------------------------------------------------------------- the head anchor
#
# A chain proves that no entry was edited, removed *between* others, inserted or
# reordered, but deleting the newest entries leaves a shorter chain that is just as
# valid. So the head of each chained table, {count, hash of the last entry}, is also
# kept outside the database: in ``<master_key_file>.audit-head``, signed with HMAC-SHA256
# under a key derived from the master key. Someone who can change the database but not
# read the key file cannot move the anchor back; ``audit verify`` compares the two.
#
# The anchor is advanced *after* each append commits, so it may lag the table (a
# crash in between, or another process's append in flight) but never lead it. Several
# processes append (the bot and CLI commands): updates are serialised by ``flock`` on
# ``<anchor>.lock``; the anchor only moves forward, and only from a head that is still
# in the table (so appends after a truncation cannot paper over it). Only
# ``clusterbot audit reanchor`` (after a deliberate restore) sets it back.

ANCHOR_PURPOSE = b"clusterbot: audit head anchor v1"
ANCHOR_VERSION = 1


class AnchorKeys(Protocol):
    """What the anchor needs from the key ring (``storage.crypto.KeyRing``)."""

    active: str

    def derive(self, kid: str, purpose: bytes) -> bytes: ...


@dataclass(frozen=True)
class Head:
    count: int  # = seq of the newest entry (sequence numbers are 1..count)
    hash: str


class AnchorError(Exception):
    """The anchor file exists but cannot be trusted (unreadable, altered, unknown key)."""


def anchor_path(master_key_file: Path) -> Path:
    return master_key_file.with_name(master_key_file.name + ".audit-head")


class HeadAnchor:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    @staticmethod
    def _mac(key: bytes, kid: str, heads: Mapping[str, Head]) -> str:
        body = {
            "v": ANCHOR_VERSION,
            "kid": kid,
            "heads": {t: {"count": h.count, "hash": h.hash} for t, h in sorted(heads.items())},
        }
        payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return hmac.new(key, payload, hashlib.sha256).hexdigest()

    def read(self, keys: AnchorKeys) -> dict[str, Head] | None:
        """The anchored heads; None when there is no anchor file; AnchorError when it is not valid."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorError(f"cannot read {self.path} ({exc.strerror})") from None
        try:
            data = json.loads(raw.decode("utf-8"))
            if data["v"] != ANCHOR_VERSION:
                raise ValueError
            kid, mac = str(data["kid"]), str(data["mac"])
            heads = {str(t): Head(int(h["count"]), str(h["hash"])) for t, h in data["heads"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AnchorError(f"{self.path} is not a valid anchor file (damaged or replaced)") from None
        try:
            key = keys.derive(kid, ANCHOR_PURPOSE)
        except KeyError:
            raise AnchorError(f"{self.path} is signed with master key {kid}, which is not in the key file") from None
        if not hmac.compare_digest(self._mac(key, kid, heads), mac):
            raise AnchorError(f"{self.path} fails authentication (edited, or signed under another master key)")
        return heads

    def _write(self, keys: AnchorKeys, heads: Mapping[str, Head], *, durable: bool) -> None:
        kid = keys.active
        data = {
            "v": ANCHOR_VERSION,
            "kid": kid,
            "heads": {t: {"count": h.count, "hash": h.hash} for t, h in sorted(heads.items())},
            "mac": self._mac(keys.derive(kid, ANCHOR_PURPOSE), kid, heads),
        }
        raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                os.write(fd, raw)
                if durable:  # creation, re-anchoring, rotation: rare, so make them stick
                    os.fsync(fd)
            finally:
                os.close(fd)
            # every append: no fsync (it would double an append's cost). The rename is
            # atomic, and older than the table is allowed (after a power cut). On ext4
            # (auto_da_alloc) and btrfs a replacing rename also flushes the new file; on
            # other file systems a power cut might leave it damaged: `audit verify` says
            # so and `audit reanchor` repairs it.
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def advance(
        self, keys: AnchorKeys, table: str, head: Head, prev: str, checked: Head | None = None
    ) -> tuple[str, Head | None]:
        """Move ``table``'s anchored head to ``head`` (just committed; ``prev`` is its back-link).

        The anchor moves only from a head that is still in the table: the entry right
        before ``head`` (known from ``prev``, the common case: no database read), or
        ``checked``, which the caller has looked up. Returns (outcome, head anchored before):
        "created" (none before), "advanced", "ahead" (a newer head is anchored: another
        process appended; the caller checks it is in the table), "check" (look up the
        anchored head in the table, then call again with it as ``checked``) or "diverged"
        (the anchored head is not the entry before ours: entries were removed or rewritten;
        the anchor stays, as evidence). Raises AnchorError, leaving the file alone, when the
        anchor is not valid.
        """
        with self._locked():
            heads = self.read(keys) or {}
            current = heads.get(table)
            if current is not None:
                if current.count >= head.count:
                    return "ahead", current
                follows = current.count == head.count - 1 and current.hash == prev
                if not follows and current != checked:
                    return ("diverged" if current.count == head.count - 1 else "check"), current
            heads[table] = head
            self._write(keys, heads, durable=current is None)
            return ("created" if current is None else "advanced"), current

    def reset(self, keys: AnchorKeys, heads: Mapping[str, Head]) -> dict[str, Head] | None:
        """Anchor exactly ``heads`` (``audit reanchor``, after a restore); returns the heads
        anchored before (None: there were none, or they were not valid)."""
        with self._locked():
            try:
                old = self.read(keys)
            except AnchorError:
                old = None
            self._write(keys, heads, durable=True)
            return old

    def resign(self, keys: AnchorKeys) -> bool:
        """Re-sign under ``keys.active`` (master key rotation; ``keys`` still holds the
        old key). An invalid anchor is left as it is; returns whether it was re-signed."""
        with self._locked():
            try:
                heads = self.read(keys)
            except AnchorError:
                return False
            if heads is None:
                return False
            self._write(keys, heads, durable=True)
            return True


def compare_with_anchor(
    count: int, hash_at: Callable[[int], str | None], head: Head, where: Path
) -> ChainProblem | None:
    """Compare a verified chain of ``count`` entries with its anchored head."""
    if count < head.count:
        removed = head.count - count
        return ChainProblem(
            count + 1,
            f"missing: the log was truncated: the head anchor ({where}) records {head.count} entries, "
            f"the table ends at entry {count} ({removed} newest removed)",
        )
    if hash_at(head.count) != head.hash:
        return ChainProblem(
            head.count,
            f"does not match the anchored head ({where}): the log was rewritten or replaced",
        )
    return None
