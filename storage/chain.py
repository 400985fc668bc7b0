"""Hash chains for append-only tables (the audit log and the consent ledger).

Each row stores ``hash = SHA-256(prev_hash || canonical JSON of the row's fields,
including its sequence number)``. Sequence numbers are assigned explicitly as
``last + 1`` under a primary-key constraint, so two writers racing for the same
position cannot fork the chain: the loser gets an integrity error and retries.

Verification walks the chain in order and reports the first row whose sequence
number, back-link or own hash is wrong; that catches an edited, removed, inserted
or reordered row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
